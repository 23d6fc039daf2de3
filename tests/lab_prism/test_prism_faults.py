"""Fault switches of the Prism endpoints: offline, slow, clone-500, clone-fails-60 (a partial VM left
behind), old-version; set directly, through ``Lab``, or after a delay."""
from __future__ import annotations

import time

import httpx
import pytest
from prismkit import V2, V3, client, v2_vms, v3_all_vms, wait_v2, wait_v3

from console.lab.prism import FAULTS


def test_offline_refuses_connections_and_comes_back_on_the_same_port(prism):
    ep = prism.endpoint("NTNX-PE-01")
    prism.set_fault(ep.name, "offline")
    with client(prism, ep.name) as c:
        with pytest.raises(httpx.ConnectError):
            c.get(f"{V2}/cluster/")
        prism.set_fault(ep.name, None)
        assert prism.endpoint(ep.name).url == ep.url
        assert c.get(f"{V2}/cluster/").status_code == 200


def test_offline_drops_an_open_keep_alive_connection(prism):
    with client(prism, "NTNX-PC-01") as c:
        assert c.get(f"{V3}/users/me").status_code == 200            # connection now open and idle
        prism.set_fault("NTNX-PC-01", "offline")
        with pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)):
            c.get(f"{V3}/users/me")


def test_slow_makes_tasks_ten_times_longer(prism):
    with client(prism, "NTNX-PE-01") as pe:
        vm = v2_vms(pe)[0]["uuid"]
        normal = pe.post(f"{V2}/vms/{vm}/set_power_state", json={"transition": "ON"}).json()["task_uuid"]
        prism.set_fault("NTNX-PE-01", "slow")
        slow = pe.post(f"{V2}/vms/{vm}/set_power_state", json={"transition": "ON"}).json()["task_uuid"]
        with prism.world.lock:
            a, b = prism.world.tasks[normal].run_seconds, prism.world.tasks[slow].run_seconds
        assert b == pytest.approx(10 * a)
        prism.set_fault("NTNX-PE-01", None)


def test_clone_500_answers_every_clone_request_with_500(prism):
    with client(prism, "NTNX-PE-01") as pe:
        vm = v2_vms(pe)[0]["uuid"]
        snap = pe.get(f"{V2}/snapshots/").json()["entities"][0]["uuid"]
        prism.set_fault("NTNX-PE-01", "clone-500")
        r = pe.post(f"{V2}/vms/{vm}/clone", json={"spec_list": [{"name": "x"}]})
        assert r.status_code == 500 and "clone" in r.json()["message"]
        assert pe.post(f"{V2}/snapshots/{snap}/clone", json={"spec_list": [{"name": "x"}]}).status_code == 500
        assert pe.post(f"{V2}/vms/{vm}/set_power_state", json={"transition": "ON"}).status_code == 201
    with client(prism, "NTNX-PC-01") as pc:
        assert pc.post(f"{V3}/vms/{vm}/clone", json={}).status_code == 202     # only the faulty endpoint
        prism.set_fault("NTNX-PC-01", "clone-500")
        r = pc.post(f"{V3}/vms/{vm}/clone", json={})
        assert r.status_code == 500 and r.json()["message_list"][0]["reason"] == "INTERNAL_ERROR"
        assert pc.post(f"{V3}/vm_recovery_points/{snap}/restore", json={}).status_code == 500


def test_clone_fails_at_60_percent_leaving_a_partial_vm_v2(prism):
    prism.set_fault("NTNX-PE-01", "clone-fails-60")
    with client(prism, "NTNX-PE-01") as pe:
        src = next(v for v in v2_vms(pe) if v["name"] == "SQL-VDI-01")
        before = len(v2_vms(pe))
        t = wait_v2(pe, pe.post(f"{V2}/vms/{src['uuid']}/clone",
                                json={"spec_list": [{"name": "Half-Made"}]}).json()["task_uuid"])
        assert t["progress_status"] == "Failed" and t["percentage_complete"] == 60
        assert t["meta_response"]["error_code"] != 0 and "60 %" in t["meta_response"]["error_detail"]
        partial_uuid = t["entity_list"][0]["entity_id"]
        vms = v2_vms(pe)
        assert len(vms) == before + 1
        partial = next(v for v in vms if v["uuid"] == partial_uuid)
        assert partial["name"] == "Half-Made" and partial["power_state"] == "off"
        assert len(partial["vm_disk_info"]) < len(src["vm_disk_info"]) and "incomplete" in partial["description"]
        # the partial VM can be removed like any other
        assert wait_v2(pe, pe.delete(f"{V2}/vms/{partial_uuid}").json()["task_uuid"])["progress_status"] == "Succeeded"


def test_clone_fails_at_60_percent_v3(prism):
    prism.set_fault("NTNX-PC-01", "clone-fails-60")
    with client(prism, "NTNX-PC-01") as pc:
        src = next(v for v in v3_all_vms(pc) if v["status"]["name"] == "Linux-Template")
        t = wait_v3(pc, pc.post(f"{V3}/vms/{src['metadata']['uuid']}/clone",
                                json={"override_spec": {"name": "Half-Made-3"}}).json()["task_uuid"])
        assert t["status"] == "FAILED" and t["percentage_complete"] == 60 and "60 %" in t["error_detail"]
        partial = pc.get(f"{V3}/vms/{t['entity_reference_list'][0]['uuid']}").json()
        assert partial["status"]["state"] == "ERROR"
        assert "incomplete" in partial["status"]["message_list"][0]["message"]


def test_old_version_names_an_old_release(prism):
    prism.set_fault("NTNX-PE-01", "old-version")
    prism.set_fault("NTNX-PC-01", "old-version")
    with client(prism, "NTNX-PE-01") as pe:
        c = pe.get(f"{V2}/cluster/").json()
        assert c["version"] == "4.7" and "-4.7-" in c["full_version"]
    with client(prism, "NTNX-PC-01") as pc:
        by_name = {e["status"]["name"]: e["status"]["resources"]["config"]["build"]["version"]
                   for e in pc.post(f"{V3}/clusters/list", json={"kind": "cluster"}).json()["entities"]}
        assert by_name["NTNX-PC-01"] == "5.5.0.6" and by_name["NTNX-PE-01"].startswith("5.20")
    prism.set_fault("NTNX-PE-01", None)
    with client(prism, "NTNX-PE-01") as pe:
        assert pe.get(f"{V2}/cluster/").json()["version"].startswith("5.20")


def test_unknown_fault_or_endpoint_is_refused_with_a_sentence(prism):
    with pytest.raises(ValueError, match="unknown Prism fault 'melt'; expected one of offline"):
        prism.set_fault("NTNX-PE-01", "melt")
    with pytest.raises(KeyError, match="no Prism endpoint named 'NTNX-PE-09'"):
        prism.set_fault("NTNX-PE-09", "auth")
    assert len(FAULTS) == 8


def test_delayed_fault_arrives_later(prism):
    prism.set_fault("NTNX-PE-01", "auth", delay=0.2)
    assert prism.fault("NTNX-PE-01") is None
    end = time.monotonic() + 5
    while prism.fault("NTNX-PE-01") != "auth":
        assert time.monotonic() < end
        time.sleep(0.02)
