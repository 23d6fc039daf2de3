"""Copy retention against the lab: a target keeps its copy of a version while a pool is at it, may roll
back to it, or it is the latest; the other copies are pruned (end of a distribution, of a pool update
or rollback, a pool deleted), deleting a version removes its kept copies, deleting the template all."""
import sqlite3

import pytest
from pool_kit import create_pool, lab_clone_vms, make_template, psvc_fixture, settle, until  # noqa: F401
from template_kit import provider, vms_named

from console.domain.errors import ConsoleError, ValidationError
from console.domain.templates import DistributionTarget, Template, TemplateState, previous_version
from console.store import SCHEMA_VERSION, Farm
from console.store.migrations import MIGRATIONS

pytestmark = pytest.mark.asyncio
HOSTS = ("HV02", "HV03")


async def new_version(psvc, template_id: int) -> int:
    await psvc.tasks.result(psvc.templates.enter_maintenance(template_id).id)
    done = await psvc.tasks.result(psvc.templates.leave_maintenance(template_id, new_version=True,
                                                                    force_off=True, shutdown_timeout=5).id)
    assert done["failed_targets"] == []
    return done["version"]


def target(psvc, template_id: int, host: str):
    return psvc.templates.get(template_id).target(provider(psvc, host).id)


def prunes(psvc) -> list:
    return [t for t in psvc.tasks.recent() if t.kind == "template-prune"]


async def no_prune_running(psvc) -> None:
    await until(lambda: not [t for t in psvc.tasks.active() if t.kind == "template-prune"])


def orphaned_clones(psvc, host: str) -> list[str]:
    """Pool clone VMs on the host whose differencing disks' parent is no disk of a VM there (on real
    Hyper-V such a clone no longer starts)."""
    with psvc.lab.world.lock:
        vms = list(psvc.lab.world.host(host).vms.values())
        disks = {d.path.lower() for vm in vms for d in vm.disks}
        return [vm.name for vm in vms if "\\VDI-Pools\\" in (vm.path or "")
                for d in vm.disks if d.parent_path and d.parent_path.lower() not in disks]


def clone_parents(psvc, host: str) -> set[str]:
    """The template copy folders the host's pool clones have their parent disks in."""
    with psvc.lab.world.lock:
        vms = list(psvc.lab.world.host(host).vms.values())
        by_disk = {d.path.lower(): vm.path for vm in vms for d in vm.disks}
        return {by_disk.get(d.parent_path.lower(), "?").rsplit("\\", 1)[-1] for vm in vms
                if "\\VDI-Pools\\" in (vm.path or "") for d in vm.disks if d.parent_path}


async def test_a_pool_keeps_its_versions_copies_through_update_and_rollback_until_it_is_deleted(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=2)
    assert await new_version(psvc, template.id) == 2
    await no_prune_running(psvc)
    for host in HOSTS:
        held = target(psvc, template.id, host)
        assert held.version == 2 and held.folder.endswith("\\Gold-v2")
        assert list(held.kept) == [1] and held.kept[1]["folder"].endswith("\\Gold-v1")
        assert len(vms_named(psvc, host, "Gold (v1)")) == 1 and len(vms_named(psvc, host, "Gold (v2)")) == 1
        assert orphaned_clones(psvc, host) == []                # the linked clones still have their parent
    assert prunes(psvc) == []                                  # nothing the rule lets go
    # the pool, still at version 1, can be edited and scaled, and makes new clones from the kept copy
    assert psvc.pools.scale(pool.id, maximum=pool.maximum + 1).maximum == pool.maximum + 1
    await psvc.tasks.result(psvc.pools.provision(pool.id, 1).id)
    assert {c.version for c in psvc.pools.clones(pool.id)} == {1}
    assert set().union(*(clone_parents(psvc, h) for h in HOSTS)) == {"Gold-v1"}

    outcome = await psvc.tasks.result(psvc.pools.update(pool.id, version=2, batch_size=3).id)
    assert outcome["failed"] == [] and outcome["prune_task"] is None      # version 1: the rollback's
    for host in HOSTS:
        assert list(target(psvc, template.id, host).kept) == [1]
        assert len(vms_named(psvc, host, "Gold (v1)")) == 1 and orphaned_clones(psvc, host) == []

    outcome = await psvc.tasks.result(psvc.pools.rollback(pool.id, batch_size=3).id)
    assert outcome["version"] == 1 and outcome["failed"] == [] and outcome["prune_task"] is None
    assert {c.version for c in psvc.pools.clones(pool.id)} == {1}
    assert set().union(*(clone_parents(psvc, h) for h in HOSTS)) == {"Gold-v1"}
    assert all(orphaned_clones(psvc, h) == [] for h in HOSTS)

    deleted = await psvc.tasks.result(psvc.pools.delete(pool.id).id)
    assert deleted["prune_task"] is not None
    pruned = await psvc.tasks.result(deleted["prune_task"])
    assert sorted(pruned["removed"]) == ["HV02: v1", "HV03: v1"] and pruned["left_over"] == []
    assert psvc.tasks.get(deleted["prune_task"]).kind == "template-prune"
    for host in HOSTS:
        held = target(psvc, template.id, host)
        assert held.kept == {} and held.version == 2
        assert vms_named(psvc, host, "Gold (v1)") == [] and len(vms_named(psvc, host, "Gold (v2)")) == 1
    assert psvc.templates.prune_copies(template.id) is None               # nothing left to remove


async def test_a_distribution_prunes_the_previous_copy_no_pool_needs(psvc):
    template = await make_template(psvc)
    await new_version(psvc, template.id)
    await until(lambda: prunes(psvc) and not psvc.tasks.active())
    [task] = prunes(psvc)
    assert task.name == "Remove unneeded copies of template 'Gold'"
    outcome = await psvc.tasks.result(task.id)
    assert sorted(outcome["removed"]) == ["HV02: v1", "HV03: v1"]
    for host in HOSTS:
        assert target(psvc, template.id, host).kept == {}
        assert vms_named(psvc, host, "Gold (v1)") == [] and len(vms_named(psvc, host, "Gold (v2)")) == 1
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    assert "Version 2 stays on the targets: version 2 is the latest" in lines


async def test_delete_version_removes_the_copies_targets_kept_of_it(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=1)
    await new_version(psvc, template.id)
    with pytest.raises(ValidationError, match="Desktops"):
        await psvc.templates.delete_version(template.id, 1)          # the pool is at version 1
    await psvc.tasks.result(psvc.pools.update(pool.id, version=2).id)
    await no_prune_running(psvc)
    assert all(list(target(psvc, template.id, h).kept) == [1] for h in HOSTS)   # for a rollback
    await psvc.templates.delete_version(template.id, 1)
    assert [v.number for v in psvc.templates.versions(template.id)] == [2]
    for host in HOSTS:
        assert target(psvc, template.id, host).kept == {}
        assert vms_named(psvc, host, "Gold (v1)") == [] and len(vms_named(psvc, host, "Gold (v2)")) == 1
        assert orphaned_clones(psvc, host) == []
    with pytest.raises(ValidationError, match="does not exist any more"):
        psvc.pools.rollback(pool.id)


async def test_a_copy_that_cannot_be_pruned_stays_kept_and_goes_with_the_template(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=1, targets=("HV02",))
    await new_version(psvc, template.id)
    await no_prune_running(psvc)
    psvc.lab.set_fault("HV03", "offline")
    deleted = await psvc.tasks.result(psvc.pools.delete(pool.id).id)
    with pytest.raises(ConsoleError, match="HV03"):
        await psvc.tasks.result(deleted["prune_task"])
    assert target(psvc, template.id, "HV02").kept == {} and vms_named(psvc, "HV02", "Gold (v1)") == []
    assert list(target(psvc, template.id, "HV03").kept) == [1]       # still on the host: still known
    psvc.lab.set_fault("HV03", None)
    outcome = await psvc.tasks.result(psvc.templates.delete(template.id).id)
    assert outcome["left_over"] == [] and psvc.templates.list() == []
    for host in HOSTS:
        assert vms_named(psvc, host, "Gold (v1)") == [] and vms_named(psvc, host, "Gold (v2)") == []


async def test_removing_a_target_removes_the_copies_it_kept(psvc):
    template = await make_template(psvc)
    await create_pool(psvc, template, initial=1, targets=("HV02",))
    await new_version(psvc, template.id)
    await no_prune_running(psvc)
    assert list(target(psvc, template.id, "HV03").kept) == [1]       # the pool is at version 1
    with pytest.raises(ValidationError, match="HV02 holds clones of template 'Gold' in pool") as refused:
        psvc.templates.remove_target(template.id, provider(psvc, "HV02").id)    # its clone's disks are there
    assert "(1 clone)" in refused.value.message and target(psvc, template.id, "HV02") is not None
    await psvc.tasks.result(psvc.templates.remove_target(template.id, provider(psvc, "HV03").id).id)
    assert target(psvc, template.id, "HV03") is None
    assert vms_named(psvc, "HV03", "Gold (v1)") == [] and vms_named(psvc, "HV03", "Gold (v2)") == []
    assert len(vms_named(psvc, "HV02", "Gold (v1)")) == 1 and orphaned_clones(psvc, "HV02") == []


async def test_a_failed_prune_is_retried_with_the_template_tasks(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=1, targets=("HV02",))
    await new_version(psvc, template.id)
    await no_prune_running(psvc)
    psvc.lab.set_fault("HV03", "offline")
    deleted = await psvc.tasks.result(psvc.pools.delete(pool.id).id)
    with pytest.raises(ConsoleError, match="could not be removed"):
        await psvc.tasks.result(deleted["prune_task"])
    psvc.lab.set_fault("HV03", None)
    retry = psvc.templates.retry(deleted["prune_task"])
    assert retry.kind == "template-prune" and retry.id != deleted["prune_task"]
    assert (await psvc.tasks.result(retry.id))["removed"] == ["HV03: v1"]
    assert target(psvc, template.id, "HV03").kept == {} and vms_named(psvc, "HV03", "Gold (v1)") == []


async def test_the_rule_keeps_the_latest_the_pools_versions_and_their_rollbacks(psvc):
    template = await make_template(psvc, targets=("HV02",))
    assert psvc.templates.versions_needed(template.id) == {1: "version 1 is the latest"}
    pool, _ = await create_pool(psvc, template, initial=1)
    await new_version(psvc, template.id)
    await psvc.tasks.result(psvc.pools.update(pool.id, version=2).id)
    await new_version(psvc, template.id)
    needed = psvc.templates.versions_needed(template.id)
    assert sorted(needed) == [1, 2, 3]
    assert needed[1] == "pool 'Desktops' may roll back to version 1"
    assert needed[2] == "pool 'Desktops' is at version 2" and needed[3] == "version 3 is the latest"
    assert previous_version(2, [1, 2]) == 1 and previous_version(1, [1, 2, 1]) == 2
    assert previous_version(1, [1]) is None


async def test_the_farm_stores_the_kept_copies_and_migrates_a_version_3_farm(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("BEGIN;" + "".join(MIGRATIONS[:3]) + "PRAGMA user_version = 3; COMMIT;")
    conn.execute("INSERT INTO templates (name, provider_id, source_vm_id, state) VALUES ('Old', 1, 'vm', 'ready')")
    conn.execute("INSERT INTO distribution_targets (template_id, provider_id, state, progress, version, folder) "
                 "VALUES (1, 2, 'ready', 'ok', 1, 'D:\\Hyper-V\\VDI-Templates\\Old-v1')")
    conn.commit()
    conn.close()
    with Farm(path) as farm:
        assert farm.schema_version == SCHEMA_VERSION == 4
        [old] = farm.templates.get(1).targets
        assert old.kept == {} and old.copy_of(1)["folder"].endswith("Old-v1") and old.copy_of(2) is None
        kept = farm.templates.keep_copy(1, 2, 1, "D:\\Hyper-V\\VDI-Templates\\Old-v1", "vm-1")
        assert kept == {1: {"folder": "D:\\Hyper-V\\VDI-Templates\\Old-v1", "vm_id": "vm-1"}}
        old.version, old.folder, old.vm_id, old.kept = 2, "D:\\Hyper-V\\VDI-Templates\\Old-v2", "vm-2", kept
        farm.templates.save_target(old)
        t = farm.templates.add(Template(None, "New", 1, "vm-9", state=TemplateState.READY, targets=[
            DistributionTarget(0, 3, version=2, folder="F", vm_id="v", kept={1: {"folder": "E", "vm_id": "w"}})]))
    with Farm(path) as farm:
        [old] = farm.templates.get(1).targets
        assert old.version == 2 and old.copy_of(1) == {"folder": "D:\\Hyper-V\\VDI-Templates\\Old-v1",
                                                        "vm_id": "vm-1"}
        assert old.copy_of(2) == {"folder": "D:\\Hyper-V\\VDI-Templates\\Old-v2", "vm_id": "vm-2"}
        assert farm.templates.forget_copy(1, 2, 1) == {} and farm.templates.get(1).targets[0].kept == {}
        assert farm.templates.get(t.id).targets[0].kept == {1: {"folder": "E", "vm_id": "w"}}
        assert farm.templates.kept_copies(1, 99) is None and farm.templates.keep_copy(1, 99, 1, "x", "") == {}
