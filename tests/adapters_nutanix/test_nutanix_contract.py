"""Contract: every Prism Central v3 request the adapter sends, captured on the wire, conforms to the
vendor's swagger (reference folder), with every x-ntnx-enum value it sets among the allowed ones."""
from __future__ import annotations

import pytest
from nutanix_kit import PC, PE
from prism_swagger import body_errors, enum_values_used, operation_for

from console.adapters.nutanix import TaskFailedError
from console.domain.inventory import PowerAction

VM = "9844af5d-101b-40ea-a125-8bf1a02f888b"


def check_all(requests):
    problems, enums = [], []
    for method, path, body in requests:
        problems += body_errors(method, path, body)
        for where, value, allowed in enum_values_used(method, path, body):
            enums.append((where, value))
            if value not in allowed:
                problems.append(f"{method} {path}: {where} = {value!r} is not one of {allowed}")
    return problems, enums


@pytest.mark.asyncio
async def test_every_prism_central_request_matches_the_spec(connect, prism, requests_sent):
    adapter = connect(PC)
    await adapter.check()
    vms = {vm.name: vm for h in (await adapter.inventory()).hosts for vm in h.vms}
    vm = vms["Win11-VDI-003"]
    for action in (PowerAction.START, PowerAction.RESTART, PowerAction.SHUTDOWN, PowerAction.START,
                   PowerAction.STOP):
        await adapter.power(vm.id, action)
    snap = await adapter.snapshot(vm.id, 'Snap "Ä" 1')
    full = await adapter.clone(vm.id, "Contract-Full")
    thin = await adapter.clone(vm.id, "Contract-Thin", snapshot_id=snap)
    await adapter.clone(vm.id, "Contract-Full")                     # the idempotent retry
    prism.set_fault(PC, "clone-fails-60")
    with pytest.raises(TaskFailedError):
        await adapter.clone(vm.id, "Contract-Broken")               # and the cleanup after it
    prism.set_fault(PC, None)
    for created in (full, thin):
        await adapter.delete(created.id)
    await adapter.delete(full.id)

    sent = list(requests_sent.v3())
    assert len(sent) == len(requests_sent.requests), "Prism Central is spoken to in v3 only"
    templates = {(m, operation_for(m, p)[0]) for m, p, _ in sent}
    assert {("POST", "/vms/list"), ("POST", "/hosts/list"), ("POST", "/clusters/list"), ("PUT", "/vms/{uuid}"),
            ("POST", "/vms/{uuid}/clone"), ("POST", "/vms/{uuid}/snapshot"), ("DELETE", "/vms/{uuid}"),
            ("POST", "/vm_recovery_points/{uuid}/restore"), ("GET", "/tasks/{uuid}"),
            ("GET", "/users/me")} <= templates
    problems, enums = check_all(sent)
    assert problems == []
    set_values = {(where.rsplit("/", 1)[-1], value) for where, value in enums}
    assert {("power_state", "ON"), ("power_state", "OFF"), ("mechanism", "ACPI"), ("mechanism", "HARD"),
            ("kind", "vm"), ("kind", "host"), ("kind", "cluster")} <= set_values


@pytest.mark.asyncio
async def test_prism_element_adapter_sends_v3_only_to_tell_the_kind(connect, requests_sent):
    adapter = connect(PE)
    await adapter.check()
    await adapter.inventory()
    v3 = list(requests_sent.v3())
    assert [(m, p) for m, p, _ in v3] == [("GET", "/api/nutanix/v3/users/me")]
    assert check_all(v3)[0] == []


@pytest.mark.parametrize("method,path,body,complaint", [
    ("PUT", f"/api/nutanix/v3/vms/{VM}", {"metadata": {"kind": "vm"}, "spec": {"name": "a", "resources": {
        "power_state": "RUNNING"}}}, "'RUNNING' is not one of ['ON', 'OFF']"),
    ("PUT", f"/api/nutanix/v3/vms/{VM}", {"metadata": {"kind": "vm"}, "spec": {"name": "a", "resources": {
        "power_state": "OFF", "power_state_mechanism": {"mechanism": "SOFT"}}}}, "'SOFT' is not one of"),
    ("PUT", f"/api/nutanix/v3/vms/{VM}", {"spec": {"name": "a", "resources": {}}}, "'metadata' is a required"),
    ("POST", f"/api/nutanix/v3/vms/{VM}/clone", {"override_specs": {"name": "x"}}, "'override_specs' was unexpected"),
    ("POST", f"/api/nutanix/v3/vms/{VM}/clone", {"metadata": {"uuid": "not-a-uuid"}}, "does not match"),
    ("POST", "/api/nutanix/v3/vms/list", {"kind": "vm", "length": 0}, "less than the minimum of 1"),
    ("POST", f"/api/nutanix/v3/vms/{VM}/snapshot", {"name": "x" * 65}, "is too long"),
])
def test_the_contract_check_catches_bad_bodies(method, path, body, complaint):
    problems, _ = check_all([(method, path, body)])
    assert any(complaint in p for p in problems), problems


def test_paths_outside_the_spec_are_refused():
    with pytest.raises(AssertionError, match="is not an operation"):
        operation_for("POST", f"/api/nutanix/v3/vms/{VM}/reboot_now")
