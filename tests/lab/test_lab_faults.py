"""Fault switches: offline, slow, auth, disk-full; and a host going away in the middle of an operation."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from winrm.exceptions import InvalidCredentialsError

from console.lab import Lab
from labkit import SHORT, build, ok, run, session, vm_named


def _refused(host) -> bool:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host.address, host.port))
    except ConnectionRefusedError:
        return True
    finally:
        s.close()
    return False


def test_offline_refuses_connections_and_comes_back_on_same_port(lab):
    h = lab.host("HV02")
    ok(h, "Get-Inventory")
    lab.set_fault("HV02", "offline")
    assert _refused(h)
    with pytest.raises(requests.exceptions.ConnectionError):
        session(h).run_ps(build("Get-Inventory"))
    ok(lab.host("HV01"), "Get-Inventory")            # the others are untouched
    lab.set_fault("HV02", None)
    assert ok(h, "Get-Inventory")["computer_name"] == "HV02"


def test_auth_fault_answers_401_to_good_credentials(lab):
    h = lab.host("HV03")
    lab.set_fault("HV03", "auth")
    with pytest.raises(InvalidCredentialsError):
        session(h).run_ps(build("Get-Inventory"))
    lab.set_fault("HV03", None)
    ok(h, "Get-Inventory")


def test_disk_full(lab):
    h = lab.host("HV01")
    lab.set_fault("HV01", "disk-full")
    facts = ok(h, "Get-HostFacts")
    assert all(v["free_bytes"] == 0 for v in facts["volumes"])
    inv = ok(h, "Get-Inventory")
    for name in ("Win11-Gold", "Win10-Office"):          # from Off and from Saved
        code, doc, _ = run(h, "Set-VMPowerState", {"vm_id": vm_named(inv, name)["id"], "action": "start"},
                           body=SHORT)
        assert code == 1
        assert "There is not enough space on the disk." in doc["error"]["message"]
        assert doc["error"]["fqid"] == "OperationFailed,Microsoft.HyperV.PowerShell.Commands.StartVM"
    # writes fail (the upload of a long script too: $env:TEMP is full as well), reads and turning off do not
    code, doc, _ = run(h, "Upload-Chunk", {"id": "a" * 64, "index": 0, "count": 1, "data": "QQ=="})
    assert code == 1 and "not enough space on the disk" in doc["error"]["message"]
    stop = {"vm_id": vm_named(inv, "RDSH-2022")["id"], "action": "stop"}
    assert ok(h, "Set-VMPowerState", stop, body=SHORT)["changed"]
    with lab.world.lock:
        assert lab.world.host("HV01").vm_by_id(vm_named(inv, "Win11-Gold")["id"]).state == "Off"
    lab.set_fault("HV01", None)
    assert all(v["free_bytes"] > 0 for v in ok(h, "Get-HostFacts")["volumes"])


def test_slow_multiplies_durations(lab_factory):
    lab = lab_factory(speed=10.0)                      # inventory: 0.3 s / 10 = 30 ms
    h = lab.host("HV04")
    t0 = time.monotonic()
    ok(h, "Get-Inventory", )
    fast = time.monotonic() - t0
    lab.set_fault("HV04", "slow")                      # x10: 0.3 s
    t0 = time.monotonic()
    ok(h, "Get-Inventory")
    slow = time.monotonic() - t0
    # The lower bound is what the fault guarantees (10 x 30 ms of simulated work); the client's own
    # overhead varies with machine load, so it is not compared in absolute terms.
    assert slow >= 0.3 and slow > fast


def test_unknown_fault_rejected(lab):
    with pytest.raises(ValueError):
        lab.set_fault("HV01", "on-fire")
    with pytest.raises(KeyError):
        lab.set_fault("HV99", "slow")


def _start_in_background(h, vm_id):
    box = {}

    def work():
        try:
            box["result"] = session(h).run_ps(build("Set-VMPowerState", {"vm_id": vm_id, "action": "start"},
                                                    body=SHORT))
        except Exception as e:          # what the client sees
            box["error"] = e
    t = threading.Thread(target=work)
    t.start()
    return t, box


def test_host_going_offline_in_the_middle_of_an_operation(lab_factory):
    lab = lab_factory(speed=2.0)                       # a start takes 2 s
    h = lab.host("HV01")
    vm = vm_named(ok(h, "Get-Inventory"), "Win11-Gold")
    lab.arm_fault("HV01", "offline", script="Set-VMPowerState")   # halfway through the start
    t0 = time.monotonic()
    t, box = _start_in_background(h, vm["id"])
    t.join(timeout=15)
    assert not t.is_alive()
    assert isinstance(box.get("error"), requests.exceptions.ConnectionError), box
    assert 0.8 <= time.monotonic() - t0 < 2.0          # failed at ~1 s, did not wait for the end
    assert _refused(h)
    with lab.world.lock:                                # the start never completed
        assert lab.world.host("HV01").vm_by_id(vm["id"]).state == "Off"
    lab.set_fault("HV01", None)
    assert vm_named(ok(h, "Get-Inventory"), "Win11-Gold")["state"] == "Off"


def test_set_fault_from_another_thread_while_a_slow_operation_runs(lab_factory):
    lab = lab_factory(speed=50.0)
    h = lab.host("HV02")
    vm = vm_named(ok(h, "Get-Inventory"), "Win10-Office-Gold")
    lab.set_fault("HV02", "slow")                       # start: 4 s / 50 * 10 = 0.8 s
    t, box = _start_in_background(h, vm["id"])
    time.sleep(0.3)
    with lab.world.lock:
        assert lab.world.host("HV02").vm_by_id(vm["id"]).state == "Starting"
    lab.set_fault("HV02", "offline")
    t.join(timeout=10)
    assert isinstance(box.get("error"), requests.exceptions.ConnectionError), box
    with lab.world.lock:
        assert lab.world.host("HV02").vm_by_id(vm["id"]).state == "Off"


def test_delayed_fault(lab):
    lab.set_fault("HV04", "offline", delay=0.2)
    assert lab.fault("HV04") is None
    deadline = time.monotonic() + 5
    while lab.fault("HV04") != "offline" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lab.fault("HV04") == "offline" and _refused(lab.host("HV04"))


def test_faults_persist_across_restart(tmp_path):
    state = tmp_path / "state"
    lab = Lab(state, speed=50)
    lab.start()
    try:
        lab.set_fault("HV02", "offline")
        lab.set_fault("HV03", "disk-full")
    finally:
        lab.stop()
    lab = Lab(state, speed=50)
    hosts = {h.name: h for h in lab.start()}
    try:
        assert lab.fault("HV02") == "offline" and lab.fault("HV03") == "disk-full"
        assert _refused(hosts["HV02"])
        facts = ok(hosts["HV03"], "Get-HostFacts")
        assert all(v["free_bytes"] == 0 for v in facts["volumes"])
        lab.set_fault("HV02", None)
        ok(hosts["HV02"], "Get-Inventory")
    finally:
        lab.stop()
