"""Bad input and faults of template distribution (issue #4), against the lab over real WinRM."""
import sqlite3

import pytest
from template_kit import (  # noqa: F401
    add_pool,
    copies_on,
    plan_for,
    provider,
    start_services,
    target_named,
    tsvc_fixture,
    vm_of,
    vms_named,
    wait_for,
)

from console.domain.prerequisites import CheckStatus, blocking

from console.domain.errors import CancelledError, ValidationError
from console.domain.tasks import TaskState
from console.domain.templates import TargetProgress, TargetState, TemplateState
from console.services.distribution import INTERRUPTED

pytestmark = pytest.mark.asyncio


def _copying(services, name: str):
    """A predicate: template ``name`` has a target whose copy has started."""
    def check() -> bool:
        template = services.store.templates.find_by_name(name)
        return template is not None and any(
            t.progress is TargetProgress.DISTRIBUTING and t.fraction > 0 for t in template.targets)
    return check


async def test_target_offline_in_the_middle_of_its_copy_fails_alone_and_retry_succeeds(tsvc):
    tsvc.lab.arm_fault("HV03", "offline", script="Start-TemplateCopy")      # halfway through its copy
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02", "HV03"], concurrency=2))
    outcome = await tsvc.tasks.result(task.id)
    assert tsvc.tasks.get(task.id).state is TaskState.SUCCEEDED and outcome["failed_targets"] == ["HV03"]
    tid = outcome["template_id"]
    hv02, hv03 = target_named(tsvc, tid, "HV02"), target_named(tsvc, tid, "HV03")
    assert (hv02.state, hv02.progress, hv02.version) == (TargetState.READY, TargetProgress.OK, 1)
    assert (hv03.state, hv03.progress, hv03.version) == (TargetState.NOT_AVAILABLE, TargetProgress.FAILED, None)
    assert hv03.last_error
    assert any(line.level.value == "warning" and "HV03" in line.text for line in tsvc.tasks.log_lines(task.id))
    tsvc.lab.set_fault("HV03", None)
    retry = tsvc.templates.retry_target(tid, provider(tsvc, "HV03").id)
    await tsvc.tasks.result(retry.id)
    hv03 = target_named(tsvc, tid, "HV03")
    assert (hv03.state, hv03.progress, hv03.version, hv03.last_error) == \
        (TargetState.READY, TargetProgress.OK, 1, "")
    assert [vm.id for vm in vms_named(tsvc, "HV03", "Gold (v1)")] == [hv03.vm_id]


async def test_a_disk_filling_during_a_copy_removes_the_partial_copy(tsvc):
    tsvc.lab.arm_fault("HV02", "disk-full", script="Start-TemplateCopy")
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02", "HV03"]))
    outcome = await tsvc.tasks.result(task.id)
    assert outcome["failed_targets"] == ["HV02"]
    hv02 = target_named(tsvc, outcome["template_id"], "HV02")
    assert hv02.progress is TargetProgress.FAILED and "not enough space on the disk" in hv02.last_error.lower()
    assert copies_on(tsvc, "HV02") == [] and vms_named(tsvc, "HV02", "Gold (v1)") == []
    assert target_named(tsvc, outcome["template_id"], "HV03").state is TargetState.READY
    tsvc.lab.set_fault("HV02", None)


async def test_cancel_during_distribution_removes_partial_copies(tsvc):
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV01", "HV02", "HV03"], concurrency=2))
    await wait_for(_copying(tsvc, "Gold"))
    assert tsvc.tasks.cancel(task.id)
    with pytest.raises(CancelledError):
        await tsvc.tasks.result(task.id)
    template = tsvc.templates.find("Gold")
    assert template.state is TemplateState.READY and [v.number for v in template.versions] == [1]
    for target in template.targets:
        host = tsvc.providers.get(target.provider_id).name
        assert target.progress is TargetProgress.FAILED and target.last_error == "Cancelled by the administrator."
        assert [c for c in copies_on(tsvc, host) if not c.imported] == []
        assert vms_named(tsvc, host, "Gold (v1)") == []
    assert tsvc.templates.distribution_running(template.id) is None
    retry = tsvc.templates.redistribute(template.id)          # consistent: it can go on later
    assert (await tsvc.tasks.result(retry.id))["failed_targets"] == []
    assert all(t.state is TargetState.READY for t in tsvc.templates.get(template.id).targets)


async def test_console_killed_during_distribution_marks_targets_interrupted_and_retry_works(tmp_path):
    first = await start_services(tmp_path)
    try:
        task = first.templates.create(plan_for(first, "Gold", targets=["HV02", "HV03"], concurrency=1))
        await wait_for(_copying(first, "Gold"))
        # what a killed console leaves on disk: the farm as committed at that moment
        source, copy = sqlite3.connect(tmp_path / "farm.sqlite"), sqlite3.connect(tmp_path / "killed.sqlite")
        source.backup(copy)
        source.close(), copy.close()
        tid = first.templates.find("Gold").id
    finally:
        await first.close()
    second = await start_services(tmp_path, farm="killed.sqlite")
    try:
        assert task.id in second.interrupted
        assert second.tasks.get(task.id).state is TaskState.INTERRUPTED
        for host in ("HV02", "HV03"):
            target = target_named(second, tid, host)
            assert target.progress is TargetProgress.FAILED and target.last_error == INTERRUPTED
        retry = second.templates.retry_target(tid, provider(second, "HV02").id)
        await second.tasks.result(retry.id)
        assert target_named(second, tid, "HV02").state is TargetState.READY
        again = second.templates.retry(task.id)        # the interrupted creation goes on from version 1
        assert (await second.tasks.result(again.id))["failed_targets"] == []
        assert all(t.state is TargetState.READY and t.version == 1 for t in second.templates.get(tid).targets)
        assert len(vms_named(second, "HV03", "Gold (v1)")) == 1
    finally:
        await second.close()


async def test_entering_maintenance_while_a_distribution_runs_is_refused(tsvc):
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02"], concurrency=1))
    await wait_for(_copying(tsvc, "Gold"))
    template = tsvc.templates.find("Gold")
    with pytest.raises(ValidationError) as info:
        tsvc.templates.enter_maintenance(template.id)
    assert info.value.message == (f"Template 'Gold' is being distributed (task #{task.id}). "
                                  "Wait for it to finish or cancel it.")
    assert tsvc.templates.distribution_running(template.id).id == task.id
    with pytest.raises(ValidationError):
        tsvc.templates.delete(template.id)
    with pytest.raises(ValidationError):
        tsvc.templates.remove_target(template.id, provider(tsvc, "HV02").id)
    await tsvc.tasks.result(task.id)
    assert tsvc.templates.get(template.id).state is TemplateState.READY


async def test_deleting_a_template_that_pools_use_is_refused_naming_them(tsvc):
    outcome = await tsvc.tasks.result(tsvc.templates.create(plan_for(tsvc, "Gold")).id)
    tid = outcome["template_id"]
    add_pool(tsvc, tid, 1, "Sales Pool")
    add_pool(tsvc, tid, 1, "Call Center")
    with pytest.raises(ValidationError) as info:
        tsvc.templates.delete(tid)
    assert "Call Center, Sales Pool" in info.value.message
    assert tsvc.templates.get(tid).state is TemplateState.READY
    assert [t.kind for t in tsvc.tasks.active()] == []


async def test_check_of_a_target_whose_disk_is_full_is_a_failed_row_not_an_error(tsvc):
    """The pre-flight check on a full disk: a failed free-space row (the wizard shows it), no raise."""
    hv01, hv02 = provider(tsvc, "HV01"), provider(tsvc, "HV02")
    gold = vm_of(tsvc, "HV01", "Win11-Gold")
    tsvc.lab.set_fault("HV02", "disk-full")
    rows = await tsvc.templates.check_target(hv01.id, gold.id, hv02.id)
    assert blocking(rows)
    assert any(r.key == "free-space" and r.status is CheckStatus.FAILED for r in rows), rows
