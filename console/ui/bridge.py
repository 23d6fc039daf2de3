"""The QObject between the services and the widgets.

It subscribes to the services' event bus and re-emits each event as a Qt signal (delivery is on the
loop's thread, which is the Qt thread under qasync), and it starts service coroutines for widgets,
which never await. Errors come back as a sentence and a hint, never a traceback.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from PySide6.QtCore import QObject, Signal

from console.domain.errors import ConsoleError
from console.services import events as ev

log = logging.getLogger(__name__)


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
    #: an operation started from the UI failed: what was tried, the sentence, the hint
    operationFailed = Signal(str, str, str)

    def __init__(self, services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._futures: set[asyncio.Future] = set()
        self._unsubscribe: Callable[[], None] | None = services.bus.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ev.TaskChanged):
            self.taskChanged.emit(event.task)
        elif isinstance(event, ev.TaskLogged):
            self.taskLogged.emit(event.task_id, event.line)
        elif isinstance(event, ev.TaskAdded):
            self.taskAdded.emit(event.task)
        elif isinstance(event, ev.InventoryUpdated):
            self.inventoryUpdated.emit(event.inventory)
        elif isinstance(event, ev.VMChanged):
            self.vmChanged.emit(event.provider_id, event.vm)
        elif isinstance(event, ev.HostStatusChanged):
            self.hostStatusChanged.emit(event.provider_id, event.host, event.status, event.error)
        elif isinstance(event, ev.ProviderAdded):
            self.providerAdded.emit(event.provider)
        elif isinstance(event, ev.ProviderUpdated):
            self.providerUpdated.emit(event.provider)
        elif isinstance(event, ev.ProviderRemoved):
            self.providerRemoved.emit(event.provider_id)

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
        for fut in list(self._futures):
            fut.cancel()
        self._futures.clear()
