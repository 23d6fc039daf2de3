"""Providers: add (validated, checked, then saved), remove, refresh inventories, certificates; the
tasks on VMs come from VMOperations (vm_operations.py).

Adapters are made by kind through a factory and cached per provider; passwords come from the
SecretStore under ``provider:<id>``. Every operation that talks to a host runs as a task.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import unicodedata
from typing import Any, Iterable

from console.adapters.base import CheckResult, ProviderAdapter
from console.domain.addresses import parse_winrm_address
from console.domain.errors import (AuthenticationError, CertificateNotTrustedError, NotFoundError,
                                   UnreachableError, ValidationError)
from console.domain.inventory import (ConnectionSettings, HostStatus, Inventory, Provider, ProviderKind,
                                      VM, WinRMTransport)
from console.domain.tasks import Task
from console.secrets import SecretStore
from console.store import Farm

from .events import (EventBus, HostStatusChanged, InventoryUpdated, ProviderAdded, ProviderRemoved,
                     ProviderUpdated)
from .provider_rules import (NUTANIX_KINDS, AdapterFactory, check_fingerprint, check_settings,
                             default_adapter_factory, is_nutanix, preload_adapter_module, prism_url,
                             target_key)
from .tasks import TaskContext, TaskEngine
from .vm_operations import VMOperations

log = logging.getLogger(__name__)

NAME_MAX = 64

__all__ = ["AdapterFactory", "NAME_MAX", "ProviderService", "default_adapter_factory", "secret_key"]


def secret_key(provider_id: int) -> str:
    return f"provider:{provider_id}"


class ProviderService(VMOperations):
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

    def find_vm(self, name_or_id: str, provider_id: int | None = None) -> tuple[Provider, VM]:
        """A VM of the last inventories (of one provider when given) by id, else by name
        (case-insensitive). A Prism Element and the Prism Central that manages it list the same VM."""
        text = str(name_or_id).strip()
        by_id, by_name = [], []
        for pid, inv in self._inventories.items():
            if provider_id is not None and pid != provider_id:
                continue
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
            where = ", ".join(f"{self.get(pid).name} / {vm.host or vm.cluster} ({vm.id})" for pid, vm in found)
            if by_id:
                raise ValidationError(f"{len(found)} providers list the virtual machine {text}: {where}.",
                                      "Say which provider to use.", field="vm")
            raise ValidationError(f"{len(found)} virtual machines are named '{text}': {where}.",
                                  "Use the VM's id instead of its name, or say which provider.", field="vm")
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
        key = check_settings(settings).key
        for other in self.list():
            if other.id == exclude_id:
                continue
            if other.name.casefold() == text.casefold():
                raise ValidationError(f"A provider named '{other.name}' already exists.",
                                      "Choose another name.", field="name")
            if target_key(other.settings) == key:
                raise ValidationError(f"Provider '{other.name}' already connects to {key}.",
                                      "A host is added once.", field="address")

    async def test_connection(self, name: str, settings: ConnectionSettings, password: str) -> CheckResult:
        """Reach the host with these settings (as a task); the CheckResult or a typed error:
        for Prism, CertificateNotTrustedError (accept: set ``settings.pinned_fingerprint`` to its
        fingerprint and call again) and WrongEndpointError (``actual_kind`` is the kind to use)."""
        target = check_settings(settings)
        needs_password = is_nutanix(settings.kind) or \
            WinRMTransport(settings.transport) is not WinRMTransport.KERBEROS
        if not password and needs_password:
            raise ValidationError(f"Enter the password for {settings.username}.", field="password")
        found: list[CheckResult] = []

        async def work(ctx: TaskContext) -> dict:
            await self._adapter_module_ready(settings.kind)
            adapter = self._factory(settings, password)
            try:
                result = await adapter.check(ctx)
            finally:
                await adapter.close()
            found.append(result)
            return {"endpoint_kind": result.endpoint_kind, "version": result.version,
                    "hosts": [h.computer_name for h in result.hosts]}

        task = self._tasks.submit(f"Test connection to {target.host}", name or target.host,
                                  "provider-check", work, host=target.host)
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
            provider = self._register_lab(host.name, settings, host.password)
            seen.add(provider.id)
            registered.append(provider)
        self._remove_stale_lab(seen, nutanix=False)
        return registered

    def register_lab_prism(self, endpoints: Iterable[Any]) -> list[Provider]:
        """One provider per lab Prism endpoint (``LabPrism(kind, name, url, username, password,
        fingerprint)``), its certificate pinned (the lab is ours), the password in session memory.
        An existing one gets the new URL but keeps its pin: if the lab replaced its certificate, the
        change surfaces on the next refresh instead of being trusted silently."""
        registered, seen = [], set()
        for endpoint in endpoints:
            kind = ProviderKind(endpoint.kind)
            existing = self._farm.providers.find_by_name(endpoint.name)
            same = existing is not None and existing.lab and existing.kind is kind
            pin = existing.settings.pinned_fingerprint if same and existing.settings.pinned_fingerprint \
                else endpoint.fingerprint
            settings = ConnectionSettings(kind, endpoint.url, endpoint.port, True, username=endpoint.username,
                                          pinned_fingerprint=pin)
            provider = self._register_lab(endpoint.name, settings, endpoint.password, existing)
            seen.add(provider.id)
            registered.append(provider)
        self._remove_stale_lab(seen, nutanix=True)
        return registered

    def _register_lab(self, name: str, settings: ConnectionSettings, password: str,
                      existing: Provider | None = None) -> Provider:
        """Add the lab provider ``name``, or bring the one of that name (``existing``, looked up when
        not given) to ``settings``; its password kept in session memory only."""
        if existing is None:
            existing = self._farm.providers.find_by_name(name)
        if existing is None:
            provider = self._farm.providers.add(Provider(None, name, settings, lab=True))
            self._bus.publish(ProviderAdded(provider))
        elif existing.settings != settings or not existing.lab:
            provider = self._farm.providers.update(dataclasses.replace(existing, settings=settings, lab=True))
            self._retire_adapter(provider.id)
            self._bus.publish(ProviderUpdated(provider))
        else:
            provider = existing
        self._secrets.set(secret_key(provider.id), password, persist=False)
        return provider

    def _remove_stale_lab(self, seen: set, *, nutanix: bool) -> None:
        """Remove the lab providers (Prism ones with ``nutanix``, else Hyper-V ones) the lab no longer has."""
        for stale in self.list():
            if stale.lab and stale.id not in seen and is_nutanix(stale.kind) == nutanix:
                self._farm.providers.remove(stale.id)
                self._secrets.delete(secret_key(stale.id))
                self._bus.publish(ProviderRemoved(stale.id))

    # -- certificates ---------------------------------------------------------------------------
    async def fetch_certificate(self, settings: ConnectionSettings) -> Any:
        """The certificate the Prism at these settings presents (``CertificateInfo``), read without
        trusting it and without sending anything, for the accept dialog."""
        if not is_nutanix(settings.kind):
            raise ValidationError(f"{ProviderKind(settings.kind).label} providers do not pin certificates.",
                                  field="kind")
        from console.adapters.nutanix import fetch_certificate
        return await fetch_certificate(prism_url(settings))

    def accept_certificate(self, provider_id: int, fingerprint: str) -> Provider:
        """Pin a new certificate for a provider (after CertificateNotTrustedError or
        ProviderCertificateRejected); the failed refresh or action can then be run again."""
        provider = self.get(provider_id)
        if provider.kind not in NUTANIX_KINDS:
            raise ValidationError(f"{provider.kind.label} providers do not pin certificates.", field="kind")
        pin = check_fingerprint(fingerprint)
        settings = dataclasses.replace(provider.settings, pinned_fingerprint=pin)
        saved = self._farm.providers.update(dataclasses.replace(provider, settings=settings))
        self._retire_adapter(saved.id)          # the next call connects trusting the new certificate
        self._bus.publish(ProviderUpdated(saved))
        return saved

    # -- operations on hosts --------------------------------------------------------------------
    def refresh(self, provider_id: int | None = None) -> list[Task]:
        """One refresh task per provider (or the one given). A refresh already queued or running for
        a provider is returned instead of starting another."""
        providers = [self.get(provider_id)] if provider_id is not None else self.list()
        active = {t.provider_id: t for t in self._tasks.active() if t.kind == "refresh"}
        return [active.get(p.id) or self._submit_refresh(p) for p in providers]

    def _submit_refresh(self, provider: Provider) -> Task:
        preload_adapter_module(provider.kind)
        async def work(ctx: TaskContext) -> dict:
            nonlocal provider
            provider = self.get(provider.id)      # settings may have changed since (a new pin)
            await self._adapter_module_ready(provider.kind)
            try:
                inventory = await self._adapter(provider).inventory(ctx)
            except CertificateNotTrustedError as exc:
                self._certificate_rejected(provider, exc)
                raise
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

    async def close(self) -> None:
        adapters = list(self._adapters.values())
        self._adapters.clear()
        for adapter in adapters:
            await adapter.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def preload_adapters(self) -> None:
        """Start importing, in a thread, the adapter modules of the saved providers' kinds, so that
        the first refresh does not import them on the loop's (the UI's) thread. Does not wait."""
        for kind in {p.kind for p in self.list()}:
            preload_adapter_module(kind)

    # -- internals ------------------------------------------------------------------------------
    async def _adapter_module_ready(self, kind: ProviderKind) -> None:
        """Wait (without blocking the loop) until the adapter module of ``kind`` is imported: the
        import takes ~300 ms and would otherwise run inside the factory, on the loop's thread."""
        done = preload_adapter_module(kind)
        if done is not None and not done.done():
            await asyncio.wrap_future(done)

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

    def _known_hosts(self, provider: Provider) -> list[str]:
        inventory = self._inventories.get(provider.id)
        names = [h.name for h in inventory.hosts] if inventory else []
        names += [h for (pid, h) in self._status if pid == provider.id and h not in names]
        return names or [provider.name]

    def _set_status(self, provider_id: int, host: str, status: HostStatus, error: str = "") -> None:
        if self._status.get((provider_id, host)) == (status, error):
            return
        self._status[(provider_id, host)] = (status, error)
        self._bus.publish(HostStatusChanged(provider_id, host, status, error))
