"""pytest-qt with one qasync loop (NOTES.md, Pattern A): sync tests wait with qtbot.waitUntil."""
from __future__ import annotations

import asyncio
import time

import pytest
import qasync
from PySide6.QtCore import QSettings


@pytest.fixture(scope="session")
def qasync_loop(qapp):
    loop = qasync.QEventLoop(qapp, already_running=True)
    # our own executor, so its QThreads (asyncio.to_thread) are joined when the session ends
    executor = qasync.QThreadExecutor(8)
    loop.set_default_executor(executor)
    yield loop
    executor.shutdown(wait=True)


@pytest.fixture
def loop(qapp, qasync_loop):
    """The qasync loop set as the running loop for this test; pending tasks cancelled after it.

    Never loop.stop() here: it calls QApplication.exit() and every later waitUntil would time out.
    """
    asyncio.events._set_running_loop(qasync_loop)
    asyncio.set_event_loop(qasync_loop)
    yield qasync_loop
    pending = [t for t in asyncio.all_tasks(qasync_loop) if not t.done()]
    for task in pending:
        task.cancel()
    deadline = time.monotonic() + 5
    while any(not t.done() for t in pending) and time.monotonic() < deadline:
        qapp.processEvents()
    asyncio.events._set_running_loop(None)


def run_async(qtbot, coro, timeout_ms: int = 20000):
    """Run a coroutine on the qasync loop from a sync test and return its result."""
    future = asyncio.ensure_future(coro)
    qtbot.waitUntil(future.done, timeout=timeout_ms)
    return future.result()


@pytest.fixture
def settings(tmp_path):
    """A QSettings of its own per test, so no test reads another's (or the user's) layout."""
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def arun(qtbot, loop):
    """``arun(coro)``: run a coroutine on the loop from a sync test, return its result."""
    return lambda coro, timeout_ms=20000: run_async(qtbot, coro, timeout_ms)
