"""Prism Element REST v2.0 against the lab over HTTPS: every endpoint, the real casing, key-set parity
with the real bodies in the reference folder, tasks, and bad input."""
from __future__ import annotations

import time

import pytest
from prismkit import V2, V2_ALT, client, reference, v2_vms, wait_v2

from console.lab.prism import ODD_NAME


def missing_keys(ref, got, path="") -> list[str]:
    """Every key the reference body has that ``got`` lacks, recursively (lists: each item of ``got``
    against the reference's first item)."""
    out = []
    if isinstance(ref, dict):
        if not isinstance(got, dict):
            return [f"{path} is {type(got).__name__}, not an object"]
        for k, v in ref.items():
            if k not in got:
                out.append(f"{path}.{k}")
            elif isinstance(v, (dict, list)) and got[k] is not None:
                out += missing_keys(v, got[k], f"{path}.{k}")
    elif isinstance(ref, list) and ref and isinstance(ref[0], dict):
        for i, item in enumerate(got):
            out += missing_keys(ref[0], item, f"{path}[{i}]")
    return out


def test_missing_keys_finds_a_missing_nested_field():
    assert missing_keys({"a": {"b": 1}, "c": [{"d": 1}]}, {"a": {}, "c": [{"d": 2}, {}]}) == [".a.b", ".c[1].d"]


def test_vms_carry_every_field_of_the_real_body(pe):
    ref = reference("prism-element-v2-vms_1.json")
    body = pe.get(f"{V2}/vms/", params={"include_vm_disk_config": "true", "include_vm_nic_config": "true"}).json()
    assert missing_keys(ref, body) == []
    assert len(body["entities"]) == body["metadata"]["count"] == 12
    assert set(ref["entities"][0]) <= set(body["entities"][0])


def test_cluster_carries_every_field_of_the_real_body(pe):
    ref = reference("prism-element-v2-cluster.json")
    body = pe.get(f"{V2}/cluster/").json()
    assert missing_keys(ref, body) == []
    assert body["name"] == "NTNX-PE-01"
    assert body["full_version"].startswith("el7.3-release-euphrates-5.20")
    assert body["cluster_functions"] == ["NDFS"] and body["hypervisor_types"] == ["kKvm"]
    assert len(body["stats"]) == len(ref["stats"]) and all(isinstance(v, str) for v in body["stats"].values())


def test_both_v2_roots_answer_the_same(pe):
    a = pe.get(f"{V2}/cluster/").json()
    b = pe.get(f"{V2_ALT}/cluster").json()
    assert a["uuid"] == b["uuid"]


def test_v2_casing_and_vm_details(pe):
    vms = v2_vms(pe)
    states = {v["power_state"] for v in vms}
    assert {"on", "off"} <= states and not any(s.isupper() for s in states)
    by_name = {v["name"]: v for v in vms}
    assert ODD_NAME in by_name                      # quotes and non-ASCII letters survive the round trip
    sql = by_name["SQL-VDI-01"]
    assert [d["size"] for d in sql["vm_disk_info"]] == [100 * 2**30, 200 * 2**30, 50 * 2**30]
    assert sql["vm_disk_info"][0]["disk_address"]["disk_label"] == "scsi.0"
    assert sql["vm_nics"][0]["mac_address"].startswith("50:6b:8d:")
    assert sql["host_uuid"] and by_name["Win11-Gold"]["host_uuid"] is None
    one = pe.get(f"{V2}/vms/{sql['uuid']}", params={"include_vm_disk_config": "true"}).json()
    assert one["name"] == "SQL-VDI-01" and "vm_disk_info" in one and "vm_nics" not in one
    plain = pe.get(f"{V2}/vms/").json()["entities"][0]
    assert "vm_disk_info" not in plain and "vm_nics" not in plain


def test_hosts_containers_networks(pe):
    hosts = pe.get(f"{V2}/hosts/").json()
    assert hosts["metadata"]["total_entities"] == 3
    h = hosts["entities"][0]
    assert h["hypervisor_type"] == "kKvm" and h["memory_capacity_in_bytes"] > 0 and h["num_cpu_cores"] > 0
    assert pe.get(f"{V2}/hosts/{h['uuid']}").json()["name"] == h["name"]
    ctrs = pe.get(f"{V2}/storage_containers/").json()["entities"]
    assert "VDI-Gold" in {c["name"] for c in ctrs}
    c0 = ctrs[0]
    assert int(c0["usage_stats"]["storage.capacity_bytes"]) == c0["max_capacity"]
    assert pe.get(f"{V2}/storage_containers/{c0['storage_container_uuid']}").json()["name"] == c0["name"]
    nets = pe.get(f"{V2}/networks/").json()["entities"]
    assert {n["vlan_id"] for n in nets} == {0, 30, 120}


def test_snapshots_list_filter_and_get(pe):
    vms = {v["name"]: v for v in v2_vms(pe)}
    gold = vms["Win11-Gold"]
    snaps = pe.get(f"{V2}/snapshots/").json()["entities"]
    assert [s["snapshot_name"] for s in snaps] == ["Sealed 2024-05-02"]
    assert pe.get(f"{V2}/snapshots/", params={"vm_uuid": gold["uuid"]}).json()["entities"][0]["vm_uuid"] == gold["uuid"]
    assert pe.get(f"{V2}/snapshots/", params={"vm_uuid": vms["SQL-VDI-01"]["uuid"]}).json()["entities"] == []
    one = pe.get(f"{V2}/snapshots/{snaps[0]['uuid']}").json()
    assert one["vm_create_spec"]["name"] == "Win11-Gold"


def test_power_off_then_on_runs_tasks(pe):
    vm = next(v for v in v2_vms(pe) if v["name"] == "Win11-VDI-001")
    r = pe.post(f"{V2}/vms/{vm['uuid']}/set_power_state", json={"transition": "OFF"})
    assert r.status_code == 201, r.text
    t = wait_v2(pe, r.json()["task_uuid"])
    assert t["progress_status"] == "Succeeded" and t["percentage_complete"] == 100
    assert t["entity_list"][0]["entity_id"] == vm["uuid"] and t["operation_type"] == "kVmChangePowerState"
    now = pe.get(f"{V2}/vms/{vm['uuid']}").json()
    assert now["power_state"] == "off" and now["host_uuid"] is None
    assert now["vm_logical_timestamp"] > vm["vm_logical_timestamp"]
    t = wait_v2(pe, pe.post(f"{V2}/vms/{vm['uuid']}/set_power_state", json={"transition": "ON"}).json()["task_uuid"])
    assert t["progress_status"] == "Succeeded"
    assert pe.get(f"{V2}/vms/{vm['uuid']}").json()["power_state"] == "on"


def test_acpi_shutdown_of_a_stopped_vm_fails_with_a_reason(pe):
    vm = next(v for v in v2_vms(pe) if v["name"] == "Win11-Gold")
    t = wait_v2(pe, pe.post(f"{V2}/vms/{vm['uuid']}/set_power_state",
                            json={"transition": "ACPI_SHUTDOWN"}).json()["task_uuid"])
    assert t["progress_status"] == "Failed"
    assert t["meta_response"]["error_code"] != 0 and "needs a running VM" in t["meta_response"]["error_detail"]


def test_task_progresses_over_time(prism_factory):
    lab = prism_factory(speed=10)                  # a clone takes 2 s
    with client(lab, "NTNX-PE-01") as pe:
        vm = next(v for v in v2_vms(pe) if v["name"] == "Win11-Gold")
        task = pe.post(f"{V2}/vms/{vm['uuid']}/clone", json={"spec_list": [{"name": "progress"}]}).json()["task_uuid"]
        seen = []
        end = time.monotonic() + 10
        while time.monotonic() < end:
            t = pe.get(f"{V2}/tasks/{task}").json()
            seen.append((t["progress_status"], t["percentage_complete"]))
            if t["progress_status"] == "Succeeded":
                break
            time.sleep(0.05)
    running = [p for s, p in seen if s == "Running"]
    assert running and 0 < min(running) < 100 and len(set(running)) > 3
    assert [p for _, p in seen] == sorted(p for _, p in seen)          # never goes back
    assert seen[-1] == ("Succeeded", 100)


def test_full_clone_snapshot_clone_from_snapshot_and_delete(pe):
    vms = {v["name"]: v for v in v2_vms(pe)}
    src = vms["Win10-Office-Gold"]
    t = wait_v2(pe, pe.post(f"{V2}/vms/{src['uuid']}/clone",
                            json={"spec_list": [{"name": "Office-Full-01", "memory_mb": 8192}]}).json()["task_uuid"])
    assert t["progress_status"] == "Succeeded" and t["operation_type"] == "kVmClone"
    new_uuid = t["entity_list"][0]["entity_id"]
    full = pe.get(f"{V2}/vms/{new_uuid}", params={"include_vm_disk_config": "true"}).json()
    assert full["name"] == "Office-Full-01" and full["memory_mb"] == 8192 and full["power_state"] == "off"
    assert [d["size"] for d in full["vm_disk_info"]] == [80 * 2**30]
    assert full["vm_disk_info"][0]["disk_address"]["vmdisk_uuid"] != src["vm_disk_info"][0]["disk_address"]["vmdisk_uuid"]

    r = pe.post(f"{V2}/snapshots", json={"snapshot_specs": [{"vm_uuid": src["uuid"], "snapshot_name": "v1"}]})
    assert r.status_code == 201
    t = wait_v2(pe, r.json()["task_uuid"])
    snap_uuid = t["entity_list"][0]["entity_id"]
    assert t["entity_list"][0]["entity_type"] == "Snapshot"
    assert pe.get(f"{V2}/snapshots/{snap_uuid}").json()["snapshot_name"] == "v1"

    wanted = "8f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    t = wait_v2(pe, pe.post(f"{V2}/snapshots/{snap_uuid}/clone",
                            json={"spec_list": [{"name": "Office-Thin-01", "uuid": wanted}]}).json()["task_uuid"])
    assert t["progress_status"] == "Succeeded" and t["entity_list"][0]["entity_id"] == wanted
    thin = pe.get(f"{V2}/vms/{wanted}").json()
    assert thin["name"] == "Office-Thin-01"
    # the same idempotence uuid again is a conflict, not a second VM
    again = pe.post(f"{V2}/snapshots/{snap_uuid}/clone", json={"spec_list": [{"name": "x", "uuid": wanted}]})
    assert again.status_code == 409 and "already exists" in again.json()["message"]

    r = pe.delete(f"{V2}/vms/{wanted}")
    assert r.status_code == 201
    assert wait_v2(pe, r.json()["task_uuid"])["progress_status"] == "Succeeded"
    assert pe.get(f"{V2}/vms/{wanted}").status_code == 404
    d = wait_v2(pe, pe.delete(f"{V2}/snapshots/{snap_uuid}").json()["task_uuid"])
    assert d["progress_status"] == "Succeeded" and pe.get(f"{V2}/snapshots/{snap_uuid}").status_code == 404


def test_two_vms_may_share_a_name(pe):
    src = next(v for v in v2_vms(pe) if v["name"] == "Ubuntu-Jump")
    t = wait_v2(pe, pe.post(f"{V2}/vms/{src['uuid']}/clone",
                            json={"spec_list": [{"name": ODD_NAME}, {"name": ODD_NAME}]}).json()["task_uuid"])
    assert t["progress_status"] == "Succeeded" and len(t["entity_list"]) == 2
    same = [v for v in v2_vms(pe) if v["name"] == ODD_NAME]
    assert len(same) == 3
    assert len(pe.get(f"{V2}/vms/", params={"filter": f"vm_name=={ODD_NAME}"}).json()["entities"]) == 3


def test_vm_deleted_between_request_and_task_end_fails_the_task(prism_factory):
    lab = prism_factory(speed=10)                  # power-on 0.5 s, delete 0.2 s: the delete ends first
    with client(lab, "NTNX-PE-01") as pe:
        vm = next(v for v in v2_vms(pe) if v["name"] == "Win11-VDI-003")
        power = pe.post(f"{V2}/vms/{vm['uuid']}/set_power_state", json={"transition": "ON"}).json()["task_uuid"]
        delete = pe.delete(f"{V2}/vms/{vm['uuid']}").json()["task_uuid"]
        assert wait_v2(pe, delete)["progress_status"] == "Succeeded"
        t = wait_v2(pe, power)
    assert t["progress_status"] == "Failed" and "deleted" in t["meta_response"]["error_detail"]


@pytest.mark.parametrize("path, body, status, words", [
    ("vms/{vm}/set_power_state", {"transition": "BOOT"}, 400, "transition must be one of"),
    ("vms/{vm}/set_power_state", [1, 2], 400, "must be a JSON object"),
    ("vms/{vm}/clone", {}, 400, "spec_list"),
    ("vms/{vm}/clone", {"spec_list": [{"name": ""}]}, 400, "name must be a non-empty string"),
    ("vms/{vm}/clone", {"spec_list": [{"name": "a", "uuid": "not-a-uuid"}]}, 400, "must be a UUID"),
    ("vms/{vm}/clone", {"spec_list": [{"name": "a", "memory_mb": -1}]}, 400, "memory_mb must be between"),
    ("snapshots", {"snapshot_specs": [{"vm_uuid": "{vm}"}]}, 400, "snapshot_name"),
    ("snapshots", {"snapshot_specs": [{"vm_uuid": "0b8c3f9e-1111-4222-8333-944455556666",
                                       "snapshot_name": "s"}]}, 404, "does not exist"),
    ("vms/0b8c3f9e-1111-4222-8333-944455556666/set_power_state", {"transition": "ON"}, 404, "does not exist"),
])
def test_bad_input_is_refused_with_a_sentence(pe, path, body, status, words):
    vm = v2_vms(pe)[0]["uuid"]
    path = path.replace("{vm}", vm)
    if isinstance(body, dict) and "snapshot_specs" in body:
        body = {"snapshot_specs": [{k: (v.replace("{vm}", vm) if isinstance(v, str) else v)
                                    for k, v in s.items()} for s in body["snapshot_specs"]]}
    r = pe.post(f"{V2}/{path}", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["message"]


def test_invalid_json_and_unknown_paths(pe):
    vm = v2_vms(pe)[0]["uuid"]
    r = pe.post(f"{V2}/vms/{vm}/clone", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    assert pe.get(f"{V2}/tasks/0b8c3f9e-1111-4222-8333-944455556666").status_code == 404
    assert pe.get(f"{V2}/no_such_thing/").status_code == 404
    assert pe.get("/console/index.html").status_code == 404
