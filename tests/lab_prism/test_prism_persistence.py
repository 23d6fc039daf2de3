"""The Prism world persists with the lab state (created, changed and deleted VMs, faults, tasks), is
rebuilt when its spec changes, and starts with ``Lab``."""
from __future__ import annotations

import io
import threading
import time

from prismkit import V2, V3, client, v2_vms, wait_v2

from console.lab import Lab
from console.lab.prism import PrismLab, PrismSpec
from console.lab.prism.model import Task


def test_changes_survive_a_restart(tmp_path):
    lab = PrismLab(tmp_path, speed=100)
    lab.start()
    with client(lab, "NTNX-PE-01") as pe:
        vms = {v["name"]: v for v in v2_vms(pe)}
        t = wait_v2(pe, pe.post(f"{V2}/vms/{vms['Win11-Gold']['uuid']}/clone",
                                json={"spec_list": [{"name": "Persisted-Clone"}]}).json()["task_uuid"])
        clone_uuid = t["entity_list"][0]["entity_id"]
        wait_v2(pe, pe.delete(f"{V2}/vms/{vms['Ubuntu-Jump']['uuid']}").json()["task_uuid"])
        wait_v2(pe, pe.post(f"{V2}/vms/{vms['Win11-VDI-001']['uuid']}/set_power_state",
                            json={"transition": "OFF"}).json()["task_uuid"])
    lab.set_fault("NTNX-PC-01", "slow")
    lab.stop()

    again = PrismLab(tmp_path, speed=100)
    again.start()
    try:
        with client(again, "NTNX-PE-01") as pe:
            now = {v["name"]: v for v in v2_vms(pe)}
            assert now["Persisted-Clone"]["uuid"] == clone_uuid
            assert "Ubuntu-Jump" not in now
            assert now["Win11-VDI-001"]["power_state"] == "off"
            assert pe.get(f"{V2}/tasks/{t['uuid']}").json()["progress_status"] == "Succeeded"
        assert again.fault("NTNX-PC-01") == "slow"
    finally:
        again.stop()
    assert not list(tmp_path.rglob("*.tmp"))                  # atomic writes leave no temp files


def test_a_task_running_at_stop_reads_failed_after_restart(tmp_path):
    lab = PrismLab(tmp_path, speed=1)                          # a clone takes 20 s: still running at stop
    lab.start()
    with client(lab, "NTNX-PE-01") as pe:
        vm = v2_vms(pe)[0]["uuid"]
        task = pe.post(f"{V2}/vms/{vm}/clone", json={"spec_list": [{"name": "Never"}]}).json()["task_uuid"]
    lab.stop()
    again = PrismLab(tmp_path, speed=1)
    again.start()
    try:
        with client(again, "NTNX-PE-01") as pe:
            t = pe.get(f"{V2}/tasks/{task}").json()
            assert t["progress_status"] == "Failed" and "interrupted" in t["meta_response"]["error_detail"]
            assert "Never" not in {v["name"] for v in v2_vms(pe)}
    finally:
        again.stop()


def test_offline_persisted_at_start_still_has_an_address(tmp_path):
    lab = PrismLab(tmp_path, speed=100)
    lab.start()
    lab.set_fault("NTNX-PE-01", "offline")
    lab.stop()
    again = PrismLab(tmp_path, speed=100)
    eps = {p.name: p for p in again.start()}
    try:
        assert eps["NTNX-PE-01"].port > 0
        again.set_fault("NTNX-PE-01", None)
        with client(again, "NTNX-PE-01") as pe:
            assert pe.get(f"{V2}/cluster/").status_code == 200
    finally:
        again.stop()


def test_spec_change_rebuilds_and_same_spec_keeps(tmp_path):
    PrismLab(tmp_path, speed=100, spec=PrismSpec(extra_vms_pe02=30, seed=3)).world.save_all()
    kept = PrismLab(tmp_path, speed=100)                       # no spec: whatever was saved
    assert len(kept.world.cluster("NTNX-PE-02").vms) == 42
    rebuilt = PrismLab(tmp_path, speed=100, spec=PrismSpec())
    assert len(rebuilt.world.cluster("NTNX-PE-02").vms) == 12


def test_task_is_queued_then_running_then_done_by_the_clock():
    t = Task(uuid="t", cluster_uuid="c", operation="clone", entity_type="VM", entity_uuids=["v"], params={},
             created=100.0, queued_seconds=1.0, run_seconds=10.0)
    assert t.state_at(100.5) == ("Queued", 0)
    assert t.state_at(106.0) == ("Running", 50)
    assert t.state_at(200.0) == ("Running", 99)              # done only when advance() applied it
    assert t.due == 111.0
    t.fail_at = 0.6
    assert t.due == 107.0


def test_lab_starts_prism_with_the_hyperv_hosts(tmp_path):
    lab = Lab(tmp_path, speed=100)
    assert lab.prism == []
    hosts = lab.start()
    try:
        assert [h.name for h in hosts] == ["HV01", "HV02", "HV03", "HV04"]
        assert [(p.kind, p.name) for p in lab.prism] == [("nutanix-pe", "NTNX-PE-01"), ("nutanix-pc", "NTNX-PC-01")]
        assert all(p.url.startswith("https://127.0.0.1:") and p.password == "Nutanix/4u-Lab" for p in lab.prism)
        lab.set_fault("NTNX-PC-01", "auth")                    # a Prism name goes to the Prism lab
        assert lab.fault("NTNX-PC-01") == "auth"
        with client(lab.prism_lab, "NTNX-PC-01") as pc:
            assert pc.get(f"{V3}/users/me").status_code == 401
        lab.set_fault("HV02", "slow")                          # a host name still goes to the host
        assert lab.fault("HV02") == "slow"
    finally:
        lab.stop()
    assert lab.prism == []
    assert (tmp_path / "prism" / "tls" / "NTNX-PE-01.pem").exists()


def test_lab_without_prism(tmp_path):
    lab = Lab(tmp_path, speed=100, prism=False)
    lab.start()
    try:
        assert lab.prism == [] and lab.prism_lab is None
    finally:
        lab.stop()
    assert not (tmp_path / "prism").exists()


def test_serve_forever_prints_prism_addresses(tmp_path):
    from console.lab import serve_forever
    out, stop = io.StringIO(), threading.Event()
    t = threading.Thread(target=serve_forever, args=(tmp_path, 100.0), kwargs={"out": out, "stop_event": stop})
    t.start()
    try:
        end = time.monotonic() + 10
        while "Ctrl-C" not in out.getvalue():
            assert time.monotonic() < end
            time.sleep(0.02)
    finally:
        stop.set()
        t.join(timeout=10)
    lines = [ln for ln in out.getvalue().splitlines() if ln.startswith("NTNX-")]
    assert [ln.split("\t")[0] for ln in lines] == ["NTNX-PE-01", "NTNX-PC-01"]
    assert all("https://127.0.0.1:" in ln and "user=admin" in ln and "fingerprint=" in ln for ln in lines)
    assert "kind=nutanix-pc" in lines[1] and "2 Prism endpoints" in out.getvalue()
