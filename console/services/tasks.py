"""The task engine: every long operation runs here, journaled, bounded per host and per provider.

States follow ``domain.tasks`` (queued -> running -> succeeded|failed|cancelled|interrupted) and are
written to the journal at each change. Progress is published on every change but written to the
journal at most once a ``progress_journal_interval``; log lines are kept in a bounded deque per task
and written to the journal in batches (every ``log_flush_lines`` lines or ``log_flush_interval``
seconds, and always when the task ends), so a chatty task does not hit the disk per line.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
import traceback
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable

from console.domain.errors import CancelledError as TaskCancelledError
from console.domain.errors import ConsoleError, NotFoundError
from console.domain.tasks import LogLevel, LogLine, Task, TaskState, UndoAction, can_transition
from console.store import Farm, utc_now

from .events import EventBus, TaskAdded, TaskChanged, TaskLogged

log = logging.getLogger(__name__)

Work = Callable[["TaskContext"], Awaitable["dict | None"]]

CANCELLED_BY_USER = "Cancelled by the administrator."
CANCELLED_ON_CLOSE = "Cancelled because the console closed."


@dataclass(eq=False)
class _Entry:
    task: Task
    work: Work
    memory: deque
    ready: asyncio.Future
    done: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task | None = None
    holding: bool = False            # counts against the host and provider bounds
    seq: int = 0
    cancel_reason: str = ""
    outcome: dict | None = None
    exception: BaseException | None = None
    progress_written: float = float("-inf")   # monotonic time of the last journal progress write


def snapshot(task: Task) -> Task:
    """A copy for an event: a subscriber that keeps it sees the task as it was at that moment."""
    return dataclasses.replace(task, result=dict(task.result),
                               cleanup=[dataclasses.replace(u) for u in task.cleanup])


class TaskContext:
    """What a task's work gets: progress, log, undo list. Implements ``adapters.base.Reporter``.

    Safe to call from a worker thread: the call is moved to the loop's thread.
    """

    def __init__(self, engine: "TaskEngine", entry: _Entry) -> None:
        self._engine = engine
        self._entry = entry

    @property
    def task(self) -> Task:
        return self._entry.task

    @property
    def cancel_requested(self) -> bool:
        return bool(self._entry.cancel_reason)

    def progress(self, fraction: float, text: str = "") -> None:
        if self._engine._off_loop():
            self._engine._loop.call_soon_threadsafe(self.progress, fraction, text)
            return
        self._engine._progress(self._entry, fraction, text)

    def log(self, level: LogLevel, text: str) -> None:
        if self._engine._off_loop():
            self._engine._loop.call_soon_threadsafe(self.log, level, text)
            return
        self._engine._log(self._entry, level if level.__class__ is LogLevel else LogLevel(level), str(text))

    def debug(self, text: str) -> None:
        self.log(LogLevel.DEBUG, text)

    def info(self, text: str) -> None:
        self.log(LogLevel.INFO, text)

    def warning(self, text: str) -> None:
        self.log(LogLevel.WARNING, text)

    def error(self, text: str) -> None:
        self.log(LogLevel.ERROR, text)

    def add_undo(self, action: UndoAction) -> int:
        """Record how to undo a side effect *before* doing it; persisted at once. Returns its index."""
        self.task.cleanup.append(action)
        self._engine._farm.tasks.save(self.task)
        return len(self.task.cleanup) - 1

    def undo_done(self, index: int) -> None:
        """The side effect was undone (or made permanent on success): off the cleanup list."""
        self.task.cleanup[index].done = True
        self._engine._farm.tasks.save(self.task)


class TaskEngine:
    def __init__(self, farm: Farm, bus: EventBus, per_host: int = 2, per_provider: int = 8,
                 memory_lines: int = 2000, log_flush_lines: int = 500,
                 log_flush_interval: float = 0.25, progress_journal_interval: float = 1.0,
                 keep_finished: int = 300) -> None:
        self._farm = farm
        self._bus = bus
        self.per_host = per_host
        self.per_provider = per_provider
        self.memory_lines = memory_lines
        self.log_flush_lines = log_flush_lines
        self.log_flush_interval = log_flush_interval
        self.progress_journal_interval = progress_journal_interval
        self.keep_finished = keep_finished
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._waiting: list[_Entry] = []
        self._running_host: dict[tuple[int | None, str], int] = {}
        self._running_provider: dict[int, int] = {}
        self._log_buffer: list[LogLine] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id = 0
        self._stamp_ms = -1
        self._stamp = ""

    # -- public API ------------------------------------------------------------------------------
    def submit(self, name: str, target: str, kind: str, work: Work,
               provider_id: int | None = None, host: str = "") -> Task:
        """Queue ``work``; it starts when its host and provider have a free slot. TaskAdded at once."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._thread_id = loop, threading.get_ident()
        task = Task(id=None, name=name, target=target, kind=kind, provider_id=provider_id, host=host,
                    created=utc_now())
        self._farm.tasks.save(task)
        entry = _Entry(task=task, work=work, memory=deque(maxlen=self.memory_lines),
                       ready=loop.create_future())
        self._entries[task.id] = entry
        self._waiting.append(entry)
        self._bus.publish(TaskAdded(snapshot(task)))
        entry.runner = loop.create_task(self._run(entry), name=f"task-{task.id}")
        entry.runner.add_done_callback(lambda _runner, e=entry: self._runner_ended(e))
        self._dispatch()
        return task

    def _runner_ended(self, entry: _Entry) -> None:
        """A runner cancelled before its coroutine ran its first line never reaches _run's own
        handling: finish the task here, so it does not stay queued with result() never returning."""
        if entry.task.state.finished:
            return
        if entry in self._waiting:
            self._waiting.remove(entry)
        if entry.holding:
            self._hold(entry, -1)
        self._finish(entry, TaskState.CANCELLED, entry.cancel_reason or CANCELLED_BY_USER)
        self._dispatch()

    async def result(self, task_id: int) -> dict | None:
        """Wait for the task; its work's return value, or its exception raised again."""
        entry = self._entries.get(task_id)
        if entry is None:
            task = self._farm.tasks.get(task_id)
            if task is None:
                raise NotFoundError(f"There is no task {task_id}.")
            if task.state is TaskState.SUCCEEDED:
                return task.result
            if not task.state.finished:
                raise ConsoleError(f"Task {task_id} is not running in this console.",
                                   "Only the process that started a task can wait for it.")
            raise ConsoleError(task.error or f"Task {task_id} ended {task.state.value}.")
        await entry.done.wait()
        if entry.exception is not None:
            raise entry.exception
        return entry.outcome

    def cancel(self, task_id: int, reason: str = CANCELLED_BY_USER) -> bool:
        """Cancel a queued or running task of this process; False when it is not one."""
        entry = self._entries.get(task_id)
        if entry is None or entry.task.state.finished or entry.runner is None or entry.runner.done():
            return False
        entry.cancel_reason = entry.cancel_reason or reason
        entry.runner.cancel()
        return True

    def get(self, task_id: int) -> Task | None:
        entry = self._entries.get(task_id)
        return entry.task if entry is not None else self._farm.tasks.get(task_id)

    def recent(self, limit: int = 500) -> list[Task]:
        """Tasks of this session and the journal, newest last."""
        tasks = {t.id: t for t in self._farm.tasks.recent(limit)}
        for tid, entry in self._entries.items():
            tasks[tid] = entry.task
        return [tasks[tid] for tid in sorted(tasks)][-limit:]

    def log_lines(self, task_id: int, limit: int | None = None) -> list[LogLine]:
        """The last lines kept in memory for a task of this session, else from the journal
        (the last ``limit`` or ``memory_lines`` lines)."""
        entry = self._entries.get(task_id)
        if entry is not None:
            lines = list(entry.memory)
            return lines if limit is None else lines[-limit:]
        return self._farm.tasks.log_lines(task_id, limit if limit is not None else self.memory_lines)

    def running_count(self) -> int:
        return sum(1 for e in self._entries.values() if e.task.state is TaskState.RUNNING)

    def active(self) -> list[Task]:
        """Queued and running tasks of this process."""
        return [e.task for e in self._entries.values() if not e.task.state.finished]

    async def close(self) -> None:
        """Cancel what is queued or running (state cancelled), wait for it, flush the journal."""
        runners = []
        for entry in list(self._entries.values()):
            if self.cancel(entry.task.id, CANCELLED_ON_CLOSE):
                runners.append(entry.runner)
        if runners:
            await asyncio.gather(*runners, return_exceptions=True)
        self.flush()

    def flush(self) -> None:
        """Write buffered log lines now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._log_buffer:
            batch, self._log_buffer = self._log_buffer, []
            self._farm.tasks.append_log_lines(batch)

    # -- scheduling ------------------------------------------------------------------------------
    def _fits(self, task: Task) -> bool:
        if self._running_host.get((task.provider_id, task.host), 0) >= self.per_host:
            return False
        if task.provider_id is not None and \
                self._running_provider.get(task.provider_id, 0) >= self.per_provider:
            return False
        return True

    def _dispatch(self) -> None:
        for entry in list(self._waiting):
            if entry.ready.done():          # cancelled while waiting
                self._waiting.remove(entry)
            elif self._fits(entry.task):
                self._waiting.remove(entry)
                self._hold(entry, +1)
                entry.ready.set_result(None)

    def _hold(self, entry: _Entry, delta: int) -> None:
        task = entry.task
        key = (task.provider_id, task.host)
        self._running_host[key] = self._running_host.get(key, 0) + delta
        if task.provider_id is not None:
            self._running_provider[task.provider_id] = self._running_provider.get(task.provider_id, 0) + delta
        entry.holding = delta > 0

    async def _run(self, entry: _Entry) -> None:
        task = entry.task
        try:
            await entry.ready
        except asyncio.CancelledError:
            if entry.holding:
                self._hold(entry, -1)
            self._finish(entry, TaskState.CANCELLED, entry.cancel_reason or CANCELLED_BY_USER)
            self._dispatch()
            return
        try:
            task.started = utc_now()
            self._set_state(entry, TaskState.RUNNING)
            context = TaskContext(self, entry)
            try:
                outcome = await entry.work(context)
            except asyncio.CancelledError:
                reason = entry.cancel_reason or CANCELLED_BY_USER
                context.warning(reason)
                self._finish(entry, TaskState.CANCELLED, reason)
            except ConsoleError as exc:
                context.error(exc.message)
                if exc.hint:
                    context.info(f"Hint: {exc.hint}")
                if exc.details:
                    context.debug(exc.details)
                self._finish(entry, TaskState.FAILED, str(exc), exc)
            except Exception as exc:
                sentence = f"Internal error ({type(exc).__name__}); details are in the log."
                context.error(sentence)
                context.debug(traceback.format_exc())
                log.debug("task %s failed", task.id, exc_info=True)
                self._finish(entry, TaskState.FAILED, sentence, exc)
            else:
                entry.outcome = outcome
                task.result = dict(outcome or {})
                task.progress = 1.0
                self._finish(entry, TaskState.SUCCEEDED)
        finally:
            if entry.holding:
                self._hold(entry, -1)
            self._dispatch()

    # -- state, progress, log --------------------------------------------------------------------
    def _set_state(self, entry: _Entry, state: TaskState) -> None:
        task = entry.task
        if not can_transition(task.state, state):
            raise RuntimeError(f"task {task.id}: {task.state.value} -> {state.value} is not allowed")
        task.state = state
        self._farm.tasks.save(task)
        self._bus.publish(TaskChanged(snapshot(task)))

    def _finish(self, entry: _Entry, state: TaskState, error: str = "",
                exception: BaseException | None = None) -> None:
        task = entry.task
        task.finished = utc_now()
        task.error = error
        if state is TaskState.CANCELLED and exception is None:
            exception = TaskCancelledError(error or CANCELLED_BY_USER)
        entry.exception = exception
        self.flush()                        # every line of the task is in the journal at its end
        self._set_state(entry, state)
        entry.done.set()
        self._forget_old()

    def _forget_old(self) -> None:
        finished = [tid for tid, e in self._entries.items() if e.task.state.finished]
        for tid in finished[:max(0, len(finished) - self.keep_finished)]:
            del self._entries[tid]

    def _off_loop(self) -> bool:
        return self._loop is not None and threading.get_ident() != self._thread_id

    def _progress(self, entry: _Entry, fraction: float, text: str) -> None:
        task = entry.task
        if task.state.finished:
            return
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction == task.progress and (not text or text == task.progress_text):
            return
        task.progress = fraction
        if text:
            task.progress_text = text
        now = time.monotonic()
        if now - entry.progress_written >= self.progress_journal_interval:
            entry.progress_written = now
            self._farm.tasks.save_progress(task)
        self._bus.publish(TaskChanged(snapshot(task)))

    def _line_stamp(self) -> str:
        """utc_now(), formatted once per millisecond: a chatty task logs many lines in one."""
        ms = int(time.time() * 1000)
        if ms != self._stamp_ms:
            self._stamp_ms = ms
            self._stamp = datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds")
        return self._stamp

    def _log(self, entry: _Entry, level: LogLevel, text: str) -> None:
        line = LogLine(entry.task.id, entry.seq, self._line_stamp(), level, text)
        entry.seq += 1
        entry.memory.append(line)
        self._log_buffer.append(line)
        if len(self._log_buffer) >= self.log_flush_lines:
            self.flush()
        elif self._flush_handle is None and self._loop is not None:
            self._flush_handle = self._loop.call_later(self.log_flush_interval, self.flush)
        self._bus.publish(TaskLogged(entry.task.id, line))
