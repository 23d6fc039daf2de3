"""Bad input and faults against the Prism lab: the wrong kind of endpoint, a wrong password, untrusted,
replaced and expired certificates, an unreachable address, a cluster too old, clones that fail."""
from __future__ import annotations

import socket

import pytest
from nutanix_kit import PC, PE

from console.adapters.nutanix import PrismError, TaskFailedError, fetch_certificate, make_nutanix_adapter
from console.domain.errors import (
    AuthenticationError,
    CertificateNotTrustedError,
    PrerequisiteError,
    UnreachableError,
    WrongEndpointError,
)
from console.domain.inventory import ConnectionSettings, ProviderKind

pytestmark = pytest.mark.asyncio


async def test_prism_central_given_as_prism_element(connect):
    with pytest.raises(WrongEndpointError) as caught:
        await connect(PC, kind="nutanix-pe").check()
    error = caught.value
    assert error.message == "This address is Prism Central, not Prism Element."
    assert error.actual_kind == "nutanix-pc"
    assert error.hint.startswith("Change this provider to Nutanix AHV (Prism Central)")


async def test_prism_element_given_as_prism_central(connect):
    with pytest.raises(WrongEndpointError) as caught:
        await connect(PE, kind="nutanix-pc").check()
    assert caught.value.message == "This address is Prism Element, not Prism Central."
    assert caught.value.actual_kind == "nutanix-pe"
    assert "Prism Element" in caught.value.hint


@pytest.mark.parametrize("name", [PE, PC])
async def test_wrong_password(connect, name):
    with pytest.raises(AuthenticationError) as caught:
        await connect(name, password="not-the-password").check()
    assert "refused the user name or password of 'admin'" in caught.value.message
    assert "not-the-password" not in str(caught.value) + caught.value.details


async def test_auth_fault_fails_inventory(connect, prism):
    adapter = connect(PC)
    prism.set_fault(PC, "auth")
    with pytest.raises(AuthenticationError):
        await adapter.inventory()


async def test_untrusted_certificate_shows_what_to_accept(connect, prism):
    endpoint = prism.endpoint(PE)
    with pytest.raises(CertificateNotTrustedError) as caught:
        await connect(PE, pin=False).check()
    error = caught.value
    assert error.fingerprint == endpoint.fingerprint
    assert "CN=ntnx-pe-01.lab.local" in error.subject and error.not_before and error.not_after
    assert error.pinned_fingerprint == ""
    assert "self-signed certificate" in error.message and endpoint.fingerprint in error.message
    info = await fetch_certificate(endpoint.url)               # what the accept dialog shows
    assert (info.fingerprint, info.subject, info.self_signed) == (endpoint.fingerprint, error.subject, True)
    # the administrator accepts it: the pinned fingerprint is trusted (any spelling of it)
    pinned = connect(PE, fingerprint=endpoint.fingerprint.replace(":", "").lower())
    assert (await pinned.check()).endpoint_kind == "nutanix-pe"


async def test_a_replaced_certificate_is_refused_saying_it_changed(connect, prism):
    old = prism.endpoint(PC).fingerprint
    prism.set_fault(PC, "cert-replaced")
    new = prism.endpoint(PC).fingerprint
    assert new != old
    with pytest.raises(CertificateNotTrustedError) as caught:
        await connect(PC, fingerprint=old).inventory()
    error = caught.value
    assert "has changed since it was accepted" in error.message
    assert (error.fingerprint, error.pinned_fingerprint) == (new, old)
    assert old in error.message and new in error.message
    assert (await connect(PC, fingerprint=new).check()).endpoint_kind == "nutanix-pc"   # accepted again


async def test_a_certificate_replaced_while_connected_is_refused(connect, prism):
    adapter = connect(PE)
    await adapter.check()
    prism.set_fault(PE, "cert-replaced")
    # a new connection is needed to see it: drop the kept-alive ones as a restart of Prism would
    await adapter.http._client.aclose()
    adapter.http._client = None
    with pytest.raises(CertificateNotTrustedError, match="has changed"):
        await adapter.check()


async def test_an_expired_certificate_says_when_it_expired(connect, prism):
    good = prism.endpoint(PE).fingerprint
    prism.set_fault(PE, "cert-expired")
    with pytest.raises(CertificateNotTrustedError) as caught:
        await connect(PE, pin=False).check()
    assert caught.value.message.startswith("The certificate of Prism Element at 127.0.0.1:")
    assert " expired on " in caught.value.message and caught.value.not_after[:10] in caught.value.message
    # pinned to the good certificate: it changed, and the new one has expired
    with pytest.raises(CertificateNotTrustedError) as caught:
        await connect(PE, fingerprint=good).check()
    assert "has changed" in caught.value.message and "expired on" in caught.value.message
    assert caught.value.pinned_fingerprint == good


async def test_an_expired_pinned_certificate_is_refused(connect, prism):
    prism.set_fault(PE, "cert-expired")
    expired = prism.endpoint(PE).fingerprint
    with pytest.raises(CertificateNotTrustedError) as caught:
        await connect(PE, fingerprint=expired).check()           # even accepted, it has expired
    assert " expired on " in caught.value.message and caught.value.fingerprint == expired


async def test_unreachable_addresses(connect, prism):
    prism.set_fault(PC, "offline")
    with pytest.raises(UnreachableError, match="Cannot connect to Prism Central at 127.0.0.1"):
        await connect(PC, pin=False).check()
    with pytest.raises(UnreachableError, match="Cannot read the certificate"):
        await connect(PC).check()                               # pinned: reading the certificate fails
    with socket.socket() as s:                                  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    adapter = make_nutanix_adapter(ConnectionSettings(kind=ProviderKind.NUTANIX_PE, address=f"127.0.0.1:{port}",
                                                      username="admin"), "pw")
    with pytest.raises(UnreachableError) as caught:
        await adapter.inventory()
    assert "Check the address and port (Prism listens on 9440)" in caught.value.hint
    await adapter.close()


@pytest.mark.parametrize("name,version", [(PE, "4.7"), (PC, "5.5.0.6")])
async def test_a_cluster_too_old_is_named(connect, prism, name, version):
    prism.set_fault(name, "old-version")
    with pytest.raises(PrerequisiteError) as caught:
        await connect(name).check()
    assert f"version {version}, which is too old" in caught.value.message
    assert "5.10 or later" in caught.value.message and "Upgrade" in caught.value.hint


@pytest.mark.parametrize("name", [PE, PC])
async def test_a_clone_failing_at_60_percent_removes_the_partial_vm(connect, prism, reporter, name):
    adapter = connect(name)
    source = next(vm for h in (await adapter.inventory()).hosts for vm in h.vms if vm.name == "Win11-Gold")
    prism.set_fault(name, "clone-fails-60")
    with pytest.raises(TaskFailedError) as caught:
        await adapter.clone(source.id, "VDI-Broken-001", reporter=reporter)
    message = caught.value.message
    assert "Prism could not complete clone of 'Win11-Gold'" in message and "(at 60%)" in message
    assert "The partial VM 'VDI-Broken-001' was deleted." in message
    assert not reporter.cleanup and reporter.undo[0].kind == "delete-vm"     # recorded, then undone
    prism.set_fault(name, None)
    names = [vm.name for h in (await adapter.inventory()).hosts for vm in h.vms]
    assert "VDI-Broken-001" not in names
    again = await adapter.clone(source.id, "VDI-Broken-001")              # a retry now succeeds
    assert again.name == "VDI-Broken-001"


async def test_a_partial_clone_that_cannot_be_deleted_stays_on_the_cleanup_list(connect, prism, reporter):
    adapter = connect(PC)
    source = next(vm for h in (await adapter.inventory()).hosts for vm in h.vms if vm.name == "Win11-Gold")
    prism.set_fault(PC, "clone-fails-60")

    async def refuse_delete(vm_id, name, reporter):
        raise PrismError("Prism refused the deletion (HTTP 500).", status=500)
    adapter.delete_vm = refuse_delete
    with pytest.raises(TaskFailedError) as caught:
        await adapter.clone(source.id, "VDI-Stuck-001", reporter=reporter)
    assert "could not be deleted and is on this task's cleanup list" in caught.value.message
    [left] = reporter.cleanup
    assert left.kind == "delete-vm" and left.params["name"] == "VDI-Stuck-001"
    assert "Delete the partial clone 'VDI-Stuck-001'" in left.description


@pytest.mark.parametrize("name", [PE, PC])
async def test_a_clone_refused_with_500_leaves_nothing(connect, prism, reporter, requests_sent, name):
    adapter = connect(name)
    source = next(vm for h in (await adapter.inventory()).hosts for vm in h.vms if vm.name == "Win11-Gold")
    prism.set_fault(name, "clone-500")
    with pytest.raises(PrismError) as caught:
        await adapter.clone(source.id, "VDI-500", reporter=reporter)
    assert "HTTP 500" in caught.value.message and "simulated fault clone-500" in caught.value.message
    assert requests_sent.count("POST", "/clone") == 1           # a 500 is not retried
    assert not reporter.cleanup
