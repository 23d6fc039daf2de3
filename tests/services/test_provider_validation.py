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
    s.store.providers.add(Provider(None, "NTNX-PE", ConnectionSettings(
        ProviderKind.NUTANIX_PE, "prism01.corp.example.com", 0, True, username="admin")))
    yield s
    await s.close()


def hv(address="hv02.corp.example.com", **kw):
    kw.setdefault("username", "CORP\\admin")
    return ConnectionSettings(ProviderKind.HYPERV, address, **kw)


def pe(address="prism02.corp.example.com", **kw):
    kw.setdefault("username", "admin")
    return ConnectionSettings(ProviderKind.NUTANIX_PE, address, **kw)


def pc(address="prism02.corp.example.com", **kw):
    kw.setdefault("username", "admin")
    return ConnectionSettings(ProviderKind.NUTANIX_PC, address, **kw)


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
    ("New", ConnectionSettings(ProviderKind.HYPERV_CLUSTER, "hvc.corp.example.com", username="a"), "kind",
     "not supported yet"),
    # Nutanix: a name, an IP or an https:// URL; 9440 unless another port is given
    ("New", pe("http://prism02.corp.example.com:9440"), "address", "does not start with https://"),
    ("New", pc("http://prism02.corp.example.com"), "address", "HTTPS only"),
    ("New", pe("https://prism02.corp.example.com/console"), "address", "has a path"),
    ("New", pe(""), "address", "Enter the Prism address"),
    ("New", pe("prism 02"), "address", "not a host name"),
    ("New", pe("prism02:99999"), "port", "out of range"),
    ("New", pe(port=70000), "port", "out of range"),
    ("New", pe(username=" "), "username", "Enter the Prism user name"),
    ("Other", pe("PRISM01.corp.example.com"), "address", "already connects"),        # 9440 by default
    ("Other", pc("https://prism01.corp.example.com:9440"), "address", "already connects"),
    ("Other", pe("prism01.corp.example.com", port=5986), "address", "already connects"),   # WinRM default
    ("ntnx-pe", pe(), "name", "already exists"),
]


@pytest.mark.parametrize("name, settings, field, words", CASES)
async def test_bad_input_is_refused_and_nothing_saved(services, name, settings, field, words):
    with pytest.raises(ValidationError) as info:
        await services.providers.add(name, settings, "pw")
    assert info.value.field == field
    assert words in str(info.value)
    assert [p.name for p in services.providers.list()] == ["HV01", "NTNX-PE"]
    assert services.tasks.recent() == []          # refused before any task ran


async def test_basic_over_http_is_allowed_to_loopback_or_with_the_opt_in(services):
    services.providers.validate_new("Lab", hv("127.0.0.1", port=5985, transport=WinRMTransport.BASIC))
    services.providers.validate_new("Opted", hv(transport=WinRMTransport.BASIC, allow_insecure_basic=True))
    services.providers.validate_new("Https", hv(port=5986, use_https=True, transport=WinRMTransport.BASIC))


@pytest.mark.parametrize("settings", [hv(), pe()])
async def test_empty_password_is_refused(services, settings):
    with pytest.raises(ValidationError) as info:
        await services.providers.add("New", settings, "")
    assert info.value.field == "password"
    assert [p.name for p in services.providers.list()] == ["HV01", "NTNX-PE"]


@pytest.mark.parametrize("settings", [
    pe("prism02.corp.example.com"), pe("10.0.0.7", port=0), pc("prism02.corp.example.com:9441"),
    pc("https://prism02.corp.example.com"), pe("https://[fd00::7]:9440"),
    pe("prism01.corp.example.com:9441"),                 # the same name on another port is another endpoint
])
async def test_good_nutanix_addresses_pass(services, settings):
    services.providers.validate_new("New", settings)


async def test_nutanix_capabilities_without_connecting(services):
    [_, prism] = services.providers.list()
    caps = services.providers.capabilities(prism.id)
    assert caps.can_snapshot and caps.can_full_clone and caps.can_link_clone and not caps.can_distribute
    hyperv = services.providers.capabilities(services.providers.find("HV01").id)
    assert hyperv.can_snapshot and hyperv.can_distribute and not hyperv.can_clone_vm   # VM clones: Nutanix only


@pytest.mark.parametrize("fingerprint, words", [
    ("", "is not a SHA-256 fingerprint"), ("AA:BB", "is not a SHA-256 fingerprint"),
    ("ZZ" * 32, "is not a SHA-256 fingerprint"), ("a" * 63 + "g", "64 hexadecimal digits"),
])
async def test_accept_certificate_refuses_what_is_not_a_fingerprint(services, fingerprint, words):
    prism = services.providers.find("NTNX-PE")
    with pytest.raises(ValidationError) as info:
        services.providers.accept_certificate(prism.id, fingerprint)
    assert info.value.field == "fingerprint" and words in str(info.value)
    assert services.providers.get(prism.id).settings.pinned_fingerprint == ""


async def test_accept_certificate_is_for_prism_providers_only(services):
    with pytest.raises(ValidationError) as info:
        services.providers.accept_certificate(services.providers.find("HV01").id, "ab" * 32)
    assert "do not pin certificates" in info.value.message


async def test_accepted_fingerprint_is_saved_in_one_form(services):
    prism = services.providers.find("NTNX-PE")
    saved = services.providers.accept_certificate(prism.id, " " + "ab" * 32 + " ")
    assert saved.settings.pinned_fingerprint == ":".join(["AB"] * 32)
    assert services.store.providers.get(prism.id).settings.pinned_fingerprint == saved.settings.pinned_fingerprint


@pytest.mark.parametrize("name, words", [("", "Enter a name for the snapshot"),
                                         ("two\nlines", "control character"),
                                         ("x" * 65, "at most 64")])
async def test_snapshot_names_are_checked_before_any_task(services, name, words):
    prism = services.providers.find("NTNX-PE")
    with pytest.raises(ValidationError) as info:
        services.providers.snapshot(prism.id, "9844af5d-101b-40ea-a125-8bf1a02f888b", name)
    assert words in str(info.value) and info.value.field == "name"
    assert services.tasks.recent() == []


async def test_vm_operations_on_hyperv_say_what_it_cannot_do(services):
    hv01 = services.providers.find("HV01")
    with pytest.raises(ValidationError) as info:
        services.providers.clone(hv01.id, "some-vm", "Copy")
    assert info.value.message == "Microsoft Hyper-V (standalone) providers cannot clone a VM on its own."
    with pytest.raises(ValidationError, match="cannot delete VMs"):        # pools remove their own clones
        services.providers.delete_vm(hv01.id, "some-vm")
