"""The Nutanix adapters against the Prism lab over real HTTPS on loopback (httpx, real TLS, pinning)."""
from __future__ import annotations

import pytest
import pytest_asyncio
from nutanix_kit import POLL, RecordingReporter
from prism_swagger import RequestLog

from console.adapters.nutanix import make_nutanix_adapter
from console.domain.inventory import ConnectionSettings, ProviderKind
from console.lab.prism import PrismLab


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()


@pytest.fixture
def requests_sent() -> RequestLog:
    return RequestLog()


@pytest_asyncio.fixture
async def connect(prism, requests_sent):
    """``connect("NTNX-PC-01")`` -> an adapter of that endpoint's kind, its certificate pinned, every
    request recorded in ``requests_sent``. ``kind=`` forces the other kind; ``pin=False`` pins nothing;
    ``password=``, ``lab=`` (another PrismLab) and adapter options override. Closed at teardown."""
    made = []

    def make(name: str, *, kind: str | None = None, pin: bool = True, password: str | None = None,
             lab: PrismLab | None = None, fingerprint: str | None = None, **options):
        endpoint = (lab or prism).endpoint(name)
        settings = ConnectionSettings(kind=ProviderKind(kind or endpoint.kind), address=endpoint.url,
                                      username=endpoint.username,
                                      pinned_fingerprint=(fingerprint if fingerprint is not None
                                                          else endpoint.fingerprint if pin else ""))
        options.setdefault("poll_interval", POLL)
        options.setdefault("retry_delays", (0.01, 0.02, 0.04))
        options.setdefault("request_hooks", [requests_sent])
        adapter = make_nutanix_adapter(settings, endpoint.password if password is None else password, **options)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.close()
