"""What the Create Template wizard's and the pool editor's ways to the services share (TemplateBridge,
PoolBridge): the services of the ServicesBridge, a provider by id, coroutines run on the loop with their
answers as callbacks, a service call made once whose error comes back as a sentence, and cancelling
what still runs when the dialog goes away. Nothing here awaits or blocks the Qt thread.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from console.domain.inventory import Provider
from console.ui.bridge import describe_error


class DialogBridge(QObject):
    def __init__(self, services_bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services_bridge = services_bridge
        self._futures: set = set()

    @property
    def services(self):
        return self.services_bridge.services

    def provider(self, provider_id: int) -> Provider | None:
        return next((p for p in self.services.providers.list() if p.id == provider_id), None)

    def _run(self, coro, what: str, done: Callable, failed: Callable):
        """``coro`` on the loop; done(result) or failed(message, hint, exc) in the Qt thread."""
        future = self.services_bridge.run(coro, what, on_done=done, on_error=failed)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def _once(self, call: Callable[[], Any], what: str, on_done: Callable[[Any], None],
              on_error: Callable[[str, str, Exception], None]):
        """``call()`` once: its error comes back through on_error, never into Qt; a coroutine it returns
        is run on the loop (``_run``), anything else goes to on_done at once."""
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - a widget slot must not raise into Qt
            message, hint = describe_error(exc)
            on_error(message, hint, exc)
            return None
        if inspect.isawaitable(result):
            return self._run(result, what, on_done, on_error)
        on_done(result)
        return result

    def close(self) -> None:
        """Cancel what is still running (the dialog is going away)."""
        for future in list(self._futures):
            future.cancel()
        self._futures.clear()
