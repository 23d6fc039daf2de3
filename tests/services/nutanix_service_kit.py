"""What the Nutanix service tests share: endpoint names, settings for a lab endpoint, helpers."""
from __future__ import annotations

import asyncio

from console.domain.inventory import ConnectionSettings, ProviderKind

PE, PC = "NTNX-PE-01", "NTNX-PC-01"


def prism_settings(prism, name: str, *, kind: str | None = None, pin: bool = True,
                   fingerprint: str | None = None) -> ConnectionSettings:
    """Settings for a lab endpoint: its https URL, its user, its certificate pinned unless pin=False."""
    endpoint = prism.endpoint(name)
    return ConnectionSettings(ProviderKind(kind or endpoint.kind), endpoint.url, username=endpoint.username,
                              pinned_fingerprint=(fingerprint if fingerprint is not None
                                                  else endpoint.fingerprint if pin else ""))


async def add_prism(services, prism, name: str = PE):
    """Add the lab endpoint as a provider and refresh it; (provider, {vm name: VM})."""
    provider = await services.providers.add(name, prism_settings(prism, name), prism.password)
    [refresh] = services.providers.refresh(provider.id)
    await services.tasks.result(refresh.id)
    return provider, vms_of(services, provider.id)


def vms_of(services, provider_id: int) -> dict:
    inventory = services.providers.inventory(provider_id)
    return {vm.name: vm for host in inventory.hosts for vm in host.vms}


async def wait_for(predicate, timeout=10.0):
    """Poll a condition on the loop, with a deadline (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
