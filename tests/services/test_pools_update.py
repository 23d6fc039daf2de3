"""Rolling update and rollback: batch by batch, stop on error, logoff force and wait with grace,
rollback to the previous version."""
import pytest
from pool_kit import (  # noqa: F401
    create_pool,
    lab_clone_vms,
    make_template,
    pool_for,
    psvc_fixture,
    settle,
    until,
)

from console.domain.errors import ConsoleError, ValidationError
from console.domain.templates import CloneState
from console.services.events import TaskChanged, TaskLogged

pytestmark = pytest.mark.asyncio


async def new_version(psvc, template_id: int) -> int:
    await psvc.tasks.result(psvc.templates.enter_maintenance(template_id).id)
    done = await psvc.tasks.result(psvc.templates.leave_maintenance(template_id, new_version=True,
                                                                    force_off=True, shutdown_timeout=5).id)
    assert done["failed_targets"] == []
    return done["version"]


async def test_rolling_update_batch_by_batch(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=4)
    assert await new_version(psvc, template.id) == 2
    texts = []
    psvc.bus.subscribe(lambda e: isinstance(e, TaskChanged) and e.task.kind == "pool-update"
                       and texts.append(e.task.progress_text))
    task = psvc.pools.update(pool.id, version=2, batch_size=2)
    assert task.name == "Update pool 'Desktops' to version 2"
    outcome = await psvc.tasks.result(task.id)
    clones = psvc.pools.clones(pool.id)
    assert all(c.state is CloneState.READY and c.version == 2 for c in clones), [(c.name, c.error) for c in clones]
    assert [c.name for c in clones] == ["VDI-001", "VDI-002", "VDI-003", "VDI-004"]
    assert outcome["updated"] == 4 and outcome["failed"] == []
    assert psvc.pools.get(pool.id).version == 2
    assert [(h.version, h.kind) for h in psvc.pools.history(pool.id)] == [(1, "create"), (2, "update")]
    assert psvc.pools.history(pool.id)[-1].task_id == task.id
    assert any(t.startswith("Batch 1 of 2: ") for t in texts) and any(t.startswith("Batch 2 of 2: ") for t in texts)
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    assert "Batch 1 of 2: VDI-001, VDI-002" in lines and "Batch 2 of 2: VDI-003, VDI-004" in lines
    assert len(lab_clone_vms(psvc)) == 4
    with pytest.raises(ValidationError, match="already at version 2"):
        psvc.pools.update(pool.id, version=2)


async def test_stop_on_error_keeps_the_remaining_clones_at_the_old_version(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=4)
    hosts = {c.name: c.host for c in psvc.pools.clones(pool.id)}
    assert hosts["VDI-002"] == "HV03"
    await new_version(psvc, template.id)
    psvc.lab.arm_fault("HV03", "offline", script="New-PoolClone")
    task = psvc.pools.update(pool.id, version=2, batch_size=1, stop_on_error=True)
    with pytest.raises(ConsoleError) as info:
        await psvc.tasks.result(task.id)
    assert "Clone VDI-002 failed" in info.value.message and "The update stopped there" in info.value.message
    versions = {c.name: (c.version, c.state) for c in psvc.pools.clones(pool.id)}
    assert versions["VDI-001"] == (2, CloneState.READY)
    assert versions["VDI-002"][1] is CloneState.FAILED
    assert versions["VDI-003"] == (1, CloneState.READY) and versions["VDI-004"] == (1, CloneState.READY)
    assert psvc.pools.get(pool.id).version == 1
    assert [h.kind for h in psvc.pools.history(pool.id)] == ["create"]


async def test_logoff_force_and_wait_with_grace(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=3)
    await new_version(psvc, template.id)
    psvc.lab.take_clones(None, 2)
    await until(lambda: len(psvc.lab.logged_on()) == 2)
    users = dict(psvc.lab.logged_on())
    # wait: one user logs off during the wait, the other's grace time (1 lab minute) ends -> forced
    released = []

    def on_log(event):
        if isinstance(event, TaskLogged) and "waiting up to 60 minute(s)" in event.line.text and not released:
            name = event.line.text.split(":", 1)[0]
            released.append(name)
            psvc.lab.release_clones([name])
    psvc.bus.subscribe(on_log)
    first = min(users)
    psvc.lab.release_clones([n for n in users if n != first])           # one logged on for this run
    task = psvc.pools.update(pool.id, version=2, batch_size=3, logoff="wait", grace_minutes=60)
    await psvc.tasks.result(task.id)
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    assert released == [first]
    assert f"{first}: {users[first]} logged off" in lines
    assert all(c.version == 2 and c.state is CloneState.READY and not c.assigned_user
               for c in psvc.pools.clones(pool.id))
    # grace ends: forced
    await new_version(psvc, template.id)
    psvc.lab.take_clones(None, 1)
    await until(lambda: len(psvc.lab.logged_on()) == 1)
    [(name, user)] = psvc.lab.logged_on().items()
    task = psvc.pools.update(pool.id, version=3, batch_size=3, logoff="wait", grace_minutes=1)
    await psvc.tasks.result(task.id)
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    assert f"{name}: the grace time of 1 minute(s) ended; logging {user} off" in lines
    assert f"{name}: {user} was logged off" in lines
    # force: logged off at once
    await new_version(psvc, template.id)
    psvc.lab.take_clones(None, 1)
    await until(lambda: len(psvc.lab.logged_on()) == 1)
    [(name, user)] = psvc.lab.logged_on().items()
    task = psvc.pools.update(pool.id, version=4, batch_size=3, logoff="force")
    await psvc.tasks.result(task.id)
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    assert f"{name}: {user} was logged off" in lines and not any("waiting" in line for line in lines)
    assert psvc.lab.logged_on() == {}


async def test_rollback_to_the_previous_version(psvc):
    # without distribution the clones come from each version's export on HV01, which every version keeps
    template = await make_template(psvc, targets=())
    pool, _ = await create_pool(psvc, template, initial=2, pattern="RB-%ID:2%")
    assert {c.host for c in psvc.pools.clones(pool.id)} == {"HV01"}
    with pytest.raises(ValidationError, match="no previous version"):
        psvc.pools.rollback(pool.id)
    await new_version(psvc, template.id)
    await psvc.tasks.result(psvc.pools.update(pool.id, version=2, batch_size=2).id)
    assert {c.version for c in psvc.pools.clones(pool.id)} == {2}
    task = psvc.pools.rollback(pool.id, batch_size=1)
    assert task.name == "Roll back pool 'Desktops' to version 1"
    await psvc.tasks.result(task.id)
    assert {(c.version, c.state) for c in psvc.pools.clones(pool.id)} == {(1, CloneState.READY)}
    assert [(h.version, h.kind) for h in psvc.pools.history(pool.id)] == [(1, "create"), (2, "update"),
                                                                         (1, "rollback")]
    assert psvc.pools.get(pool.id).version == 1


async def test_rollback_on_a_distributed_template_uses_the_kept_copies(psvc):
    # a distribution of version 2 keeps each target's copy of version 1: the pool is at it, then it
    # may roll back to it (retention); the clones' parent disks are always in a copy the host holds
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=2, pattern="DR-%ID:2%")
    await new_version(psvc, template.id)
    await psvc.tasks.result(psvc.pools.update(pool.id, version=2, batch_size=2).id)
    assert {c.version for c in psvc.pools.clones(pool.id)} == {2}
    for target in psvc.templates.get(template.id).targets:
        assert target.version == 2 and list(target.kept) == [1]          # kept for the rollback
    task = psvc.pools.rollback(pool.id, batch_size=2)
    assert task.name == "Roll back pool 'Desktops' to version 1"
    outcome = await psvc.tasks.result(task.id)
    assert outcome["failed"] == [] and outcome["prune_task"] is None      # version 2 is the latest
    clones = psvc.pools.clones(pool.id)
    assert {(c.version, c.state) for c in clones} == {(1, CloneState.READY)}
    assert {c.host for c in clones} == {"HV02", "HV03"}
    assert [(h.version, h.kind) for h in psvc.pools.history(pool.id)] == [(1, "create"), (2, "update"),
                                                                         (1, "rollback")]
    world = psvc.lab.world
    with world.lock:
        for host in ("HV02", "HV03"):
            vms = list(world.host(host).vms.values())
            disks = {d.path.lower(): vm.name for vm in vms for d in vm.disks}
            parents = {disks.get(d.parent_path.lower()) for vm in vms if "\\VDI-Pools\\" in (vm.path or "")
                       for d in vm.disks if d.parent_path}
            assert parents == {"Gold (v1)"}, (host, parents)
    assert len(lab_clone_vms(psvc)) == 2
