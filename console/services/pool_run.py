"""One provisioning (or update) run inside a task, and the reporter an adapter speaks through for
one clone."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from console.domain.tasks import LogLevel
from console.domain.templates import (
    Pool,
    Preparation,
    ProvisioningMethod,
    Template,
    TemplateVersion,
)

from .pool_support import Placement
from .tasks import TaskContext

#: the task's progress is published at most this often during a run (hundreds of clones report)
PROGRESS_INTERVAL = 0.1


class CloneReporter:
    """What an adapter reports through for one clone: its log lines prefixed with the clone's name;
    its progress is not the task's (many clones run at once)."""

    def __init__(self, ctx: TaskContext, name: str) -> None:
        self._ctx, self._name = ctx, name

    def progress(self, fraction: float, text: str = "") -> None:
        pass

    def log(self, level: LogLevel, text: str) -> None:
        self._ctx.log(level, f"{self._name}: {text}")


@dataclass(eq=False)
class Run:
    """One provisioning (or update) run inside a task."""

    ctx: TaskContext
    pool: Pool
    template: Template
    version: TemplateVersion
    preparation: Preparation
    password: str = field(repr=False, default="")
    placements: dict[int, Placement] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    full: set[int] = field(default_factory=set)            # disk full in this run: takes no more clones
    offline: dict[int, str] = field(default_factory=dict)  # unreachable in this run: its clones fail
    merges: set[asyncio.Task] = field(default_factory=set)
    total: int = 0
    done: int = 0
    failed: list[str] = field(default_factory=list)
    label: str = ""                                        # progress text prefix ("Batch 2 of 5: ")
    started: dict[str, float] = field(default_factory=dict)   # clone name -> monotonic create start
    _reported: float = float("-inf")

    @property
    def method(self) -> ProvisioningMethod:
        return ProvisioningMethod(self.pool.method)

    def report(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._reported >= PROGRESS_INTERVAL:
            self._reported = now
            self.ctx.progress(self.done / self.total if self.total else 1.0, f"{self.label}{text}")
