import socket

import pytest
import pytest_asyncio

from console.secrets import SecretStore
from console.services.container import build_services


@pytest_asyncio.fixture
async def plain_services(tmp_path):
    services = build_services(farm_path=tmp_path / "farm.sqlite", secrets=SecretStore())
    await services.start()
    yield services
    await services.close()


@pytest_asyncio.fixture
async def lab_services(tmp_path):
    """Services with the lab in-process (hosts registered as providers), fast lab timings."""
    services = build_services(farm_path=tmp_path / "lab-farm.sqlite", lab=True,
                              lab_state=tmp_path / "lab-state", lab_speed=50, secrets=SecretStore())
    await services.start()
    yield services
    await services.close()


@pytest.fixture
def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- Nutanix: services that poll Prism quickly (the Prism lab itself: ``prism`` in tests/conftest.py) ------
@pytest_asyncio.fixture
async def prism_services(tmp_path):
    """Services without the lab (providers are added by hand), Prism tasks polled every 20 ms."""
    from console.services.provider_rules import make_adapter_factory
    services = build_services(farm_path=tmp_path / "farm.sqlite", secrets=SecretStore(),
                              adapter_factory=make_adapter_factory(0.02))
    await services.start()
    yield services
    await services.close()

