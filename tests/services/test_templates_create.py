"""Creating templates against the lab (real Hyper-V adapter over pywinrm): validation, version 1,
distribution, the checks the wizard runs."""
import pytest
from template_kit import (  # noqa: F401
    checkpoints_of,
    copies_on,
    plan_for,
    provider,
    target_named,
    tsvc_fixture,
    vm_of,
    vms_named,
)

from console.domain.errors import PrerequisiteError, ValidationError
from console.domain.inventory import PowerState
from console.domain.prerequisites import CheckStatus, blocking
from console.domain.tasks import TaskState
from console.domain.templates import TargetProgress, TargetState, TemplateState
from console.services.events import (
    DistributionTargetChanged,
    TemplateAdded,
    TemplateRemoved,
)

pytestmark = pytest.mark.asyncio


async def test_create_without_distribution_makes_version_1(tsvc):
    events = []
    tsvc.bus.subscribe(events.append)
    task = tsvc.templates.create(plan_for(tsvc, "Win11 Base", description="Office image"))
    outcome = await tsvc.tasks.result(task.id)
    template = tsvc.templates.get(outcome["template_id"])
    assert template.state is TemplateState.READY and template.description == "Office image"
    assert [v.number for v in tsvc.templates.versions(template.id)] == [1]
    assert template.versions[0].snapshot_id and template.versions[0].size_bytes > 20 * 1024 ** 3
    assert checkpoints_of(tsvc, "HV01", "Win11-Gold") == ["VDI template Win11 Base v1"]
    assert task.name == "Create template 'Win11 Base'" and task.target == "HV01 / Win11-Gold"
    assert outcome["failed_targets"] == []
    assert any(isinstance(e, TemplateAdded) and e.template.name == "Win11 Base" for e in events)
    assert tsvc.templates.find("win11 base").id == template.id
    assert tsvc.templates.find(str(template.id)).name == "Win11 Base"


async def test_a_name_already_used_is_refused(tsvc):
    await tsvc.tasks.result(tsvc.templates.create(plan_for(tsvc, "Gold")).id)
    for name in ("Gold", "gOLD", " gold "):
        with pytest.raises(ValidationError) as info:
            tsvc.templates.validate_name(name)
        assert info.value.field == "name" and "already exists" in info.value.message
        with pytest.raises(ValidationError):
            tsvc.templates.create(plan_for(tsvc, name, host="HV03", vm_name="Win11-Test"))
    with pytest.raises(ValidationError) as info:
        tsvc.templates.validate_name("bad/name")
    assert info.value.field == "name"
    assert [t.name for t in tsvc.templates.list()] == ["Gold"]


async def test_a_running_source_needs_consent(tsvc):
    running = vm_of(tsvc, "HV01", "RDSH-2022")
    assert running.state is PowerState.RUNNING
    with pytest.raises(ValidationError) as info:
        tsvc.templates.create(plan_for(tsvc, "RDSH", vm_name="RDSH-2022"))
    assert info.value.field == "shutdown_consent"
    assert "is running" in info.value.message and "shut it down yourself" in info.value.message
    assert tsvc.templates.list() == []
    task = tsvc.templates.create(plan_for(tsvc, "RDSH", vm_name="RDSH-2022", shutdown_consent=True))
    await tsvc.tasks.result(task.id)
    with tsvc.lab.world.lock:
        assert vms_named(tsvc, "HV01", "RDSH-2022")[0].state == "Off"
    assert tsvc.templates.find("RDSH").state is TemplateState.READY


async def test_source_check_reports_state_and_missing_services(tsvc):
    hv01 = provider(tsvc, "HV01")
    gold = await tsvc.templates.source_check(hv01.id, vm_of(tsvc, "HV01", "Win11-Gold").id)
    assert not gold.running and gold.missing_services == [] and gold.problems == []
    assert gold.distribution_possible and gold.why_not_distribution == ""
    appliance = await tsvc.templates.source_check(hv01.id, vm_of(tsvc, "HV01", "Appliance-Firewall").id)
    assert appliance.running
    assert set(appliance.missing_services) >= {"Heartbeat", "Shutdown"}
    assert any("The Shutdown integration service is disabled: the console cannot shut the guest down." == p
               for p in appliance.problems)
    reasons = {p.name: why for p, why in tsvc.templates.available_targets(hv01.id)}
    assert reasons["HV01"] == reasons["HV02"] == reasons["HV04"] == ""
    assert reasons["NTNX-PE-01"] == "Not a standalone Hyper-V host (Nutanix AHV (Prism Element))."


async def test_check_target_rows(tsvc):
    hv01, vm = provider(tsvc, "HV01"), vm_of(tsvc, "HV01", "Win11-Gold")
    good = await tsvc.templates.check_target(hv01.id, vm.id, provider(tsvc, "HV02").id)
    assert not blocking(good), [r for r in good if r.status is CheckStatus.FAILED]
    bad = await tsvc.templates.check_target(hv01.id, vm.id, provider(tsvc, "HV04").id)
    failed = {r.key for r in bad if r.status is CheckStatus.FAILED}
    assert {"domain", "live-migration"} <= failed and all(r.fix for r in bad if r.status is CheckStatus.FAILED)
    tsvc.lab.set_fault("HV03", "offline")
    offline = await tsvc.templates.check_target(hv01.id, vm.id, provider(tsvc, "HV03").id)
    assert [(r.key, r.status) for r in offline] == [("reachable", CheckStatus.FAILED)]
    nutanix = await tsvc.templates.check_target(hv01.id, vm.id, provider(tsvc, "NTNX-PE-01").id)
    assert blocking(nutanix)


async def test_create_distributes_version_1_to_every_target(tsvc):
    changes = []
    tsvc.bus.subscribe(lambda e: changes.append(e) if isinstance(e, DistributionTargetChanged) else None)
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV01", "HV02", "HV03"], concurrency=2))
    outcome = await tsvc.tasks.result(task.id)
    assert outcome["failed_targets"] == []
    template = tsvc.templates.get(outcome["template_id"])
    assert template.distribution_enabled and len(template.targets) == 3
    for host in ("HV01", "HV02", "HV03"):
        target = target_named(tsvc, template.id, host)
        assert (target.state, target.progress, target.version) == (TargetState.READY, TargetProgress.OK, 1)
        assert target.folder == "D:\\Hyper-V\\VDI-Templates\\Gold-v1" and target.fraction == 1.0
        [copy_vm] = vms_named(tsvc, host, "Gold (v1)")
        assert copy_vm.id == target.vm_id and copy_vm.state == "Off"
    progress = {e.target.progress for e in changes}
    assert {TargetProgress.DISTRIBUTING, TargetProgress.OK} <= progress
    assert any(0 < e.target.fraction < 1 for e in changes)           # the copy's progress is published
    assert tsvc.templates.distribution_running(template.id) is None


async def test_create_with_a_failing_target_is_refused_with_its_rows(tsvc):
    events = []
    tsvc.bus.subscribe(events.append)
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02", "HV04"]))
    with pytest.raises(PrerequisiteError) as info:
        await tsvc.tasks.result(task.id)
    assert "HV04" in info.value.message and "Joined to the same domain" in info.value.message
    assert "HV02" not in info.value.message
    assert tsvc.templates.list() == [] and checkpoints_of(tsvc, "HV01", "Win11-Gold") == []
    assert copies_on(tsvc, "HV02") == []
    assert any(isinstance(e, TemplateRemoved) for e in events)
    assert tsvc.tasks.get(task.id).state is TaskState.FAILED
    lines = [line.text for line in tsvc.tasks.log_lines(task.id)]
    assert any(line.startswith("HV04: Joined to the same domain") for line in lines)


async def test_targets_need_distribution_on_a_hyperv_source(tsvc):
    plan = plan_for(tsvc, "Gold", targets=["HV02"])
    plan.distribution_enabled = False
    with pytest.raises(ValidationError) as info:
        tsvc.templates.create(plan)
    assert info.value.field == "targets"
    with pytest.raises(ValidationError) as info:
        tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02", "NTNX-PE-01"]))
    assert info.value.field == "targets" and "Not a standalone Hyper-V host" in info.value.message
    assert tsvc.templates.list() == []


async def test_the_task_shows_each_targets_own_progress(tsvc):
    """The tasks dock shows the task's progress text: once the copies run it names each target."""
    from console.services.events import TaskChanged
    texts = []
    tsvc.bus.subscribe(lambda e: texts.append(e.task.progress_text) if isinstance(e, TaskChanged) else None)
    task = tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02", "HV03"], concurrency=1))
    await tsvc.tasks.result(task.id)
    copying = [t for t in texts if "%" in t and "HV0" in t]
    assert copying, texts
    assert any("waiting" in t for t in copying)          # concurrency 1: the other target waits
    assert any("1 ready" in t for t in texts)            # the first done while the second copies
