"""The log pane under a flood: a task logs 20,000 lines a second for 5 s through the real path
(TaskEngine -> TaskContext.log -> event bus -> ServicesBridge -> LogPane showing that task).

Prints: the longest UI stall (5 ms QTimer gaps; aim < 50 ms), the lines per second the task produced
and the pane received, the pane's block count and the engine's in-memory lines for the task (both
bounded), the journal's line count, and RSS (VmRSS) sampled each second: start, peak, end.

    .venv/bin/python benchmarks/bench_log_pane.py        # offscreen, about 10 s
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import benchkit  # noqa: F401  (sets sys.path and the offscreen platform)
from benchkit import CallbackTrace, StallMeter, rss_mb, run_qasync, wait_until


async def scenario(args) -> None:
    from console.services.container import build_services
    from console.ui.main_window import MainWindow
    from PySide6.QtCore import QSettings

    tmp = Path(tempfile.mkdtemp(prefix="bench-logpane-"))
    services = build_services(farm_path=tmp / "farm.sqlite")
    await services.start()
    window = MainWindow(settings=QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat),
                        remember_layout=False)
    window.show()
    window.attach(services, refresh=False)
    pane = window.log_pane
    await asyncio.sleep(0.3)
    trace = CallbackTrace()
    if args.trace:
        trace.install()
    profile = None
    if args.profile:
        import cProfile
        profile = cProfile.Profile()
        profile.enable()

    rate, seconds, burst_every = args.rate, args.seconds, 0.005
    produced = 0

    async def flood(ctx) -> dict:
        nonlocal produced
        t0 = time.perf_counter()
        total = int(rate * seconds)
        while produced < total:
            # as many lines as the clock says are due, in bursts every 5 ms
            # (at most two bursts' worth per turn: a task that fell behind does not catch up at once)
            due = min(total, int((time.perf_counter() - t0) * rate), produced + int(2 * rate * burst_every))
            while produced < due:
                ctx.info(f"copy block {produced:07d} of the image to HV{produced % 200:03d}: "
                         f"{produced * 4096} bytes written, checksum {produced * 2654435761 % 2**32:08x}")
                produced += 1
            await asyncio.sleep(burst_every)
        return {"lines": produced}

    meter = StallMeter()
    rss = [rss_mb()]
    task = services.tasks.submit("Log flood", "benchmark", "benchmark", flood)
    await wait_until(lambda: window.tasks_dock.select_task(task.id), 5, "task row")
    meter.start()
    t0 = time.perf_counter()
    next_sample = t0 + 1
    while not services.tasks.get(task.id).state.finished:
        await asyncio.sleep(0.02)
        if time.perf_counter() >= next_sample:
            rss.append(rss_mb())
            next_sample += 1
    produced_s = time.perf_counter() - t0
    await wait_until(lambda: pane._last_seq >= produced - 1 and not pane._buffer, 10, "pane caught up")
    delivered_s = time.perf_counter() - t0
    meter.stop()
    if profile is not None:
        import pstats
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    rss.append(rss_mb())
    engine_lines = len(services.tasks.log_lines(task.id))
    journal = services.store.tasks.log_count(task.id)
    print(f"produced {produced} lines in {produced_s:.2f} s ({produced / produced_s:,.0f} lines/s asked "
          f"{rate:,.0f}); all shown in the pane after {delivered_s:.2f} s "
          f"({produced / delivered_s:,.0f} lines/s delivered)")
    print(f"UI during the flood: {meter.summary()}")
    print(f"pane: {pane.document().blockCount()} blocks (bound {pane.maximumBlockCount()}), "
          f"{pane.flush_count} batched appends; engine memory for the task: {engine_lines} lines "
          f"(bound {services.tasks.memory_lines}); journal: {journal} lines")
    print(f"RSS: start {rss[0]:.0f} MiB, peak {max(rss):.0f} MiB, end {rss[-1]:.0f} MiB "
          f"(samples each second: {', '.join(f'{r:.0f}' for r in rss)})")
    if args.trace:
        trace.report()
    window.close()
    await services.close()
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20000, help="lines per second (default 20000)")
    parser.add_argument("--seconds", type=float, default=5, help="how long (default 5)")
    parser.add_argument("--profile", action="store_true", help="cProfile the UI thread")
    parser.add_argument("--trace", action="store_true", help="name the slowest loop callbacks")
    args = parser.parse_args()
    run_qasync(lambda: scenario(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
