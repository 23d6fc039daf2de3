"""Following a copy that runs on in Windows (a template copy to a target, a quick clone's own copy of
its base disk): poll it until it is done, give it up after a few unreachable polls in a row, and stop
it when the caller is cancelled or the copy fails. templates.py and pools.py call these with their
own scripts and wording.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from console.adapters.base import Reporter
from console.domain.errors import ConsoleError, UnreachableError
from console.domain.tasks import LogLevel

from . import template_convert as tc

#: Consecutive polls of a running copy that may fail to reach the target before the copy is given up:
#: a short WinRM hiccup must not throw away an hour of copying (the copy itself runs on in Windows).
COPY_POLL_ATTEMPTS = 3

RunScript = Callable[[str, dict[str, Any], str], Awaitable[Any]]


async def follow_copy(run_script: RunScript, host: str, host_name: str, interval: float,
                      status: tc.CopyStatus, poll: dict[str, Any], reporter: Reporter, *,
                      script: str, share: float, failed: Callable[[str], ConsoleError],
                      missing_hint: str) -> tc.CopyStatus:
    """Polls ``script`` with ``poll`` every ``interval`` seconds until the copy is done (returned),
    failed (``failed(status.error)`` raised) or no longer known (ConsoleError with ``missing_hint``).
    Progress is ``share`` of the copied fraction."""
    failures = 0
    while True:
        if status.state == "done":
            return status
        if status.state == "failed":
            raise failed(status.error)
        if status.state == "missing":
            raise ConsoleError(f"The copy {poll['copy_id']} is no longer known on {host_name}.", missing_hint)
        reporter.progress(share * status.fraction, f"Copying {tc.gigabytes(status.bytes_done)} of "
                          f"{tc.gigabytes(status.bytes_total)} GB")
        await asyncio.sleep(interval)
        try:
            status = tc.copy_status(await run_script(script, poll, "the copy progress query"), host)
            failures = 0
        except UnreachableError as exc:
            failures += 1
            if failures >= COPY_POLL_ATTEMPTS:
                raise
            reporter.log(LogLevel.WARNING, f"{exc.message} The copy goes on; asking again.")


async def stopped_on_failure(following: Awaitable[tc.CopyStatus],
                             stop: Callable[[], Awaitable[None]]) -> tc.CopyStatus:
    """Awaits ``following``; if it fails (ConsoleError) or the caller is cancelled, ``stop()`` runs before
    the error goes on. The copy runs on in Windows unless it is stopped, so the stop is finished even if
    the caller is cancelled again meanwhile."""
    try:
        return await following
    except asyncio.CancelledError:
        stopping = asyncio.ensure_future(stop())
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            pass
        raise
    except ConsoleError:
        await stop()
        raise
