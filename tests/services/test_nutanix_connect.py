"""Adding Prism Element and Prism Central providers through the service, against the Prism lab over
real HTTPS: pinning, untrusted and replaced certificates, the wrong kind, bad passwords, old versions."""
import dataclasses

import pytest
from nutanix_service_kit import PC, PE, prism_settings

from console.domain.errors import (AuthenticationError, CertificateNotTrustedError, PrerequisiteError,
                                   UnreachableError, WrongEndpointError)
from console.domain.inventory import HostStatus, ProviderKind
from console.domain.tasks import TaskState
from console.services.events import ProviderAdded, ProviderCertificateRejected, ProviderUpdated
from console.services.providers import secret_key

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("name, kind, words", [(PE, "nutanix-pe", "AOS"), (PC, "nutanix-pc", "Prism Central")])
async def test_add_with_the_lab_fingerprint_pinned(prism_services, prism, name, kind, words):
    events = []
    prism_services.bus.subscribe(events.append)
    provider = await prism_services.providers.add(name, prism_settings(prism, name), prism.password)
    assert provider.kind is ProviderKind(kind)
    assert provider.settings.pinned_fingerprint == prism.endpoint(name).fingerprint
    assert prism_services.secrets.get(secret_key(provider.id)) == prism.password
    assert prism.password not in prism_services.farm_path.read_bytes().decode("latin-1")
    [check] = prism_services.tasks.recent()
    assert check.name == "Test connection to 127.0.0.1" and check.state is TaskState.SUCCEEDED
    assert check.result["endpoint_kind"] == kind and words in check.result["version"]
    assert any(isinstance(e, ProviderAdded) for e in events)


async def test_unpinned_certificate_is_refused_then_accepted(prism_services, prism):
    settings = prism_settings(prism, PE, pin=False)
    with pytest.raises(CertificateNotTrustedError) as info:
        await prism_services.providers.add("Prism", settings, prism.password)
    exc = info.value
    assert exc.fingerprint == prism.endpoint(PE).fingerprint and exc.pinned_fingerprint == ""
    assert exc.subject and exc.not_before < exc.not_after
    assert "self-signed certificate" in exc.message and exc.fingerprint in exc.message
    assert prism_services.providers.list() == []
    shown = await prism_services.providers.fetch_certificate(settings)     # for the dialog, not trusted
    assert (shown.fingerprint, shown.subject, shown.self_signed, shown.expired) == \
        (exc.fingerprint, exc.subject, True, False)
    settings.pinned_fingerprint = exc.fingerprint                          # the administrator accepts
    provider = await prism_services.providers.add("Prism", settings, prism.password)
    assert prism_services.providers.get(provider.id).settings.pinned_fingerprint == exc.fingerprint


async def test_replaced_certificate_fails_refresh_until_accepted(prism_services, prism):
    provider = await prism_services.providers.add(PE, prism_settings(prism, PE), prism.password)
    old = provider.settings.pinned_fingerprint
    prism.set_fault(PE, "cert-replaced")
    new = prism.endpoint(PE).fingerprint
    assert new != old
    events = []
    prism_services.bus.subscribe(events.append)
    [refresh] = prism_services.providers.refresh(provider.id)
    with pytest.raises(CertificateNotTrustedError) as info:
        await prism_services.tasks.result(refresh.id)
    assert "has changed since it was accepted" in info.value.message
    assert info.value.fingerprint == new and info.value.pinned_fingerprint == old
    assert prism_services.tasks.get(refresh.id).error.startswith("The certificate of Prism Element at")
    [rejected] = [e for e in events if isinstance(e, ProviderCertificateRejected)]
    assert rejected.provider_id == provider.id and rejected.error.fingerprint == new
    assert prism_services.providers.get(provider.id).settings.pinned_fingerprint == old   # never silently

    saved = prism_services.providers.accept_certificate(provider.id, rejected.error.fingerprint)
    assert saved.settings.pinned_fingerprint == new
    assert any(isinstance(e, ProviderUpdated) and e.provider.id == provider.id for e in events)
    [refresh] = prism_services.providers.refresh(provider.id)
    assert (await prism_services.tasks.result(refresh.id))["vms"] > 0
    inventory = prism_services.providers.inventory(provider.id)
    assert all(prism_services.providers.host_status(provider.id, h.name) is HostStatus.CONNECTED
               for h in inventory.hosts)


@pytest.mark.parametrize("given, typed_as, actual, sentence", [
    (PE, "nutanix-pc", "nutanix-pe", "This address is Prism Element, not Prism Central."),
    (PC, "nutanix-pe", "nutanix-pc", "This address is Prism Central, not Prism Element."),
])
async def test_the_other_kind_is_named_and_nothing_saved(prism_services, prism, given, typed_as, actual, sentence):
    with pytest.raises(WrongEndpointError) as info:
        await prism_services.providers.add("Prism", prism_settings(prism, given, kind=typed_as), prism.password)
    assert info.value.actual_kind == actual and info.value.message == sentence
    assert info.value.hint.startswith(f"Change this provider to Nutanix AHV ({sentence.split(' ')[3]} ")
    assert prism_services.providers.list() == []
    # the UI switches the kind and tests again
    switched = dataclasses.replace(prism_settings(prism, given), kind=ProviderKind(actual))
    assert (await prism_services.providers.test_connection("Prism", switched, prism.password)).endpoint_kind == actual


async def test_wrong_password_is_refused_and_nothing_saved(prism_services, prism):
    with pytest.raises(AuthenticationError) as info:
        await prism_services.providers.add(PC, prism_settings(prism, PC), "not-the-password")
    assert "refused the user name or password of 'admin'" in info.value.message
    assert prism_services.providers.list() == []
    assert "not-the-password" not in prism_services.farm_path.read_bytes().decode("latin-1")


async def test_unreachable_address_says_so(prism_services, prism, closed_port):
    settings = dataclasses.replace(prism_settings(prism, PE), address=f"https://127.0.0.1:{closed_port}")
    with pytest.raises(UnreachableError) as info:
        await prism_services.providers.add("Prism", settings, prism.password)
    assert f"127.0.0.1:{closed_port}" in info.value.message
    prism.set_fault(PC, "offline")
    with pytest.raises(UnreachableError):
        await prism_services.providers.add(PC, prism_settings(prism, PC), prism.password)
    assert prism_services.providers.list() == []


@pytest.mark.parametrize("name, version", [(PE, "4.7"), (PC, "5.5.0.6")])
async def test_too_old_a_version_is_named(prism_services, prism, name, version):
    prism.set_fault(name, "old-version")
    with pytest.raises(PrerequisiteError) as info:
        await prism_services.providers.add(name, prism_settings(prism, name), prism.password)
    assert f"runs version {version}" in info.value.message and "too old" in info.value.message
    assert prism_services.providers.list() == []
