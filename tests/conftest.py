"""Fixtures shared by every test folder."""
from __future__ import annotations

import pytest


@pytest.fixture
def lab_factory(tmp_path):
    """Start labs on demand (``lab_factory(speed=5, spec=WorldSpec(...))``); all stopped at teardown.
    Each call without ``state_dir`` gets its own fresh state folder."""
    from console.lab import Lab

    started = []

    def make(state_dir=None, speed: float = 50.0, **kwargs):
        lab = Lab(state_dir or tmp_path / f"lab-state-{len(started)}", speed=speed, **kwargs)
        started.append(lab)
        lab.start()
        return lab

    yield make
    for lab in reversed(started):
        lab.stop()


@pytest.fixture
def lab(lab_factory):
    """A fast lab (speed x50: a VM start takes ~80 ms) of the default 4-host world, in a temp state
    folder, serving WinRM on ephemeral ports of 127.0.0.1; stopped at teardown."""
    return lab_factory(speed=50.0)
