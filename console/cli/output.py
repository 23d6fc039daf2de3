"""How vdictl shows things: tables, JSON, progress of tasks, errors."""
from __future__ import annotations

import dataclasses
import enum
import json
import shutil
import sys
from typing import Any, Iterable, TextIO

from console.domain.errors import ConsoleError
from console.domain.tasks import Task, TaskState
from console.services.events import EventBus, TaskChanged


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any, out: TextIO | None = None) -> None:
    print(json.dumps(to_jsonable(value), indent=2, sort_keys=True), file=out or sys.stdout)


def print_table(headers: list[str], rows: Iterable[Iterable[Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    rows = [["" if c is None else str(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]
    for r in [headers] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)


def print_error(exc: ConsoleError, err: TextIO | None = None) -> None:
    err = err or sys.stderr
    print(f"Error: {exc.message}", file=err)
    if exc.hint:
        print(f"Hint: {exc.hint}", file=err)


def gigabytes(n: int) -> str:
    return f"{n / 2 ** 30:.1f}" if n else "0"


class TaskProgress:
    """Shows the progress of the tasks a command waits for.

    On a terminal: one line redrawn with ``\\r`` (a bar, the percentage and the step). Otherwise
    (a pipe, a log file): plain "NN% text" lines, one per change of percentage or text.
    Quiet in --json mode so stdout stays one JSON document.
    """

    def __init__(self, bus: EventBus, quiet: bool = False, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._quiet = quiet
        self._tty = bool(getattr(self._out, "isatty", lambda: False)())
        self._ids: set[int] = set()
        self._last: dict[int, tuple[int, str]] = {}
        self._drawn = False
        self._unsubscribe = bus.subscribe(self._on_event)

    def watch(self, task: Task) -> None:
        self._ids.add(task.id)

    def _on_event(self, event: Any) -> None:
        if self._quiet or not isinstance(event, TaskChanged) or event.task.id not in self._ids:
            return
        task = event.task
        percent = int(task.progress * 100)
        text = task.progress_text
        if task.state.finished and task.state is not TaskState.SUCCEEDED:
            text = task.state.label
        if self._last.get(task.id) == (percent, text):
            return
        self._last[task.id] = (percent, text)
        # the task's name first, then its steps: alone, or prefixed when several run together
        prefix = f"{task.name}: " if len(self._ids) > 1 and text else ""
        text = text or task.name
        if self._tty:
            width = shutil.get_terminal_size((80, 20)).columns
            filled = percent * 20 // 100
            line = f"[{'#' * filled}{'-' * (20 - filled)}] {percent:3d}% {prefix}{text}"
            self._out.write("\r" + line[:width - 1].ljust(width - 1))
            self._drawn = True
        else:
            self._out.write(f"{percent:3d}% {prefix}{text}\n")
        self._out.flush()

    def close(self) -> None:
        self._unsubscribe()
        if self._drawn:
            self._out.write("\n")
            self._out.flush()
            self._drawn = False
