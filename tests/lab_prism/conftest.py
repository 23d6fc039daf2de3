"""Fixtures for the Prism lab tests: running PrismLabs on loopback and clients of their endpoints."""
from __future__ import annotations

import pytest
from prismkit import client


@pytest.fixture
def prism_speed() -> float:
    return 100.0


@pytest.fixture
def pe(prism):
    with client(prism, "NTNX-PE-01") as c:
        yield c


@pytest.fixture
def pc(prism):
    with client(prism, "NTNX-PC-01") as c:
        yield c
