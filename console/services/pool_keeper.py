"""The keeper: one asyncio loop (started by ``services.start()``, stopped by ``services.close()``) that
every ``keeper_interval`` (10 s; lab: 10 s / speed, at least 0.1 s) looks at every enabled pool:

- reads its clones' guests (one call per host): a logged-on user makes a clone ASSIGNED (with the
  user), a clone nobody is logged on to any more is READY (available) again;
- keeps the buffer: when fewer than ``keep_available`` clones are available (ready, merging or being
  made) it provisions the difference, within ``maximum`` (one provisioning task at a time per pool;
  after a run with failures it waits a while before trying again);
- deletes unassigned READY clones beyond the buffer that nobody used for
  ``delete_unused_after_minutes`` (in the hosts' time: lab minutes pass ``speed`` times faster).

A pool being updated, deleted or cleaned up is left alone until that task ends.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from console.domain.errors import ConsoleError
from console.domain.templates import Clone, CloneState, Pool

from .pool_support import EXCLUSIVE_KINDS
from .tasks import TaskContext

log = logging.getLogger(__name__)

#: after a keeper provisioning with failures, wait this long (real seconds, lab-scaled) before another
BACKOFF_SECONDS = 300.0
_AVAILABLE = (CloneState.READY, CloneState.MERGING, CloneState.PROVISIONING)


class PoolKeeper:
    def __init__(self, pools: Any) -> None:
        self._pools = pools                       # PoolService
        self._runner: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._idle_since: dict[tuple[int, str], float] = {}
        self._backoff_until: dict[int, float] = {}
        self._said: dict[int, str] = {}            # pool id -> the last reason it could not top up
        self._own: dict[int, int] = {}             # pool id -> the keeper's provisioning task id
        self.ticks = 0

    # -- life ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._runner is None or self._runner.done():
            self._wake = asyncio.Event()
            self._runner = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    def wake(self) -> None:
        """Look at the pools now (after an edit or a scale) instead of at the next interval."""
        if self._wake is not None:
            self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pool keeper pass failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self._pools.keeper_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    # -- one pass --------------------------------------------------------------------------------
    async def tick(self) -> None:
        self.ticks += 1
        for pool in self._pools.list():
            if not pool.enabled or self._pools._active(pool.id, EXCLUSIVE_KINDS):
                continue
            clones = self._pools.clones(pool.id)
            await self._observe(pool, clones)
            self._top_up(pool, clones)
            self._trim(pool, clones)

    async def _observe(self, pool: Pool, clones: list[Clone]) -> None:
        """Who is logged on where: ASSIGNED with the user, or READY (available) again."""
        by_provider: dict[int, list[Clone]] = defaultdict(list)
        for clone in clones:
            if clone.vm_id and clone.state in (CloneState.READY, CloneState.ASSIGNED):
                by_provider[clone.provider_id].append(clone)
        now = self._pools.clock()
        for provider_id, group in by_provider.items():
            try:
                provider = self._pools._provider(provider_id)
                states = await self._pools._watchers.states(provider, [c.vm_id for c in group])
            except ConsoleError as exc:
                log.debug("keeper: guests of provider %s not read: %s", provider_id, exc)
                continue
            for clone in group:
                state = states.get(clone.vm_id)
                user = getattr(state, "logged_on_user", "") if state is not None else ""
                current = self._pools._farm.pools.clone(pool.id, clone.name)
                if current is None or current.state not in (CloneState.READY, CloneState.ASSIGNED):
                    continue                            # changed while the guests were read
                if user and (current.state is not CloneState.ASSIGNED or current.assigned_user != user):
                    current.state, current.assigned_user = CloneState.ASSIGNED, user
                    self._pools._save_clone(current)
                    self._idle_since.pop((pool.id, clone.name), None)
                elif not user and current.state is CloneState.ASSIGNED:
                    current.state, current.assigned_user = CloneState.READY, ""
                    self._pools._save_clone(current)
                    self._idle_since[(pool.id, clone.name)] = now
                clone.state, clone.assigned_user = current.state, current.assigned_user
        for clone in clones:
            if clone.state is CloneState.READY:
                self._idle_since.setdefault((pool.id, clone.name), now)

    def _top_up(self, pool: Pool, clones: list[Clone]) -> None:
        available = sum(1 for c in clones if c.state in _AVAILABLE and not c.assigned_user)
        need = min(pool.keep_available - available, pool.maximum - len(clones))
        if need <= 0 or self._pools.provisioning(pool.id) is not None:
            return
        own = self._own.pop(pool.id, None)
        if own is not None:
            task = self._pools._tasks.get(own)
            if task is not None and (task.state.value != "succeeded" or (task.result or {}).get("failed")):
                self._backoff_until[pool.id] = self._pools.clock() + BACKOFF_SECONDS
        if self._pools.clock() < self._backoff_until.get(pool.id, float("-inf")):
            return
        try:
            self._pools._usable_version(pool, self._pools._template_of(pool))   # maintenance, untagged...
            task = self._pools.provision(pool.id, need)
        except ConsoleError as exc:
            if self._said.get(pool.id) != str(exc):
                self._said[pool.id] = str(exc)
                log.warning("pool %s: the buffer cannot be kept: %s", pool.name, exc)
            return
        self._said.pop(pool.id, None)
        self._own[pool.id] = task.id

    def _trim(self, pool: Pool, clones: list[Clone]) -> None:
        if not pool.delete_unused_after_minutes or self._pools._active(pool.id, ("pool-trim", "pool-provision")):
            return
        idle = [c for c in clones if c.state is CloneState.READY and not c.assigned_user]
        excess = len(idle) - pool.keep_available
        if excess <= 0:
            return
        now, limit = self._pools.clock(), pool.delete_unused_after_minutes * 60
        old = sorted((self._idle_since.get((pool.id, c.name), now), c.name) for c in idle)
        names = [name for since, name in old if now - since >= limit][:excess]
        if names:
            submit_trim(self._pools, pool, names)
            for name in names:
                self._idle_since.pop((pool.id, name), None)


def submit_trim(pools: Any, pool: Pool, names: list[str]) -> Any:
    """One task deleting unused clones beyond the buffer (kind pool-trim)."""
    pool_id = pool.id

    async def work(ctx: TaskContext) -> dict:
        clones = [c for c in pools.clones(pool_id) if c.name in names
                  and c.state is CloneState.READY and not c.assigned_user]
        ctx.info(f"Deleting {len(clones)} clone(s) unused for {pool.delete_unused_after_minutes} minute(s) "
                 f"beyond the buffer of {pool.keep_available}: {', '.join(c.name for c in clones)}")
        left = await pools._delete_many(ctx, clones)
        return {"pool_id": pool_id, "deleted": [c.name for c in clones if c.name not in left], "left": left}

    return pools._submit(f"Delete {len(names)} unused clone(s) of pool '{pool.name}'", pool.name, "pool-trim",
                         {"pool_id": pool_id, "pool": pool.name, "clones": list(names)}, work)
