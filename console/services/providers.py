"""Providers: add (validated, checked, then saved), remove, refresh inventories, power actions.

Adapters are made by kind through a factory and cached per provider; passwords come from the
SecretStore under ``provider:<id>``. Every operation that talks to a host runs as a task.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import unicodedata
from typing import Any, Callable, Iterable

from console.adapters.base import CheckResult, ProviderAdapter
from console.domain.addresses import Endpoint, parse_winrm_address
from console.domain.connection_rules import winrm_endpoint
from console.domain.errors import (AuthenticationError, ConsoleError, NotFoundError, UnreachableError,
                                   ValidationError)
from console.domain.inventory import (ConnectionSettings, HostStatus, Inventory, PowerAction,
                                      Provider, ProviderKind, VM, WinRMTransport)
from console.domain.tasks import Task
from console.secrets import SecretStore
from console.store import Farm

from .events import (EventBus, HostStatusChanged, InventoryUpdated, ProviderAdded, ProviderRemoved,
                     ProviderUpdated, VMChanged)
from .tasks import TaskContext, TaskEngine

log = logging.getLogger(__name__)

NAME_MAX = 64
AdapterFactory = Callable[[ConnectionSettings, str], ProviderAdapter]


def secret_key(provider_id: int) -> str:
    return f"provider:{provider_id}"


def default_adapter_factory(settings: ConnectionSettings, password: str) -> ProviderAdapter:
    if settings.kind is ProviderKind.HYPERV:
        from console.adapters.hyperv import HyperVAdapter
        return HyperVAdapter(settings, password)
    raise ValidationError(f"{settings.kind.label} providers are not supported yet.",
                          "Add a standalone Microsoft Hyper-V host.", field="kind")


def _endpoint(settings: ConnectionSettings) -> Endpoint:
    """Check what can be checked without the network; the endpoint the settings point at."""
    if settings.kind is not ProviderKind.HYPERV:
        raise ValidationError(f"{ProviderKind(settings.kind).label} providers are not supported yet.",
                              "Add a standalone Microsoft Hyper-V host.", field="kind")
    return winrm_endpoint(settings)


def _endpoint_key(settings: ConnectionSettings) -> str:
    try:
        e = parse_winrm_address(settings.address, settings.port, settings.use_https)
    except ValidationError:
        return ""
    return f"{e.scheme}://{e.host.lower()}:{e.port}"


class ProviderService:
    def __init__(self, farm: Farm, secrets: SecretStore, tasks: TaskEngine, bus: EventBus,
                 adapter_factory: AdapterFactory = default_adapter_factory) -> None:
        self._farm = farm
        self._secrets = secrets
        self._tasks = tasks
        self._bus = bus
        self._factory = adapter_factory
        self._adapters: dict[int, ProviderAdapter] = {}
        self._inventories: dict[int, Inventory] = {}
        self._status: dict[tuple[int, str], tuple[HostStatus, str]] = {}
        self._closing: set[asyncio.Task] = set()

    # -- reading -------------------------------------------------------------------------------
    def list(self) -> list[Provider]:
        return self._farm.providers.list()

    def get(self, provider_id: int) -> Provider:
        return self._farm.providers.get(provider_id)

    def inventory(self, provider_id: int) -> Inventory | None:
        return self._inventories.get(provider_id)

    def host_status(self, provider_id: int, host: str) -> HostStatus:
        return self._status.get((provider_id, host), (HostStatus.UNKNOWN, ""))[0]

    def host_error(self, provider_id: int, host: str) -> str:
        return self._status.get((provider_id, host), (HostStatus.UNKNOWN, ""))[1]

    def find(self, name_or_id: str) -> Provider:
        """A provider by its number or (case-insensitive) name; for vdictl."""
        text = str(name_or_id).strip()
        if text.isdigit():
            return self.get(int(text))
        provider = self._farm.providers.find_by_name(text)
        if provider is None:
            raise NotFoundError(f"There is no provider named '{text}'.",
                                "List them with 'vdictl providers list'.")
        return provider

    def find_vm(self, name_or_id: str) -> tuple[Provider, VM]:
        """A VM of the last inventories by id, else by name (case-insensitive)."""
        text = str(name_or_id).strip()
        by_id, by_name = [], []
        for pid, inv in self._inventories.items():
            for host in inv.hosts:
                for vm in host.vms:
                    if vm.id.lower() == text.lower():
                        by_id.append((pid, vm))
                    elif vm.name.casefold() == text.casefold():
                        by_name.append((pid, vm))
        found = by_id or by_name
        if not found:
            raise NotFoundError(f"No virtual machine named '{text}' or with that id is in the inventory.",
                                "Check the name with 'vdictl inventory'.")
        if len(found) > 1:
            where = ", ".join(f"{self.get(pid).name} / {vm.host} ({vm.id})" for pid, vm in found)
            raise ValidationError(f"{len(found)} virtual machines are named '{text}': {where}.",
                                  "Use the VM's id instead of its name.", field="vm")
        pid, vm = found[0]
        return self.get(pid), vm

    def missing_passwords(self) -> list[Provider]:
        return [p for p in self.list() if self._secrets.get(secret_key(p.id)) is None]

    # -- validating and adding -----------------------------------------------------------------
    def validate_new(self, name: str, settings: ConnectionSettings, exclude_id: int | None = None) -> None:
        """Refuse bad input with a ValidationError whose ``field`` says where (no network)."""
        text = (name or "").strip()
        if not text:
            raise ValidationError("Enter a name for the provider.", field="name")
        if len(text) > NAME_MAX:
            raise ValidationError(f"The name is longer than {NAME_MAX} characters.", field="name")
        if any(unicodedata.category(c).startswith("C") for c in text):
            raise ValidationError("The name contains control characters.",
                                  "Use letters, digits, spaces and punctuation.", field="name")
        endpoint = _endpoint(settings)
        key = f"{endpoint.scheme}://{endpoint.host.lower()}:{endpoint.port}"
        for other in self.list():
            if other.id == exclude_id:
                continue
            if other.name.casefold() == text.casefold():
                raise ValidationError(f"A provider named '{other.name}' already exists.",
                                      "Choose another name.", field="name")
            if _endpoint_key(other.settings) == key:
                raise ValidationError(f"Provider '{other.name}' already connects to {key}.",
                                      "A host is added once.", field="address")

    async def test_connection(self, name: str, settings: ConnectionSettings, password: str) -> CheckResult:
        """Reach the host with these settings (as a task); the CheckResult or a typed error."""
        endpoint = _endpoint(settings)
        if not password and WinRMTransport(settings.transport) is not WinRMTransport.KERBEROS:
            raise ValidationError(f"Enter the password for {settings.username}.", field="password")
        found: list[CheckResult] = []

        async def work(ctx: TaskContext) -> dict:
            adapter = self._factory(settings, password)
            try:
                result = await adapter.check(ctx)
            finally:
                await adapter.close()
            found.append(result)
            return {"endpoint_kind": result.endpoint_kind, "version": result.version,
                    "hosts": [h.computer_name for h in result.hosts]}

        task = self._tasks.submit(f"Test connection to {endpoint.host}", name or endpoint.host,
                                  "provider-check", work, host=endpoint.host)
        await self._tasks.result(task.id)
        return found[0]

    async def add(self, name: str, settings: ConnectionSettings, password: str) -> Provider:
        """Validate, test the connection, then save the provider and its password. On any failure
        nothing is saved."""
        self.validate_new(name, settings)
        check = await self.test_connection(name, settings, password)
        self.validate_new(name, settings)     # another add may have won the race meanwhile
        provider = self._farm.providers.add(Provider(None, name.strip(), settings))
        try:
            self._secrets.set(secret_key(provider.id), password)
        except BaseException:
            self._farm.providers.remove(provider.id)
            raise
        for facts in check.hosts:
            self._set_status(provider.id, facts.computer_name, HostStatus.CONNECTED)
        self._bus.publish(ProviderAdded(provider))
        return provider

    async def remove(self, provider_id: int) -> None:
        provider = self.get(provider_id)
        for task in self._tasks.active():
            if task.provider_id == provider.id:
                self._tasks.cancel(task.id)
        self._farm.providers.remove(provider.id)
        self._secrets.delete(secret_key(provider.id))
        adapter = self._adapters.pop(provider.id, None)
        if adapter is not None:
            await adapter.close()
        self._inventories.pop(provider.id, None)
        for key in [k for k in self._status if k[0] == provider.id]:
            del self._status[key]
        self._bus.publish(ProviderRemoved(provider.id))

    def set_password(self, provider_id: int, password: str, persist: bool = True) -> None:
        provider = self.get(provider_id)
        if not password:
            raise ValidationError(f"Enter the password for {provider.settings.username}.", field="password")
        self._secrets.set(secret_key(provider.id), password, persist=persist)
        self._retire_adapter(provider.id)    # the next call connects with the new password

    def update(self, provider: Provider) -> Provider:
        """Save changed settings of a known provider (validated like a new one)."""
        self.validate_new(provider.name, provider.settings, exclude_id=provider.id)
        saved = self._farm.providers.update(provider)
        self._retire_adapter(provider.id)
        self._bus.publish(ProviderUpdated(saved))
        return saved

    def register_lab_hosts(self, hosts: Iterable[Any]) -> list[Provider]:
        """One provider per lab host (``LabHost(name, url, username, password)``), passwords kept in
        session memory only. Existing lab providers get the new URL; lab providers of hosts the lab
        no longer has are removed (simulated, nothing real is lost)."""
        registered = []
        seen = set()
        for host in hosts:
            endpoint = parse_winrm_address(host.url)
            settings = ConnectionSettings(ProviderKind.HYPERV, host.url, endpoint.port, False,
                                          WinRMTransport.BASIC, host.username)
            existing = self._farm.providers.find_by_name(host.name)
            if existing is None:
                provider = self._farm.providers.add(Provider(None, host.name, settings, lab=True))
                self._bus.publish(ProviderAdded(provider))
            elif existing.settings != settings or not existing.lab:
                provider = self._farm.providers.update(dataclasses.replace(existing, settings=settings, lab=True))
                self._retire_adapter(provider.id)
                self._bus.publish(ProviderUpdated(provider))
            else:
                provider = existing
            self._secrets.set(secret_key(provider.id), host.password, persist=False)
            seen.add(provider.id)
            registered.append(provider)
        for stale in self.list():
            if stale.lab and stale.id not in seen:
                self._farm.providers.remove(stale.id)
                self._secrets.delete(secret_key(stale.id))
                self._bus.publish(ProviderRemoved(stale.id))
        return registered

    # -- operations on hosts --------------------------------------------------------------------
    def refresh(self, provider_id: int | None = None) -> list[Task]:
        """One refresh task per provider (or the one given). A refresh already queued or running for
        a provider is returned instead of starting another."""
        providers = [self.get(provider_id)] if provider_id is not None else self.list()
        active = {t.provider_id: t for t in self._tasks.active() if t.kind == "refresh"}
        return [active.get(p.id) or self._submit_refresh(p) for p in providers]

    def _submit_refresh(self, provider: Provider) -> Task:
        async def work(ctx: TaskContext) -> dict:
            try:
                inventory = await self._adapter(provider).inventory(ctx)
            except (UnreachableError, AuthenticationError) as exc:
                self._host_failed(provider, self._known_hosts(provider), exc)
                raise
            inventory.provider_id = provider.id
            for host in inventory.hosts:
                if host.status is HostStatus.UNKNOWN:
                    host.status = HostStatus.CONNECTED
                self._set_status(provider.id, host.name, host.status, host.error)
            self._inventories[provider.id] = inventory
            self._bus.publish(InventoryUpdated(inventory))
            vms = sum(len(h.vms) for h in inventory.hosts)
            return {"hosts": len(inventory.hosts), "vms": vms}

        return self._tasks.submit(f"Refresh {provider.name}", provider.name, "refresh", work,
                                  provider_id=provider.id)

    def power(self, provider_id: int, vm_id: str, action: PowerAction) -> Task:
        provider = self.get(provider_id)
        action = PowerAction(action)
        vm = self._vm(provider, vm_id)

        async def work(ctx: TaskContext) -> dict:
            try:
                after = await self._adapter(provider).power(vm.id, action, ctx)
            except (UnreachableError, AuthenticationError) as exc:
                self._host_failed(provider, [vm.host], exc)
                raise
            self._set_status(provider.id, vm.host, HostStatus.CONNECTED)
            self._replace_vm(provider.id, after)
            self._bus.publish(VMChanged(provider.id, after))
            return {"vm_id": after.id, "vm": after.name, "host": after.host, "state": after.state.value}

        return self._tasks.submit(f"{action.label} VM '{vm.name}'", f"{provider.name} / {vm.name}",
                                  "vm-power", work, provider_id=provider.id, host=vm.host)

    async def close(self) -> None:
        adapters = list(self._adapters.values())
        self._adapters.clear()
        for adapter in adapters:
            await adapter.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # -- internals ------------------------------------------------------------------------------
    def _adapter(self, provider: Provider) -> ProviderAdapter:
        adapter = self._adapters.get(provider.id)
        if adapter is None:
            password = self._secrets.get(secret_key(provider.id))
            if password is None:
                raise AuthenticationError(f"No password is known for provider '{provider.name}' "
                                          "in this session.",
                                          "Enter it again (this machine has no keyring, or it was "
                                          "never saved).")
            adapter = self._factory(provider.settings, password)
            self._adapters[provider.id] = adapter
        return adapter

    def _retire_adapter(self, provider_id: int) -> None:
        adapter = self._adapters.pop(provider_id, None)
        if adapter is None:
            return
        try:
            closing = asyncio.get_running_loop().create_task(adapter.close())
        except RuntimeError:
            return
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def _vm(self, provider: Provider, vm_id: str) -> VM:
        inventory = self._inventories.get(provider.id)
        for host in inventory.hosts if inventory else []:
            for vm in host.vms:
                if vm.id == vm_id:
                    return vm
        raise NotFoundError(f"Virtual machine {vm_id} is not in the inventory of '{provider.name}'.",
                            "Refresh the provider and try again.")

    def _replace_vm(self, provider_id: int, vm: VM) -> None:
        inventory = self._inventories.get(provider_id)
        for host in inventory.hosts if inventory else []:
            for i, old in enumerate(host.vms):
                if old.id == vm.id:
                    host.vms[i] = vm
                    return

    def _known_hosts(self, provider: Provider) -> list[str]:
        inventory = self._inventories.get(provider.id)
        names = [h.name for h in inventory.hosts] if inventory else []
        names += [h for (pid, h) in self._status if pid == provider.id and h not in names]
        return names or [provider.name]

    def _host_failed(self, provider: Provider, hosts: list[str], exc: ConsoleError) -> None:
        status = HostStatus.AUTH_FAILED if isinstance(exc, AuthenticationError) else HostStatus.UNREACHABLE
        if status is HostStatus.AUTH_FAILED:
            self._retire_adapter(provider.id)
        inventory = self._inventories.get(provider.id)
        for name in hosts:
            for host in inventory.hosts if inventory else []:
                if host.name == name:
                    host.status, host.error = status, str(exc)
            self._set_status(provider.id, name, status, str(exc))

    def _set_status(self, provider_id: int, host: str, status: HostStatus, error: str = "") -> None:
        if self._status.get((provider_id, host)) == (status, error):
            return
        self._status[(provider_id, host)] = (status, error)
        self._bus.publish(HostStatusChanged(provider_id, host, status, error))
