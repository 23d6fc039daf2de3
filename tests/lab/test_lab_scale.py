"""A benchmark-sized world: 200 hosts of 100 VMs each."""
from __future__ import annotations

import io
import threading
import time

from console.lab import Lab, WorldSpec, serve_forever
from labkit import ok


def test_200_host_world_starts_and_serves(tmp_path):
    t0 = time.perf_counter()
    lab = Lab(tmp_path / "state", speed=50, spec=WorldSpec(hosts=200, vms_per_host=100, seed=1))
    hosts = lab.start()
    first_start = time.perf_counter() - t0
    try:
        assert len(hosts) == 200 and len({h.port for h in hosts}) == 200
        results = {}

        def worker(chunk):
            for h in chunk:
                results[h.name] = len(ok(h, "Get-Inventory")["vms"])
        sample = hosts[::10]
        threads = [threading.Thread(target=worker, args=(sample[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {h.name: 100 for h in sample}
        facts = ok(hosts[9], "Get-HostFacts")             # every 10th host is a workgroup host
        assert facts["part_of_domain"] is False
    finally:
        t1 = time.perf_counter()
        lab.stop()
        stop_time = time.perf_counter() - t1
    t2 = time.perf_counter()
    lab = Lab(tmp_path / "state", speed=50, spec=WorldSpec(hosts=200, vms_per_host=100, seed=1))
    lab.start()
    second_start = time.perf_counter() - t2
    lab.stop()
    print(f"\n200 hosts x 100 VMs: first start (build + save) {first_start:.2f} s, "
          f"start from saved state {second_start:.2f} s, stop {stop_time:.2f} s")
    assert first_start < 30 and second_start < 30


def test_generated_world_is_deterministic():
    from console.lab.world_builder import build_world
    a = build_world(WorldSpec(hosts=3, vms_per_host=5, seed=7))
    b = build_world(WorldSpec(hosts=3, vms_per_host=5, seed=7))
    c = build_world(WorldSpec(hosts=3, vms_per_host=5, seed=8))
    ids = lambda w: [vm.id for h in w.hosts.values() for vm in h.vms.values()]   # noqa: E731
    assert ids(a) == ids(b) != ids(c)
    assert len(ids(a)) == 15


def test_serve_forever_prints_hosts_and_stops(tmp_path):
    out = io.StringIO()
    stop = threading.Event()
    t = threading.Thread(target=serve_forever, args=(tmp_path / "state", 50.0),
                         kwargs={"out": out, "stop_event": stop})
    t.start()
    deadline = time.monotonic() + 10
    while "Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = out.getvalue().splitlines()
    host_lines = [ln for ln in lines if ln.startswith("HV")]
    assert [ln.split("\t")[0] for ln in host_lines] == ["HV01", "HV02", "HV03", "HV04"]
    assert all("http://127.0.0.1:" in ln and "password=Lab-Passw0rd!" in ln for ln in host_lines)
    stop.set()
    t.join(timeout=10)
    assert not t.is_alive() and "lab stopped" in out.getvalue()
