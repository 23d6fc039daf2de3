"""The template scripts of the source side through pywinrm's real client: source, requirements,
checkpoints, exports, the pre-flight check on a target, and the template-ready benchmark world."""
from __future__ import annotations

import time

import pytest
import requests
from labkit import SHORT, ok, run, vm_named

from console.domain.prerequisites import required_free_bytes
from console.lab import Lab, WorldSpec
from console.lab.hyperv_model import GB
from console.lab.template_timings import (
    TIMINGS,
    copy_seconds,
    export_seconds,
    import_seconds,
)


def call(h, name, params=None):
    """One template script (a stand-in body: the lab reads the first line and the parameters)."""
    return ok(h, name, params, body=SHORT)


def fails(h, name, params=None) -> dict:
    code, doc, _ = run(h, name, params, body=SHORT)
    assert code == 1, doc
    return doc["error"]


def gold(lab, host="HV01", name="Win11-Gold") -> dict:
    return vm_named(call(lab.host(host), "Get-Inventory"), name)


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def d_free(lab, host) -> int:
    facts = call(lab.host(host), "Get-HostFacts")
    return next(v["free_bytes"] for v in facts["volumes"] if v["path"] == "D:\\")


def test_timings_are_the_designs_figures():
    assert TIMINGS["copy-rate"] == 110e6 and TIMINGS["checkpoint"] == 2.0
    assert copy_seconds(110 * 10**6 * 60) == pytest.approx(60.0)
    assert copy_seconds(110 * 10**6 * 60, speed=10) == pytest.approx(6.0)
    assert export_seconds(400 * 10**6 * 10) == pytest.approx(12.0)
    assert import_seconds(10**9 * 5, speed=2) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        copy_seconds(1, speed=0)


def test_source_lists_integration_services_and_checkpoints(lab):
    h = lab.host("HV01")
    doc = call(h, "Get-TemplateSource", {"vm_id": gold(lab)["id"]})
    assert doc["vm"]["name"] == "Win11-Gold" and doc["checkpoints"] == []
    services = {s["name"]: s["enabled"] for s in doc["integration_services"]}
    assert services == {"Heartbeat": True, "Shutdown": True, "Key-Value Pair Exchange": True,
                        "Guest Service Interface": False, "Time Synchronization": True, "VSS": True}
    bare = call(h, "Get-TemplateSource", {"vm_id": gold(lab, name="Appliance-Firewall")["id"]})
    off = {s["name"] for s in bare["integration_services"] if not s["enabled"]}
    assert off == {"Heartbeat", "Shutdown", "Key-Value Pair Exchange", "VSS", "Guest Service Interface"}
    # PrimaryStatusDescription: "" while the VM is off or the service disabled; a running guest without
    # integration services does not answer the one left enabled
    assert {s["status"] for s in doc["integration_services"]} == {""}
    assert {s["name"]: s["status"] for s in bare["integration_services"]} == {
        "Heartbeat": "", "Shutdown": "", "Key-Value Pair Exchange": "", "Guest Service Interface": "",
        "Time Synchronization": "No Contact", "VSS": ""}
    running = call(h, "Get-TemplateSource", {"vm_id": gold(lab, name="RDSH-2022")["id"]})
    assert {s["name"]: s["status"] for s in running["integration_services"]} == {
        "Heartbeat": "OK", "Shutdown": "OK", "Key-Value Pair Exchange": "OK", "Guest Service Interface": "",
        "Time Synchronization": "OK", "VSS": "OK"}
    err = fails(h, "Get-TemplateSource", {"vm_id": "00000000-0000-0000-0000-000000000001"})
    assert "unable to find a virtual machine" in err["message"]


def test_requirements_document(lab):
    vm = gold(lab)
    req = call(lab.host("HV01"), "Get-TemplateRequirements", {"vm_id": vm["id"]})
    assert req == {
        "computer_name": "HV01", "fqdn": "HV01.corp.example.com", "domain": "corp.example.com",
        "folder_path": "D:\\Hyper-V", "switch_name": "vSwitch-LAN",
        "disk_bytes": vm["disks"][0]["file_bytes"],
        "config_unc": f"\\\\HV01.corp.example.com\\D$\\Hyper-V\\Win11-Gold\\Virtual Machines\\"
                      f"{vm['id'].upper()}.vmcx",
        "vm_id": vm["id"], "vhd_folder_unc": "\\\\HV01.corp.example.com\\D$\\Hyper-V\\Virtual Hard Disks"}
    # a differencing disk counts with its parent, up the chain (Get-VHD FileSize, ParentPath)
    pool = gold(lab, name="Win11-Pool-01")
    assert pool["disks"][0]["parent_path"] == vm["disks"][0]["path"]
    pool_req = call(lab.host("HV01"), "Get-TemplateRequirements", {"vm_id": pool["id"]})
    assert pool_req["disk_bytes"] == pool["disks"][0]["file_bytes"] + vm["disks"][0]["file_bytes"]
    wg = call(lab.host("HV04"), "Get-TemplateRequirements", {"vm_id": gold(lab, "HV04", "Lab-Linux")["id"]})
    assert wg["domain"] == "WORKGROUP" and wg["fqdn"] == "HV04"
    assert wg["config_unc"].startswith("\\\\HV04\\C$\\ProgramData\\")


def test_checkpoints_idempotent_restorable_removable_and_persisted(tmp_path):
    state = tmp_path / "state"
    lab = Lab(state, speed=50)
    lab.start()
    try:
        h, vm = lab.host("HV01"), gold(lab)
        first = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "VDI template Gold v1"})
        assert set(first) == {"id", "name", "vm_id", "created"} and first["vm_id"] == vm["id"]
        assert first["created"].endswith("Z")
        again = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "VDI Template GOLD v1"})
        assert again == first                                   # a retry gets the same checkpoint
        with lab.world.lock:                                    # maintenance changes the VM...
            lab.world.host("HV01").vm_by_id(vm["id"]).memory_bytes = 16 * 2**30
        second = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "VDI template Gold v2"})
        listed = call(h, "Get-TemplateCheckpoints", {"vm_id": vm["id"]})
        assert [c["id"] for c in listed] == [first["id"], second["id"]]          # oldest first
        restored = call(h, "Restore-TemplateCheckpoint", {"vm_id": vm["id"], "checkpoint_id": first["id"]})
        assert restored["memory_bytes"] == vm["memory_bytes"] and restored["state"] == "Off"
        err = fails(h, "Restore-TemplateCheckpoint", {"vm_id": vm["id"],
                                                      "checkpoint_id": "11111111-2222-3333-4444-555555555555"})
        assert err["category"] == "ObjectNotFound"
        assert call(h, "Remove-TemplateCheckpoint", {"vm_id": vm["id"], "checkpoint_id": second["id"]}) == \
            {"removed": True}
        assert call(h, "Remove-TemplateCheckpoint", {"vm_id": vm["id"], "checkpoint_id": second["id"]}) == \
            {"removed": False}
    finally:
        lab.stop()
    lab = Lab(state, speed=50)
    lab.start()
    try:
        h = lab.host("HV01")
        assert [c["id"] for c in call(h, "Get-TemplateCheckpoints", {"vm_id": vm["id"]})] == [first["id"]]
        assert call(h, "Get-TemplateSource", {"vm_id": vm["id"]})["checkpoints"] == [first]
    finally:
        lab.stop()


def test_checkpoint_and_restore_refused_while_running(lab):
    h = lab.host("HV01")
    running = gold(lab, name="RDSH-2022")
    err = fails(h, "New-TemplateCheckpoint", {"vm_id": running["id"], "name": "x"})
    assert err["category"] == "InvalidOperation" and "current state" in err["message"]
    assert call(h, "Get-TemplateCheckpoints", {"vm_id": running["id"]}) == []


def test_export_takes_space_is_reused_and_removed(lab):
    h, vm = lab.host("HV01"), gold(lab)
    cp = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "v1"})
    free = d_free(lab, "HV01")
    params = {"vm_id": vm["id"], "checkpoint_id": cp["id"], "folder_name": "Gold-v1"}
    doc = call(h, "Export-TemplateCheckpoint", params)
    assert doc == {"folder": "D:\\Hyper-V\\VDI-Export\\Gold-v1",
                   "unc_folder": "\\\\HV01.corp.example.com\\D$\\Hyper-V\\VDI-Export\\Gold-v1",
                   "config_file": f"Virtual Machines\\{vm['id'].upper()}.vmcx",
                   "bytes": vm["disks"][0]["file_bytes"]}
    assert d_free(lab, "HV01") == free - doc["bytes"]
    t0 = time.monotonic()
    assert call(h, "Export-TemplateCheckpoint", params) == doc          # complete: not exported again
    assert time.monotonic() - t0 < export_seconds(doc["bytes"], lab.speed)
    cp2 = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "v2"})
    t0 = time.monotonic()                      # another checkpoint's export in that folder: redone
    assert call(h, "Export-TemplateCheckpoint", {**params, "checkpoint_id": cp2["id"]}) == doc
    assert time.monotonic() - t0 >= export_seconds(doc["bytes"], lab.speed)
    with lab.world.lock:
        assert lab.world.host("HV01").files.export(doc["folder"]).checkpoint_id == cp2["id"]
    assert d_free(lab, "HV01") == free - doc["bytes"]
    assert call(h, "Remove-TemplateExport", {"folder": doc["folder"]}) == {"removed": True}
    assert call(h, "Remove-TemplateExport", {"folder": doc["folder"]}) == {"removed": False}
    assert d_free(lab, "HV01") == free


def test_export_fails_with_windows_disk_full_message(lab):
    h, vm = lab.host("HV01"), gold(lab)
    cp = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "v1"})
    with lab.world.lock:                       # leave 10 GB on D:, less than the 26 GB export
        host = lab.world.host("HV01")
        vol = host.volume_of("D:\\")
        vol.other_used_bytes += host.free_bytes(vol) - 10 * GB
    err = fails(h, "Export-TemplateCheckpoint", {"vm_id": vm["id"], "checkpoint_id": cp["id"],
                                                 "folder_name": "Gold-v1"})
    assert "There is not enough space on the disk." in err["message"]
    assert err["fqid"] == "OperationFailed,Microsoft.HyperV.PowerShell.Commands.ExportVMSnapshot"
    assert d_free(lab, "HV01") == 0                                    # the partial export fills it
    assert call(h, "Remove-TemplateExport", {"folder": "D:\\Hyper-V\\VDI-Export\\Gold-v1"})["removed"]
    assert d_free(lab, "HV01") == 10 * GB


def test_interrupted_export_is_redone(lab_factory):
    lab = lab_factory(speed=40.0)                # export of 26 GB: ~1.7 s
    h, vm = lab.host("HV01"), gold(lab)
    cp = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "v1"})
    params = {"vm_id": vm["id"], "checkpoint_id": cp["id"], "folder_name": "Gold-v1"}
    lab.arm_fault("HV01", "offline", script="Export-TemplateCheckpoint")
    with pytest.raises(requests.exceptions.ConnectionError):
        run(h, "Export-TemplateCheckpoint", params, body=SHORT)
    with lab.world.lock:
        partial = lab.world.host("HV01").files.export("D:\\Hyper-V\\VDI-Export\\Gold-v1")
        assert not partial.complete and 0 < partial.bytes_written < partial.bytes_total
    lab.set_fault("HV01", None)
    t0 = time.monotonic()
    doc = call(h, "Export-TemplateCheckpoint", params)
    assert time.monotonic() - t0 >= export_seconds(doc["bytes"], lab.speed) * 0.9    # really redone
    with lab.world.lock:
        assert lab.world.host("HV01").files.export(doc["folder"]).complete


def _source(lab, vm_name="Win11-Gold", host="HV01") -> dict:
    return call(lab.host(host), "Get-TemplateRequirements", {"vm_id": gold(lab, host, vm_name)["id"]})


def test_target_check_domain_host_passes(lab):
    src = _source(lab)
    rep = call(lab.host("HV02"), "Test-TemplateTarget", {"source": src, "required_bytes": 1})
    assert rep["computer_name"] == "HV02" and rep["fqdn"] == "HV02.corp.example.com"
    assert rep["part_of_domain"] is True and rep["folder_exists"] is True
    assert rep["switches"] == ["vSwitch-LAN"]
    lm = rep["live_migration"]
    assert lm["enabled"] and lm["authentication"] == "Kerberos"
    assert "cifs/HV01.corp.example.com" in lm["constrained_delegation"]
    assert rep["free_bytes"] == d_free(lab, "HV02")
    assert rep["compare"] == {"ran": True, "error": "", "incompatibilities": []}
    same = call(lab.host("HV01"), "Test-TemplateTarget", {"source": src, "required_bytes": 1})
    assert same["compare"]["ran"] is True                      # the source host as its own target


def test_target_check_without_the_disk_folder_misses_the_disks(lab):
    # Compare-VM without -VhdSourcePath looks for the disks at the source's local paths: another host
    # does not have them (the source host itself does)
    src = _source(lab)
    del src["vhd_folder_unc"]
    rep = call(lab.host("HV02"), "Test-TemplateTarget", {"source": src, "required_bytes": 1})
    [item] = rep["compare"]["incompatibilities"]
    assert item["message_id"] == 40010 and "Win11-Gold.vhdx" in item["message"]
    same = call(lab.host("HV01"), "Test-TemplateTarget", {"source": src, "required_bytes": 1})
    assert same["compare"]["incompatibilities"] == []
    src["vhd_folder_unc"] = "\\\\HV01.corp.example.com\\D$\\Elsewhere"
    rep = call(lab.host("HV02"), "Test-TemplateTarget", {"source": src, "required_bytes": 1})
    assert [i["message_id"] for i in rep["compare"]["incompatibilities"]] == [40010]


def test_target_check_workgroup_host_fails(lab):
    src = _source(lab)
    rep = call(lab.host("HV04"), "Test-TemplateTarget", {"source": src, "required_bytes": 1})
    assert rep["part_of_domain"] is False and rep["domain"] == "WORKGROUP"
    assert rep["folder_exists"] is False                       # no D:\Hyper-V there
    assert rep["live_migration"]["constrained_delegation"] is None
    facts = call(lab.host("HV04"), "Get-HostFacts")
    assert rep["free_bytes"] == facts["volumes"][0]["free_bytes"]      # the system drive: no D:
    assert rep["compare"]["ran"] is False
    assert rep["compare"]["error"] == f"Access is denied. ({src['config_unc']})"


def test_target_check_reports_incompatibilities(lab):
    with lab.world.lock:
        hv03 = lab.world.host("HV03")
        hv03.switches = [("vSwitch-Prod", "External")]
        hv03.memory_bytes = 4 * 2**30
        hv03.os_version = "10.0.17763"                          # Server 2019: configuration 9.0 at most
    rep = call(lab.host("HV03"), "Test-TemplateTarget", {"source": _source(lab), "required_bytes": 1})
    items = rep["compare"]["incompatibilities"]
    assert rep["compare"]["ran"] is True
    assert [i["message_id"] for i in items] == [33012, 40, 24006]
    assert items[0]["message"] == "Could not find Ethernet switch 'vSwitch-LAN'."
    assert items[1]["message"].startswith("The virtual machine's configuration version 10.0 is not "
                                          "supported by this host")


def test_target_check_with_source_offline(lab):
    src = _source(lab)
    lab.set_fault("HV01", "offline")
    rep = call(lab.host("HV02"), "Test-TemplateTarget", {"source": src, "required_bytes": 1})
    assert rep["compare"]["ran"] is False and "The network path was not found." in rep["compare"]["error"]


def test_template_ready_world_passes_every_check(lab_factory):
    lab = lab_factory(spec=WorldSpec(hosts=21, vms_per_host=2, seed=3, template_ready=True))
    src = _source(lab, host="HV01")
    need = required_free_bytes(src["disk_bytes"])
    for h in lab.hosts[1:]:
        rep = call(h, "Test-TemplateTarget", {"source": src, "required_bytes": need})
        assert rep["part_of_domain"] and rep["domain"] == src["domain"] and rep["folder_exists"]
        assert src["switch_name"] in rep["switches"] and rep["free_bytes"] >= need
        assert rep["live_migration"]["authentication"] == "Kerberos"
        held = {d.lower() for d in rep["live_migration"]["constrained_delegation"]}
        assert {f"cifs/{src['fqdn']}".lower(),
                f"microsoft virtual system migration service/{src['fqdn']}".lower()} <= held
        assert rep["compare"] == {"ran": True, "error": "", "incompatibilities": []}
    facts = call(lab.host("HV01"), "Get-HostFacts")
    held = {d.lower() for d in facts["live_migration"]["constrained_delegation"]}
    assert all(f"cifs/{h.name}.corp.example.com".lower() in held for h in lab.hosts[1:])
