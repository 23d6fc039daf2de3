"""Guests watched per provider: every clone waiting for something of its guest (ready, logged off)
is answered by ONE ``guest_states`` call per provider every ``guest_poll_interval``, however many
clones wait on it (a 50-clone host costs one call, not 50).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from console.adapters.base import NullReporter
from console.domain.errors import ConsoleError
from console.domain.inventory import Provider

log = logging.getLogger(__name__)

#: (guest state or None when the provider does not list the VM) -> True when the wait is over;
#: raising a ConsoleError ends the wait with it
Predicate = Callable[[Any], bool]


def ready_or_error(state: Any) -> bool:
    if state is not None and getattr(state, "error", ""):
        raise ConsoleError(state.error)
    return bool(state is not None and state.ready)


def nobody_logged_on(state: Any) -> bool:
    return state is None or not getattr(state, "logged_on_user", "")


class _Watcher:
    def __init__(self, owner: Any, provider: Provider) -> None:
        self.owner, self.provider = owner, provider
        self.waiting: list[tuple[str, Predicate, asyncio.Future, float]] = []
        self.runner: asyncio.Task | None = None
        self.calls = 0
        self._wake = asyncio.Event()

    def add(self, vm_id: str, predicate: Predicate, due: float) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append((vm_id, predicate, future, due))
        if self.runner is None or self.runner.done():
            self.runner = asyncio.ensure_future(self._run())
        else:
            self._wake.set()
        return future

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake for a new wait that may be due sooner."""
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))
        except TimeoutError:
            pass

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                self.waiting = [w for w in self.waiting if not w[2].done()]
                if not self.waiting:
                    return
                now = loop.time()
                due = [w for w in self.waiting if w[3] <= now]
                if not due:                 # nothing to ask yet: until the first one is due
                    await self._pause(min(w[3] for w in self.waiting) - now)
                    continue
                ids = sorted({w[0] for w in due})
                self.calls += 1
                try:
                    adapter = await self.owner._adapter(self.owner._provider(self.provider.id))
                    states = await adapter.guest_states(ids, NullReporter())
                except Exception as exc:
                    if not isinstance(exc, ConsoleError):
                        log.exception("guest_states on %s failed", self.provider.name)
                    for _, _, future, _ in due:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for vm_id, predicate, future, _ in due:
                    if future.done():
                        continue
                    try:
                        if predicate(states.get(vm_id)):
                            future.set_result(states.get(vm_id))
                    except Exception as exc:  # noqa: BLE001
                        future.set_exception(exc)
                if any(not w[2].done() for w in self.waiting):
                    await self._pause(self.owner.guest_poll_interval)
        finally:
            self.runner = None


class GuestWatchers:
    def __init__(self, owner: Any) -> None:
        self._owner = owner
        self._watchers: dict[int, _Watcher] = {}

    async def wait(self, provider: Provider, vm_id: str, predicate: Predicate, after: float = 0.0) -> Any:
        """Until ``predicate`` holds for the VM's guest; its first read ``after`` seconds from now
        (the expected boot: no call is spent on a guest that cannot be ready yet)."""
        watcher = self._watchers.get(provider.id)
        if watcher is None:
            watcher = self._watchers[provider.id] = _Watcher(self._owner, provider)
        future = watcher.add(vm_id, predicate, asyncio.get_running_loop().time() + max(0.0, after))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def ready(self, provider: Provider, vm_id: str, after: float = 0.0) -> Any:
        """The guest's state once it reports ready; its own error (a refused domain join) raised."""
        return await self.wait(provider, vm_id, ready_or_error, after)

    def calls(self) -> int:
        """guest_states calls made so far (the benchmark prints it)."""
        return sum(w.calls for w in self._watchers.values())

    async def logged_off(self, provider: Provider, vm_id: str) -> Any:
        return await self.wait(provider, vm_id, nobody_logged_on)

    async def states(self, provider: Provider, vm_ids: list[str]) -> dict[str, Any]:
        """One read of many guests now (the keeper), outside the waits."""
        adapter = await self._owner._adapter(self._owner._provider(provider.id))
        return await adapter.guest_states(list(vm_ids), NullReporter())

    def close(self) -> None:
        for watcher in self._watchers.values():
            if watcher.runner is not None:
                watcher.runner.cancel()
        self._watchers.clear()
