"""What the template service tests share: fast lab services, the lab's hosts and VMs, plans, waits."""
from __future__ import annotations

import asyncio

import pytest_asyncio

from console.domain.inventory import ProviderKind
from console.domain.templates import TemplatePlan
from console.secrets import SecretStore
from console.services.container import build_services

#: lab speed of these tests: Win11-Gold (24.6 GiB) copies in ~1.2 s, exports in ~0.3 s
SPEED = 200.0
SOURCE_HOST, SOURCE_VM = "HV01", "Win11-Gold"


async def start_services(tmp_path, speed: float = SPEED, farm: str = "farm.sqlite", lab_state: str = "lab"):
    services = build_services(farm_path=tmp_path / farm, lab=True, lab_state=tmp_path / lab_state,
                              lab_speed=speed, secrets=SecretStore())
    await services.start()
    await refresh(services)
    return services


async def refresh(services, kinds=(ProviderKind.HYPERV,)) -> None:
    ids = [p.id for p in services.providers.list() if p.kind in kinds]
    for task in [services.providers.refresh(pid)[0] for pid in ids]:
        await services.tasks.result(task.id)


@pytest_asyncio.fixture(name="tsvc")
async def tsvc_fixture(tmp_path):
    """Services with the lab (x200), Hyper-V providers refreshed; closed after."""
    services = await start_services(tmp_path)
    yield services
    await services.close()


def provider(services, name: str):
    return services.providers.find(name)


def vm_of(services, host: str, vm_name: str):
    p = provider(services, host)
    return services.providers.find_vm(vm_name, p.id)[1]


def plan_for(services, name: str, targets=(), host: str = SOURCE_HOST, vm_name: str = SOURCE_VM,
             concurrency: int = 2, **kw) -> TemplatePlan:
    p = provider(services, host)
    vm = vm_of(services, host, vm_name)
    ids = [provider(services, t).id for t in targets]
    return TemplatePlan(provider_id=p.id, vm_id=vm.id, name=name, distribution_enabled=bool(ids) or
                        kw.pop("distribution_enabled", False), target_provider_ids=ids,
                        concurrent_distribution=concurrency, **kw)


def lab_host(services, name: str):
    return services.lab.world.host(name)


def copies_on(services, host: str) -> list:
    """The lab's template copies (running, done or imported) on a host."""
    with services.lab.world.lock:
        return list(lab_host(services, host).files.copies.values())


def vms_named(services, host: str, name: str) -> list:
    with services.lab.world.lock:
        return [vm for vm in lab_host(services, host).vms.values() if vm.name == name]


def checkpoints_of(services, host: str, vm_name: str) -> list[str]:
    with services.lab.world.lock:
        [vm] = [v for v in lab_host(services, host).vms.values() if v.name == vm_name]
        return [c.name for c in vm.checkpoints]


def target_named(services, template_id: int, host: str):
    return services.templates.get(template_id).target(provider(services, host).id)


def add_pool(services, template_id: int, version: int, name: str) -> None:
    """A pool row straight into the store (pools are issue #5)."""
    services.store.execute(
        "INSERT INTO pools (name, template_id, version, method, naming_pattern, initial_count, keep_available, "
        "maximum, preparation) VALUES (?, ?, ?, 'linked', 'VDI-%ID:3%', 1, 0, 10, 'rename-join')",
        (name, template_id, version))


async def wait_for(predicate, timeout: float = 20.0) -> None:
    """Poll a condition on the loop, with a deadline (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
