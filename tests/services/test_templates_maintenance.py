"""Maintenance, versions, tags, targets after creation and deleting a template, against the lab."""
import pytest
from template_kit import (  # noqa: F401
    add_pool,
    checkpoints_of,
    copies_on,
    plan_for,
    provider,
    target_named,
    tsvc_fixture,
    vms_named,
)

from console.domain.errors import PrerequisiteError, ValidationError
from console.domain.templates import TargetProgress, TargetState, TemplateState
from console.services.events import DistributionTargetChanged

pytestmark = pytest.mark.asyncio


async def _gold(services, targets=("HV02", "HV03")) -> int:
    outcome = await services.tasks.result(services.templates.create(plan_for(services, "Gold", targets=targets)).id)
    return outcome["template_id"]


def _source_state(services) -> str:
    return vms_named(services, "HV01", "Win11-Gold")[0].state


async def test_maintenance_round_trip_with_a_new_version(tsvc):
    tid = await _gold(tsvc)
    add_pool(tsvc, tid, 1, "Sales Pool")
    enter = tsvc.templates.enter_maintenance(tid)
    assert tsvc.templates.get(tid).state is TemplateState.MAINTENANCE     # at once: no new clones
    assert not tsvc.templates.get(tid).can_give_clones()
    await tsvc.tasks.result(enter.id)
    assert _source_state(tsvc) == "Running" and tsvc.templates.get(tid).maintenance_from == 1
    changes = []
    tsvc.bus.subscribe(lambda e: changes.append((tsvc.providers.get(e.target.provider_id).name, e.target.state,
                                                 e.target.version))
                       if isinstance(e, DistributionTargetChanged) else None)
    leave = tsvc.templates.leave_maintenance(tid, new_version=True, notes="May patches")
    outcome = await tsvc.tasks.result(leave.id)
    assert outcome["version"] == 2 and outcome["pools"] == ["Sales Pool"] and outcome["failed_targets"] == []
    template = tsvc.templates.get(tid)
    assert template.state is TemplateState.READY and template.maintenance_from is None
    assert [(v.number, v.notes) for v in template.versions] == [(1, "First version"), (2, "May patches")]
    assert ("HV02", TargetState.NEEDS_UPDATE, 1) in changes and ("HV02", TargetState.READY, 2) in changes
    for host in ("HV02", "HV03"):
        target = target_named(tsvc, tid, host)
        assert (target.state, target.progress, target.version) == (TargetState.READY, TargetProgress.OK, 2)
        assert target.folder.endswith("\\Gold-v2") and len(vms_named(tsvc, host, "Gold (v2)")) == 1
        # the previous copy stays: "Sales Pool" is at v1 and its linked clones' parents are in it
        assert len(vms_named(tsvc, host, "Gold (v1)")) == 1 and set(target.kept) == {1}
    assert _source_state(tsvc) == "Off"
    assert checkpoints_of(tsvc, "HV01", "Win11-Gold") == ["VDI template Gold v1", "VDI template Gold v2"]


async def test_maintenance_discard_reverts_without_a_new_version(tsvc):
    tid = await _gold(tsvc, targets=())
    await tsvc.tasks.result(tsvc.templates.enter_maintenance(tid).id)
    with tsvc.lab.world.lock:                        # a change made inside the guest during maintenance
        vms_named(tsvc, "HV01", "Win11-Gold")[0].notes = "patched"
    outcome = await tsvc.tasks.result(tsvc.templates.leave_maintenance(tid, new_version=False).id)
    assert outcome["version"] == 1 and outcome["new_version"] is False
    template = tsvc.templates.get(tid)
    assert template.state is TemplateState.READY and [v.number for v in template.versions] == [1]
    vm = vms_named(tsvc, "HV01", "Win11-Gold")[0]
    assert vm.state == "Off" and vm.notes != "patched"               # reverted to the version-1 checkpoint
    assert checkpoints_of(tsvc, "HV01", "Win11-Gold") == ["VDI template Gold v1"]
    with pytest.raises(ValidationError):
        tsvc.templates.leave_maintenance(tid, new_version=True)       # not in maintenance any more


async def test_tags_move_and_versions_in_use_are_kept(tsvc):
    tid = await _gold(tsvc, targets=())
    for _ in range(2):
        await tsvc.tasks.result(tsvc.templates.enter_maintenance(tid).id)
        await tsvc.tasks.result(tsvc.templates.leave_maintenance(tid, new_version=True).id)
    assert [v.number for v in tsvc.templates.versions(tid)] == [1, 2, 3]
    tsvc.templates.set_tag(tid, 1, "production")
    tsvc.templates.set_tag(tid, 2, "pre-production")
    tsvc.templates.set_tag(tid, 3, "production")                      # moves from version 1
    assert [v.tag for v in tsvc.templates.versions(tid)] == ["", "pre-production", "production"]
    tsvc.templates.set_tag(tid, 2, "")
    assert [v.tag for v in tsvc.templates.versions(tid)] == ["", "", "production"]
    with pytest.raises(ValidationError) as info:
        tsvc.templates.set_tag(tid, 3, "not a tag!")
    assert info.value.field == "tag"
    add_pool(tsvc, tid, 2, "Kiosks")
    with pytest.raises(ValidationError) as info:
        await tsvc.templates.delete_version(tid, 2)
    assert "Kiosks" in info.value.message
    await tsvc.templates.delete_version(tid, 1)
    assert [v.number for v in tsvc.templates.versions(tid)] == [2, 3]
    assert checkpoints_of(tsvc, "HV01", "Win11-Gold") == ["VDI template Gold v2", "VDI template Gold v3"]


async def test_add_target_refused_with_the_failed_rows_then_add_and_remove(tsvc):
    tid = await _gold(tsvc, targets=("HV02",))
    refused = tsvc.templates.add_target(tid, provider(tsvc, "HV04").id)
    with pytest.raises(PrerequisiteError) as info:
        await tsvc.tasks.result(refused.id)
    assert "HV04" in info.value.message and "Joined to the same domain" in info.value.message
    assert target_named(tsvc, tid, "HV04") is None                    # refused: not added
    added = tsvc.templates.add_target(tid, provider(tsvc, "HV03").id)
    await tsvc.tasks.result(added.id)
    hv03 = target_named(tsvc, tid, "HV03")
    assert (hv03.state, hv03.version) == (TargetState.READY, 1)
    with pytest.raises(ValidationError):
        tsvc.templates.add_target(tid, provider(tsvc, "HV03").id)    # already a target
    await tsvc.tasks.result(tsvc.templates.remove_target(tid, provider(tsvc, "HV03").id).id)
    assert target_named(tsvc, tid, "HV03") is None
    assert vms_named(tsvc, "HV03", "Gold (v1)") == [] and copies_on(tsvc, "HV03") == []


async def test_delete_removes_copies_exports_and_checkpoints(tsvc):
    tid = await _gold(tsvc, targets=("HV01", "HV02"))
    outcome = await tsvc.tasks.result(tsvc.templates.delete(tid).id)
    assert outcome["left_over"] == []
    assert tsvc.templates.list() == []
    for host in ("HV01", "HV02"):
        assert vms_named(tsvc, host, "Gold (v1)") == [] and copies_on(tsvc, host) == []
    with tsvc.lab.world.lock:
        assert tsvc.lab.world.host("HV01").files.exports == {}
    assert checkpoints_of(tsvc, "HV01", "Win11-Gold") == []
    assert len(vms_named(tsvc, "HV01", "Win11-Gold")) == 1             # the source VM stays
