"""Fixtures for the Prism lab tests: running PrismLabs on loopback and clients of their endpoints."""
from __future__ import annotations

import pytest
from prismkit import client

from console.lab.prism import PrismLab


@pytest.fixture
def prism_factory(tmp_path):
    """Start PrismLabs on demand (``prism_factory(speed=..., spec=..., state_dir=...)``); stopped at teardown."""
    started: list[PrismLab] = []

    def make(state_dir=None, speed: float = 100.0, **kwargs) -> PrismLab:
        lab = PrismLab(state_dir or tmp_path / f"state-{len(started)}", speed=speed, **kwargs)
        started.append(lab)
        lab.start()
        return lab

    yield make
    for lab in reversed(started):
        lab.stop()


@pytest.fixture
def prism(prism_factory) -> PrismLab:
    return prism_factory()


@pytest.fixture
def pe(prism):
    with client(prism, "NTNX-PE-01") as c:
        yield c


@pytest.fixture
def pc(prism):
    with client(prism, "NTNX-PC-01") as c:
        yield c


