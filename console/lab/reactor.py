"""One thread that accepts connections for every simulated host's listening socket.

Why: 200 hosts should cost 200 sockets, not 200 polling threads (``serve_forever`` each). Selector
changes happen on the reactor thread only; other threads hand them over through ``call``.
"""
from __future__ import annotations

import logging
import queue
import selectors
import socket
import threading
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .wsman_http import HostHTTPServer

log = logging.getLogger(__name__)


class Reactor:
    """One thread that accepts connections for every host's listening socket."""

    def __init__(self) -> None:
        self._sel = selectors.DefaultSelector()
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._sel.register(self._r, selectors.EVENT_READ, None)
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="lab-reactor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, fn: Callable[[], object]) -> object:
        """Run ``fn`` on the reactor thread and return its result (selector changes happen there only)."""
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            return fn()
        done = threading.Event()
        box: dict = {}
        self._calls.put((fn, done, box))
        self._w.send(b"x")
        done.wait()
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def add(self, server: "HostHTTPServer") -> None:
        self.call(lambda: self._sel.register(server.socket, selectors.EVENT_READ, server))

    def remove(self, server: "HostHTTPServer") -> None:
        def _remove() -> None:
            try:
                self._sel.unregister(server.socket)
            except (KeyError, ValueError):
                pass
            server.server_close()
        self.call(_remove)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return

        def _stop() -> None:
            self._stopping = True
        self.call(_stop)
        self._thread.join(timeout=5)
        self._sel.close()
        self._r.close()
        self._w.close()

    def _loop(self) -> None:
        while not self._stopping:
            for key, _ in self._sel.select():
                if key.data is None:
                    try:
                        while self._r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    while True:
                        try:
                            fn, done, box = self._calls.get_nowait()
                        except queue.Empty:
                            break
                        try:
                            box["result"] = fn()
                        except Exception as e:  # handed back to the caller
                            box["error"] = e
                        done.set()
                else:
                    try:
                        key.data._handle_request_noblock()
                    except Exception:
                        log.debug("lab: accept failed", exc_info=True)
