"""Prism Central v3 against the lab over HTTPS: lists and paging, VMs (get, update/power through the
spec, clone with override_spec, snapshot to a recovery point, restore, delete), tasks, bodies checked
against the swagger, and bad input."""
from __future__ import annotations

import pytest
from prismkit import V3, client, v3_all_vms, wait_v3
from swagger_check import problems

from console.lab.prism import ODD_NAME, PrismSpec


def test_the_checker_sees_a_wrong_type_and_a_wrong_enum():
    bad = {"status": {"name": "x", "resources": {"power_state": "on", "num_sockets": "2"}}}
    found = problems(bad, "vm_intent_response")
    assert any("power_state" in p and "'on'" in p for p in found)
    assert any("num_sockets" in p and "str where integer" in p for p in found)


def _vm_named(pc, name):
    r = pc.post(f"{V3}/vms/list", json={"kind": "vm", "length": 500, "filter": f"vm_name=={name}"})
    assert r.status_code == 200, r.text
    return r.json()["entities"]


def test_clusters_list_has_both_clusters_and_the_prism_central_pseudo_cluster(pc):
    body = pc.post(f"{V3}/clusters/list", json={"kind": "cluster"}).json()
    assert problems(body, "cluster_list_intent_response") == []
    by_name = {e["status"]["name"]: e for e in body["entities"]}
    assert set(by_name) == {"NTNX-PE-01", "NTNX-PE-02", "NTNX-PC-01"}
    assert by_name["NTNX-PC-01"]["status"]["resources"]["config"]["service_list"] == ["PRISM_CENTRAL"]
    assert by_name["NTNX-PE-01"]["status"]["resources"]["config"]["service_list"] == ["AOS"]
    assert by_name["NTNX-PE-01"]["status"]["resources"]["config"]["build"]["version"].startswith("5.20")
    one = pc.get(f"{V3}/clusters/{by_name['NTNX-PE-02']['metadata']['uuid']}").json()
    assert one["status"]["name"] == "NTNX-PE-02" and one["metadata"]["kind"] == "cluster"


def test_hosts_list(pc):
    body = pc.post(f"{V3}/hosts/list", json={"kind": "host"}).json()
    assert problems(body, "host_list_intent_response") == []
    assert body["metadata"]["total_matches"] == 6
    clusters = {e["status"]["cluster_reference"]["name"] for e in body["entities"]}
    assert clusters == {"NTNX-PE-01", "NTNX-PE-02"}
    h = body["entities"][0]
    assert pc.get(f"{V3}/hosts/{h['metadata']['uuid']}").json()["status"]["name"] == h["status"]["name"]


def test_vms_list_default_page_casing_and_swagger_shape(pc):
    body = pc.post(f"{V3}/vms/list", json={"kind": "vm"}).json()
    assert body["metadata"]["total_matches"] == 24 and body["metadata"]["length"] == 20
    assert len(body["entities"]) == 20
    assert problems(body, "vm_list_intent_response") == []
    powers = {e["status"]["resources"]["power_state"] for e in body["entities"]}
    assert {"ON", "OFF"} <= powers
    e = body["entities"][0]
    assert e["metadata"]["kind"] == "vm" and isinstance(e["metadata"]["spec_version"], int)
    assert e["spec"]["resources"]["disk_list"][0]["disk_size_bytes"] > 0
    rest = pc.post(f"{V3}/vms/list", json={"kind": "vm", "offset": 20}).json()
    assert len(rest["entities"]) == 4 and rest["metadata"]["offset"] == 20


def test_paging_fetches_1200_vms_at_500_a_page(prism_factory):
    lab = prism_factory(spec=PrismSpec(extra_vms_pe01=1200))
    with client(lab, "NTNX-PC-01") as pc:
        r = pc.post(f"{V3}/vms/list", json={"kind": "vm", "length": 1000})
        assert r.json()["metadata"]["length"] == 500 and len(r.json()["entities"]) == 500
        assert r.json()["metadata"]["total_matches"] == 1224
        vms = v3_all_vms(pc)
    uuids = [v["metadata"]["uuid"] for v in vms]
    assert len(uuids) == 1224 == len(set(uuids))


def test_filter_and_sort(pc):
    odd = _vm_named(pc, ODD_NAME)
    assert [e["status"]["name"] for e in odd] == [ODD_NAME]
    pe02 = pc.post(f"{V3}/vms/list", json={"kind": "vm", "length": 100,
                                            "filter": "cluster_name==NTNX-PE-02;power_state==ON"}).json()
    assert pe02["metadata"]["total_matches"] > 0
    assert all(e["status"]["cluster_reference"]["name"] == "NTNX-PE-02" and
               e["status"]["resources"]["power_state"] == "ON" for e in pe02["entities"])
    regex = pc.post(f"{V3}/vms/list", json={"kind": "vm", "filter": "vm_name==Win11-VDI-.*"}).json()
    assert regex["metadata"]["total_matches"] == 3
    names = [e["status"]["name"] for e in pc.post(f"{V3}/vms/list", json={
        "kind": "vm", "length": 100, "sort_attribute": "vm_name", "sort_order": "DESCENDING"}).json()["entities"]]
    assert names == sorted(names, key=str.lower, reverse=True)


def test_power_through_the_spec_with_spec_version(pc):
    vm = _vm_named(pc, "Win11-VDI-002")[0]
    uuid = vm["metadata"]["uuid"]
    got = pc.get(f"{V3}/vms/{uuid}").json()
    assert got["api_version"] == "3.1" and problems(got, "vm_intent_response") == []
    stale = {"spec": got["spec"], "metadata": {**got["metadata"], "spec_version": got["metadata"]["spec_version"] - 1}}
    r = pc.put(f"{V3}/vms/{uuid}", json=stale)
    assert r.status_code == 409 and "spec_version" in r.json()["message_list"][0]["message"]
    got["spec"]["resources"]["power_state"] = "OFF"
    r = pc.put(f"{V3}/vms/{uuid}", json={"spec": got["spec"], "metadata": got["metadata"], "api_version": "3.1"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"]["state"] == "PENDING" and body["spec"]["resources"]["power_state"] == "OFF"
    t = wait_v3(pc, body["status"]["execution_context"]["task_uuid"])
    assert t["status"] == "SUCCEEDED" and t["percentage_complete"] == 100
    assert t["entity_reference_list"][0] == {"kind": "vm", "uuid": uuid}
    assert problems(t, "task") == []
    after = pc.get(f"{V3}/vms/{uuid}").json()
    assert after["status"]["resources"]["power_state"] == "OFF" and after["status"]["state"] == "COMPLETE"
    assert after["metadata"]["spec_version"] == got["metadata"]["spec_version"] + 1
    # the same (now stale) version again is refused
    assert pc.put(f"{V3}/vms/{uuid}", json={"spec": got["spec"], "metadata": got["metadata"]}).status_code == 409


def test_update_name_and_memory(pc):
    vm = _vm_named(pc, "Dev-Build-01")[0]
    got = pc.get(f"{V3}/vms/{vm['metadata']['uuid']}").json()
    got["spec"]["name"] = "Dev-Build-Renamed"
    got["spec"]["resources"]["memory_size_mib"] = 32768
    t = wait_v3(pc, pc.put(f"{V3}/vms/{vm['metadata']['uuid']}",
                           json={"spec": got["spec"], "metadata": got["metadata"]}).json()
                ["status"]["execution_context"]["task_uuid"])
    assert t["status"] == "SUCCEEDED"
    after = pc.get(f"{V3}/vms/{vm['metadata']['uuid']}").json()
    assert after["status"]["name"] == "Dev-Build-Renamed"
    assert after["status"]["resources"]["memory_size_mib"] == 32768


def test_clone_with_override_spec_snapshot_restore_and_delete(pc):
    src = _vm_named(pc, "RDSH-2019-Gold")[0]
    src_uuid = src["metadata"]["uuid"]
    wanted = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    r = pc.post(f"{V3}/vms/{src_uuid}/clone", json={"metadata": {"uuid": wanted}, "override_spec": {
        "name": "RDSH-Full-01", "num_sockets": 8, "memory_size_mib": 65536}})
    assert r.status_code == 202 and set(r.json()) == {"task_uuid"}
    t = wait_v3(pc, r.json()["task_uuid"])
    assert t["status"] == "SUCCEEDED" and t["entity_reference_list"][0]["uuid"] == wanted
    clone = pc.get(f"{V3}/vms/{wanted}").json()
    assert clone["status"]["name"] == "RDSH-Full-01"
    assert clone["status"]["resources"]["num_sockets"] == 8
    assert clone["status"]["cluster_reference"]["name"] == "NTNX-PE-02"
    assert pc.post(f"{V3}/vms/{src_uuid}/clone", json={"metadata": {"uuid": wanted}}).status_code == 409

    r = pc.post(f"{V3}/vms/{src_uuid}/snapshot", json={"name": "gold-v2"})
    assert r.status_code == 202
    t = wait_v3(pc, r.json()["task_uuid"])
    rp = t["entity_reference_list"][0]
    assert t["status"] == "SUCCEEDED" and rp["kind"] == "vm_recovery_point"
    got = pc.get(f"{V3}/vm_recovery_points/{rp['uuid']}").json()
    assert problems(got, "vm_recovery_point_intent_response") == []
    assert got["status"]["name"] == "gold-v2"
    listed = pc.post(f"{V3}/vm_recovery_points/list", json={"kind": "vm_recovery_point"}).json()
    assert rp["uuid"] in {e["metadata"]["uuid"] for e in listed["entities"]}

    r = pc.post(f"{V3}/vm_recovery_points/{rp['uuid']}/restore", json={"vm_override_spec": {"name": "RDSH-Thin-01"}})
    assert r.status_code == 202
    t = wait_v3(pc, r.json()["task_uuid"])
    assert t["status"] == "SUCCEEDED"
    thin_uuid = t["entity_reference_list"][0]["uuid"]
    assert pc.get(f"{V3}/vms/{thin_uuid}").json()["spec"]["name"] == "RDSH-Thin-01"

    r = pc.delete(f"{V3}/vms/{thin_uuid}")
    assert r.status_code == 202 and r.json()["status"]["state"] == "DELETE_PENDING"
    assert wait_v3(pc, r.json()["status"]["execution_context"]["task_uuid"])["status"] == "SUCCEEDED"
    gone = pc.get(f"{V3}/vms/{thin_uuid}")
    assert gone.status_code == 404 and gone.json()["message_list"][0]["reason"] == "ENTITY_NOT_FOUND"
    d = pc.delete(f"{V3}/vm_recovery_points/{rp['uuid']}")
    assert wait_v3(pc, d.json()["status"]["execution_context"]["task_uuid"])["status"] == "SUCCEEDED"
    assert pc.get(f"{V3}/vm_recovery_points/{rp['uuid']}").status_code == 404


def test_changes_through_pe_show_in_pc(pe, pc):
    from prismkit import V2, v2_vms, wait_v2
    src = next(v for v in v2_vms(pe) if v["name"] == "Win11-Gold")
    t = wait_v2(pe, pe.post(f"{V2}/vms/{src['uuid']}/clone", json={"spec_list": [{"name": "Seen-From-PC"}]})
                .json()["task_uuid"])
    assert [e["metadata"]["uuid"] for e in _vm_named(pc, "Seen-From-PC")] == [t["entity_list"][0]["entity_id"]]


@pytest.mark.parametrize("path, body, status, words", [
    ("vms/list", {"kind": "cluster"}, 400, 'kind must be "vm"'),
    ("vms/list", {"kind": "vm", "offset": -1}, 400, "offset must be at least 0"),
    ("vms/list", {"kind": "vm", "length": "ten"}, 400, "length must be a whole number"),
    ("vms/list", {"kind": "vm", "filter": "colour==red"}, 400, "Unknown filter attribute"),
    ("vms/list", {"kind": "vm", "sort_order": "UP"}, 400, "sort_order must be"),
    ("vms/list", [1], 400, "must be a JSON object"),
    ("widgets/list", {}, 404, "not served"),
    ("vms/{vm}/clone", {"override_spec": {"name": ""}}, 400, "non-empty string"),
    ("vms/{vm}/clone", {"metadata": {"uuid": "nope"}}, 400, "must be a UUID"),
    ("vms/{vm}/snapshot", {"name": "x" * 65}, 400, "at most 64"),
    ("vms/0b8c3f9e-1111-4222-8333-944455556666/clone", {}, 404, "does not exist"),
])
def test_bad_input_is_refused_with_a_sentence(pc, path, body, status, words):
    vm = _vm_named(pc, "Win11-Gold")[0]["metadata"]["uuid"]
    r = pc.post(f"{V3}/{path.replace('{vm}', vm)}", json=body)
    assert r.status_code == status, r.text
    err = r.json()
    assert err["state"] == "ERROR" and words in err["message_list"][0]["message"]


@pytest.mark.parametrize("change, words", [
    ({"power_state": "on"}, 'must be "ON" or "OFF"'),
    ({"num_sockets": 0}, "num_sockets must be between 1"),
    ({"power_state": "OFF", "power_state_mechanism": {"mechanism": "GENTLE"}}, "mechanism must be"),
])
def test_bad_updates_are_refused(pc, change, words):
    vm = _vm_named(pc, "Win11-VDI-001")[0]
    got = pc.get(f"{V3}/vms/{vm['metadata']['uuid']}").json()
    got["spec"]["resources"].update(change)
    r = pc.put(f"{V3}/vms/{vm['metadata']['uuid']}", json={"spec": got["spec"], "metadata": got["metadata"]})
    assert r.status_code == 400 and words in r.json()["message_list"][0]["message"]
    assert pc.put(f"{V3}/vms/{vm['metadata']['uuid']}", json={"spec": got["spec"]}).status_code == 400


def test_v3_on_prism_element_serves_users_me_only(pe):
    assert pe.get(f"{V3}/users/me").status_code == 200
    r = pe.post(f"{V3}/vms/list", json={"kind": "vm"})
    assert r.status_code == 404 and "Prism Element" in r.json()["message_list"][0]["message"]


def test_v2_on_prism_central_answers_cluster_only(pc):
    from prismkit import V2
    c = pc.get(f"{V2}/cluster/").json()
    assert c["name"] == "NTNX-PC-01" and c["cluster_functions"] == ["MULTICLUSTER"]
    r = pc.get(f"{V2}/vms/")
    assert r.status_code == 404 and "Prism Central" in r.json()["message"]
