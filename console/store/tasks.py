"""The task journal: one row per task (saved at each state change) and its log lines."""
from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Iterable

from console.domain.tasks import LogLevel, LogLine, Task, TaskState, UndoAction

from .farm import utc_now

if TYPE_CHECKING:
    from .farm import Farm

INTERRUPTED_LINE = "The console stopped while this task was running."

_COLUMNS = ("id, name, target, kind, state, progress, progress_text, created, started, finished, "
            "error, provider_id, host, result, cleanup")


def _row(row: tuple) -> Task:
    (tid, name, target, kind, state, progress, progress_text, created, started, finished, error,
     provider_id, host, result, cleanup) = row
    return Task(id=tid, name=name, target=target, kind=kind, state=TaskState(state),
                progress=progress, progress_text=progress_text, created=created, started=started,
                finished=finished, error=error, provider_id=provider_id, host=host,
                result=json.loads(result or "{}"),
                cleanup=[UndoAction(**u) for u in json.loads(cleanup or "[]")])


def _values(task: Task) -> tuple:
    return (task.name, task.target, task.kind, task.state.value, task.progress, task.progress_text,
            task.created, task.started, task.finished, task.error, task.provider_id, task.host,
            json.dumps(task.result, default=str),
            json.dumps([dataclasses.asdict(u) for u in task.cleanup], default=str))


class TaskRepository:
    def __init__(self, farm: "Farm") -> None:
        self._farm = farm

    def save(self, task: Task) -> Task:
        """Insert (``id`` None: the id is set on ``task``) or update the whole row."""
        if not task.created:
            task.created = utc_now()
        if task.id is None:
            cur = self._farm.execute(
                "INSERT INTO tasks (name, target, kind, state, progress, progress_text, created, "
                "started, finished, error, provider_id, host, result, cleanup) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _values(task))
            task.id = cur.lastrowid
        else:
            self._farm.execute(
                "UPDATE tasks SET name=?, target=?, kind=?, state=?, progress=?, progress_text=?, "
                "created=?, started=?, finished=?, error=?, provider_id=?, host=?, result=?, cleanup=? "
                "WHERE id=?", _values(task) + (task.id,))
        return task

    def save_progress(self, task: Task) -> None:
        """The small write for a throttled progress update."""
        self._farm.execute("UPDATE tasks SET progress=?, progress_text=? WHERE id=?",
                           (task.progress, task.progress_text, task.id))

    def get(self, task_id: int) -> Task | None:
        rows = self._farm.query(f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", (task_id,))
        return _row(rows[0]) if rows else None

    def recent(self, limit: int = 500) -> list[Task]:
        """The newest ``limit`` tasks, oldest first (newest last)."""
        rows = self._farm.query(f"SELECT {_COLUMNS} FROM tasks ORDER BY id DESC LIMIT ?", (limit,))
        return [_row(r) for r in reversed(rows)]

    def append_log_lines(self, lines: Iterable[LogLine]) -> int:
        """Write a batch of log lines in one transaction; returns how many."""
        rows = [(ln.task_id, ln.seq, ln.at, ln.level.value, ln.text) for ln in lines]
        if rows:
            self._farm.executemany(
                "INSERT OR REPLACE INTO task_log (task_id, seq, at, level, text) VALUES (?, ?, ?, ?, ?)",
                rows)
        return len(rows)

    def log_lines(self, task_id: int, limit: int | None = None) -> list[LogLine]:
        """The task's lines in order; with ``limit``, only the last ``limit``."""
        if limit is None:
            rows = self._farm.query("SELECT task_id, seq, at, level, text FROM task_log "
                                    "WHERE task_id = ? ORDER BY seq", (task_id,))
        else:
            rows = list(reversed(self._farm.query(
                "SELECT task_id, seq, at, level, text FROM task_log WHERE task_id = ? "
                "ORDER BY seq DESC LIMIT ?", (task_id, limit))))
        return [LogLine(t, s, a, LogLevel(lv), tx) for t, s, a, lv, tx in rows]

    def log_count(self, task_id: int) -> int:
        return self._farm.query("SELECT count(*) FROM task_log WHERE task_id = ?", (task_id,))[0][0]

    def mark_running_interrupted(self) -> list[int]:
        """At start-up: queued or running rows belong to a console that died. Mark them interrupted,
        each with a log line saying so. Returns their ids."""
        ids = [r[0] for r in self._farm.query(
            "SELECT id FROM tasks WHERE state IN (?, ?) ORDER BY id",
            (TaskState.QUEUED.value, TaskState.RUNNING.value))]
        now = utc_now()
        lines = []
        for tid in ids:
            self._farm.execute("UPDATE tasks SET state=?, finished=?, error=? WHERE id=?",
                               (TaskState.INTERRUPTED.value, now, INTERRUPTED_LINE, tid))
            seq = self._farm.query("SELECT coalesce(max(seq), -1) + 1 FROM task_log WHERE task_id=?",
                                   (tid,))[0][0]
            lines.append(LogLine(tid, seq, now, LogLevel.WARNING, INTERRUPTED_LINE))
        self.append_log_lines(lines)
        return ids
