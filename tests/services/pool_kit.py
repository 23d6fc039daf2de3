"""What the pool service tests share: fast lab services with a template distributed to HV02 and HV03,
pools made from it, the lab's view of the clones, waits on conditions."""
from __future__ import annotations

import asyncio

import pytest_asyncio
from template_kit import plan_for, provider, refresh, wait_for

from console.domain.templates import (
    CloneState,
    ImagePreparation,
    Pool,
    Preparation,
    ProvisioningMethod,
)
from console.secrets import SecretStore
from console.services.container import build_services

#: lab speed of these tests: a linked clone is usable in ~0.1 s of lab time plus the WinRM calls
SPEED = 400.0
TARGETS = ("HV02", "HV03")
RENAME_JOIN = Preparation(method=ImagePreparation.RENAME_AND_JOIN, domain="corp.example.com",
                          join_account="CORP\\svc-join")
JOIN_PASSWORD = "Join-Pa55word!"


async def start_services(tmp_path, speed: float = SPEED, farm: str = "farm.sqlite", lab_state: str = "lab"):
    services = build_services(farm_path=tmp_path / farm, lab=True, lab_state=tmp_path / lab_state,
                              lab_speed=speed, secrets=SecretStore())
    await services.start()
    await refresh(services)
    return services


@pytest_asyncio.fixture(name="psvc")
async def psvc_fixture(tmp_path):
    """Services with the lab (x400), Hyper-V providers refreshed; closed after."""
    services = await start_services(tmp_path)
    yield services
    await services.close()


async def make_template(services, name: str = "Gold", targets=TARGETS, preparation: Preparation = RENAME_JOIN,
                        **kw):
    """A template of HV01's Win11-Gold distributed to ``targets`` (ready at version 1)."""
    if preparation.join_account:
        kw.setdefault("join_password", JOIN_PASSWORD)
    task = services.templates.create(plan_for(services, name, targets=targets, preparation=preparation, **kw))
    outcome = await services.tasks.result(task.id)
    assert outcome["failed_targets"] == []
    return services.templates.get(outcome["template_id"])


def pool_for(services, template, name: str = "Desktops", method=ProvisioningMethod.LINKED, initial: int = 3,
             keep: int = 0, maximum: int = 10, targets=None, pattern: str = "VDI-%ID:3%", **kw) -> Pool:
    ids = [provider(services, t).id for t in targets] if targets is not None else []
    return Pool(id=None, name=name, template_id=template.id, version=template.latest_version.number,
                method=method, naming_pattern=pattern, initial_count=initial, keep_available=keep,
                maximum=maximum, target_provider_ids=ids, **kw)


async def create_pool(services, template, **kw):
    """Create a pool and wait for its first provisioning task; (pool, outcome or None)."""
    pool, task = services.pools.create(pool_for(services, template, **kw))
    outcome = await services.tasks.result(task.id) if task is not None else None
    return services.pools.get(pool.id), outcome


def states(services, pool_id: int) -> dict[str, CloneState]:
    return {c.name: c.state for c in services.pools.clones(pool_id)}


def lab_clone_vms(services, host: str | None = None) -> dict[str, str]:
    """{VM name: folder} of the VMs under a VDI-Pools folder in the lab (one host or all)."""
    world = services.lab.world
    with world.lock:
        hosts = [world.host(host)] if host else list(world.hosts.values())
        return {vm.name: vm.path for h in hosts for vm in h.vms.values() if "\\VDI-Pools\\" in (vm.path or "")}


def lab_pool_folders(services, host: str) -> list[str]:
    """Clone folders the lab still has files in (VMs' folders and leftovers) on a host."""
    world = services.lab.world
    with world.lock:
        h = world.host(host)
        return sorted(h.pools.folders())


async def wait_state(services, pool_id: int, predicate, timeout: float = 30.0) -> None:
    await wait_for(lambda: predicate(services.pools.clones(pool_id)), timeout)


async def settle(services, timeout: float = 30.0) -> None:
    """Until no pool task is queued or running."""
    await wait_for(lambda: not [t for t in services.tasks.active() if t.kind.startswith("pool-")], timeout)


async def until(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
