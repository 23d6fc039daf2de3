"""Faults while a pool is provisioned: a target going offline, a target's disk filling, a cancel, the
console killed (half-made clones listed as INCOMPLETE and cleaned up)."""
import shutil
import sqlite3

import pytest
from pool_kit import (  # noqa: F401
    JOIN_PASSWORD,
    create_pool,
    lab_clone_vms,
    lab_pool_folders,
    make_template,
    pool_for,
    psvc_fixture,
    start_services,
    states,
    until,
)

from console.domain.errors import CancelledError, ConsoleError, ValidationError
from console.domain.tasks import TaskState
from console.domain.templates import CloneState
from console.services.pool_support import INTERRUPTED

pytestmark = pytest.mark.asyncio


async def test_a_target_going_offline_fails_its_clones_and_the_others_go_on(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=0, maximum=20)
    psvc.lab.arm_fault("HV03", "offline", script="New-PoolClone")
    outcome = await psvc.tasks.result(psvc.pools.provision(pool.id, 6).id)
    clones = psvc.pools.clones(pool.id)
    on = {h: [c for c in clones if c.host == h] for h in ("HV02", "HV03")}
    assert on["HV03"] and all(c.state is CloneState.FAILED for c in on["HV03"])
    assert all("HV03" in c.error or "127.0.0.1" in c.error or "reach" in c.error.lower() for c in on["HV03"]), \
        [c.error for c in on["HV03"]]
    assert on["HV02"] and all(c.state is CloneState.READY for c in on["HV02"])
    assert sorted(outcome["failed"]) == sorted(c.name for c in on["HV03"])
    psvc.lab.set_fault("HV03", None)
    victim = on["HV03"][0].name
    await psvc.tasks.result(psvc.pools.recreate_clone(pool.id, victim).id)      # recreate later works
    again = next(c for c in psvc.pools.clones(pool.id) if c.name == victim)
    assert again.state is CloneState.READY and again.error == "" and victim in lab_clone_vms(psvc, again.host)


async def test_a_target_disk_filling_stops_that_host_taking_clones(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=0, maximum=20)
    psvc.pools.per_host_concurrency = 1                    # one clone at a time per host
    psvc.lab.arm_fault("HV03", "disk-full", script="New-PoolClone")     # fills during its first create
    task = psvc.pools.provision(pool.id, 5)
    outcome = await psvc.tasks.result(task.id)
    clones = psvc.pools.clones(pool.id)
    # the clone being made when the disk filled fails with Windows' sentence; the others go to HV02
    [failed] = [c for c in clones if c.state is CloneState.FAILED]
    assert failed.host == "HV03" and "not enough space on the disk" in failed.error
    assert outcome["failed"] == [failed.name]
    assert all(c.state is CloneState.READY and c.host == "HV02" for c in clones if c is not failed)
    lines = [line.text for line in psvc.tasks.log_lines(task.id)]
    said = [line for line in lines if "HV03 stops taking clones: its disk is full." in line]
    assert len(said) == 1, lines                           # said once, clearly
    psvc.lab.set_fault("HV02", "disk-full")                # every target full: the clone fails with why
    task = psvc.pools.provision(pool.id, 1)
    with pytest.raises(ConsoleError, match="not enough space on the disk"):
        await psvc.tasks.result(task.id)
    assert any("stops taking clones: its disk is full." in line.text for line in psvc.tasks.log_lines(task.id))


async def test_cancel_during_provisioning_removes_half_made_clones(psvc):
    template = await make_template(psvc)
    pool, _ = await create_pool(psvc, template, initial=0, maximum=20)
    for host in ("HV02", "HV03"):
        psvc.lab.set_fault(host, "slow")
    task = psvc.pools.provision(pool.id, 6)
    await until(lambda: any(c.vm_id for c in psvc.pools.clones(pool.id)), 60)
    assert psvc.tasks.cancel(task.id)
    with pytest.raises(CancelledError):
        await psvc.tasks.result(task.id)
    clones = psvc.pools.clones(pool.id)
    assert all(c.state is CloneState.READY for c in clones), [(c.name, c.state) for c in clones]
    assert set(lab_clone_vms(psvc)) == {c.name for c in clones}
    for host in ("HV02", "HV03"):
        psvc.lab.set_fault(host, None)
        assert len(lab_pool_folders(psvc, host)) == len([c for c in clones if c.host == host])


async def test_console_killed_during_provisioning_leaves_incomplete_clones_cleaned_up(tmp_path):
    first = await start_services(tmp_path)
    try:
        template = await make_template(first)
        pool, _ = await create_pool(first, template, initial=0, maximum=20)
        for host in ("HV02", "HV03"):
            first.lab.set_fault(host, "slow")
        task = first.pools.provision(pool.id, 4)
        await until(lambda: sum(1 for c in first.pools.clones(pool.id) if c.vm_id) >= 2, 60)
        # what a killed console leaves: the farm and the hosts as they were at that moment
        source, copy = sqlite3.connect(tmp_path / "farm.sqlite"), sqlite3.connect(tmp_path / "killed.sqlite")
        source.backup(copy)
        source.close(), copy.close()
        shutil.copytree(tmp_path / "lab", tmp_path / "killed-lab")
    finally:
        await first.close()
    second = await start_services(tmp_path, farm="killed.sqlite", lab_state="killed-lab")
    try:
        for host in ("HV02", "HV03"):
            second.lab.set_fault(host, None)
        assert task.id in second.interrupted
        half = second.pools.half_made(pool.id)
        assert len(half) == 4 and all(c.state is CloneState.INCOMPLETE and c.error == INTERRUPTED for c in half)
        assert len(lab_clone_vms(second)) >= 2                 # the VMs the killed console made are there
        done = await second.tasks.result(second.pools.clean_up(pool.id).id)
        assert sorted(done["removed"]) == sorted(c.name for c in half)
        assert second.pools.clones(pool.id) == [] and lab_clone_vms(second) == {}
        assert lab_pool_folders(second, "HV02") == [] and lab_pool_folders(second, "HV03") == []
        # no keyring here: the join password was in the killed console's memory only
        with pytest.raises(ValidationError, match="join password of template 'Gold'"):
            await second.tasks.result(second.pools.provision(pool.id, 2).id)
        second.secrets.set(f"template:{template.id}:join", JOIN_PASSWORD)
        made = await second.tasks.result(second.pools.provision(pool.id, 2).id)
        assert made["failed"] == [] and second.tasks.get(task.id).state is TaskState.INTERRUPTED
    finally:
        await second.close()
