"""What the Nutanix adapter tests share: endpoint names, the polling interval, a recording Reporter."""
from __future__ import annotations

import threading

from console.domain.tasks import LogLevel, UndoAction

#: the lab at speed 50 finishes a clone in ~0.4 s: follow it at 20 polls a second, not every 3 s
POLL = 0.02
PE, PC = "NTNX-PE-01", "NTNX-PC-01"


class RecordingReporter:
    """A Reporter with a cleanup list, like services.tasks.TaskContext."""

    def __init__(self) -> None:
        self.progress_calls: list[tuple[float, str]] = []
        self.lines: list[tuple[LogLevel, str]] = []
        self.undo: list[UndoAction] = []
        self.threads: set[int] = set()

    def progress(self, fraction: float, text: str = "") -> None:
        self.threads.add(threading.get_ident())
        self.progress_calls.append((fraction, text))

    def log(self, level: LogLevel, text: str) -> None:
        self.lines.append((level, text))

    def add_undo(self, action: UndoAction) -> int:
        self.undo.append(action)
        return len(self.undo) - 1

    def undo_done(self, index: int) -> None:
        self.undo[index].done = True

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)

    @property
    def cleanup(self) -> list[UndoAction]:
        return [u for u in self.undo if not u.done]
