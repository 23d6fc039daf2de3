"""Creating pools against the lab (real Hyper-V adapter over pywinrm): validation, the three methods,
names that two creations never share, deleting a pool."""
import asyncio

import pytest
from pool_kit import (  # noqa: F401
    create_pool,
    lab_clone_vms,
    lab_pool_folders,
    make_template,
    pool_for,
    provider,
    psvc_fixture,
    settle,
    states,
)

from console.domain.errors import NotFoundError, ValidationError
from console.domain.templates import CloneState, ProvisioningMethod
from console.services.events import CloneChanged, PoolAdded, PoolRemoved

pytestmark = pytest.mark.asyncio


async def test_linked_pool_is_made_on_the_targets(psvc):
    template = await make_template(psvc)
    events = []
    psvc.bus.subscribe(events.append)
    pool, outcome = await create_pool(psvc, template, initial=4)
    clones = psvc.pools.clones(pool.id)
    assert [c.name for c in clones] == ["VDI-001", "VDI-002", "VDI-003", "VDI-004"]
    assert all(c.state is CloneState.READY and c.version == 1 for c in clones), [(c.name, c.error) for c in clones]
    assert {c.host for c in clones} == {"HV02", "HV03"}                      # least loaded first
    assert sorted(c.host for c in clones).count("HV02") == 2
    assert all(c.usable_seconds and c.usable_seconds > 0 and c.independent_seconds is None for c in clones)
    assert all(c.folder.endswith(f"\\VDI-Pools\\Desktops\\{c.name}") for c in clones)
    assert set(lab_clone_vms(psvc)) == {c.name for c in clones}
    assert outcome["made"] == 4 and outcome["failed"] == []
    assert [h.kind for h in psvc.pools.history(pool.id)] == ["create"]
    assert any(isinstance(e, PoolAdded) for e in events)
    assert any(isinstance(e, CloneChanged) and e.clone.state is CloneState.READY for e in events)
    task = next(t for t in psvc.tasks.recent() if t.kind == "pool-provision")
    assert task.name == "Provision 4 clones for pool 'Desktops'"
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    assert any(line.startswith("VDI-001: usable after") for line in lines)
    assert psvc.pools.find("desktops").id == pool.id


async def test_full_and_quick_clones(psvc):
    template = await make_template(psvc)
    full, _ = await create_pool(psvc, template, name="Full", method=ProvisioningMethod.FULL, initial=1,
                                pattern="FUL-%ID:2%", targets=["HV02"])
    [clone] = psvc.pools.clones(full.id)
    assert clone.state is CloneState.READY and clone.independent_seconds == clone.usable_seconds
    quick, _ = await create_pool(psvc, template, name="Quick", method=ProvisioningMethod.QUICK, initial=2,
                                 pattern="QCK-%ID:2%")
    clones = psvc.pools.clones(quick.id)
    assert all(c.state is CloneState.READY for c in clones), [(c.name, c.state, c.error) for c in clones]
    # a quick clone becomes independent after it is usable (independent_seconds set, later)
    assert all(c.independent_seconds is not None and c.independent_seconds > c.usable_seconds for c in clones)
    task = next(t for t in psvc.tasks.recent() if t.name.endswith("pool 'Quick'"))
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    assert any("independent after" in line for line in lines)


async def test_validation_refuses_bad_input(psvc):
    template = await make_template(psvc)
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(pool_for(psvc, template, pattern="VDI-%ID:2%", maximum=500, initial=0))
    assert info.value.field == "naming_pattern" and "fewer than the maximum of 500" in info.value.message
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(pool_for(psvc, template, pattern="VD I-%ID:3%"))
    assert info.value.field == "naming_pattern"
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(pool_for(psvc, template, keep=20, maximum=10))
    assert info.value.field == "keep_available"
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(pool_for(psvc, template, targets=["HV04"]))
    assert info.value.field == "targets"
    with pytest.raises(ValidationError) as info:       # a VM of that name exists on HV02
        psvc.pools.validate(pool_for(psvc, template, targets=["HV02"], pattern="SQL-VDI-%ID:2%"))
    assert info.value.field == "naming_pattern" and "SQL-VDI-01" in info.value.message
    psvc.pools.validate(pool_for(psvc, template, targets=["HV03"], pattern="SQL-VDI-%ID:2%"))
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(pool_for(psvc, template, name="a/b"))
    assert info.value.field == "name"
    assert psvc.pools.preview_names("VDI-%ID:3:7%", 2) == ["VDI-007", "VDI-008"]
    await create_pool(psvc, template, initial=0)
    with pytest.raises(ValidationError) as info:
        psvc.pools.create(pool_for(psvc, template, name="DESKTOPS", initial=0))
    assert info.value.field == "name"
    assert len(psvc.pools.list()) == 1


async def test_template_in_maintenance_gives_no_clones(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=1)
    await psvc.tasks.result(psvc.templates.enter_maintenance(template.id).id)
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(pool_for(psvc, template, name="Other", pattern="OTH-%ID:3%"))
    assert info.value.field == "template"
    assert "is in maintenance: it cannot give new clones until maintenance ends." in info.value.message
    pool.description = "Edited during maintenance"               # its settings can still be edited
    assert psvc.pools.edit(pool).description == "Edited during maintenance"
    task = psvc.pools.provision(pool.id, 1)
    with pytest.raises(ValidationError, match="is in maintenance"):
        await psvc.tasks.result(task.id)
    assert len(psvc.pools.clones(pool.id)) == 1


async def test_a_version_deleted_or_untagged_under_the_pool(psvc):
    template = await make_template(psvc)
    psvc.templates.set_tag(template.id, 1, "production")
    tagged, _ = await create_pool(psvc, template, name="Tagged", initial=1, follow_tag="production",
                                  pattern="TAG-%ID:2%")
    assert tagged.version == 1 and tagged.follow_tag == "production"
    psvc.templates.set_tag(template.id, 1, "")                    # untagged under the pool
    with pytest.raises(ValidationError, match="tagged 'production'"):
        await psvc.tasks.result(psvc.pools.provision(tagged.id, 1).id)
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(psvc.pools.get(tagged.id), exclude_id=tagged.id)
    assert info.value.field == "follow_tag"
    fixed, _ = await create_pool(psvc, template, name="Fixed", initial=1, pattern="FIX-%ID:2%")
    psvc.store.templates.remove_version(template.id, 1)          # deleted under the pool (another console)
    with pytest.raises(ValidationError, match="Version 1 of template 'Gold' does not exist"):
        await psvc.tasks.result(psvc.pools.provision(fixed.id, 1).id)
    with pytest.raises(ValidationError) as info:
        psvc.pools.validate(psvc.pools.get(fixed.id), exclude_id=fixed.id)
    assert info.value.field == "version"


async def test_two_concurrent_provisionings_never_take_the_same_name(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=0, maximum=20)
    first = psvc.pools.provision(pool.id, 5)
    second = psvc.pools.provision(pool.id, 5)
    await asyncio.gather(psvc.tasks.result(first.id), psvc.tasks.result(second.id))
    names = [c.name for c in psvc.pools.clones(pool.id)]
    assert len(names) == len(set(names)) == 10
    assert names == [f"VDI-{i:03d}" for i in range(1, 11)]
    assert len(lab_clone_vms(psvc)) == 10


async def test_deleting_a_pool_removes_every_clone_and_disk(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=3, method=ProvisioningMethod.FULL)
    assert len(lab_clone_vms(psvc)) == 3
    hv02 = psvc.lab.world.host("HV02")
    events = []
    psvc.bus.subscribe(events.append)
    outcome = await psvc.tasks.result(psvc.pools.delete(pool.id).id)
    assert outcome["deleted"] == 3
    assert lab_clone_vms(psvc) == {}
    assert lab_pool_folders(psvc, "HV02") == [] and lab_pool_folders(psvc, "HV03") == []
    assert psvc.pools.list() == [] and psvc.store.pools.clones(pool.id) == []
    assert any(isinstance(e, PoolRemoved) and e.pool.id == pool.id for e in events)
    assert hv02 is not None


async def test_one_clone_power_recreate_and_delete(psvc):
    from console.domain.inventory import PowerAction
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=2)
    await psvc.tasks.result(psvc.pools.power_clone(pool.id, "VDI-001", PowerAction.STOP).id)
    world = psvc.lab.world
    with world.lock:
        [vm] = [v for h in world.hosts.values() for v in h.vms.values() if v.name == "VDI-001"]
        assert vm.state == "Off"
    old_vm = next(c.vm_id for c in psvc.pools.clones(pool.id) if c.name == "VDI-001")
    await psvc.tasks.result(psvc.pools.recreate_clone(pool.id, "vdi-001").id)
    again = next(c for c in psvc.pools.clones(pool.id) if c.name == "VDI-001")
    assert again.state is CloneState.READY and again.vm_id and again.vm_id != old_vm
    await psvc.tasks.result(psvc.pools.delete_clone(pool.id, "VDI-002").id)
    assert [c.name for c in psvc.pools.clones(pool.id)] == ["VDI-001"]
    assert set(lab_clone_vms(psvc)) == {"VDI-001"}
    with pytest.raises(NotFoundError):
        psvc.pools.recreate_clone(pool.id, "VDI-404")
