"""Lab mode registers the lab's Prism Element and Prism Central as providers, certificate pinned, and
never updates a pin silently when the lab replaced its certificate."""
import pytest
from nutanix_service_kit import PC, PE

from console.domain.errors import CertificateNotTrustedError
from console.domain.inventory import ProviderKind
from console.secrets import SecretStore
from console.services.container import build_services
from console.services.events import ProviderCertificateRejected
from console.store import Farm

pytestmark = pytest.mark.asyncio


def lab_services_at(tmp_path):
    return build_services(farm_path=tmp_path / "f.sqlite", lab=True, lab_state=tmp_path / "lab", lab_speed=50,
                          secrets=SecretStore())


async def test_prism_endpoints_are_registered_pinned_and_kept_across_starts(tmp_path):
    seen = []
    for round_ in range(2):
        services = lab_services_at(tmp_path)
        await services.start()
        try:
            prisms = {p.name: p for p in services.providers.list() if p.kind is not ProviderKind.HYPERV}
            assert {n: p.kind for n, p in prisms.items()} == {PE: ProviderKind.NUTANIX_PE, PC: ProviderKind.NUTANIX_PC}
            for name, provider in prisms.items():
                endpoint = services.lab.prism_lab.endpoint(name)
                assert provider.lab and provider.settings.address == endpoint.url      # this start's port
                assert provider.settings.pinned_fingerprint == endpoint.fingerprint
            assert services.providers.missing_passwords() == []
            [refresh] = services.providers.refresh(prisms[PC].id)
            assert (await services.tasks.result(refresh.id))["vms"] > 0
            inventory = services.providers.inventory(prisms[PC].id)
            assert {h.cluster for h in inventory.hosts} == {"NTNX-PE-01", "NTNX-PE-02"}
            seen.append({n: (p.id, p.settings.pinned_fingerprint) for n, p in prisms.items()})
        finally:
            await services.close()
    assert seen[0] == seen[1]                         # the same providers, the same pins
    with Farm(tmp_path / "f.sqlite") as farm:
        assert sorted(p.name for p in farm.providers.list()) == ["HV01", "HV02", "HV03", "HV04", PC, PE]
        assert "Nutanix/4u-Lab" not in (tmp_path / "f.sqlite").read_bytes().decode("latin-1")


async def test_a_replaced_lab_certificate_is_not_trusted_silently(tmp_path):
    services = lab_services_at(tmp_path)
    await services.start()
    old = services.providers.find(PE).settings.pinned_fingerprint
    services.lab.set_fault(PE, "cert-replaced")
    await services.close()

    services = lab_services_at(tmp_path)
    await services.start()
    try:
        provider = services.providers.find(PE)
        new = services.lab.prism_lab.endpoint(PE).fingerprint
        assert new != old and provider.settings.pinned_fingerprint == old
        rejected = []
        services.bus.subscribe(lambda e: rejected.append(e) if isinstance(e, ProviderCertificateRejected) else None)
        [refresh] = services.providers.refresh(provider.id)
        with pytest.raises(CertificateNotTrustedError):
            await services.tasks.result(refresh.id)
        assert [e.error.fingerprint for e in rejected] == [new]
        services.providers.accept_certificate(provider.id, new)
        [refresh] = services.providers.refresh(provider.id)
        assert (await services.tasks.result(refresh.id))["vms"] > 0
    finally:
        await services.close()
