"""Big lists and many tasks: 1,200 VMs paged whole, 200 concurrent clones followed by one loop."""
from __future__ import annotations

import asyncio
import collections
import math
import time

import pytest
from nutanix_kit import PC, PE

from console.lab.prism import PrismSpec

pytestmark = pytest.mark.asyncio


async def test_1200_vms_are_paged_whole(prism_factory, connect, requests_sent):
    lab = prism_factory(spec=PrismSpec(extra_vms_pe01=1200))
    inventory = await connect(PC, lab=lab).inventory()
    vms = [vm for h in inventory.hosts for vm in h.vms]
    assert len(vms) == 1200 + 24 and len({vm.id for vm in vms}) == len(vms)
    assert any(vm.name.endswith("-01-01200") for vm in vms)           # the last generated one
    pages = [body for m, p, body in requests_sent.requests if p.endswith("/vms/list")]
    assert len(pages) == math.ceil(1224 / 500) == 3
    assert sorted(b["offset"] for b in pages) == [0, 500, 1000] and {b["length"] for b in pages} == {500}

    requests_sent.requests.clear()
    element = await connect(PE, lab=lab).inventory()                   # v2.0 on the same cluster
    assert sum(len(h.vms) for h in element.hosts) == 1212


async def test_200_concurrent_clones_are_polled_by_one_loop(connect, requests_sent):
    interval = 0.1
    adapter = connect(PC, poll_interval=interval)
    source = next(vm for h in (await adapter.inventory()).hosts for vm in h.vms if vm.name == "Win11-Gold")
    loops_seen: set[int] = set()
    stop = asyncio.Event()

    async def watch_loops() -> None:
        while not stop.is_set():
            loops_seen.update(id(t) for t in asyncio.all_tasks() if t.get_name().startswith("prism-task-poller"))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch_loops())
    started = time.monotonic()
    clones = await asyncio.gather(*(adapter.clone(source.id, f"VDI-{n:03d}") for n in range(1, 201)))
    elapsed = time.monotonic() - started
    stop.set()
    await watcher
    assert len({c.id for c in clones}) == 200 and all(c.name.startswith("VDI-") for c in clones)

    polls = collections.Counter(p for m, p, _ in requests_sent.requests if m == "GET" and "/tasks/" in p)
    poller = adapter.tasks
    assert len(polls) == 200 and sum(polls.values()) == poller.requests
    assert len(loops_seen) == 1                                  # one loop served all 200
    # never faster than the interval: at most one round per interval, one GET per pending task a round
    assert poller.rounds <= elapsed / interval + 1
    assert max(polls.values()) <= poller.rounds
    rate = poller.requests / elapsed
    assert rate <= 200 / interval
    print(f"\n200 clones in {elapsed:.2f} s: {poller.rounds} rounds, {poller.requests} task polls, "
          f"{rate:.0f} polls/s at interval {interval} s")
