"""Fixtures shared by every test folder."""
from __future__ import annotations

from contextlib import contextmanager

import pytest


@contextmanager
def _started_labs(lab_class, tmp_path, prefix: str, default_speed: float):
    """``make(state_dir=None, speed=default_speed, **kwargs)`` starts a ``lab_class`` (Lab or PrismLab);
    each call without ``state_dir`` gets its own fresh state folder. All stopped on leaving."""
    started = []

    def make(state_dir=None, speed: float = default_speed, **kwargs):
        lab = lab_class(state_dir or tmp_path / f"{prefix}-{len(started)}", speed=speed, **kwargs)
        started.append(lab)
        lab.start()
        return lab

    try:
        yield make
    finally:
        for lab in reversed(started):
            lab.stop()


@pytest.fixture
def lab_factory(tmp_path):
    """Start labs on demand (``lab_factory(speed=5, spec=WorldSpec(...))``); all stopped at teardown.
    Each call without ``state_dir`` gets its own fresh state folder."""
    from console.lab import Lab

    with _started_labs(Lab, tmp_path, "lab-state", 50.0) as make:
        yield make


@pytest.fixture
def lab(lab_factory):
    """A fast lab (speed x50: a VM start takes ~80 ms) of the default 4-host world, in a temp state
    folder, serving WinRM on ephemeral ports of 127.0.0.1; stopped at teardown."""
    return lab_factory(speed=50.0)


@pytest.fixture
def lab_world(lab_factory, tmp_path):
    """``(lab, hosts)``: a started lab of its own (x50) in ``tmp_path / "own-lab"``, for tests that add
    providers by hand (apart from any ``--lab`` run's state)."""
    lab = lab_factory(state_dir=tmp_path / "own-lab", speed=50.0)
    return lab, list(lab.hosts)


@pytest.fixture
def prism_speed() -> float:
    """The speed ``prism_factory`` starts Prism labs at unless told (a test folder may override it)."""
    return 50.0


@pytest.fixture
def prism_factory(tmp_path, prism_speed):
    """Start Prism labs on demand (``prism_factory(speed=..., spec=PrismSpec(...), state_dir=...)``);
    all stopped at teardown."""
    from console.lab.prism import PrismLab

    with _started_labs(PrismLab, tmp_path, "prism-state", prism_speed) as make:
        yield make


@pytest.fixture
def prism(prism_factory):
    """A running Prism lab (Prism Element NTNX-PE-01 and Prism Central NTNX-PC-01) on loopback."""
    return prism_factory()
