"""Nutanix templates (against the Prism lab, NTNX-PE-01): a VM plus its snapshots as versions, no
distribution, maintenance without revert."""
import pytest
from template_kit import plan_for, provider, refresh, tsvc_fixture  # noqa: F401

from console.domain.errors import ValidationError
from console.domain.inventory import ProviderKind
from console.domain.templates import TemplateState

pytestmark = pytest.mark.asyncio
PE = "NTNX-PE-01"


async def test_nutanix_template_create_versions_and_maintenance(tsvc):
    await refresh(tsvc, kinds=(ProviderKind.NUTANIX_PE,))
    pe = provider(tsvc, PE)
    vm = tsvc.providers.find_vm("Win11-VDI-003", pe.id)[1]
    check = await tsvc.templates.source_check(pe.id, vm.id)
    assert not check.distribution_possible
    assert check.why_not_distribution == ("Template distribution is only for standalone Hyper-V hosts; "
                                          "NTNX-PE-01 is Nutanix AHV (Prism Element).")
    assert all(why for _, why in tsvc.templates.available_targets(pe.id))
    with pytest.raises(ValidationError) as info:                  # no distribution on Nutanix
        tsvc.templates.create(plan_for(tsvc, "AHV Gold", host=PE, vm_name="Win11-VDI-003",
                                       distribution_enabled=True))
    assert info.value.field == "distribution_enabled"
    outcome = await tsvc.tasks.result(
        tsvc.templates.create(plan_for(tsvc, "AHV Gold", host=PE, vm_name="Win11-VDI-003")).id)
    tid = outcome["template_id"]
    template = tsvc.templates.get(tid)
    assert template.state is TemplateState.READY and template.targets == []
    snapshots = await tsvc.providers.snapshots(pe.id, vm.id)
    assert template.versions[0].snapshot_id in {s.id for s in snapshots}
    assert "VDI template AHV Gold v1" in {s.name for s in snapshots}

    # maintenance: only from the current disks, and leaving it can only make a new version
    await tsvc.tasks.result(tsvc.templates.enter_maintenance(tid).id)
    assert tsvc.templates.get(tid).state is TemplateState.MAINTENANCE
    with pytest.raises(ValidationError) as info:
        tsvc.templates.leave_maintenance(tid, new_version=False)
    assert "cannot be reverted" in info.value.message
    leave = await tsvc.tasks.result(tsvc.templates.leave_maintenance(tid, new_version=True, notes="KB5034441").id)
    assert leave["version"] == 2
    assert [(v.number, v.notes) for v in tsvc.templates.versions(tid)] == [(1, "First version"), (2, "KB5034441")]
    assert "VDI template AHV Gold v2" in {s.name for s in await tsvc.providers.snapshots(pe.id, vm.id)}
    with pytest.raises(ValidationError) as info:
        tsvc.templates.enter_maintenance(tid, version=1)
    assert "cannot be reverted" in info.value.message and info.value.field == "version"
    tsvc.templates.set_tag(tid, 2, "production")
    assert [v.tag for v in tsvc.templates.versions(tid)] == ["", "production"]
