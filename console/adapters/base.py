"""The one async protocol every provider adapter implements.

Adapters know their wire protocol and nothing of the store, services or UI. They raise the typed
errors of ``console.domain.errors`` and report progress through the ``Reporter`` they are handed.
Capabilities are flags, so callers never test ``isinstance``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from console.domain.inventory import ConnectionSettings, HostFacts, Inventory, PowerAction, Snapshot, VM
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


class AdapterFactory(Protocol):
    def __call__(self, settings: ConnectionSettings, password: str) -> ProviderAdapter: ...
