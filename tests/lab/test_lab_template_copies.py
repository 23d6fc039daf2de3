"""The copy side of template distribution through pywinrm's real client: the detached copy, its
failures (target or source offline, disk full, the export removed), stop, import, remove, restart."""
from __future__ import annotations

import time

import pytest
import requests
from labkit import SHORT, run
from test_lab_templates import call, d_free, fails, gold, wait_until

from console.lab import Lab
from console.lab.template_timings import TIMINGS, copy_seconds

NETWORK = "The network path was not found."
DISK_FULL = "There is not enough space on the disk."
FOLDER = "D:\\Hyper-V\\VDI-Templates\\Gold-v1"


def exported(lab, host="HV01") -> dict:
    """Version 1 of Win11-Gold exported on its host: the export document."""
    h, vm = lab.host(host), gold(lab, host)
    cp = call(h, "New-TemplateCheckpoint", {"vm_id": vm["id"], "name": "v1"})
    return call(h, "Export-TemplateCheckpoint", {"vm_id": vm["id"], "checkpoint_id": cp["id"],
                                                 "folder_name": "Gold-v1"})


def start(lab, target, export, copy_id="t1-v1-p2") -> dict:
    return call(lab.host(target), "Start-TemplateCopy", {"copy_id": copy_id, "folder": FOLDER,
                                                         "source_unc_folder": export["unc_folder"]})


def get(lab, target, copy_id="t1-v1-p2") -> dict:
    return call(lab.host(target), "Get-TemplateCopy", {"copy_id": copy_id, "folder": FOLDER})


def wait_state(lab, target, state, copy_id="t1-v1-p2", timeout=15.0) -> dict:
    box = {}

    def reached():
        box["doc"] = get(lab, target, copy_id)
        return box["doc"]["state"] == state
    wait_until(reached, timeout)
    return box["doc"]


def test_copy_runs_detached_then_imports_and_is_removed(lab_factory):
    lab = lab_factory(speed=200.0)               # 26 GB copy: ~1.2 s
    export = exported(lab)
    free = d_free(lab, "HV02")
    first = start(lab, "HV02", export)
    assert first["state"] == "running" and first["bytes_total"] == export["bytes"] and not first["error"]
    seen = [get(lab, "HV02")["bytes_done"]]
    done = wait_state(lab, "HV02", "done")
    seen.append(done["bytes_done"])
    assert seen == sorted(seen) and done["bytes_done"] == export["bytes"]
    assert d_free(lab, "HV02") == free - export["bytes"]                 # <folder>\_export
    assert start(lab, "HV02", export) == done                            # done: not restarted
    params = {"folder": FOLDER, "config_file": export["config_file"], "vm_name": "Gold (v1)"}
    vm = call(lab.host("HV02"), "Import-TemplateCopy", params)
    assert vm["name"] == "Gold (v1)" and vm["state"] == "Off" and vm["path"] == FOLDER
    assert vm["id"] != gold(lab)["id"] and vm["switch"] == "vSwitch-LAN"
    assert vm["disks"][0]["path"] == f"{FOLDER}\\Virtual Hard Disks\\Win11-Gold.vhdx"
    assert call(lab.host("HV02"), "Get-TemplateCheckpoints", {"vm_id": vm["id"]}) == []
    assert d_free(lab, "HV02") == free - export["bytes"]                 # _export removed, disks kept
    assert call(lab.host("HV02"), "Import-TemplateCopy", params) == vm   # idempotent
    assert call(lab.host("HV02"), "Remove-TemplateCopy", {"folder": FOLDER, "vm_id": vm["id"]}) == \
        {"removed": True}
    assert call(lab.host("HV02"), "Remove-TemplateCopy", {"folder": FOLDER, "vm_id": vm["id"]}) == \
        {"removed": False}
    assert d_free(lab, "HV02") == free
    assert get(lab, "HV02")["state"] == "missing"


def test_copy_takes_the_labs_copy_time(lab_factory):
    lab = lab_factory(speed=100.0)
    export = exported(lab)
    t0 = time.monotonic()
    start(lab, "HV03", export)
    wait_state(lab, "HV03", "done")
    assert time.monotonic() - t0 >= copy_seconds(export["bytes"], lab.speed)


def test_target_offline_halfway_fails_the_copy_and_a_retry_restarts_it(lab_factory):
    lab = lab_factory(speed=100.0)               # copy: ~2.4 s, offline at ~1.2 s
    export = exported(lab)
    lab.arm_fault("HV02", "offline", script="Start-TemplateCopy")
    assert start(lab, "HV02", export)["state"] == "running"
    wait_until(lambda: lab.fault("HV02") == "offline")
    with pytest.raises(requests.exceptions.ConnectionError):            # polls meanwhile: unreachable
        run(lab.host("HV02"), "Get-TemplateCopy", {"copy_id": "t1-v1-p2", "folder": FOLDER}, body=SHORT)
    lab.set_fault("HV02", None)
    failed = get(lab, "HV02")
    assert failed["state"] == "failed" and failed["error"] == NETWORK
    assert 0.3 < failed["bytes_done"] / failed["bytes_total"] < 0.7
    again = start(lab, "HV02", export)                                   # failed: restarted
    assert again["state"] == "running" and again["bytes_done"] < failed["bytes_done"]
    assert wait_state(lab, "HV02", "done")["bytes_done"] == export["bytes"]


def test_source_offline_fails_the_copy(lab_factory):
    lab = lab_factory(speed=100.0)
    export = exported(lab)
    start(lab, "HV02", export)
    lab.set_fault("HV01", "offline")
    doc = wait_state(lab, "HV02", "failed")
    assert doc["error"] == NETWORK and doc["bytes_done"] < doc["bytes_total"]
    lab.set_fault("HV01", None)
    assert get(lab, "HV02")["state"] == "failed"


def test_disk_fills_during_the_copy_and_stop_removes_the_partial_copy(lab_factory):
    lab = lab_factory(speed=200.0)
    export = exported(lab)
    room = export["bytes"] // 2
    with lab.world.lock:
        host = lab.world.host("HV02")
        vol = host.volume_of("D:\\")
        vol.other_used_bytes += host.free_bytes(vol) - room
    assert start(lab, "HV02", export)["state"] == "running"
    doc = wait_state(lab, "HV02", "failed")
    assert doc["error"] == DISK_FULL and doc["bytes_done"] == room
    assert d_free(lab, "HV02") == 0                                     # the partial copy stays...
    assert call(lab.host("HV02"), "Stop-TemplateCopy", {"copy_id": "t1-v1-p2", "folder": FOLDER}) == \
        {"stopped": False}
    assert d_free(lab, "HV02") == room                                  # ...until Stop removes it
    assert get(lab, "HV02")["state"] == "missing"


def test_disk_full_fault_during_the_copy(lab_factory):
    lab = lab_factory(speed=100.0)
    export = exported(lab)
    lab.arm_fault("HV03", "disk-full", script="Start-TemplateCopy")
    start(lab, "HV03", export, copy_id="c3")
    doc = wait_state(lab, "HV03", "failed", copy_id="c3")
    assert doc["error"] == DISK_FULL and 0 < doc["bytes_done"] < doc["bytes_total"]


def test_stop_a_running_copy(lab_factory):
    lab = lab_factory(speed=100.0)               # copy ~2.4 s: still running meanwhile
    export = exported(lab)
    free = d_free(lab, "HV02")
    start(lab, "HV02", export)
    wait_until(lambda: get(lab, "HV02")["bytes_done"] > 0)
    stop = {"copy_id": "t1-v1-p2", "folder": FOLDER}
    assert call(lab.host("HV02"), "Stop-TemplateCopy", stop) == {"stopped": True}
    assert call(lab.host("HV02"), "Stop-TemplateCopy", stop) == {"stopped": False}       # idempotent
    assert get(lab, "HV02")["state"] == "missing" and d_free(lab, "HV02") == free


def test_removing_the_export_under_a_copy_fails_it(lab_factory):
    lab = lab_factory(speed=100.0)
    export = exported(lab)
    start(lab, "HV02", export)
    call(lab.host("HV01"), "Remove-TemplateExport", {"folder": export["folder"]})
    doc = get(lab, "HV02")
    assert doc["state"] == "failed" and doc["error"] == "The system cannot find the path specified."


def test_copy_refused_to_a_host_outside_the_domain(lab):
    export = exported(lab)
    doc = call(lab.host("HV04"), "Start-TemplateCopy",
               {"copy_id": "c4", "folder": "C:\\Hyper-V\\VDI-Templates\\Gold-v1", "source_unc_folder": export["unc_folder"]})
    assert doc["state"] == "failed" and doc["error"] == "Access is denied."


def test_import_refuses_an_incompatible_host_and_an_incomplete_copy(lab_factory):
    lab = lab_factory(speed=200.0)
    export = exported(lab)
    params = {"folder": FOLDER, "config_file": export["config_file"], "vm_name": "Gold (v1)"}
    err = fails(lab.host("HV02"), "Import-TemplateCopy", params)
    assert err["category"] == "ObjectNotFound"                          # nothing copied yet
    start(lab, "HV02", export)
    wait_state(lab, "HV02", "done")
    with lab.world.lock:
        lab.world.host("HV02").switches = [("vSwitch-Prod", "External")]
    err = fails(lab.host("HV02"), "Import-TemplateCopy", params)
    assert err["fqid"] == "VdiIncompatible" and err["category"] == "InvalidData"
    assert err["message"] == ("The template cannot be imported on HV02: Compare-VM reports incompatibilities: "
                              "Could not find Ethernet switch 'vSwitch-LAN'. (33012)")
    with lab.world.lock:
        assert not lab.world.host("HV02").vm_by_name("Gold (v1)")


def test_copy_goes_on_while_the_lab_is_stopped(tmp_path):
    state = tmp_path / "state"
    lab = Lab(state, speed=100.0)
    lab.start()
    try:
        export = exported(lab)
        before = start(lab, "HV02", export)
    finally:
        lab.stop()
    lab = Lab(state, speed=100.0)
    lab.start()
    try:
        now = get(lab, "HV02")
        assert now["state"] in ("running", "done") and now["bytes_done"] > before["bytes_done"]
        assert wait_state(lab, "HV02", "done")["bytes_done"] == export["bytes"]
        with lab.world.lock:                                    # the export is still there too
            assert lab.world.host("HV01").files.export(export["folder"]).complete
    finally:
        lab.stop()


def test_the_copy_counts_against_free_space_while_it_runs(lab_factory):
    lab = lab_factory(speed=100.0)
    export = exported(lab)
    free = d_free(lab, "HV02")
    start(lab, "HV02", export)
    wait_until(lambda: d_free(lab, "HV02") < free)
    assert free - d_free(lab, "HV02") < export["bytes"]


def test_folders_outside_the_consoles_are_refused(lab):
    h = lab.host("HV02")
    for script, params in (
            ("Start-TemplateCopy", {"copy_id": "x", "folder": "D:\\", "source_unc_folder": "\\\\HV01\\D$\\x"}),
            ("Stop-TemplateCopy", {"copy_id": "x", "folder": "D:\\Hyper-V"}),
            ("Remove-TemplateCopy", {"folder": "D:\\VDI-Templates", "vm_id": ""}),
            ("Remove-TemplateCopy", {"folder": "D:\\..\\VDI-Templates\\x", "vm_id": ""}),
            ("Remove-TemplateCopy", {"folder": "D:\\Hyper-V\\VDI-Templates\\..", "vm_id": ""}),
            ("Remove-TemplateExport", {"folder": "D:\\Hyper-V\\Win11-Gold"})):
        err = fails(h, script, params)
        assert err["fqid"] == "VdiFolderRefused" and err["category"] == "InvalidArgument", script


def test_folders_at_a_drive_root_are_the_consoles(lab):
    # a host whose VM path is D:\ keeps its copies in D:\VDI-Templates\<name> (audit item 14)
    h = lab.host("HV02")
    folder = "D:\\VDI-Templates\\Gold-v1"
    assert call(h, "Stop-TemplateCopy", {"copy_id": "x", "folder": folder}) == {"stopped": False}
    assert call(h, "Remove-TemplateCopy", {"folder": folder, "vm_id": ""}) == {"removed": False}
    assert call(lab.host("HV01"), "Remove-TemplateExport", {"folder": "D:\\VDI-Export\\Gold-v1"}) == \
        {"removed": False}


def test_remove_refuses_a_vm_outside_the_folder(lab):
    other = gold(lab, "HV02", "Win10-Office-Gold")
    err = fails(lab.host("HV02"), "Remove-TemplateCopy", {"folder": FOLDER, "vm_id": other["id"]})
    assert err["fqid"] == "VdiNotTemplateCopy"
    assert gold(lab, "HV02", "Win10-Office-Gold")["id"] == other["id"]


def test_a_folder_holds_one_copy_and_stop_leaves_another_copy_id_alone(lab_factory):
    lab = lab_factory(speed=100.0)
    export = exported(lab)
    start(lab, "HV02", export, copy_id="old")
    start(lab, "HV02", export, copy_id="new")                       # replaces the one in that folder
    assert get(lab, "HV02", "old")["state"] == "missing"
    assert call(lab.host("HV02"), "Stop-TemplateCopy", {"copy_id": "old", "folder": FOLDER}) == \
        {"stopped": False}
    assert get(lab, "HV02", "new")["state"] == "running"


def test_slow_fault_copies_ten_times_slower_from_either_end(lab_factory):
    lab = lab_factory(speed=100.0)
    export = exported(lab)
    lab.set_fault("HV03", "slow")
    start(lab, "HV03", export, copy_id="slow-target")
    lab.set_fault("HV03", None)
    lab.set_fault("HV01", "slow")
    start(lab, "HV02", export, copy_id="slow-source")
    with lab.world.lock:
        rates = [lab.world.host(h).files.copies[c].rate for h, c in (("HV03", "slow-target"),
                                                                     ("HV02", "slow-source"))]
    assert rates == [pytest.approx(TIMINGS["copy-rate"] * lab.speed / 10)] * 2


def test_the_source_host_can_be_its_own_target(lab_factory):
    lab = lab_factory(speed=200.0)
    export = exported(lab)
    free = d_free(lab, "HV01")
    start(lab, "HV01", export)
    assert wait_state(lab, "HV01", "done")["bytes_done"] == export["bytes"]
    assert d_free(lab, "HV01") == free - export["bytes"]          # the export and the copy, both on D:
