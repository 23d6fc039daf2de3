"""Distribution targets against the lab, where a row could say something the hosts do not: a check that
never ends, a version replaced during a copy, a copy a failed distribution left running, a removal that
fails, an internal error after a copy (the audit of issue #4)."""
import asyncio

import pytest
from template_kit import (  # noqa: F401
    copies_on,
    plan_for,
    provider,
    target_named,
    tsvc_fixture,
    vms_named,
    wait_for,
)

from console.domain.errors import (
    CancelledError,
    ConsoleError,
    UnreachableError,
    ValidationError,
)
from console.domain.templates import (
    TargetProgress,
    TargetState,
    TemplateState,
    TemplateVersion,
)
from console.store import utc_now

pytestmark = pytest.mark.asyncio


async def _gold(services, targets=("HV02",), concurrency: int = 2) -> int:
    plan = plan_for(services, "Gold", targets=targets, concurrency=concurrency)
    return (await services.tasks.result(services.templates.create(plan).id))["template_id"]


def _copying_to(services, template_id: int, host: str):
    def check() -> bool:
        target = target_named(services, template_id, host)
        return target is not None and target.progress is TargetProgress.DISTRIBUTING and target.fraction > 0
    return check


async def test_a_cancelled_or_failing_add_target_check_does_not_leave_the_row_adding(tsvc, monkeypatch):
    tid = await _gold(tsvc)
    hv03 = provider(tsvc, "HV03")
    checking, never = asyncio.Event(), asyncio.Event()

    async def hanging(*args, **kwargs):          # a host that does not answer the check
        checking.set()
        await never.wait()
    monkeypatch.setattr(tsvc.templates, "check_target", hanging)
    task = tsvc.templates.add_target(tid, hv03.id)
    await wait_for(checking.is_set)
    assert target_named(tsvc, tid, "HV03").progress is TargetProgress.ADDING
    assert tsvc.tasks.cancel(task.id)
    with pytest.raises(CancelledError):
        await tsvc.tasks.result(task.id)
    assert target_named(tsvc, tid, "HV03") is None                     # not added

    async def broken(*args, **kwargs):
        raise ConsoleError("The source VM is gone.")
    monkeypatch.setattr(tsvc.templates, "check_target", broken)
    with pytest.raises(ConsoleError):
        await tsvc.tasks.result(tsvc.templates.add_target(tid, hv03.id).id)
    assert target_named(tsvc, tid, "HV03") is None


async def test_no_target_added_while_a_version_is_being_replaced(tsvc):
    tid = await _gold(tsvc)
    hv03 = provider(tsvc, "HV03")
    await tsvc.tasks.result(tsvc.templates.enter_maintenance(tid).id)
    with pytest.raises(ValidationError) as info:
        tsvc.templates.add_target(tid, hv03.id)
    assert info.value.message == "Template 'Gold' is in maintenance." and info.value.field == "template"
    leave = tsvc.templates.leave_maintenance(tid, new_version=True)
    # ready at version 2 while the same task still distributes it: still no new target
    await wait_for(lambda: tsvc.templates.get(tid).state is TemplateState.READY)
    assert tsvc.tasks.get(leave.id).state.value in ("queued", "running")
    with pytest.raises(ValidationError) as info:
        tsvc.templates.add_target(tid, hv03.id)
    assert f"task #{leave.id}" in info.value.message
    await tsvc.tasks.result(leave.id)
    assert target_named(tsvc, tid, "HV03") is None


async def test_a_copy_overtaken_by_a_newer_version_is_not_ready(tsvc):
    tid = await _gold(tsvc)
    task = tsvc.templates.add_target(tid, provider(tsvc, "HV03").id)
    await wait_for(_copying_to(tsvc, tid, "HV03"))
    tsvc.store.templates.add_version(TemplateVersion(tid, 2, utc_now(), notes="made meanwhile"))
    await tsvc.tasks.result(task.id)
    hv03 = target_named(tsvc, tid, "HV03")
    assert (hv03.state, hv03.progress, hv03.version) == (TargetState.NEEDS_UPDATE, TargetProgress.OK, 1)


async def test_removing_a_target_stops_the_copy_a_failed_distribution_left(tsvc):
    tsvc.lab.arm_fault("HV03", "offline", script="Start-TemplateCopy")      # halfway through its copy
    tid = await _gold(tsvc, targets=("HV02", "HV03"))
    hv03 = target_named(tsvc, tid, "HV03")
    assert hv03.progress is TargetProgress.FAILED and not hv03.folder
    tsvc.lab.set_fault("HV03", None)
    assert copies_on(tsvc, "HV03") != []                 # what the host kept of the copy
    await tsvc.tasks.result(tsvc.templates.remove_target(tid, provider(tsvc, "HV03").id).id)
    assert target_named(tsvc, tid, "HV03") is None and copies_on(tsvc, "HV03") == []


async def test_deleting_a_template_stops_the_copy_a_failed_distribution_left(tsvc):
    tsvc.lab.arm_fault("HV03", "offline", script="Start-TemplateCopy")
    tid = await _gold(tsvc, targets=("HV03",))
    tsvc.lab.set_fault("HV03", None)
    assert copies_on(tsvc, "HV03") != []
    outcome = await tsvc.tasks.result(tsvc.templates.delete(tid).id)
    assert outcome["left_over"] == [] and copies_on(tsvc, "HV03") == []


async def test_a_failed_removal_keeps_a_ready_target_ready(tsvc):
    tid = await _gold(tsvc)
    tsvc.lab.set_fault("HV02", "offline")
    with pytest.raises(UnreachableError):
        await tsvc.tasks.result(tsvc.templates.remove_target(tid, provider(tsvc, "HV02").id).id)
    hv02 = target_named(tsvc, tid, "HV02")
    assert (hv02.state, hv02.progress, hv02.version) == (TargetState.READY, TargetProgress.FAILED, 1)
    assert hv02.last_error
    tsvc.lab.set_fault("HV02", None)


async def test_an_internal_error_after_the_copy_removes_the_partial_copy(tsvc, monkeypatch):
    adapter = await tsvc.templates._adapter(provider(tsvc, "HV02"))

    async def buggy(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(adapter, "import_template", buggy)
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02", "HV03"]))
    outcome = await tsvc.tasks.result(task.id)
    assert outcome["failed_targets"] == ["HV02"]
    hv02 = target_named(tsvc, outcome["template_id"], "HV02")
    assert hv02.progress is TargetProgress.FAILED and hv02.last_error.startswith("Internal error (RuntimeError)")
    assert copies_on(tsvc, "HV02") == [] and vms_named(tsvc, "HV02", "Gold (v1)") == []
    assert target_named(tsvc, outcome["template_id"], "HV03").state is TargetState.READY
