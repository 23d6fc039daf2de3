"""The one async protocol every provider adapter implements.

Adapters know their wire protocol and nothing of the store, services or UI. They raise the typed
errors of ``console.domain.errors`` and report progress through the ``Reporter`` they are handed.
Capabilities are flags, so callers never test ``isinstance``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from console.domain.inventory import ConnectionSettings, HostFacts, Inventory, PowerAction, Snapshot, VM
from console.domain.prerequisites import SourceRequirements, TargetReport
from console.domain.tasks import LogLevel


class Reporter(Protocol):
    """What a running task gives an adapter to speak through (``services.tasks.TaskContext``)."""

    def progress(self, fraction: float, text: str = "") -> None: ...
    def log(self, level: LogLevel, text: str) -> None: ...


class NullReporter:
    """For callers outside a task (tests, one-off reads)."""

    def progress(self, fraction: float, text: str = "") -> None:
        pass

    def log(self, level: LogLevel, text: str) -> None:
        pass


@dataclass(frozen=True)
class Capabilities:
    can_power: bool = True
    can_snapshot: bool = False
    can_full_clone: bool = False
    can_link_clone: bool = False
    can_quick_clone: bool = False
    can_distribute: bool = False      # copy a template to other standalone hosts
    #: CloningAdapter's clone()/delete() of one VM on its own (the VM's Clone… and Delete actions).
    #: Hyper-V makes full/linked/quick clones only for pools (from a template version's disks).
    can_clone_vm: bool = False


@dataclass
class CheckResult:
    """What Test connection found: the kind of endpoint, and facts per host."""

    endpoint_kind: str                # e.g. "hyperv", "nutanix-pe", "nutanix-pc"
    version: str                      # e.g. "Windows Server 2022 Datacenter 10.0.20348 / Hyper-V 10.0.20348"
    hosts: list[HostFacts]


@runtime_checkable
class ProviderAdapter(Protocol):
    capabilities: Capabilities

    async def check(self, reporter: Reporter = NullReporter()) -> CheckResult:
        """Reachability, credentials, version, kind of endpoint, facts of every host."""

    async def facts(self, reporter: Reporter = NullReporter()) -> list[HostFacts]:
        """Per-host facts (domain, live migration, switches, folders, free space)."""

    async def inventory(self, reporter: Reporter = NullReporter()) -> Inventory:
        """Hosts and their VMs. ``Inventory.provider_id`` is set by the caller."""

    async def power(self, vm_id: str, action: PowerAction,
                    reporter: Reporter = NullReporter()) -> VM:
        """Apply a power action and return the VM as it is afterwards. Idempotent: starting a running
        VM succeeds with a log line, it does not fail."""

    async def close(self) -> None:
        """Release connections and executors."""


@runtime_checkable
class CloningAdapter(Protocol):
    """Operations an adapter has when its capability flags say so (can_snapshot, can_full_clone,
    can_link_clone). Each is idempotent: a retried call finds what the first try made."""

    async def snapshot(self, vm_id: str, name: str, reporter: Reporter = NullReporter(), *,
                       request_id: str = "") -> str:
        """Take a snapshot; returns its id (can_snapshot). ``request_id`` names the request: a retry with
        the same one finds the snapshot the first try made."""

    async def snapshots(self, vm_id: str, reporter: Reporter = NullReporter()) -> list[Snapshot]:
        """The snapshots of one VM, oldest first (can_snapshot). NotFoundError when the VM is gone."""

    async def clone(self, vm_id: str, new_name: str, snapshot_id: str | None = None,
                    reporter: Reporter = NullReporter(), *, request_id: str = "") -> VM:
        """Full clone of a VM, or a thin clone from one of its snapshots (can_full_clone,
        can_link_clone). A clone that fails part-way is removed, or the task's cleanup list names it.
        A retry with the same ``request_id`` finds the VM the first try made instead of making another."""

    async def delete(self, vm_id: str, reporter: Reporter = NullReporter()) -> None:
        """Delete a VM and its disks. A VM already gone is success with a log line."""


@dataclass
class TemplateSource:
    """A VM read for the Create Template wizard: the VM, its integration services, its checkpoints."""

    vm: VM
    integration_services: dict[str, bool]   # "Heartbeat", "Shutdown", "Key-Value Pair Exchange", ...: enabled
    checkpoints: list[Snapshot]
    #: what each service's guest side answers (Hyper-V's PrimaryStatusDescription): "OK", "No Contact",
    #: ...; "" when the VM is not running (it cannot be checked then) or the service is disabled
    integration_status: dict[str, str] = field(default_factory=dict)


@dataclass
class TemplateExport:
    """One exported template version on the source host."""

    folder: str            # local path on the source host: D:\Hyper-V\VDI-Export\<template>-v<N>
    unc_folder: str        # the same folder as the targets reach it: \\HV01.corp.example.com\D$\...
    config_file: str       # path of the .vmcx relative to the folder: "Virtual Machines\<id>.vmcx"
    bytes: int             # total bytes of the export


@runtime_checkable
class DistributingAdapter(Protocol):
    """Template operations of a standalone Hyper-V host (``can_distribute``). Every call runs on the
    adapter's own host; the distribution engine calls the source's adapter for the export and each
    target's adapter for its check, copy, import and removal. Idempotent like the rest."""

    async def template_source(self, vm_id: str, reporter: Reporter = NullReporter()) -> TemplateSource: ...

    async def source_requirements(self, vm_id: str,
                                  reporter: Reporter = NullReporter()) -> SourceRequirements: ...

    async def revert(self, vm_id: str, snapshot_id: str, reporter: Reporter = NullReporter()) -> VM:
        """Apply a checkpoint (the VM must be off)."""

    async def delete_snapshot(self, vm_id: str, snapshot_id: str,
                              reporter: Reporter = NullReporter()) -> None: ...

    async def export_template(self, vm_id: str, snapshot_id: str, folder_name: str,
                              reporter: Reporter = NullReporter()) -> TemplateExport:
        """Export one checkpoint to <VM path>\\VDI-Export\\<folder_name>; an existing complete export
        of the same checkpoint is returned as it is."""

    async def remove_export(self, folder: str, reporter: Reporter = NullReporter()) -> None: ...

    async def test_target(self, source: SourceRequirements,
                          reporter: Reporter = NullReporter()) -> TargetReport:
        """Run on the TARGET: what it has against what the source requires (never raises for a
        failed prerequisite; raises for an unreachable host or wrong password)."""

    async def copy_template(self, export: TemplateExport, folder: str, copy_id: str,
                            reporter: Reporter = NullReporter()) -> int:
        """Run on the TARGET: copy the export into ``folder`` (a local path) and wait for it, with
        progress; returns the bytes copied. A copy with the same ``copy_id`` already running or done is
        joined, not started again. Cancelled (asyncio) or failed: the partial copy is removed."""

    async def import_template(self, folder: str, config_file: str, vm_name: str,
                              reporter: Reporter = NullReporter()) -> VM:
        """Run on the TARGET: Compare-VM then register the copy in place as ``vm_name`` with a new
        id (ConflictError-free on retry: an existing VM of that name in that folder is returned)."""

    async def remove_template_copy(self, folder: str, vm_id: str = "",
                                   reporter: Reporter = NullReporter()) -> None:
        """Run on the TARGET: remove the imported VM (if any) and the folder; gone already is success."""


class AdapterFactory(Protocol):
    def __call__(self, settings: ConnectionSettings, password: str) -> ProviderAdapter: ...


@dataclass
class CloneSpec:
    """One pool clone to make on a Hyper-V host (issue #5; the services fill it from the pool, the
    template version and the chosen target)."""

    name: str                  # the clone's VM name (≤ 15 characters: it is also the computer name)
    method: str                # "full", "linked" or "quick" (ProvisioningMethod values)
    base_disks: list[str]      # the version's disks on that host: local copy or export
    folder: str                # <VM path>\VDI-Pools\<pool>\<clone name>
    switch: str = ""
    cpu_count: int = 2
    memory_bytes: int = 4 * 1024 ** 3
    generation: int = 2
    request_id: str = ""       # a retry with the same one finds the VM the first try made


@dataclass
class GuestState:
    """What a clone's guest says (Hyper-V KVP through Get-PoolCloneGuests; Nutanix: power state + IP)."""

    vm_id: str
    state: str = ""            # the hypervisor's VM state name ("Running", "Off", ...)
    heartbeat: str = ""        # "OK", "No Contact" or "" (not running / no integration services)
    computer_name: str = ""
    domain: str = ""
    ready: bool = False        # the guest agent finished its preparation (Nutanix: on with an IP)
    logged_on_user: str = ""   # "" when nobody is logged on
    error: str = ""            # the guest agent's failure, e.g. a refused domain join
