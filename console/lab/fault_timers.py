"""Faults applied later, from timer threads: what the Hyper-V lab and the Prism lab share."""
from __future__ import annotations

import threading
from typing import Callable


class FaultTimers:
    """One-shot timers that call ``apply(name, fault)`` after a delay; ``cancel_all`` (at stop) makes
    the ones that have not fired yet never fire. ``lock`` guards the set of pending timers."""

    def __init__(self, lock: threading.RLock, apply: Callable[[str, str | None], None]) -> None:
        self._lock = lock
        self._apply = apply
        self._timers: set[threading.Timer] = set()

    def start(self, delay: float, name: str, fault: str | None) -> None:
        def fire() -> None:
            with self._lock:
                if t not in self._timers:      # cancelled by cancel_all()
                    return
                self._timers.discard(t)
            self._apply(name, fault)
        t = threading.Timer(delay, fire)
        t.daemon = True
        with self._lock:
            self._timers.add(t)
        t.start()

    def cancel_all(self) -> None:
        with self._lock:
            for t in list(self._timers):
                t.cancel()
            self._timers.clear()
