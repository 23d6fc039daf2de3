"""Bad input to Add Provider is refused before any connection, with a sentence, and nothing is saved."""
import pytest
import pytest_asyncio

from console.domain.errors import ValidationError
from console.domain.inventory import ConnectionSettings, Provider, ProviderKind, WinRMTransport
from console.secrets import SecretStore
from console.services.container import build_services

pytestmark = pytest.mark.asyncio


def no_network(settings, password):
    raise AssertionError("validation must refuse before any adapter is made")


@pytest_asyncio.fixture
async def services(tmp_path):
    s = build_services(farm_path=tmp_path / "farm.sqlite", secrets=SecretStore(),
                       adapter_factory=no_network)
    await s.start()
    s.store.providers.add(Provider(None, "HV01", ConnectionSettings(
        ProviderKind.HYPERV, "hv01.corp.example.com", 5985, False, WinRMTransport.NTLM, "CORP\\admin")))
    yield s
    await s.close()


def hv(address="hv02.corp.example.com", **kw):
    kw.setdefault("username", "CORP\\admin")
    return ConnectionSettings(ProviderKind.HYPERV, address, **kw)


CASES = [
    ("", hv(), "name", "Enter a name"),
    ("x" * 65, hv(), "name", "longer than 64"),
    ("bad\x07name", hv(), "name", "control characters"),
    ("hv01", hv(), "name", "already exists"),
    ("Other", hv("hv01.corp.example.com"), "address", "already connects"),
    ("Other", hv("HV01.corp.example.com:5985"), "address", "already connects"),
    ("New", hv(""), "address", "Enter the host"),
    ("New", hv("   "), "address", "Enter the host"),
    ("New", hv("bad host name"), "address", "not a host name"),
    ("New", hv("ftp://hv02"), "address", "not a WinRM scheme"),
    ("New", hv(port=0), "port", "out of range"),
    ("New", hv(port=70000), "port", "out of range"),
    ("New", hv("hv02:99999"), "port", "out of range"),
    ("New", hv(transport=WinRMTransport.BASIC), "transport", "Basic authentication over plain HTTP"),
    ("New", hv(username=""), "username", "user name"),
    ("New", ConnectionSettings(ProviderKind.NUTANIX_PE, "prism.corp.example.com"), "kind", "not supported yet"),
]


@pytest.mark.parametrize("name, settings, field, words", CASES)
async def test_bad_input_is_refused_and_nothing_saved(services, name, settings, field, words):
    with pytest.raises(ValidationError) as info:
        await services.providers.add(name, settings, "pw")
    assert info.value.field == field
    assert words in str(info.value)
    assert [p.name for p in services.providers.list()] == ["HV01"]
    assert services.tasks.recent() == []          # refused before any task ran


async def test_basic_over_http_is_allowed_to_loopback_or_with_the_opt_in(services):
    services.providers.validate_new("Lab", hv("127.0.0.1", port=5985, transport=WinRMTransport.BASIC))
    services.providers.validate_new("Opted", hv(transport=WinRMTransport.BASIC, allow_insecure_basic=True))
    services.providers.validate_new("Https", hv(port=5986, use_https=True, transport=WinRMTransport.BASIC))


async def test_empty_password_is_refused(services):
    with pytest.raises(ValidationError) as info:
        await services.providers.add("New", hv(), "")
    assert info.value.field == "password"
    assert [p.name for p in services.providers.list()] == ["HV01"]
