"""The world lives in the state folder: what happened in one run is there in the next."""
from __future__ import annotations

import json
import time

from console.lab import Lab, WorldSpec
from labkit import ok, vm_named


def test_started_vm_still_running_after_restart(tmp_path):
    state = tmp_path / "state"
    lab = Lab(state, speed=50)
    h = {x.name: x for x in lab.start()}["HV04"]
    try:
        vm = vm_named(ok(h, "Get-Inventory"), "Lab-Linux")
        assert vm["state"] == "Off"
        ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "start"})
        dc = vm_named(ok(h, "Get-Inventory"), "Lab-DC01")
        ok(h, "Set-VMPowerState", {"vm_id": dc["id"], "action": "stop"})
    finally:
        lab.stop()
    time.sleep(1.1)
    lab = Lab(state, speed=50)
    h = {x.name: x for x in lab.start()}["HV04"]
    try:
        inv = ok(h, "Get-Inventory")
        again = vm_named(inv, "Lab-Linux")
        assert again["id"] == vm["id"] and again["state"] == "Running"
        assert again["uptime_seconds"] >= 1                   # it kept running
        assert vm_named(inv, "Lab-DC01")["state"] == "Off"
    finally:
        lab.stop()


def test_saved_after_every_change_atomically(tmp_path):
    state = tmp_path / "state"
    lab = Lab(state, speed=50)
    h = {x.name: x for x in lab.start()}["HV01"]
    try:
        vm = vm_named(ok(h, "Get-Inventory"), "Win11-Gold")
        ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "start"})
        # without stopping the lab: the file already says so
        doc = json.loads((state / "hosts" / "HV01.json").read_text(encoding="utf-8"))
        (saved,) = [v for v in doc["vms"] if v["id"] == vm["id"]]
        assert saved["state"] == "Running"
        world = json.loads((state / "world.json").read_text(encoding="utf-8"))
        assert world["hosts"] == ["HV01", "HV02", "HV03", "HV04"]
        assert not list(state.rglob("*.tmp"))
    finally:
        lab.stop()


def test_operation_interrupted_by_stop_is_not_half_done(tmp_path):
    import threading
    from labkit import session, build
    state = tmp_path / "state"
    lab = Lab(state, speed=2)                                  # start: 2 s
    h = {x.name: x for x in lab.start()}["HV01"]
    vm = vm_named(ok(h, "Get-Inventory"), "Win11-Gold")
    t = threading.Thread(target=lambda: _swallow(lambda: session(h).run_ps(
        build("Set-VMPowerState", {"vm_id": vm["id"], "action": "start"}, body="    $null\n"))))
    t.start()
    time.sleep(0.5)
    lab.stop()
    t.join(timeout=10)
    lab = Lab(state, speed=50)
    h = {x.name: x for x in lab.start()}["HV01"]
    try:
        assert vm_named(ok(h, "Get-Inventory"), "Win11-Gold")["state"] == "Off"
    finally:
        lab.stop()


def _swallow(fn):
    try:
        fn()
    except Exception:
        pass


def test_other_spec_builds_a_new_world(tmp_path):
    state = tmp_path / "state"
    lab = Lab(state, speed=50)
    assert len(lab.start()) == 4
    lab.stop()
    lab = Lab(state, speed=50, spec=WorldSpec(hosts=3, vms_per_host=2, seed=9))
    try:
        hosts = lab.start()
        assert [h.name for h in hosts] == ["HV01", "HV02", "HV03"]
        assert len(ok(hosts[0], "Get-Inventory")["vms"]) == 2
    finally:
        lab.stop()
    # no spec: whatever the folder holds
    lab = Lab(state, speed=50)
    try:
        assert len(lab.start()) == 3
    finally:
        lab.stop()


def test_unreadable_state_is_rebuilt(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "world.json").write_text("{not json", encoding="utf-8")
    lab = Lab(state, speed=50)
    try:
        assert len(lab.start()) == 4
    finally:
        lab.stop()


def test_constructor_touches_nothing(tmp_path):
    state = tmp_path / "state"
    Lab(state, speed=50)
    assert not state.exists()


def _four_free_ports() -> int:
    """A base port whose next three are free too, below Linux's ephemeral range (32768-60999), where
    the other tests' own connections and servers take their ports."""
    import random
    import socket
    for base in random.sample(range(20000, 32000, 4), 50):
        sockets = []
        try:
            for port in range(base, base + 4):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no four free consecutive ports between 20000 and 32000")


def test_fixed_ports(tmp_path):
    base = _four_free_ports()
    lab = Lab(tmp_path / "state", speed=50, base_port=base)
    try:
        hosts = lab.start()
        assert [h.port for h in hosts] == [base, base + 1, base + 2, base + 3]
        assert ok(hosts[3], "Get-Inventory")["computer_name"] == "HV04"
    finally:
        lab.stop()
