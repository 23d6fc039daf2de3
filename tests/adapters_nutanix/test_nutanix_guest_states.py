"""Pool clone operations of the Prism adapters (issue #5) against the Prism lab: a clone is ready when
it is powered on and reports an IP address; preparation is a logged no-op; start and remove map to the
existing power and delete."""
from __future__ import annotations

import asyncio

import pytest
from nutanix_kit import PC, PE

from console.domain.inventory import PowerState
from console.domain.templates import Preparation

BOTH = pytest.mark.parametrize("name", [PE, PC])
pytestmark = pytest.mark.asyncio
MISSING = "00000000-0000-4000-8000-0000000000ff"


def _vms(inventory):
    return {vm.name: vm for host in inventory.hosts for vm in host.vms}


async def _until_ready(adapter, vm_id, timeout: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = (await adapter.guest_states([vm_id])).get(vm_id)
        if state and state.ready:
            return state
        assert loop.time() < deadline, "the clone never reported an IP address"
        await asyncio.sleep(0.02)


@BOTH
async def test_clone_becomes_ready_when_on_with_an_ip(connect, reporter, name):
    adapter = connect(name)
    gold = _vms(await adapter.inventory())["Win11-Gold"]
    clone = await adapter.clone(gold.id, "VDI-NX-001", reporter=reporter, request_id="pool-1")
    states = await adapter.guest_states([clone.id, MISSING])
    assert set(states) == {clone.id}                                   # unknown ids are absent
    assert not states[clone.id].ready and states[clone.id].state != "Running"

    await adapter.prepare_clone(clone.id, "VDI-NX-001", Preparation(domain="corp.example.com"), "pw-secret",
                                reporter)
    assert "not done by the console on Nutanix" in reporter.text and "pw-secret" not in reporter.text

    started = await adapter.start_clone(clone.id, reporter)
    assert started.state is PowerState.RUNNING
    ready = await _until_ready(adapter, clone.id)
    assert ready.state == "Running" and ready.computer_name == "VDI-NX-001" and ready.heartbeat == "OK"

    await adapter.remove_clone(clone.id, "", reporter)
    await adapter.remove_clone(clone.id, "", reporter)                 # gone already: fine
    assert await adapter.guest_states([clone.id]) == {}
