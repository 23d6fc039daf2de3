"""Events the services publish; the UI bridge turns them into Qt signals, the CLI into lines.

Delivery is synchronous, on the asyncio loop's thread (the Qt thread in the GUI). Publishers never
call ``publish`` from a worker thread: blocking work returns to the loop before reporting.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from console.domain.errors import CertificateNotTrustedError
from console.domain.inventory import HostStatus, Inventory, Provider, VM
from console.domain.tasks import LogLine, Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskAdded:
    task: Task


@dataclass(frozen=True)
class TaskChanged:
    """State, progress or progress text changed. May come hundreds of times a second: coalesce."""

    task: Task


@dataclass(frozen=True)
class TaskLogged:
    task_id: int
    line: LogLine


@dataclass(frozen=True)
class ProviderAdded:
    provider: Provider


@dataclass(frozen=True)
class ProviderUpdated:
    provider: Provider


@dataclass(frozen=True)
class ProviderRemoved:
    provider_id: int


@dataclass(frozen=True)
class InventoryUpdated:
    """A refresh finished: the whole inventory of one provider as it is now (hosts with their VMs)."""

    inventory: Inventory


@dataclass(frozen=True)
class HostStatusChanged:
    provider_id: int
    host: str
    status: HostStatus
    error: str = ""


@dataclass(frozen=True)
class VMChanged:
    """One VM changed (after a power action) without a whole refresh. A VM not yet in the tree is a
    new one (a clone): insert it under its cluster/host (host "" = powered off, under the cluster)."""

    provider_id: int
    vm: VM


@dataclass(frozen=True)
class VMRemoved:
    """A VM was deleted (or found gone) without a whole refresh."""

    provider_id: int
    vm_id: str


@dataclass(frozen=True)
class ProviderCertificateRejected:
    """A refresh or action found that the provider's certificate is not the pinned one (or not
    trusted): the UI can show ``error`` (subject, validity, fingerprints) and offer
    ``ProviderService.accept_certificate(provider_id, error.fingerprint)``."""

    provider_id: int
    error: CertificateNotTrustedError


Subscriber = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
        return unsubscribe

    def publish(self, event: Any) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # one broken view must not stop the task that reports
                log.exception("event subscriber failed on %s", type(event).__name__)


# -- Issue #4: templates (console/services/templates.py, distribution.py, maintenance.py) ----------
@dataclass(frozen=True)
class TemplateAdded:
    """A template was saved (state creating at first). ``template`` is a copy, with versions and targets."""

    template: Any


@dataclass(frozen=True)
class TemplateChanged:
    """A template's state, versions, tags or targets changed. ``template`` is a copy as it was then."""

    template: Any


@dataclass(frozen=True)
class TemplateRemoved:
    template_id: int


@dataclass(frozen=True)
class DistributionTargetChanged:
    """One distribution target changed (state, progress, fraction, version, error). Comes per progress
    step, at most ~4 times a second per target during a copy: coalesce in views."""

    template_id: int
    target: Any


# -- Issue #5: pools (console/services/pools.py, pool_engine.py, pool_keeper.py, pool_updates.py) -------
@dataclass(frozen=True)
class PoolAdded:
    """A pool was saved. ``pool`` is a copy (domain.templates.Pool)."""

    pool: Any


@dataclass(frozen=True)
class PoolChanged:
    """A pool's settings, version or enabled state changed. ``pool`` is a copy as it was then."""

    pool: Any


@dataclass(frozen=True)
class PoolRemoved:
    """A pool and every clone row of it are gone. ``pool`` is the last copy of it."""

    pool: Any


@dataclass(frozen=True)
class CloneChanged:
    """One clone was added or changed (state, host, VM, version, times, user, error). ``clone`` is a
    copy. Comes a few times per clone while it is made: update a table row, do not rebuild."""

    pool_id: int
    clone: Any


@dataclass(frozen=True)
class CloneRemoved:
    pool_id: int
    name: str
