"""Small shared pieces of the benchmarks: a UI-stall meter, RSS, a qasync runner, figures, the lab in a
child process and the clean-up after a scenario.

Not a test module: pytest collects only tests/ (pyproject: testpaths = ["tests"]).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # run as `python benchmarks/bench_x.py` from anywhere
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

AIM_STALL_MS = 50.0


def rss_mb() -> float:
    """Resident set size of this process (VmRSS of /proc/self/status), in MiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class StallMeter:
    """A 5 ms QTimer on the UI thread: the gap between two of its ticks is how long the thread could
    not answer (a paint, a click, a key). ``max_ms`` is the longest stall, ``p99_ms`` the 99th
    percentile gap. Between ``start()`` and ``stop()`` only."""

    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import Qt, QTimer
        self.interval_ms = interval_ms
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0
        self._worst_at = 0.0
        self._t0 = 0.0

    def start(self) -> None:
        self.gaps = []
        self._t0 = self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._tick()
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000
        if not self.gaps or gap > max(self.gaps):
            self._worst_at = self._last - self._t0
        self.gaps.append(gap)
        self._last = now

    @property
    def max_ms(self) -> float:
        return max(self.gaps, default=0.0)

    @property
    def p99_ms(self) -> float:
        return percentile(self.gaps, 99)

    def summary(self) -> str:
        verdict = "ok" if self.max_ms < AIM_STALL_MS else f"MISSES the {AIM_STALL_MS:.0f} ms aim"
        return (f"longest UI stall {self.max_ms:6.1f} ms (at +{self._worst_at:.2f} s), "
                f"p99 gap {self.p99_ms:5.1f} ms, {len(self.gaps)} ticks  [{verdict}]")


async def wait_until(predicate, timeout: float, what: str, step: float = 0.01) -> float:
    """Poll ``predicate`` on the loop until true; the seconds it took. Raises on timeout."""
    t0 = time.perf_counter()
    deadline = t0 + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout:.0f} s")
        await asyncio.sleep(step)
    return time.perf_counter() - t0


def run_qasync(coro_factory):
    """A QApplication and a qasync loop; run ``coro_factory()`` to completion; its result."""
    from PySide6.QtWidgets import QApplication
    import qasync
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(coro_factory())


def start_lab_process(state: Path, speed: float, hosts: int, vms_per_host: int = 2,
                      template_ready: bool = False) -> tuple[subprocess.Popen, list]:
    """`serve_forever` of a generated world (seed 1) in a child process, as real hosts are other
    machines; its Hyper-V hosts as LabHost once it printed them (Prism endpoints are left out)."""
    from console.lab import LabHost
    code = ("import sys; from pathlib import Path; from console.lab import serve_forever, WorldSpec; "
            f"serve_forever(Path(sys.argv[1]), {speed}, spec=WorldSpec(hosts={hosts}, "
            f"vms_per_host={vms_per_host}, seed=1, template_ready={template_ready}))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(state)], stdout=subprocess.PIPE,
                            text=True, cwd=str(ROOT))
    lab_hosts = []
    for line in proc.stdout:
        if line.startswith("#"):
            break
        name, url, user, password = line.rstrip("\n").split("\t")[:4]
        if url.endswith("/wsman"):
            lab_hosts.append(LabHost(name, url, user.split("=", 1)[1], password.split("=", 1)[1]))
    if len(lab_hosts) != hosts:
        proc.kill()
        raise RuntimeError(f"the lab process started {len(lab_hosts)} Hyper-V hosts, not {hosts}")
    return proc, lab_hosts


async def tear_down(window, services, proc: subprocess.Popen | None, tmp: Path) -> None:
    """After a scenario: close the window and the services, stop the lab process (if one was started)
    and remove the scenario's temporary folder."""
    window.close()
    await services.close()
    if proc is not None:
        proc.terminate()
        proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class CallbackTrace:
    """Times every asyncio callback (qasync runs each as its own Qt timer event): the slowest ones
    name what held the UI thread. For finding a cause, not for the figures (it adds overhead)."""

    def __init__(self, profile_worst: bool = False) -> None:
        self.slow: list[tuple[float, str]] = []
        self._orig = None
        self.profile_worst = profile_worst
        self.worst_cpu = 0.0
        self.worst_profile = None

    def install(self) -> None:
        import asyncio.events as events
        self._orig = orig = events.Handle._run
        trace = self

        import cProfile

        def _run(handle):
            t, cpu = time.perf_counter(), time.thread_time()
            profile = cProfile.Profile() if self.profile_worst else None
            if profile is not None:
                profile.enable()
            try:
                return orig(handle)
            finally:
                if profile is not None:
                    profile.disable()
                ms = (time.perf_counter() - t) * 1000
                cpu_ms = (time.thread_time() - cpu) * 1000
                if ms > 20:
                    trace.slow.append((ms, f"(UI thread CPU {cpu_ms:5.1f} ms) {repr(handle)[:120]}"))
                if profile is not None and cpu_ms > trace.worst_cpu:
                    trace.worst_cpu, trace.worst_profile = cpu_ms, profile
        events.Handle._run = _run

    def report(self, top: int = 8) -> None:
        for ms, what in sorted(self.slow, reverse=True)[:top]:
            print(f"    slow callback {ms:7.1f} ms  {what}")
        self.slow.clear()
        if self.worst_profile is not None:
            import pstats
            print(f"    the callback that used the most UI-thread CPU ({self.worst_cpu:.1f} ms):")
            pstats.Stats(self.worst_profile).sort_stats("cumulative").print_stats(25)
            self.worst_cpu, self.worst_profile = 0.0, None
