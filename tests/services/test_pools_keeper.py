"""The keeper: users take clones (the lab's simulated logons) and new ones are made up to the buffer
and the maximum; unused clones beyond the buffer are deleted after the configured time. A Nutanix
linked pool on NTNX-PE-01."""
import asyncio

import pytest
from pool_kit import (  # noqa: F401
    SPEED,
    create_pool,
    lab_clone_vms,
    make_template,
    plan_for,
    pool_for,
    provider,
    psvc_fixture,
    refresh,
    settle,
    until,
)

from console.domain.inventory import ProviderKind
from console.domain.templates import CloneState, ProvisioningMethod

pytestmark = pytest.mark.asyncio


def count(psvc, pool_id, state=None, assigned=None):
    return sum(1 for c in psvc.pools.clones(pool_id)
               if (state is None or c.state is state) and (assigned is None or bool(c.assigned_user) == assigned))


async def test_users_take_clones_and_the_buffer_is_kept_within_the_maximum(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=2, keep=2, maximum=5)
    assert psvc.pools.keeper is not None and psvc.pools.keeper.running
    taken = psvc.lab.take_clones(None, 2)
    assert len(taken) == 2
    # assigned (with the user), and 2 new ones made to keep 2 available
    await until(lambda: count(psvc, pool.id, CloneState.ASSIGNED) == 2
                and count(psvc, pool.id, CloneState.READY, assigned=False) == 2, 60)
    users = {c.name: c.assigned_user for c in psvc.pools.clones(pool.id) if c.assigned_user}
    assert set(users) == set(taken) and all(u.startswith("CORP\\user") for u in users.values())
    await settle(psvc)
    psvc.lab.take_clones(None, 2)
    # only one more fits under the maximum of 5
    await until(lambda: count(psvc, pool.id, CloneState.ASSIGNED) == 4 and len(psvc.pools.clones(pool.id)) == 5
                and count(psvc, pool.id, CloneState.READY) == 1, 60)
    await settle(psvc)
    ticks = psvc.pools.keeper.ticks          # a few more passes: nothing beyond the maximum
    await until(lambda: psvc.pools.keeper.ticks > ticks + 5, 30)
    assert len(psvc.pools.clones(pool.id)) == 5 and len(lab_clone_vms(psvc)) == 5
    psvc.lab.release_clones([c.name for c in psvc.pools.clones(pool.id) if c.assigned_user][:1])
    await until(lambda: count(psvc, pool.id, CloneState.ASSIGNED) == 3, 30)


async def test_unused_clones_beyond_the_buffer_are_deleted_after_the_configured_time(psvc):
    template = await make_template(psvc)
    minutes = 10                                              # 10 lab minutes: 1.5 s at x400
    loop = asyncio.get_running_loop()
    pool, _ = await create_pool(psvc, template, initial=4, keep=1, maximum=6, delete_unused_after_minutes=minutes)
    made = loop.time()
    assert len(psvc.pools.clones(pool.id)) == 4
    psvc.lab.take_clones(None, 1)
    await until(lambda: count(psvc, pool.id, CloneState.ASSIGNED) == 1, 30)
    await until(lambda: len(psvc.pools.clones(pool.id)) == 2, 60)       # the user's and the buffer's
    assert loop.time() - made >= minutes * 60 / SPEED * 0.9                # not before the time
    assert count(psvc, pool.id, CloneState.ASSIGNED) == 1 and count(psvc, pool.id, CloneState.READY) == 1
    await settle(psvc)
    assert len(lab_clone_vms(psvc)) == 2
    trims = [t for t in psvc.tasks.recent() if t.kind == "pool-trim"]
    assert trims and trims[0].name.startswith("Delete ") and "unused clone(s) of pool 'Desktops'" in trims[0].name


async def test_a_disabled_pool_is_left_alone(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=1, keep=1, maximum=3)
    psvc.pools.set_enabled(pool.id, False)
    psvc.lab.take_clones(None, 1)
    ticks = psvc.pools.keeper.ticks
    await until(lambda: psvc.pools.keeper.ticks > ticks + 3, 30)
    assert len(psvc.pools.clones(pool.id)) == 1 and count(psvc, pool.id, CloneState.ASSIGNED) == 0


async def test_nutanix_linked_pool_on_prism_element(psvc):
    await refresh(psvc, kinds=(ProviderKind.NUTANIX_PE,))
    outcome = await psvc.tasks.result(psvc.templates.create(
        plan_for(psvc, "AHV Gold", host="NTNX-PE-01", vm_name="Win11-VDI-003")).id)
    template = psvc.templates.get(outcome["template_id"])
    reasons = psvc.pools.method_reasons(template.id)
    assert reasons[ProvisioningMethod.LINKED] == "" and reasons[ProvisioningMethod.FULL] == ""
    assert "Quick clones need Hyper-V differencing disks" in reasons[ProvisioningMethod.QUICK]
    estimates = psvc.pools.estimates(template.id, 1)
    assert set(estimates) == {ProvisioningMethod.FULL, ProvisioningMethod.LINKED}
    pool, _ = await create_pool(psvc, template, name="AHV", initial=2, pattern="AHV-%ID:2%")
    clones = psvc.pools.clones(pool.id)
    assert [c.name for c in clones] == ["AHV-01", "AHV-02"]
    assert all(c.state is CloneState.READY and c.vm_id and c.host for c in clones), \
        [(c.name, c.state, c.error) for c in clones]
    pe = provider(psvc, "NTNX-PE-01")
    assert all(c.provider_id == pe.id and c.usable_seconds for c in clones)
    task = next(t for t in psvc.tasks.recent() if t.kind == "pool-provision")
    assert task.state.value == "succeeded"
    await psvc.tasks.result(psvc.pools.delete(pool.id).id)
    await refresh(psvc, kinds=(ProviderKind.NUTANIX_PE,))
    names = {vm.name for h in psvc.providers.inventory(pe.id).hosts for vm in h.vms}
    assert not names & {"AHV-01", "AHV-02"}
