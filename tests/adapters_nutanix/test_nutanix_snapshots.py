"""snapshots(): the snapshots of one VM, from Prism Element (v2.0) and Prism Central (v3 recovery points)."""
from __future__ import annotations

import pytest
from nutanix_kit import PC, PE
from prism_swagger import body_errors

from console.domain.errors import NotFoundError, ValidationError

pytestmark = pytest.mark.asyncio


async def _vms(adapter):
    return {vm.name: vm for h in (await adapter.inventory()).hosts for vm in h.vms}


@pytest.mark.parametrize("endpoint", [PE, PC])
async def test_snapshots_lists_only_that_vms_snapshots_oldest_first(connect, endpoint, requests_sent):
    adapter = connect(endpoint)
    vms = await _vms(adapter)
    vm, other = vms["Win11-VDI-003"], vms["Win11-Gold"]
    before = await adapter.snapshots(vm.id)
    first = await adapter.snapshot(vm.id, "Before patch")
    second = await adapter.snapshot(vm.id, 'Snap "Ä" 2')
    await adapter.snapshot(other.id, "Someone else's")
    after = await adapter.snapshots(vm.id)
    new = [s for s in after if s.id not in {b.id for b in before}]
    assert [(s.id, s.name) for s in new] == [(first, "Before patch"), (second, 'Snap "Ä" 2')]
    assert all(s.vm_id == vm.id and s.created.endswith("+00:00") for s in after)
    assert other.id not in {s.vm_id for s in after}
    if endpoint == PC:      # the v3 list request conforms to the vendor's spec
        lists = [(m, p, b) for m, p, b in requests_sent.v3() if p.endswith("/vm_recovery_points/list")]
        assert lists and all(body_errors(m, p, b) == [] for m, p, b in lists)


@pytest.mark.parametrize("endpoint", [PE, PC])
async def test_snapshots_of_a_deleted_vm_says_so(connect, endpoint):
    adapter = connect(endpoint)
    vm = (await _vms(adapter))["Win11-VDI-003"]
    clone = await adapter.clone(vm.id, "Short-lived")
    await adapter.delete(clone.id)
    with pytest.raises(NotFoundError) as info:
        await adapter.snapshots(clone.id)
    assert "deleted by someone else" in info.value.message


async def test_snapshots_refuses_an_id_that_is_not_a_uuid(connect):
    with pytest.raises(ValidationError) as info:
        await connect(PE).snapshots("Win11-Gold")
    assert info.value.field == "vm_id" and "is not a Nutanix virtual machine id" in info.value.message
