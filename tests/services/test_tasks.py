import asyncio

import pytest

from console.domain.errors import AuthenticationError, CancelledError as TaskCancelled
from console.domain.tasks import LogLevel, TaskState, UndoAction
from console.services.events import EventBus, TaskAdded, TaskChanged, TaskLogged
from console.services.tasks import CANCELLED_BY_USER, TaskEngine
from console.store import INTERRUPTED_LINE, Farm

pytestmark = pytest.mark.asyncio


@pytest.fixture
def farm(tmp_path):
    with Farm(tmp_path / "farm.sqlite") as f:
        yield f


@pytest.fixture
def bus():
    return EventBus()


async def wait_for(predicate, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_success_states_are_journaled_and_published(farm, bus):
    events = []
    bus.subscribe(events.append)
    engine = TaskEngine(farm, bus)

    async def work(ctx):
        assert farm.tasks.get(ctx.task.id).state is TaskState.RUNNING
        ctx.progress(0.5, "halfway")
        ctx.info("did it")
        return {"answer": 42}

    task = engine.submit("Do it", "HV01 / a", "test", work, provider_id=1, host="HV01")
    assert task.state is TaskState.QUEUED and farm.tasks.get(task.id).state is TaskState.QUEUED
    assert await engine.result(task.id) == {"answer": 42}
    row = farm.tasks.get(task.id)
    assert row.state is TaskState.SUCCEEDED and row.result == {"answer": 42} and row.progress == 1.0
    assert row.started and row.finished
    assert [ln.text for ln in farm.tasks.log_lines(task.id)] == ["did it"]
    states = [e.task.state for e in events if isinstance(e, TaskChanged)]
    assert isinstance(events[0], TaskAdded)
    assert TaskState.RUNNING in states and states[-1] is TaskState.SUCCEEDED
    assert any(isinstance(e, TaskLogged) and e.line.text == "did it" for e in events)
    assert any(isinstance(e, TaskChanged) and e.task.progress_text == "halfway" for e in events)


async def test_console_error_fails_with_its_sentence_and_log_lines(farm, bus):
    engine = TaskEngine(farm, bus)

    async def work(ctx):
        raise AuthenticationError("The user name or password was refused by HV01.",
                                  "Check the account.", "HTTP 401")

    task = engine.submit("Check", "HV01", "test", work)
    with pytest.raises(AuthenticationError):
        await engine.result(task.id)
    row = farm.tasks.get(task.id)
    assert row.state is TaskState.FAILED
    assert row.error == "The user name or password was refused by HV01. Check the account."
    lines = [(ln.level, ln.text) for ln in engine.log_lines(task.id)]
    assert (LogLevel.ERROR, "The user name or password was refused by HV01.") in lines
    assert (LogLevel.INFO, "Hint: Check the account.") in lines
    assert (LogLevel.DEBUG, "HTTP 401") in lines


async def test_other_exception_is_an_internal_error_with_traceback_at_debug(farm, bus):
    engine = TaskEngine(farm, bus)

    async def work(ctx):
        return {}["missing"]

    task = engine.submit("Oops", "", "test", work)
    with pytest.raises(KeyError):
        await engine.result(task.id)
    row = farm.tasks.get(task.id)
    assert row.error == "Internal error (KeyError); details are in the log."
    debug = [ln.text for ln in farm.tasks.log_lines(task.id) if ln.level is LogLevel.DEBUG]
    assert debug and "Traceback" in debug[0] and "missing" in debug[0]


async def test_concurrency_is_bounded_per_host_and_per_provider(farm, bus):
    engine = TaskEngine(farm, bus, per_host=2, per_provider=3)
    running = {"HV01": 0, "HV02": 0, "provider": 0}
    peak = {"HV01": 0, "HV02": 0, "provider": 0}
    gate = asyncio.Event()

    def make(host):
        async def work(ctx):
            running[host] += 1
            running["provider"] += 1
            for k in running:
                peak[k] = max(peak[k], running[k])
            await gate.wait()
            for _ in range(3):      # overlap with the tasks that start as slots free up
                await asyncio.sleep(0)
            running[host] -= 1
            running["provider"] -= 1
        return work

    tasks = [engine.submit(f"t{i}", "", "test", make(h), provider_id=1, host=h)
             for i, h in enumerate(["HV01"] * 5 + ["HV02"] * 5)]
    await wait_for(lambda: engine.running_count() == 3)
    assert sum(t.state is TaskState.QUEUED for t in tasks) == 7
    gate.set()
    for t in tasks:
        await engine.result(t.id)
    assert peak["provider"] == 3 and max(peak["HV01"], peak["HV02"]) == 2
    assert peak["HV01"] <= 2 and peak["HV02"] <= 2
    assert all(farm.tasks.get(t.id).state is TaskState.SUCCEEDED for t in tasks)


async def test_per_host_bound_lets_other_hosts_run(farm, bus):
    engine = TaskEngine(farm, bus, per_host=2, per_provider=8)
    gate = asyncio.Event()

    async def work(ctx):
        await gate.wait()

    tasks = [engine.submit(f"t{i}", "", "test", work, provider_id=1, host=h)
             for i, h in enumerate(["HV01"] * 5 + ["HV02"] * 5)]
    await wait_for(lambda: engine.running_count() == 4)
    for _ in range(10):
        await asyncio.sleep(0)
    running = [t.host for t in tasks if t.state is TaskState.RUNNING]
    assert sorted(running) == ["HV01", "HV01", "HV02", "HV02"]
    gate.set()
    for t in tasks:
        await engine.result(t.id)


async def test_cancel_queued_and_running(farm, bus):
    engine = TaskEngine(farm, bus, per_host=1)
    started = asyncio.Event()
    cleaned = []

    async def slow(ctx):
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(ctx.task.id)

    first = engine.submit("first", "", "test", slow, provider_id=1, host="h")
    second = engine.submit("second", "", "test", slow, provider_id=1, host="h")
    await started.wait()
    assert second.state is TaskState.QUEUED
    assert engine.cancel(second.id)
    with pytest.raises(TaskCancelled):
        await engine.result(second.id)
    assert farm.tasks.get(second.id).state is TaskState.CANCELLED and not farm.tasks.get(second.id).started
    assert engine.cancel(first.id)
    with pytest.raises(TaskCancelled):
        await engine.result(first.id)
    row = farm.tasks.get(first.id)
    assert row.state is TaskState.CANCELLED and row.error == CANCELLED_BY_USER
    assert cleaned == [first.id]
    assert not engine.cancel(first.id)          # finished: nothing to cancel
    assert not engine.cancel(99999)
    third = engine.submit("third", "", "test", lambda ctx: asyncio.sleep(0, {"ok": 1}), provider_id=1, host="h")
    assert await engine.result(third.id) == {"ok": 1}     # the slot was released


async def test_memory_log_is_bounded_and_journal_has_every_line(farm, bus):
    engine = TaskEngine(farm, bus, memory_lines=100, log_flush_lines=1000)

    async def chatty(ctx):
        for i in range(20000):
            ctx.info(f"line {i}")

    loop = asyncio.get_running_loop()
    began = loop.time()
    task = engine.submit("chatty", "", "test", chatty)
    await engine.result(task.id)
    elapsed = loop.time() - began
    memory = engine.log_lines(task.id)
    assert len(memory) == 100 and memory[-1].text == "line 19999" and memory[0].text == "line 19900"
    assert farm.tasks.log_count(task.id) == 20000
    assert elapsed < 5.0, f"20,000 lines took {elapsed:.2f} s"


async def test_log_lines_flush_on_a_timer_while_the_task_runs(farm, bus):
    engine = TaskEngine(farm, bus, log_flush_lines=1000, log_flush_interval=0.05)
    release = asyncio.Event()

    async def work(ctx):
        ctx.info("early line")
        await release.wait()

    task = engine.submit("t", "", "test", work)
    await wait_for(lambda: farm.tasks.log_count(task.id) == 1)
    release.set()
    await engine.result(task.id)


async def test_undo_list_is_persisted_before_the_side_effect(farm, bus):
    engine = TaskEngine(farm, bus)
    seen = []

    async def work(ctx):
        index = ctx.add_undo(UndoAction("Delete partial copy of VM 'x' on HV02", "delete-vm", {"vm": "x"}))
        seen.append(farm.tasks.get(ctx.task.id).cleanup)
        ctx.undo_done(index)

    task = engine.submit("t", "", "test", work)
    await engine.result(task.id)
    assert seen[0][0].kind == "delete-vm" and not seen[0][0].done
    assert farm.tasks.get(task.id).cleanup[0].done


async def test_close_cancels_running_and_queued(farm, bus):
    engine = TaskEngine(farm, bus, per_host=1)

    async def forever(ctx):
        await asyncio.Event().wait()

    a = engine.submit("a", "", "test", forever, host="h")
    b = engine.submit("b", "", "test", forever, host="h")
    await wait_for(lambda: a.state is TaskState.RUNNING)
    await engine.close()
    assert farm.tasks.get(a.id).state is TaskState.CANCELLED
    assert farm.tasks.get(b.id).state is TaskState.CANCELLED
    assert "closed" in farm.tasks.get(a.id).error


async def test_interrupted_at_start_up_and_read_back_by_a_new_engine(tmp_path, bus):
    path = tmp_path / "farm.sqlite"
    dying = Farm(path)
    engine = TaskEngine(dying, bus)
    step = asyncio.Event()

    async def work(ctx):
        ctx.info("copying")
        step.set()
        await asyncio.Event().wait()

    task = engine.submit("copy", "", "test", work)
    await step.wait()
    engine.flush()
    # the console dies here: its row stays "running"; a new console opens the same file
    with Farm(path) as farm:
        assert farm.tasks.get(task.id).state is TaskState.RUNNING
        assert farm.tasks.mark_running_interrupted() == [task.id]
        fresh = TaskEngine(farm, bus)
        row = fresh.get(task.id)
        assert row.state is TaskState.INTERRUPTED and row.error == INTERRUPTED_LINE
        assert [ln.text for ln in fresh.log_lines(task.id)] == ["copying", INTERRUPTED_LINE]
        assert [t.id for t in fresh.recent()] == [task.id]
        with pytest.raises(Exception, match="console stopped"):
            await fresh.result(task.id)
    engine._entries[task.id].task.state = TaskState.INTERRUPTED   # let the dead one go quietly
    engine._entries[task.id].runner.cancel()
    await asyncio.gather(engine._entries[task.id].runner, return_exceptions=True)
    dying.close()


async def test_progress_events_every_change_journal_writes_throttled(farm, bus):
    engine = TaskEngine(farm, bus, progress_journal_interval=3600)
    changes = []
    bus.subscribe(lambda e: changes.append(e.task.progress) if isinstance(e, TaskChanged) else None)
    writes = []
    original = farm.tasks.save_progress
    farm.tasks.save_progress = lambda t: (writes.append(t.progress), original(t))

    async def work(ctx):
        for i in range(1, 101):
            ctx.progress(i / 100, f"step {i}")
            await asyncio.sleep(0)

    task = engine.submit("t", "", "test", work)
    await engine.result(task.id)
    assert len([c for c in changes if 0 < c < 1]) == 99
    assert len(writes) == 1


async def test_reports_from_a_worker_thread_reach_the_loop(farm, bus):
    engine = TaskEngine(farm, bus)
    logged = []
    bus.subscribe(lambda e: logged.append(e.line.text) if isinstance(e, TaskLogged) else None)

    async def work(ctx):
        await asyncio.to_thread(lambda: (ctx.info("from a thread"), ctx.progress(0.5, "thread step")))
        await wait_for(lambda: logged == ["from a thread"] and ctx.task.progress == 0.5)

    task = engine.submit("t", "", "test", work)
    await engine.result(task.id)
    assert farm.tasks.get(task.id).state is TaskState.SUCCEEDED


async def test_cancel_right_after_submit_before_the_task_ever_ran(farm, bus):
    """Cancelled in the same loop turn as its submit: its coroutine never starts, yet the task ends
    cancelled, result() returns, and the slot it was given is free again."""
    engine = TaskEngine(farm, bus, per_host=1)
    ran = []

    async def work(ctx):
        ran.append(ctx.task.id)

    task = engine.submit("early", "", "test", work, provider_id=1, host="h")   # dispatched at once
    assert engine.cancel(task.id)
    with pytest.raises(TaskCancelled):
        await asyncio.wait_for(engine.result(task.id), 5)
    assert farm.tasks.get(task.id).state is TaskState.CANCELLED and ran == []
    after = engine.submit("after", "", "test", lambda ctx: asyncio.sleep(0, {"ok": 1}), provider_id=1, host="h")
    assert await asyncio.wait_for(engine.result(after.id), 5) == {"ok": 1}
