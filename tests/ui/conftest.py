"""pytest-qt with one qasync loop (NOTES.md, Pattern A): sync tests wait with qtbot.waitUntil."""
from __future__ import annotations

import asyncio
import gc
import sys
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
    # what run_forever() would install: an async generator dropped unfinished (an httpx request cut
    # off when a test closes its services) is then closed on the loop, not at some later garbage
    # collection with no loop running ("no running event loop", "ignored GeneratorExit")
    old_hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook)
    yield loop
    sys.set_asyncgen_hooks(*old_hooks)
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
    gc.collect()            # unfinished async generators of this test: closed now, on the loop
    closing = [t for t in asyncio.all_tasks(qasync_loop) if not t.done()]
    while any(not t.done() for t in closing) and time.monotonic() < deadline + 2:
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


@pytest.fixture
def services(arun, tmp_path):
    """The real services with the embedded lab (WinRM hosts and Prism, x50) in tmp_path; closed after."""
    from console.services.container import build_services
    svc = build_services(farm_path=tmp_path / "farm.sqlite", lab=True, lab_state=tmp_path / "lab",
                         lab_speed=50)
    arun(svc.start())
    yield svc
    arun(svc.close())
