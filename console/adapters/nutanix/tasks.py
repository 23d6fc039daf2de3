"""Following Prism tasks: one polling loop per provider serves every pending task.

Each round sends one GET tasks/{uuid} per pending task (the public per-task endpoint of both v2.0 and
v3; v3's tasks/list and tasks/poll are marked internal in the spec), then waits for the rest of the
interval. Nutanix's own Terraform provider polls every 3 seconds; the interval is configurable so the
lab at speed 50 can be followed at e.g. 0.05 s.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from console.domain.errors import AuthenticationError, ConsoleError, NotFoundError, ProtocolError

from .client import PrismClient

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 3.0
#: polls of one task that may fail in a row (after the client's own retries) before its waiters fail
MAX_FAILED_POLLS = 3

ProgressCallback = Callable[[int, str], None]


@dataclass
class TaskStatus:
    uuid: str
    state: str                     # "queued", "running", "succeeded", "failed"
    percent: int = 0
    message: str = ""              # progress message, or the error when failed
    entity_ids: list[str] = field(default_factory=list)   # entities the task created or touched
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")


def parse_v2_task(body: dict[str, Any], uuid: str) -> TaskStatus:
    """v2.0: progress_status Queued/Running/Succeeded/Failed (also Aborted), percentage_complete,
    entity_list[].entity_id, meta_response.error_detail."""
    status = str(body.get("progress_status") or "").lower()
    state = {"queued": "queued", "running": "running", "succeeded": "succeeded", "failed": "failed",
             "aborted": "failed"}.get(status, "running")
    meta = body.get("meta_response") or {}
    message = str(meta.get("error_detail") or body.get("message") or "") if state == "failed" else ""
    entities = [str(e.get("entity_id")) for e in body.get("entity_list") or [] if e.get("entity_id")]
    return TaskStatus(uuid, state, int(body.get("percentage_complete") or 0), message, entities, body)


def parse_v3_task(body: dict[str, Any], uuid: str) -> TaskStatus:
    """v3: status QUEUED/RUNNING/SUCCEEDED/FAILED (also ABORTED, SUSPENDED), percentage_complete,
    error_detail, progress_message, entity_reference_list[].uuid."""
    status = str(body.get("status") or "").upper()
    state = {"QUEUED": "queued", "RUNNING": "running", "SUCCEEDED": "succeeded", "FAILED": "failed",
             "ABORTED": "failed", "SUSPENDED": "running"}.get(status, "running")
    message = str(body.get("error_detail") if state == "failed" else body.get("progress_message") or "")
    if state == "failed" and status == "ABORTED" and not message:
        message = "The task was aborted."
    entities = [str(e.get("uuid")) for e in body.get("entity_reference_list") or [] if e.get("uuid")]
    return TaskStatus(uuid, state, int(body.get("percentage_complete") or 0), message or "", entities, body)


@dataclass
class _Waiter:
    future: asyncio.Future
    on_progress: ProgressCallback | None
    last_percent: int = -1


class TaskPoller:
    """The provider's one loop. ``await wait(uuid)`` returns the finished TaskStatus (succeeded or
    failed: the caller decides what a failure means)."""

    def __init__(self, client: PrismClient, api: str, interval: float = DEFAULT_INTERVAL) -> None:
        if api not in ("v2", "v3"):
            raise ValueError("api must be 'v2' or 'v3'")
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.client = client
        self.api = api
        self.interval = float(interval)
        self.requests = 0              # task GETs sent (for the benchmark and the tests)
        self.rounds = 0
        self._waiters: dict[str, list[_Waiter]] = {}
        self._failures: dict[str, int] = {}
        self._runner: asyncio.Task | None = None

    @property
    def pending(self) -> int:
        return len(self._waiters)

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def wait(self, task_uuid: str, on_progress: ProgressCallback | None = None) -> TaskStatus:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), on_progress)
        self._waiters.setdefault(task_uuid, []).append(waiter)
        if not self.running:
            self._runner = loop.create_task(self._run(), name=f"prism-task-poller-{id(self)}")
        try:
            return await waiter.future
        finally:
            waiters = self._waiters.get(task_uuid)
            if waiters and waiter in waiters:     # cancelled: stop following this task for it
                waiters.remove(waiter)
                if not waiters:
                    self._waiters.pop(task_uuid, None)
                    self._failures.pop(task_uuid, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiters:
            started = loop.time()
            uuids = list(self._waiters)
            self.rounds += 1
            results = await asyncio.gather(*(self._poll(uuid) for uuid in uuids), return_exceptions=True)
            for uuid, result in zip(uuids, results):
                self._deliver(uuid, result)
            if self._waiters:
                await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    async def _poll(self, uuid: str) -> TaskStatus:
        path = f"/api/nutanix/{'v2.0' if self.api == 'v2' else 'v3'}/tasks/{uuid}"
        self.requests += 1
        body = await self.client.request("GET", path, what=f"the progress of task {uuid}")
        if not isinstance(body, dict):
            raise ProtocolError(f"{self.client.where} answered the task {uuid} query without a task.",
                                details=str(body)[:500])
        return parse_v2_task(body, uuid) if self.api == "v2" else parse_v3_task(body, uuid)

    def _deliver(self, uuid: str, result: TaskStatus | BaseException) -> None:
        waiters = self._waiters.get(uuid)
        if not waiters:
            return
        if isinstance(result, BaseException):
            if isinstance(result, asyncio.CancelledError):
                raise result
            failures = self._failures.get(uuid, 0) + 1
            self._failures[uuid] = failures
            fatal = (isinstance(result, (AuthenticationError, NotFoundError, ProtocolError))
                     or not isinstance(result, ConsoleError) or failures >= MAX_FAILED_POLLS)
            log.debug("poll of task %s failed (%d): %r", uuid, failures, result)
            if fatal:
                self._finish(uuid, error=result)
            return
        self._failures.pop(uuid, None)
        for waiter in waiters:
            if waiter.on_progress and result.percent != waiter.last_percent:
                waiter.last_percent = result.percent
                try:
                    waiter.on_progress(result.percent, result.message)
                except Exception:          # a reporter must never stop the loop for the others
                    log.exception("progress callback failed")
        if result.finished:
            self._finish(uuid, status=result)

    def _finish(self, uuid: str, status: TaskStatus | None = None, error: BaseException | None = None) -> None:
        for waiter in self._waiters.pop(uuid, []):
            if waiter.future.done():
                continue
            if error is not None:
                waiter.future.set_exception(error)
            else:
                waiter.future.set_result(status)
        self._failures.pop(uuid, None)

    async def close(self) -> None:
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            try:
                await self._runner
            except (asyncio.CancelledError, Exception):
                pass
        for uuid in list(self._waiters):
            for waiter in self._waiters.pop(uuid):
                if not waiter.future.done():
                    waiter.future.cancel()
