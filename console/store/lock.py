"""Is this process the only console using the farm file?

Tasks left ``queued``/``running`` in the journal are marked interrupted at start-up, but only when no
other console process (GUI or vdictl) has the same farm open: its tasks are really running. Every
process holds a shared lock on ``<farm>.lock`` while it runs; the start-up check asks for an
exclusive one first.
"""
from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class FarmLock:
    def __init__(self, farm_path: Path) -> None:
        self.path = Path(str(farm_path) + ".lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Hold the shared lock; True when no other process holds it (this one is alone)."""
        if self._fd is not None:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is None:
            # No flock on Windows: assume alone (the usual case, one console per user and farm).
            return True
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except OSError:
            alone = False
        # Downgrade (or wait for another process's brief start-up check to end).
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        return alone

    def release(self) -> None:
        if self._fd is not None:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
