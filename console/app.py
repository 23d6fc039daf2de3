"""Composition root and the `vdi-console` entry point.

The window is built and shown first, in a plain turn of the Qt loop; asyncio and qasync, then the
services (store, secrets, adapters, the lab), are imported and started after, so the first paint
waits for none of them (asyncio alone costs ~50-80 ms of imports, most of it ssl).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

SCREENSHOT_TIMEOUT_S = 60.0
log = logging.getLogger("console.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vdi-console", description="VDI Console: templates and pools "
                                     "of virtual desktops on Hyper-V and Nutanix AHV.")
    parser.add_argument("--lab", action="store_true", help="start the embedded lab of simulated hosts")
    parser.add_argument("--lab-speed", type=float, default=1.0, metavar="X",
                        help="run the lab's simulated operations X times faster (default 1.0)")
    parser.add_argument("--lab-state", type=Path, metavar="DIR", help="folder of the lab's world")
    parser.add_argument("--farm", type=Path, metavar="PATH", help="farm file (SQLite)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE",
                        help="once the inventory has loaded, save the window as a PNG and exit")
    args = parser.parse_args(argv)
    if args.lab_speed <= 0:
        parser.error("--lab-speed must be a positive number, e.g. 1 or 20.")
    return args


async def _wait_for_inventory(window, deadline: float) -> bool:
    """Until every provider's first refresh has finished and some host shows its VMs."""
    import asyncio
    while time.monotonic() < deadline:
        model = window.inventory
        providers = model.providers()
        tasks = window.tasks_model
        refreshing = any(not tasks.task_at(row).state.finished for row in range(tasks.rowCount()))
        loaded = bool(providers) and any(model.provider_hosts(p.id) and
                                         model.provider_node(p.id).children for p in providers)
        if loaded and not refreshing:
            return True
        await asyncio.sleep(0.05)
    return False


def _prepare_screenshot_view(window) -> None:
    """Show something worth seeing (console/ui/screenshot_view.py)."""
    from console.ui.screenshot_view import prepare_screenshot_view
    prepare_screenshot_view(window)


async def run(app, args: argparse.Namespace, window=None) -> int:
    """Start the services behind the window (built and shown by main(), or here) until it closes."""
    import asyncio
    if window is None:
        window = show_window(app, args)
    closed = asyncio.get_running_loop().create_future()
    window.closed.connect(lambda: closed.done() or closed.set_result(True))
    if not window.isVisible():      # closed before the loop ran
        closed.set_result(True)
    await asyncio.sleep(0)          # one turn of the loop: the window paints before the imports below

    from console.services.container import build_services  # heavy: store, adapters, lab
    services = build_services(farm_path=args.farm, lab=args.lab, lab_state=args.lab_state,
                              lab_speed=args.lab_speed)
    try:
        await services.start()
    except Exception as exc:
        from console.ui.bridge import describe_error
        message, hint = describe_error(exc)
        print(f"vdi-console: {message} {hint}".strip(), file=sys.stderr)
        window.close()
        await _close(services)
        return 1
    rc = 0
    try:
        if not closed.done():
            window.attach(services)
        if args.screenshot is not None:
            rc = await _screenshot(app, window, args.screenshot)
            window.close()
        else:
            await closed
    finally:
        await _close(services)
    return rc


async def _screenshot(app, window, path: Path) -> int:
    import asyncio
    deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
    if not await _wait_for_inventory(window, deadline):
        print(f"vdi-console: the inventory did not load within {SCREENSHOT_TIMEOUT_S:.0f} s; "
              "no screenshot taken.", file=sys.stderr)
        return 1
    _prepare_screenshot_view(window)
    for _ in range(5):              # let layouts and coalesced repaints settle (the loop runs Qt;
        await asyncio.sleep(0.05)   # processEvents() here would re-enter it)
    if not window.grab().save(str(path), "PNG"):
        print(f"vdi-console: could not write the screenshot to {path}.", file=sys.stderr)
        return 1
    print(f"Screenshot saved to {path}")
    return 0


async def _close(services) -> None:
    try:
        await services.close()
    except Exception:   # closing must not hide the real exit status
        log.exception("closing the services failed")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from console import APP_ID, APP_NAME, __version__

    QGuiApplication.setDesktopFileName(APP_ID)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("VDI Console")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)       # the loop ends when run() returns, after cleanup
    from console.ui import icons
    app.setWindowIcon(icons.icon("app"))

    window = show_window(app, args)
    app.processEvents()                         # one plain turn of the Qt loop: the first paint
    if os.environ.get("VDI_CONSOLE_EXIT_WHEN_SHOWN") == "1":   # start-up benchmark hook
        print("vdi-console: window shown", flush=True)         # (benchmarks/bench_startup.py)
        window.close()
        return 0

    import asyncio                              # after the first paint: see the module's docstring
    import qasync
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(run(app, args, window))
    except KeyboardInterrupt:
        return 130


def show_window(app, args: argparse.Namespace):
    from console.ui.main_window import MainWindow
    window = MainWindow(remember_layout=args.screenshot is None)   # screenshots: the default layout
    window.show()
    return window


if __name__ == "__main__":
    sys.exit(main())
