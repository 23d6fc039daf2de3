"""Nutanix adapter figures against the Prism lab over real HTTPS on loopback (no window needed).

    .venv/bin/python benchmarks/bench_nutanix.py            # ~1 minute
    .venv/bin/python benchmarks/bench_nutanix.py --quick    # fewer VMs and clones, ~15 s

1. Inventory of 5,000 VMs (plus the lab's 24) through Prism Central v3 paging: requests sent, wall
   time, and the longest stall of the asyncio loop while pages arrive (a 5 ms ticker; the loop is the
   Qt thread's in the console, so this is the adapter's share of a UI stall).
2. 200 concurrent clones on one Prism Central provider, at the lab's speed 1 (a clone takes ~20 s,
   as on a real cluster) with the real polling interval of 3 s: task polls per second from the one
   loop, rounds, and polls per task.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.adapters.nutanix import make_nutanix_adapter  # noqa: E402
from console.domain.inventory import ConnectionSettings, ProviderKind  # noqa: E402
from console.lab.prism import PrismLab, PrismSpec  # noqa: E402


class LoopStallMeter:
    """Ticks every 5 ms on the loop; the longest gap between ticks is the longest stall."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.gaps: list[float] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            self.gaps.append(now - last - self.interval)
            last = now

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        return max(self.gaps, default=0.0) * 1000


def _serve(state: str, speed: float, vms: int, endpoints, stop) -> None:
    os.nice(10)       # on a 2-core machine the lab must not preempt the console's loop it measures
    lab = PrismLab(Path(state), speed=speed, spec=PrismSpec(extra_vms_pe01=vms))
    endpoints.put([(p.name, p.url, p.username, p.password, p.fingerprint) for p in lab.start()])
    stop.wait()
    lab.stop()


class RemoteLab:
    """The Prism lab in a process of its own, as a real Prism is on another machine: its threads
    must not take this process's interpreter lock (that would be counted as the adapter's stall)."""

    def __init__(self, state: Path, speed: float, vms: int = 0) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        queue = context.Queue()
        self._process = context.Process(target=_serve, args=(str(state), speed, vms, queue, self._stop),
                                        daemon=True)
        self._process.start()
        self._endpoints = {name: rest for name, *rest in queue.get(timeout=120)}

    def endpoint(self, name: str) -> SimpleNamespace:
        url, username, password, fingerprint = self._endpoints[name]
        return SimpleNamespace(url=url, username=username, password=password, fingerprint=fingerprint)

    def stop(self) -> None:
        self._stop.set()
        self._process.join(timeout=30)


def adapter_for(lab: RemoteLab, poll_interval: float):
    endpoint = lab.endpoint("NTNX-PC-01")
    settings = ConnectionSettings(kind=ProviderKind.NUTANIX_PC, address=endpoint.url,
                                  username=endpoint.username, pinned_fingerprint=endpoint.fingerprint)
    return make_nutanix_adapter(settings, endpoint.password, poll_interval=poll_interval)


async def bench_inventory(state: Path, vms: int) -> None:
    lab = RemoteLab(state / "inventory", speed=50, vms=vms)
    try:
        adapter = adapter_for(lab, 3.0)
        await adapter.check()                  # connection and TLS set up outside the measure
        before = adapter.http.request_count
        meter = LoopStallMeter()
        meter.start()
        started = time.perf_counter()
        inventory = await adapter.inventory()
        wall = time.perf_counter() - started
        stall = await meter.stop()
        total = sum(len(h.vms) for h in inventory.hosts)
        requests = adapter.http.request_count - before
        print(f"inventory  {total} VMs over v3 paging: {requests} requests "
              f"(1 clusters/list + 1 hosts/list + {requests - 2} vms/list pages of 500), "
              f"{wall:.2f} s wall, longest loop stall {stall:.0f} ms")
        await adapter.close()
    finally:
        lab.stop()


async def bench_clones(state: Path, clones: int, speed: float, interval: float) -> None:
    lab = RemoteLab(state / "clones", speed=speed)
    try:
        adapter = adapter_for(lab, interval)
        source = next(vm for h in (await adapter.inventory()).hosts for vm in h.vms if vm.name == "Win11-Gold")
        poller = adapter.tasks
        samples: list[tuple[float, int]] = []

        async def sample() -> None:
            while True:
                samples.append((time.perf_counter(), poller.requests))
                await asyncio.sleep(0.25)

        sampler = asyncio.get_running_loop().create_task(sample())
        started = time.perf_counter()
        made = await asyncio.gather(*(adapter.clone(source.id, f"Bench-{n:03d}") for n in range(clones)))
        wall = time.perf_counter() - started
        sampler.cancel()
        # the most polls sent within any one interval (a round sends its GETs in a burst)
        per_interval = max((b[1] - a[1] for i, a in enumerate(samples) for b in samples[i:]
                            if b[0] - a[0] <= interval + 1e-6), default=0)
        print(f"clones     {len(made)} concurrent clones at lab speed {speed:g} (clone ~{20 / speed:.0f} s), "
              f"poll interval {interval:g} s: {wall:.1f} s wall, {poller.rounds} polling rounds by one loop, "
              f"{poller.requests} task polls ({poller.requests / clones:.1f} per task), "
              f"{poller.requests / wall:.1f} polls/s on average; at most {per_interval} polls in any "
              f"{interval:g} s window (bound: one per pending task per interval = {clones}), "
              f"i.e. {per_interval / interval:.0f} polls/s at the peak")
        await adapter.close()
    finally:
        lab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,200 VMs and 50 clones at speed 5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nutanix-") as tmp:
        state = Path(tmp)
        if args.quick:
            asyncio.run(bench_inventory(state, 1200))
            asyncio.run(bench_clones(state, 50, speed=5.0, interval=0.6))
        else:
            asyncio.run(bench_inventory(state, 5000))
            asyncio.run(bench_clones(state, 200, speed=1.0, interval=3.0))


if __name__ == "__main__":
    main()
