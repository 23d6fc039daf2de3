"""The console's window filling its tree from a Prism Central with 5,000 VMs (real HTTPS on loopback).

    .venv/bin/python benchmarks/bench_nutanix_ui.py             # 5,000 VMs, ~1 minute
    .venv/bin/python benchmarks/bench_nutanix_ui.py --vms 1200  # quicker

The Prism lab runs in a process of its own (a real Prism is another machine: its threads must not
take this process's interpreter lock), with PrismSpec(extra_vms_pe01=N/2, extra_vms_pe02=N/2). The
console's real services add it as a Nutanix AHV (Prism Central) provider with the lab's fingerprint
pinned; then the real MainWindow is shown and the refresh runs. Figures: HTTP requests the refresh
sent (v3 paging), wall time from the refresh to the last VM row in the tree, and the longest gap of
a 5 ms QTimer on the UI thread while that happens (aim: under 50 ms).
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

from benchmarks.benchkit import AIM_STALL_MS, StallMeter, run_qasync, wait_until  # noqa: E402


def _serve(state: str, per_cluster: tuple[int, int], queue, stop) -> None:
    os.nice(10)       # on a 2-core machine the lab must not preempt the loop it measures
    from console.lab.prism import PrismLab, PrismSpec
    lab = PrismLab(Path(state), speed=50, spec=PrismSpec(extra_vms_pe01=per_cluster[0],
                                                         extra_vms_pe02=per_cluster[1]))
    queue.put([(p.kind, p.name, p.url, p.username, p.password, p.fingerprint) for p in lab.start()])
    stop.wait()
    lab.stop()


class RemoteLab:
    def __init__(self, state: Path, vms: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        queue = context.Queue()
        split = (vms - vms // 2, vms // 2)
        self._process = context.Process(target=_serve, args=(str(state), split, queue, self._stop),
                                        daemon=True)
        self._process.start()
        self.endpoints = {row[1]: row for row in queue.get(timeout=180)}

    def stop(self) -> None:
        self._stop.set()
        self._process.join(timeout=30)


class CountingFactory:
    """The services' own adapter factory, with a hook counting every HTTP request sent."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, settings, password):
        from console.adapters.nutanix import make_nutanix_adapter
        from console.services.providers import default_adapter_factory
        if not settings.kind.value.startswith("nutanix"):
            return default_adapter_factory(settings, password)
        return make_nutanix_adapter(settings, password, request_hooks=[self._count])

    async def _count(self, _request) -> None:      # an httpx event hook (awaited by AsyncClient)
        self.requests += 1


def vm_rows(window, provider_id: int) -> int:
    node = window.inventory.provider_node(provider_id)
    return len(node.vms_by_id) if node is not None else 0


async def measure(state: Path, lab: RemoteLab, vms: int) -> None:
    from console.domain.inventory import ConnectionSettings, ProviderKind
    from console.secrets import SecretStore
    from console.services.container import build_services
    from console.ui.main_window import MainWindow
    from PySide6.QtCore import QSettings

    factory = CountingFactory()
    services = build_services(farm_path=state / "farm.sqlite", secrets=SecretStore(backend=_memory()),
                              adapter_factory=factory)
    await services.start()
    window = None
    try:
        _kind, name, url, user, password, fingerprint = lab.endpoints["NTNX-PC-01"]
        settings = ConnectionSettings(kind=ProviderKind.NUTANIX_PC, address=url, port=0, use_https=True,
                                      username=user, pinned_fingerprint=fingerprint)
        provider = await services.providers.add(name, settings, password)
        window = MainWindow(settings=QSettings(str(state / "ui.ini"), QSettings.Format.IniFormat),
                            remember_layout=False)
        window.show()
        await asyncio.sleep(0.2)                     # first paint outside the measure
        meter = StallMeter()
        factory.requests = 0
        meter.start()
        started = time.perf_counter()
        window.attach(services)                      # shows what is known, then refreshes
        await wait_until(lambda: services.tasks.running_count() == 0 and not window.bridge.inventories_pending
                         and vm_rows(window, provider.id) >= vms, timeout=300, what="tree filled")
        filled = time.perf_counter() - started
        meter.stop()
        fill_summary = meter.summary()
        # then what the screenshot shows: the provider and both clusters expanded (a click each)
        node = window.inventory.provider_node(provider.id)
        proxy, view = window.tree.proxy, window.tree.view
        expands = []
        for target in [node] + list(node.children):
            t0 = time.perf_counter()
            view.expand(proxy.mapFromSource(window.inventory.node_index(target)))
            view.viewport().repaint()                 # the layout and paint the click costs
            expands.append((target.label, (time.perf_counter() - t0) * 1000))
            await asyncio.sleep(0.05)
        rows = vm_rows(window, provider.id)
        clusters = [c.label for c in node.children]
        print(f"Prism Central lab with {vms} generated VMs: {rows} VM rows in the tree (the lab's own VMs "
              f"too), clusters {', '.join(clusters)}")
        print(f"  refresh through the services: {factory.requests} HTTP requests (v3 paging, 500 per page)")
        print(f"  wall time from attach to the last VM row: {filled:.2f} s")
        print(f"  while the tree fills: {fill_summary}")
        print("  expanding afterwards (one click each): "
              + ", ".join(f"{label} {ms:.0f} ms" for label, ms in expands))
        print(f"  aim: longest stall under {AIM_STALL_MS:.0f} ms")
    finally:
        if window is not None:
            window.close()
        await services.close()


def _memory():
    import keyring.backends.null
    return keyring.backends.null.Keyring()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=5000, help="generated VMs, split over the two clusters")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nutanix-ui-") as tmp:
        state = Path(tmp)
        lab = RemoteLab(state / "lab", args.vms)
        try:
            run_qasync(lambda: measure(state, lab, args.vms))
        finally:
            lab.stop()


if __name__ == "__main__":
    main()
