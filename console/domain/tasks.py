"""Tasks: every long operation, its states and the rules between them."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TaskState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"   # the console died while it ran

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES

    @property
    def label(self) -> str:
        return self.value.capitalize()


FINISHED_STATES = frozenset({TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED,
                             TaskState.INTERRUPTED})

_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.QUEUED: frozenset({TaskState.RUNNING, TaskState.CANCELLED, TaskState.INTERRUPTED}),
    TaskState.RUNNING: frozenset({TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED,
                                  TaskState.INTERRUPTED}),
}


def can_transition(old: TaskState, new: TaskState) -> bool:
    return new in _TRANSITIONS.get(old, frozenset())


class LogLevel(str, enum.Enum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass
class LogLine:
    task_id: int
    seq: int                 # order within the task
    at: str                  # ISO-8601 UTC with milliseconds
    level: LogLevel
    text: str


@dataclass
class UndoAction:
    """Recorded before a side effect, so a crash or cancel leaves a cleanup list, not an orphan."""

    description: str         # for a person: "Delete partial copy of VM 'x' on hv02"
    kind: str                # machine-readable verb, e.g. "delete-vm"
    params: dict = field(default_factory=dict)
    done: bool = False


@dataclass
class Task:
    id: int | None
    name: str                # "Start VM 'Win11-01'"
    target: str              # "hv01 / Win11-01"
    kind: str                # "vm-power", "provider-check", "refresh", ...
    state: TaskState = TaskState.QUEUED
    progress: float = 0.0    # 0..1
    progress_text: str = ""
    created: str = ""
    started: str = ""
    finished: str = ""
    error: str = ""          # sentence for a person when failed
    provider_id: int | None = None
    host: str = ""           # concurrency key within the provider
    result: dict = field(default_factory=dict)   # structured outcome (e.g. host facts)
    cleanup: list[UndoAction] = field(default_factory=list)

    def duration_seconds(self, now_iso: str | None = None) -> float | None:
        from datetime import datetime
        if not self.started:
            return None
        end = self.finished or now_iso
        if not end:
            return None
        return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(self.started)).total_seconds())
