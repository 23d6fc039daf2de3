"""The QObject between the services and the widgets.

It subscribes to the services' event bus and re-emits each event as a Qt signal (delivery is on the
loop's thread, which is the Qt thread under qasync), and it starts service coroutines for widgets,
which never await. Errors come back as a sentence and a hint, never a traceback.

Whole inventories are the one heavy event (a provider's hundreds of VMs diffed into the tree): they
wait in a queue, newest per provider, and go out a few per turn of the Qt loop within a time slice,
so 200 providers answering at once never hold the window for long. Any other event about a provider
first delivers that provider's queued inventory, so the order the services published is kept.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from console.domain.errors import ConsoleError
from console.services import events as ev

log = logging.getLogger(__name__)

#: how long one turn of the Qt loop may spend applying queued inventories (at least one goes)
INVENTORY_SLICE_S = 0.012


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(sentence, hint) for a person; unexpected errors are named, their traceback logged."""
    if isinstance(exc, ConsoleError):
        return exc.message, exc.hint
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    return f"Internal error: {type(exc).__name__}.", "The details are in the application log."


class ServicesBridge(QObject):
    taskAdded = Signal(object)                       # Task
    taskChanged = Signal(object)                     # Task
    taskLogged = Signal(int, object)                 # task id, LogLine
    providerAdded = Signal(object)                   # Provider
    providerUpdated = Signal(object)                 # Provider
    providerRemoved = Signal(int)                    # provider id
    inventoryUpdated = Signal(object)                # Inventory
    hostStatusChanged = Signal(int, str, object, str)  # provider id, host, HostStatus, error
    vmChanged = Signal(int, object)                  # provider id, VM
    vmRemoved = Signal(int, str)                     # provider id, VM id
    #: a provider's certificate is not the pinned one: provider id, CertificateNotTrustedError
    certificateRejected = Signal(int, object)
    #: an operation started from the UI failed: what was tried, the sentence, the hint
    operationFailed = Signal(str, str, str)
    # ----- templates (issue #4) -----
    templateAdded = Signal(object)                   # Template
    templateChanged = Signal(object)                 # Template
    templateRemoved = Signal(int)                    # template id
    #: one target's state or copy progress: several a second per target (the tree model coalesces)
    distributionTargetChanged = Signal(int, object)  # template id, DistributionTarget
    # ----- pools (issue #5) -----
    poolAdded = Signal(object)                       # Pool
    poolChanged = Signal(object)                     # Pool
    poolRemoved = Signal(int)                        # pool id
    #: one clone's state, host or timings: many a second while a pool is made (the tree model coalesces)
    cloneChanged = Signal(int, object)               # pool id, Clone
    cloneRemoved = Signal(int, str)                  # pool id, clone name

    def __init__(self, services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._futures: set[asyncio.Future] = set()
        self._inventories: OrderedDict[int, Any] = OrderedDict()    # provider id -> Inventory
        self._inventory_timer = QTimer(self, singleShot=True, interval=0)
        self._inventory_timer.timeout.connect(self._deliver_inventories)
        self._unsubscribe: Callable[[], None] | None = services.bus.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ev.TaskChanged):
            self.taskChanged.emit(event.task)
        elif isinstance(event, ev.TaskLogged):
            self.taskLogged.emit(event.task_id, event.line)
        elif isinstance(event, ev.TaskAdded):
            self.taskAdded.emit(event.task)
        elif isinstance(event, ev.InventoryUpdated):
            self._inventories.pop(event.inventory.provider_id, None)   # the newest goes last
            self._inventories[event.inventory.provider_id] = event.inventory
            if not self._inventory_timer.isActive():
                self._inventory_timer.start()
        elif isinstance(event, ev.VMChanged):
            self._deliver_inventory_of(event.provider_id)
            self.vmChanged.emit(event.provider_id, event.vm)
        elif isinstance(event, ev.VMRemoved):
            self._deliver_inventory_of(event.provider_id)
            self.vmRemoved.emit(event.provider_id, event.vm_id)
        elif isinstance(event, ev.ProviderCertificateRejected):
            self._deliver_inventory_of(event.provider_id)
            self.certificateRejected.emit(event.provider_id, event.error)
        elif isinstance(event, ev.HostStatusChanged):
            self._deliver_inventory_of(event.provider_id)
            self.hostStatusChanged.emit(event.provider_id, event.host, event.status, event.error)
        elif isinstance(event, ev.ProviderAdded):
            self.providerAdded.emit(event.provider)
        elif isinstance(event, ev.ProviderUpdated):
            self._deliver_inventory_of(event.provider.id)
            self.providerUpdated.emit(event.provider)
        elif isinstance(event, ev.ProviderRemoved):
            self._inventories.pop(event.provider_id, None)
            self.providerRemoved.emit(event.provider_id)
        else:
            self._on_template_event(event)

    # ----- templates (issue #4) -----
    def _on_template_event(self, event: Any) -> None:
        if isinstance(event, ev.DistributionTargetChanged):
            self.distributionTargetChanged.emit(event.template_id, event.target)
        elif isinstance(event, ev.TemplateChanged):
            self.templateChanged.emit(event.template)
        elif isinstance(event, ev.TemplateAdded):
            self.templateAdded.emit(event.template)
        elif isinstance(event, ev.TemplateRemoved):
            self.templateRemoved.emit(event.template_id)
        else:
            self._on_pool_event(event)

    # ----- pools (issue #5) -----
    def _on_pool_event(self, event: Any) -> None:
        if isinstance(event, ev.CloneChanged):
            self.cloneChanged.emit(event.pool_id, event.clone)
        elif isinstance(event, ev.CloneRemoved):
            self.cloneRemoved.emit(event.pool_id, event.name)
        elif isinstance(event, ev.PoolChanged):
            self.poolChanged.emit(event.pool)
        elif isinstance(event, ev.PoolAdded):
            self.poolAdded.emit(event.pool)
        elif isinstance(event, ev.PoolRemoved):
            self.poolRemoved.emit(event.pool.id)

    def _deliver_inventory_of(self, provider_id: int) -> None:
        inventory = self._inventories.pop(provider_id, None)
        if inventory is not None:
            self.inventoryUpdated.emit(inventory)

    def _deliver_inventories(self) -> None:
        deadline = time.perf_counter() + INVENTORY_SLICE_S
        while self._inventories:
            _pid, inventory = self._inventories.popitem(last=False)
            self.inventoryUpdated.emit(inventory)
            if time.perf_counter() >= deadline:
                break
        if self._inventories:
            self._inventory_timer.start()       # the rest on the next turn, after paints and input

    def flush_inventories(self) -> None:
        """Deliver every queued inventory now."""
        self._inventory_timer.stop()
        while self._inventories:
            self.inventoryUpdated.emit(self._inventories.popitem(last=False)[1])

    @property
    def inventories_pending(self) -> int:
        return len(self._inventories)

    def run(self, coro: Awaitable, what: str = "",
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[str, str, BaseException], None] | None = None) -> asyncio.Future:
        """Start a service coroutine on the loop; report its result or error through callbacks.

        Without ``on_error`` a failure goes out as ``operationFailed(what, sentence, hint)``.
        """
        future = asyncio.ensure_future(coro)
        self._futures.add(future)

        def finished(fut: asyncio.Future) -> None:
            self._futures.discard(fut)
            if fut.cancelled():
                return
            exc = fut.exception()
            if exc is not None:
                message, hint = describe_error(exc)
                if on_error is not None:
                    on_error(message, hint, exc)
                else:
                    self.operationFailed.emit(what, message, hint)
                return
            if on_done is not None:
                on_done(fut.result())
        future.add_done_callback(finished)
        return future

    def call(self, fn: Callable[..., Any], *args: Any, what: str = "") -> Any:
        """Call a synchronous service method (power, refresh); a typed error becomes a signal."""
        try:
            return fn(*args)
        except Exception as exc:  # a widget slot must not raise into Qt
            message, hint = describe_error(exc)
            self.operationFailed.emit(what, message, hint)
            return None

    @property
    def busy(self) -> bool:
        return bool(self._futures)

    def close(self) -> None:
        """Stop listening and cancel what this bridge started (the window is going away)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._inventory_timer.stop()
        self._inventories.clear()
        for fut in list(self._futures):
            fut.cancel()
        self._futures.clear()
