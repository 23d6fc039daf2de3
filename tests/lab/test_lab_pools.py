"""The pool scripts of issue #5 through pywinrm's real client: linked, full and quick clones, the guest's
preparation and readiness over time, the quick clone's copy and merge, removal, faults (offline mid-
operation, disk full, slow, auth), disk space, simulated users, and state that survives a restart."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
from labkit import SHORT, run
from test_lab_templates import call, d_free, fails, wait_until

from console.lab import Lab
from console.lab.pool_timings import (
    LINKED_GROWTH_BYTES,
    TIMINGS,
    create_seconds,
    independent_extra_seconds,
    usable_seconds,
)

BASE = "D:\\Hyper-V\\Virtual Hard Disks\\Win11-Gold.vhdx"
POOL = "D:\\Hyper-V\\VDI-Pools\\Sales"
PASSWORD = "S3cret-Join!"


def spec(name: str, method: str = "linked", request: str | None = None, pool: str = POOL,
         base: str = BASE) -> dict:
    return {"name": name, "method": method, "base_disks": [base], "folder": f"{pool}\\{name}",
            "switch": "vSwitch-LAN" if pool.startswith("D:") else "External Switch", "cpu_count": 2,
            "memory_bytes": 4 * 2**30, "generation": 2, "request_id": request or f"req-{name}"}


def prep(vm_id: str, name: str, domain: str = "corp.example.com", method: str = "rename-join",
         password: str = PASSWORD) -> dict:
    return {"vm_id": vm_id, "computer_name": name, "domain": domain, "organizational_unit": "",
            "join_account": "CORP\\vdi-join", "join_password": password, "method": method,
            "local_administrator": "", "owner": "", "organization": ""}


def guests(h, *ids) -> dict:
    return {g["vm_id"]: g for g in call(h, "Get-PoolCloneGuests", {"vm_ids": list(ids)})}


def ready_clone(lab, name: str, method: str = "linked", host: str = "HV01") -> dict:
    """A clone made, prepared, started and waited for until its guest reports ready."""
    h = lab.host(host)
    vm = call(h, "New-PoolClone", spec(name, method))["vm"]
    call(h, "Set-PoolClonePreparation", prep(vm["id"], name))
    call(h, "Start-PoolClone", {"vm_id": vm["id"]})
    wait_until(lambda: guests(h, vm["id"])[vm["id"]]["ready"], 15)
    return vm


def gold_bytes(lab) -> int:
    with lab.world.lock:
        return next(d.file_bytes for vm in lab.world.host("HV01").vms.values() for d in vm.disks
                    if d.path == BASE)


def test_timings_are_the_designs_figures():
    assert (TIMINGS["linked-create"], TIMINGS["boot"], TIMINGS["sysprep"], TIMINGS["rename-join"]) == \
        (1.5, 20.0, 60.0, 15.0)
    assert create_seconds("linked", 40 * 10**9) == pytest.approx(1.5)
    assert create_seconds("quick", 40 * 10**9) == pytest.approx(3.5)
    assert create_seconds("full", 40 * 10**9, speed=2) == pytest.approx(21.0)
    assert usable_seconds("linked", 0, "rename-join") == pytest.approx(1.5 + 0.3 + 2.0 + 20.0 + 15.0)
    assert usable_seconds("linked", 0, "sysprep", speed=10) == pytest.approx((1.5 + 0.3 + 2 + 20 + 60) / 10)
    assert independent_extra_seconds(40 * 10**9) == pytest.approx(40 + 0.5 + 1.0)
    with pytest.raises(ValueError):
        create_seconds("instant", 1)


def test_linked_clone_is_made_prepared_started_and_becomes_ready(lab_factory):
    lab = lab_factory(speed=20.0)                 # boot 1 s, rename and join 0.75 s
    h = lab.host("HV01")
    free = d_free(lab, "HV01")
    doc = call(h, "New-PoolClone", spec("VDI-001"))
    vm = doc["vm"]
    assert vm["name"] == "VDI-001" and vm["state"] == "Off" and vm["path"] == f"{POOL}\\VDI-001"
    assert vm["notes"] == "vdi-request:req-VDI-001" and doc["disks"] == vm["disks"]
    assert vm["disks"][0]["parent_path"] == BASE
    assert vm["disks"][0]["path"] == f"{POOL}\\VDI-001\\Virtual Hard Disks\\Win11-Gold.vhdx"
    assert d_free(lab, "HV01") == free - LINKED_GROWTH_BYTES
    assert call(h, "New-PoolClone", spec("VDI-001"))["vm"]["id"] == vm["id"]      # a retry: the same VM
    err = fails(h, "New-PoolClone", spec("vdi-001", request="another"))
    assert err["category"] == "ResourceExists" and "already exists" in err["message"]
    assert call(h, "Get-PoolClones", {"pool_folder": POOL}) == [
        {"vm_id": vm["id"], "name": "VDI-001", "folder": f"{POOL}\\VDI-001", "request_id": "req-VDI-001"}]
    off = guests(h, vm["id"])[vm["id"]]
    assert off["state"] == "Off" and off["heartbeat"] == "" and not off["ready"]
    assert call(h, "Set-PoolClonePreparation", prep(vm["id"], "VDI-001")) == {"vm_id": vm["id"], "queued": True}
    assert call(h, "Start-PoolClone", {"vm_id": vm["id"]})["state"] == "Running"
    booting = guests(h, vm["id"])[vm["id"]]
    assert booting["heartbeat"] == "No Contact" and not booting["ready"]
    assert booting["computer_name"].startswith("WIN-") and booting["domain"] == "WORKGROUP"
    assert call(h, "Start-PoolClone", {"vm_id": vm["id"]})["state"] == "Running"   # idempotent
    wait_until(lambda: guests(h, vm["id"])[vm["id"]]["ready"], 10)
    g = guests(h, vm["id"], str(uuid.uuid4()), "junk")
    assert list(g) == [vm["id"]]                                  # unknown ids are simply absent
    assert g[vm["id"]] == {"vm_id": vm["id"], "state": "Running", "heartbeat": "OK",
                           "computer_name": "VDI-001", "domain": "corp.example.com", "ready": True,
                           "logged_on_user": "", "error": ""}
    text = (lab.state_dir / "hosts" / "HV01.json").read_text(encoding="utf-8")
    assert PASSWORD not in text and '"has_password":true' in text


def test_full_clone_copies_the_base_and_takes_its_bytes(lab_factory):
    lab = lab_factory(speed=200.0)
    h = lab.host("HV01")
    free, nbytes = d_free(lab, "HV01"), gold_bytes(lab)
    t0 = time.monotonic()
    vm = call(h, "New-PoolClone", spec("VDI-002", "full"))["vm"]
    assert time.monotonic() - t0 >= create_seconds("full", nbytes, 200.0) * 0.9
    assert vm["disks"][0]["parent_path"] == "" and vm["disks"][0]["file_bytes"] == nbytes
    assert d_free(lab, "HV01") == free - nbytes
    params = {"vm_id": vm["id"], "folder": f"{POOL}\\VDI-002"}
    assert call(h, "Remove-PoolClone", params) == {"removed": True}
    assert call(h, "Remove-PoolClone", params) == {"removed": False}
    assert d_free(lab, "HV01") == free and call(h, "Get-PoolClones", {"pool_folder": POOL}) == []


def test_quick_clone_is_usable_then_independent(lab_factory):
    lab = lab_factory(speed=200.0)
    h = lab.host("HV01")
    free, nbytes = d_free(lab, "HV01"), gold_bytes(lab)
    folder = f"{POOL}\\VDI-003"
    made = call(h, "New-PoolClone", spec("VDI-003", "quick"))["vm"]
    disk = made["disks"][0]
    assert disk["path"].endswith(".avhdx") and disk["parent_path"] == f"{folder}\\Virtual Hard Disks\\Win11-Gold.vhdx"
    assert [c["name"] for c in call(h, "Get-TemplateCheckpoints", {"vm_id": made["id"]})] == ["VDI quick clone"]
    vm = made
    call(h, "Set-PoolClonePreparation", prep(vm["id"], "VDI-003", method="sysprep"))
    call(h, "Start-PoolClone", {"vm_id": vm["id"]})
    err = fails(h, "Complete-QuickClone", {"vm_id": vm["id"]})
    assert err["category"] == "InvalidOperation" and "current state" in err["message"]
    first = call(h, "Start-QuickCloneCopy", {"vm_id": vm["id"], "copy_id": "c1"})
    assert first["state"] == "running" and first["bytes_total"] == nbytes and first["error"] == ""
    wait_until(lambda: call(h, "Get-QuickCloneCopy", {"vm_id": vm["id"], "copy_id": "c1"})["state"] == "done")
    assert call(h, "Get-QuickCloneCopy", {"vm_id": vm["id"], "copy_id": "other"})["state"] == "missing"
    assert d_free(lab, "HV01") == free - LINKED_GROWTH_BYTES - nbytes
    done = call(h, "Complete-QuickClone", {"vm_id": vm["id"]})
    assert done["state"] == "Running"
    assert done["disks"] == [{"path": f"{folder}\\Virtual Hard Disks\\Win11-Gold-own.vhdx",
                              "size_bytes": disk["size_bytes"], "file_bytes": nbytes + LINKED_GROWTH_BYTES,
                              "parent_path": ""}]
    assert call(h, "Get-TemplateCheckpoints", {"vm_id": vm["id"]}) == []
    assert d_free(lab, "HV01") == free - LINKED_GROWTH_BYTES - nbytes
    assert call(h, "Complete-QuickClone", {"vm_id": vm["id"]}) == done                  # idempotent
    assert call(h, "Start-QuickCloneCopy", {"vm_id": vm["id"], "copy_id": "c1"})["state"] == "done"
    wait_until(lambda: guests(h, vm["id"])[vm["id"]]["ready"])                          # sysprep: 0.3 s
    linked = call(h, "New-PoolClone", spec("VDI-004"))["vm"]
    err = fails(h, "Start-QuickCloneCopy", {"vm_id": linked["id"], "copy_id": "c2"})
    assert err["fqid"] == "VdiNotQuickClone"


def test_a_domain_the_host_cannot_reach_fails_the_preparation(lab_factory):
    lab = lab_factory(speed=200.0)
    hv04 = lab.host("HV04")                        # a workgroup host
    pool = "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V\\VDI-Pools\\Lab"
    base = "C:\\Users\\Public\\Documents\\Hyper-V\\Virtual Hard Disks\\Lab-Win11.vhdx"
    vm = call(hv04, "New-PoolClone", spec("LAB-01", pool=pool, base=base))["vm"]
    call(hv04, "Set-PoolClonePreparation", prep(vm["id"], "LAB-01", domain="corp.example.com"))
    call(hv04, "Start-PoolClone", {"vm_id": vm["id"]})
    wait_until(lambda: guests(hv04, vm["id"])[vm["id"]]["error"])
    g = guests(hv04, vm["id"])[vm["id"]]
    assert g["error"] == "The domain 'corp.example.com' could not be contacted."
    assert not g["ready"] and g["heartbeat"] == "OK" and g["computer_name"] != "LAB-01"
    h = lab.host("HV01")                           # the right domain, but no password
    vm = call(h, "New-PoolClone", spec("VDI-005"))["vm"]
    call(h, "Set-PoolClonePreparation", prep(vm["id"], "VDI-005", password=""))
    call(h, "Start-PoolClone", {"vm_id": vm["id"]})
    wait_until(lambda: guests(h, vm["id"])[vm["id"]]["error"] == "The user name or password is incorrect.")


def test_disk_full_fault_and_a_volume_running_out(lab_factory):
    lab = lab_factory(speed=200.0)
    h = lab.host("HV01")
    lab.set_fault("HV01", "disk-full")
    err = fails(h, "New-PoolClone", spec("VDI-006"))
    assert "not enough space on the disk" in err["message"]
    lab.set_fault("HV01", None)
    vm = call(h, "New-PoolClone", spec("VDI-006"))["vm"]
    lab.set_fault("HV01", "disk-full")
    assert "not enough space on the disk" in fails(h, "Start-PoolClone", {"vm_id": vm["id"]})["message"]
    lab.set_fault("HV01", None)
    with lab.world.lock:                            # 10 GB left on D:
        host = lab.world.host("HV01")
        volume = host.volume_of("D:\\")
        volume.size_bytes = host.used_bytes(volume) + 10 * 10**9
    err = fails(h, "New-PoolClone", spec("VDI-007", "full"))
    assert "not enough space on the disk" in err["message"] and err["fqid"].startswith("System.IO.IOException")
    assert d_free(lab, "HV01") == 0                 # the partial copy stays ...
    assert call(h, "Remove-PoolClone", {"vm_id": "", "folder": f"{POOL}\\VDI-007"}) == {"removed": True}
    assert d_free(lab, "HV01") == 10 * 10**9        # ... until removed
    assert call(h, "New-PoolClone", spec("VDI-008"))["vm"]["name"] == "VDI-008"      # linked: 2 GB fits
    assert d_free(lab, "HV01") == 8 * 10**9


def test_host_going_offline_mid_creation_leaves_partial_files(lab_factory):
    lab = lab_factory(speed=20.0)                   # a full clone takes ~1.4 s
    h = lab.host("HV01")
    free = d_free(lab, "HV01")
    lab.arm_fault("HV01", "offline", script="New-PoolClone")
    with pytest.raises(requests.exceptions.ConnectionError):       # dropped without an answer
        run(h, "New-PoolClone", spec("VDI-009", "full"), body=SHORT)
    lab.set_fault("HV01", None)
    assert call(h, "Get-PoolClones", {"pool_folder": POOL}) == []
    assert 0 < free - d_free(lab, "HV01") < gold_bytes(lab)                # part of the copy is there
    assert call(h, "Remove-PoolClone", {"folder": f"{POOL}\\VDI-009"}) == {"removed": True}
    assert d_free(lab, "HV01") == free
    lab.arm_fault("HV01", "offline", script="Start-QuickCloneCopy")       # halfway through the copy
    vm = call(h, "New-PoolClone", spec("VDI-010", "quick"))["vm"]
    first = call(h, "Start-QuickCloneCopy", {"vm_id": vm["id"], "copy_id": "c1"})
    assert first["state"] == "running"
    wait_until(lambda: lab.fault("HV01") == "offline")
    lab.set_fault("HV01", None)
    failed = call(h, "Get-QuickCloneCopy", {"vm_id": vm["id"], "copy_id": "c1"})
    assert failed["state"] == "failed" and failed["error"] == "The network path was not found."
    assert 0 < failed["bytes_done"] < failed["bytes_total"]
    assert call(h, "Start-QuickCloneCopy", {"vm_id": vm["id"], "copy_id": "c1"})["state"] == "running"


def test_slow_and_auth_faults(lab_factory):
    lab = lab_factory(speed=200.0)
    h = lab.host("HV01")
    lab.set_fault("HV01", "slow")
    t0 = time.monotonic()
    call(h, "New-PoolClone", spec("VDI-011", "full"))
    assert time.monotonic() - t0 >= create_seconds("full", gold_bytes(lab), 20.0) * 0.9     # x10
    lab.set_fault("HV01", "auth")
    with pytest.raises(Exception, match="(?i)credentials|401|unauthorized"):
        run(h, "Get-PoolClones", {"pool_folder": POOL}, body=SHORT)


def test_simulated_users_take_release_and_are_logged_off(lab_factory):
    lab = lab_factory(speed=200.0)
    h = lab.host("HV01")
    vms = [ready_clone(lab, f"VDI-1{i}") for i in range(3)]
    assert lab.take_clones("HV01", 2) == ["VDI-10", "VDI-11"]
    assert lab.logged_on() == {"VDI-10": "CORP\\user001", "VDI-11": "CORP\\user002"}
    g = guests(h, *(v["id"] for v in vms))
    assert [g[v["id"]]["logged_on_user"] for v in vms] == ["CORP\\user001", "CORP\\user002", ""]
    assert call(h, "Invoke-PoolCloneLogoff", {"vm_id": vms[0]["id"]}) == {"logged_off": True}
    assert call(h, "Invoke-PoolCloneLogoff", {"vm_id": vms[0]["id"]}) == {"logged_off": False}
    assert lab.release_clones(["vdi-11", "VDI-12"]) == ["VDI-11"]
    assert lab.take_clones(None, 5, user_prefix="kiosk") == ["VDI-10", "VDI-11", "VDI-12"]
    call(h, "Set-VMPowerState", {"vm_id": vms[2]["id"], "action": "stop"})
    assert lab.logged_on("HV01") == {"VDI-10": "CORP\\kiosk001", "VDI-11": "CORP\\kiosk002"}
    assert lab.take_clones("HV02", 1) == []


def test_clones_and_guests_survive_a_lab_restart(tmp_path):
    state = tmp_path / "state"
    lab = Lab(state, speed=200.0)
    lab.start()
    try:
        vm = ready_clone(lab, "VDI-020")
        assert lab.take_clones(None, 1) == ["VDI-020"]
        quick = call(lab.host("HV01"), "New-PoolClone", spec("VDI-021", "quick"))["vm"]
        call(lab.host("HV01"), "Start-QuickCloneCopy", {"vm_id": quick["id"], "copy_id": "c9"})
    finally:
        lab.stop()
    lab = Lab(state, speed=200.0)
    lab.start()
    try:
        h = lab.host("HV01")
        assert {c["name"] for c in call(h, "Get-PoolClones", {"pool_folder": POOL})} == {"VDI-020", "VDI-021"}
        g = guests(h, vm["id"])[vm["id"]]
        assert g["ready"] and g["computer_name"] == "VDI-020" and g["logged_on_user"] == "CORP\\user001"
        wait_until(lambda: call(h, "Get-QuickCloneCopy", {"vm_id": quick["id"], "copy_id": "c9"})["state"] == "done")
    finally:
        lab.stop()


def test_removal_is_confined_to_pool_folders(lab):
    h = lab.host("HV01")
    a = call(h, "New-PoolClone", spec("VDI-030"))["vm"]
    call(h, "New-PoolClone", spec("VDI-031"))
    err = fails(h, "Remove-PoolClone", {"vm_id": a["id"], "folder": "D:\\Hyper-V\\Win11-Gold"})
    assert err["fqid"] == "VdiFolderRefused" and err["category"] == "InvalidArgument"
    err = fails(h, "Remove-PoolClone", {"vm_id": a["id"], "folder": f"{POOL}\\VDI-031"})
    assert err["fqid"] == "VdiNotPoolClone"
    assert fails(h, "Get-PoolClones", {"pool_folder": "D:\\Hyper-V"})["fqid"] == "VdiFolderRefused"
    err = fails(h, "New-PoolClone", {**spec("VDI-032"), "base_disks": ["D:\\nowhere\\x.vhdx"]})
    assert err["category"] == "ObjectNotFound"
    assert fails(h, "New-PoolClone", {**spec("VDI-033"), "method": "instant"})["fqid"] == "VdiUnknownMethod"
    assert fails(h, "New-PoolClone", {**spec("VDI-034"), "switch": "nope"})["category"] == "InvalidArgument"
    assert fails(h, "Start-PoolClone", {"vm_id": str(uuid.uuid4())})["category"] == "InvalidArgument"
