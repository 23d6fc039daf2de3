"""Start-up time: `vdi-console --lab` to its window shown, as a ratio to a bare PySide6 QMainWindow
process measured in the same run (aim: <= 2x), and to the inventory loaded (--screenshot).

Each figure is the median of N runs (default 5) of a whole process, from spawn to exit, each with a
fresh lab state, farm and settings folder in a temporary directory.

    .venv/bin/python benchmarks/bench_startup.py         # offscreen, about 30 s
    xvfb-run -a .venv/bin/python benchmarks/bench_startup.py --platform xcb

"Window shown" uses the hook VDI_CONSOLE_EXIT_WHEN_SHOWN=1 (console/app.py): the console exits on
the loop turn after window.show(), before the services are imported, as the bare process does.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchkit

VENV_BIN = Path(sys.executable).parent
BARE = ("import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication, QMainWindow\n"
        "app = QApplication(sys.argv)\n"
        "window = QMainWindow()\n"
        "window.resize(1280, 820)\n"
        "window.show()\n"
        "QTimer.singleShot(0, app.quit)     # the first loop turn after show, like the console's hook\n"
        "app.exec()\n")


def timed(cmd: list[str], env: dict, expect: str) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=110)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0 or expect not in done.stdout:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stdout[-500:]} "
                           f"{done.stderr[-1500:]}")
    return elapsed


def fresh_env(tmp: Path, platform: str, **extra: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=platform, XDG_CONFIG_HOME=str(tmp / "config"),
               XDG_DATA_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.update(extra)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                        help="QT_QPA_PLATFORM of the measured processes (offscreen, or xcb under xvfb-run)")
    args = parser.parse_args()
    console = str(VENV_BIN / "vdi-console")
    bare, shown, loaded = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as root:
        # one warm-up of each, so every measured run finds the files in the page cache
        for i in range(args.n + 1):
            tmp = Path(root) / f"run{i}"
            tmp.mkdir()
            lab = ["--lab", "--lab-state", str(tmp / "lab"), "--farm", str(tmp / "farm.sqlite")]
            b = timed([sys.executable, "-c", BARE + "print('shown')"], fresh_env(tmp, args.platform), "shown")
            s = timed([console, *lab], fresh_env(tmp / "a", args.platform, VDI_CONSOLE_EXIT_WHEN_SHOWN="1"),
                      "window shown")
            tmp2 = Path(root) / f"run{i}b"
            tmp2.mkdir()
            lab2 = ["--lab", "--lab-state", str(tmp2 / "lab"), "--farm", str(tmp2 / "farm.sqlite")]
            shot = tmp2 / "shot.png"
            sl = timed([console, *lab2, "--screenshot", str(shot)], fresh_env(tmp2, args.platform),
                       "Screenshot saved")
            if i == 0:
                continue
            bare.append(b)
            shown.append(s)
            loaded.append(sl)
            print(f"run {i}: bare {b * 1000:4.0f} ms, console window shown {s * 1000:4.0f} ms, "
                  f"inventory loaded (screenshot) {sl * 1000:5.0f} ms")
    mb, ms, ml = (statistics.median(v) for v in (bare, shown, loaded))
    verdict = "ok" if ms <= 2 * mb else "MISSES the 2x aim"
    print(f"median of {args.n} ({args.platform}): bare QMainWindow {mb * 1000:.0f} ms; "
          f"vdi-console --lab window shown {ms * 1000:.0f} ms = {ms / mb:.2f}x bare [{verdict}]; "
          f"inventory loaded and screenshot saved {ml * 1000:.0f} ms = {ml / mb:.2f}x bare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
