"""End-to-end fixtures: an X display with xdotool, and consoles that are always killed at teardown.

The display is a private Xvfb when the `Xvfb` binary exists (keys pressed by these tests must never
reach a developer's own desktop), otherwise the DISPLAY the tests run under (CI's `xvfb-run`). With
no display, no xcb or no xdotool the tests are skipped with the reason, except under CI (CI=true),
where a missing piece is a failure: the e2e suite must not pass by not running.
"""
from __future__ import annotations

import os

import pytest
from e2e_console import Console, Display, start_xvfb, which, xcb_problem


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"end-to-end tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def one_console_test_at_a_time():
    """With pytest -n each worker has its own Xvfb; whole consoles on several displays at once on 2
    cores are slow to start, and their waits are tuned for one at a time: the e2e tests of all workers
    take turns (a file lock). (The display lost in one CI run was Xvfb's reset; see start_xvfb.)"""
    import fcntl
    import tempfile
    from pathlib import Path
    with open(Path(tempfile.gettempdir()) / "vdi-console-e2e.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def x_display():
    if which("xdotool") is None:
        _unavailable("xdotool is not installed (Debian: apt-get install xdotool); it presses the keys")
    if which("Xvfb") is not None:
        display = start_xvfb()
    elif os.environ.get("DISPLAY"):
        display = Display(os.environ["DISPLAY"])
    else:
        _unavailable("no X display: DISPLAY is not set and Xvfb is not installed (Debian: xvfb)")
    try:
        problem = xcb_problem(display.name)
        if problem:
            _unavailable(f"Qt's xcb platform cannot open a window on {display.name}: {problem}")
        yield display
    finally:
        display.close()


@pytest.fixture
def start_console(x_display, tmp_path):
    """``start_console(*args, speed=20, home=tmp_path/'home')`` starts `vdi-console --lab` with its own
    farm, lab world and settings under ``home`` (pass the same home to start it again on them)."""
    started: list[Console] = []

    def start(*args: str, speed: float = 20.0, home=None) -> Console:
        console = Console(x_display, home or tmp_path / "home", *args, speed=speed)
        started.append(console)
        return console

    yield start
    for console in started:
        console.close()
