"""Drive the real `vdi-console` process in a real X window: start it, find its window, press keys,
read what it did (the farm journal, the lab's world), kill it.

Nothing here imports Qt: the console is a separate process and is only seen from outside, as an
administrator (keys on the X server) and an auditor (the SQLite farm, the lab's state files) would.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

LAB_TITLE = r"^VDI Console \(lab\)"          # the title once the services are attached
LAB_HOSTS = ["HV01", "HV02", "HV03", "HV04"]
# every provider the lab registers, in name order: its Hyper-V hosts and its Prism Element and Central
LAB_PROVIDERS = [*LAB_HOSTS, "NTNX-PC-01", "NTNX-PE-01"]
DEFAULT_SIZE = (1280, 820)                   # MainWindow's size when no layout is remembered
WAIT_S = 30.0                                # any single wait; the suite as a whole stays far below
# a screenshot run gives up on its own after SCREENSHOT_TIMEOUT_S: wait a little longer, to see its sentence
SCREENSHOT_WAIT_S = 75.0


def _script(name: str, module: str) -> list[str]:
    """The installed entry point next to this Python, or the module (a checkout without install)."""
    path = Path(sys.executable).with_name(name)
    return [str(path)] if path.exists() else [sys.executable, "-m", module]


CONSOLE_CMD = _script("vdi-console", "console.app")
VDICTL_CMD = _script("vdictl", "console.cli.main")


def poll(check, what: str, timeout: float = WAIT_S, console: Console | None = None,
         interval: float = 0.05):
    """Call ``check`` until it returns something true, then return that; fail after ``timeout``
    (or as soon as ``console`` has exited), with what was awaited and the console's stderr."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            last_error = None
        except (sqlite3.OperationalError, OSError, ValueError) as exc:   # a file mid-write: not yet
            value, last_error = None, exc
        if value:
            return value
        if console is not None and console.proc.poll() is not None:
            raise AssertionError(f"{what}: the console exited with {console.proc.returncode}.\n"
                                 f"{console.stderr_tail()}")
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            tail = f"\n{console.stderr_tail()}" if console is not None else ""
            raise AssertionError(f"{what}: not within {timeout:.0f} s{detail}{tail}")
        time.sleep(interval)


# ----- the X server ----------------------------------------------------------------------------------
class Display:
    """An X display, and xdotool on it."""

    def __init__(self, name: str, server: subprocess.Popen | None = None) -> None:
        self.name = name
        self.server = server           # our own Xvfb, stopped by close(); None: the caller's display

    def xdotool(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=self.name),
                                capture_output=True, text=True, timeout=15, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"xdotool {' '.join(args)} failed ({result.returncode}): "
                                 f"{result.stderr.strip()}")
        return result.stdout

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(timeout=5)


def start_xvfb(timeout: float = 10.0) -> Display:
    """A private Xvfb (its number chosen by the server itself: -displayfd), so the keys these tests
    press can never reach another session's windows."""
    read_fd, write_fd = os.pipe()
    try:
        # -noreset: by default the server resets when its last client leaves, and a console started
        # right after another quit (the restart tests) can hit that reset: "could not connect to display"
        server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24",
                                   "-nolisten", "tcp", "-noreset"], pass_fds=(write_fd,),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        os.close(write_fd)
        write_fd = -1
        number, deadline = b"", time.monotonic() + timeout
        while not number.endswith(b"\n"):          # until its newline: closing the pipe earlier
            left = deadline - time.monotonic()      # makes Xvfb fail writing the rest, and exit
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                break
            chunk = os.read(read_fd, 64)
            if not chunk:
                break
            number += chunk
        number = number.decode().strip()
    finally:
        os.close(read_fd)
        if write_fd != -1:
            os.close(write_fd)
    if not number.isdigit():
        server.kill()
        _, err = server.communicate(timeout=5)
        raise RuntimeError(f"Xvfb did not start within {timeout:.0f} s: {err.strip()[-500:]}")
    return Display(f":{number}", server)


def xcb_problem(display: str) -> str:
    """Why Qt's xcb platform cannot open a window on ``display`` ('' when it can)."""
    code = "from PySide6.QtWidgets import QApplication; QApplication([]).platformName()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False,
                            env=dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb"))
    return "" if result.returncode == 0 else (result.stderr.strip()[-800:] or f"exit {result.returncode}")


# ----- the console process ---------------------------------------------------------------------------
class Console:
    """One `vdi-console --lab` process with its own farm, lab world and settings (all in ``home``)."""

    def __init__(self, display: Display, home: Path, *args: str, speed: float = 20.0) -> None:
        self.display = display
        self.home = home
        self.farm = home / "farm.sqlite"
        self.lab_state = home / "lab"
        self.config_dir = home / "config"
        home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, DISPLAY=display.name, QT_QPA_PLATFORM="xcb", HOME=str(home),
                   XDG_CONFIG_HOME=str(self.config_dir), XDG_DATA_HOME=str(home / "data"),
                   XDG_CACHE_HOME=str(home / "cache"),
                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
        for name in ("QT_SCALE_FACTOR", "QT_SCREEN_SCALE_FACTORS", "QT_QPA_PLATFORMTHEME"):
            env.pop(name, None)
        runs = len(list(home.glob("console-*.err")))
        self._stderr_path = home / f"console-{runs}.err"
        self._stderr = open(self._stderr_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [*CONSOLE_CMD, "--lab", "--lab-speed", str(speed), "--lab-state", str(self.lab_state),
             "--farm", str(self.farm), *args],
            env=env, stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.window_id = ""

    # -- the window --
    def find_window(self, title: str = LAB_TITLE, timeout: float = WAIT_S) -> str:
        """The console's visible main window (by its process id and title regex)."""
        def found() -> str:
            out = self.display.xdotool("search", "--all", "--onlyvisible", "--pid", str(self.proc.pid),
                                       "--name", title, check=False)
            ids = out.split()
            return ids[0] if ids else ""
        self.window_id = poll(found, f"a visible window titled {title!r}", timeout, self)
        return self.window_id

    def keys(self, *keys: str) -> None:
        """Give the window the keyboard focus, then press ``keys`` (xdotool names: F5, ctrl+q...)."""
        self.display.xdotool("windowfocus", "--sync", self.window_id)
        self.display.xdotool("key", "--delay", "30", *keys)

    def type(self, text: str) -> None:
        self.display.xdotool("windowfocus", "--sync", self.window_id)
        self.display.xdotool("type", "--delay", "10", text)

    def geometry(self) -> tuple[int, int, int, int]:
        out = self.display.xdotool("getwindowgeometry", "--shell", self.window_id)
        values = dict(line.split("=", 1) for line in out.split())
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    # -- the process --
    def wait_exit(self, timeout: float = WAIT_S) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the console did not exit within {timeout:.0f} s.\n"
                                 f"{self.stderr_tail()}") from None

    def kill(self) -> int:
        """SIGKILL: no handler, no cleanup, exactly a crash or a power cut of the console."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        self._stderr.close()

    def stderr_text(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_text(encoding="utf-8", errors="replace")

    def stderr_tail(self, chars: int = 3000) -> str:
        text = self.stderr_text()
        return f"console output (last {chars} chars):\n{text[-chars:]}" if text else "(no console output)"


# ----- what the console did, read from outside -------------------------------------------------------
class Journal:
    """The farm file, opened read-only for each question (the console keeps writing it)."""

    def __init__(self, farm: Path) -> None:
        self.farm = farm

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        if not self.farm.exists():
            raise sqlite3.OperationalError(f"{self.farm} does not exist yet")
        con = sqlite3.connect(f"file:{self.farm}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def tasks(self, after: int = 0) -> list[dict]:
        rows = self._query("SELECT id, name, state, error FROM tasks WHERE id > ? ORDER BY id", (after,))
        return [{"id": r[0], "name": r[1], "state": r[2], "error": r[3]} for r in rows]

    def last_task_id(self) -> int:
        return self._query("SELECT coalesce(max(id), 0) FROM tasks")[0][0]

    def log(self, task_id: int) -> list[str]:
        return [r[0] for r in self._query("SELECT text FROM task_log WHERE task_id = ? ORDER BY seq",
                                          (task_id,))]

    def providers(self) -> list[tuple[int, str, int]]:
        return [tuple(r) for r in self._query("SELECT id, name, lab FROM providers ORDER BY name")]

    def integrity(self) -> str:
        return "; ".join(r[0] for r in self._query("PRAGMA integrity_check"))

    def refreshes_done(self, after: int = 0) -> list[dict]:
        """One finished 'Refresh <provider>' task per lab provider after task ``after`` (all, or [])."""
        done = [t for t in self.tasks(after) if t["name"].startswith("Refresh ") and t["state"] != "running"
                and t["state"] != "queued"]
        names = sorted(t["name"] for t in done)
        return done if names == [f"Refresh {p}" for p in LAB_PROVIDERS] else []


def lab_vm_state(lab_state: Path, host: str, vm_name: str) -> str:
    """The VM's power state as the lab's world file for ``host`` has it now."""
    doc = json.loads((lab_state / "hosts" / f"{host}.json").read_text(encoding="utf-8"))
    states = [vm["state"] for vm in doc["vms"] if vm["name"] == vm_name]
    if len(states) != 1:
        raise AssertionError(f"{host} has {len(states)} VMs named {vm_name!r}")
    return states[0]


def vdictl(*args: str, timeout: float = WAIT_S) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return subprocess.run([*VDICTL_CMD, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


def which(tool: str) -> str | None:
    return shutil.which(tool)
