"""Creating and keeping templates against the lab: the source's state read when it matters, one template
per source VM, the join password never left behind, sizes measured, templates a killed console left
half-made, the concurrency limit, pools using a template (the audit of issue #4)."""
import time

import pytest
from template_kit import (  # noqa: F401
    add_pool,
    plan_for,
    provider,
    tsvc_fixture,
    vm_of,
    vms_named,
)

from console.domain.errors import ValidationError
from console.domain.inventory import PowerState
from console.domain.templates import (
    MAX_CONCURRENT_DISTRIBUTION,
    Template,
    TemplateState,
    TemplateVersion,
)
from console.services.events import TemplateRemoved
from console.services.template_support import secret_key
from console.store import utc_now

pytestmark = pytest.mark.asyncio
GiB = 1024 ** 3


def _set_state(services, host: str, vm_name: str, state: str) -> None:
    """What happens on the host behind the console's back (a guest shut down, an admin starting it)."""
    with services.lab.world.lock:
        vm = vms_named(services, host, vm_name)[0]
        vm.state, vm.started_at = state, (time.time() if state == "Running" else None)


async def test_create_validates_against_the_state_the_source_check_read(tsvc):
    """The inventory says running (refreshed earlier); the guest was shut down since and the Source
    page's live check says off: Finish must not be refused for want of a shutdown consent."""
    hv01, rdsh = provider(tsvc, "HV01"), vm_of(tsvc, "HV01", "RDSH-2022")
    assert rdsh.state is PowerState.RUNNING
    _set_state(tsvc, "HV01", "RDSH-2022", "Off")
    check = await tsvc.templates.source_check(hv01.id, rdsh.id)
    assert not check.running and check.vm.state is PowerState.OFF
    task = tsvc.templates.create(plan_for(tsvc, "RDSH", vm_name="RDSH-2022"))     # no shutdown consent
    outcome = await tsvc.tasks.result(task.id)
    assert tsvc.templates.get(outcome["template_id"]).state is TemplateState.READY
    assert vm_of(tsvc, "HV01", "RDSH-2022").state is PowerState.OFF


async def test_the_task_reads_the_source_state_when_it_runs(tsvc):
    """Off when the wizard finished, started before the task ran: shut down with consent, refused
    (nothing made) without it."""
    task = tsvc.templates.create(plan_for(tsvc, "Gold", shutdown_consent=True))
    _set_state(tsvc, "HV01", "Win11-Gold", "Running")              # before the task has run at all
    outcome = await tsvc.tasks.result(task.id)
    assert tsvc.templates.get(outcome["template_id"]).state is TemplateState.READY
    assert vms_named(tsvc, "HV01", "Win11-Gold")[0].state == "Off"

    task = tsvc.templates.create(plan_for(tsvc, "Test", host="HV03", vm_name="Win11-Test"))
    _set_state(tsvc, "HV03", "Win11-Test", "Running")
    with pytest.raises(ValidationError) as info:
        await tsvc.tasks.result(task.id)
    assert info.value.field == "shutdown_consent" and "VM 'Win11-Test' is running" in info.value.message
    assert [t.name for t in tsvc.templates.list()] == ["Gold"]
    assert vms_named(tsvc, "HV03", "Win11-Test")[0].state == "Running"


async def test_a_vm_is_the_source_of_one_template_only(tsvc):
    await tsvc.tasks.result(tsvc.templates.create(plan_for(tsvc, "Gold")).id)
    with pytest.raises(ValidationError) as info:
        tsvc.templates.create(plan_for(tsvc, "Gold again"))
    assert info.value.field == "vm_id"
    assert info.value.message == "VM 'Win11-Gold' is already the source of template 'Gold'."
    assert [t.name for t in tsvc.templates.list()] == ["Gold"]


async def test_a_create_failing_before_its_task_leaves_no_join_password(tsvc, monkeypatch):
    keys = []
    original = tsvc.secrets.set

    def remembering(key, *args, **kwargs):
        keys.append(key)
        original(key, *args, **kwargs)
    monkeypatch.setattr(tsvc.secrets, "set", remembering)

    def broken(target):
        raise OSError("disk I/O error")
    monkeypatch.setattr(tsvc.store.templates, "save_target", broken)
    plan = plan_for(tsvc, "Gold", targets=["HV02"])
    plan.preparation.domain, plan.preparation.join_account = "corp.example.com", "CORP\\svc-join"
    plan.join_password = "J0in-Secr3t!"
    with pytest.raises(OSError):
        tsvc.templates.create(plan)
    assert len(keys) == 1 and keys[0].startswith("template:")         # it was saved, then taken back
    assert tsvc.secrets.get(keys[0]) is None
    assert tsvc.templates.list() == []


async def test_concurrency_limit_is_the_shared_constant(tsvc):
    from console.ui.template_wizard.state import CONCURRENCY_RANGE
    assert MAX_CONCURRENT_DISTRIBUTION == 16 and CONCURRENCY_RANGE == (1, MAX_CONCURRENT_DISTRIBUTION)
    with pytest.raises(ValidationError) as info:
        tsvc.templates.create(plan_for(tsvc, "Gold", targets=["HV02"], concurrency=17))
    assert info.value.field == "concurrent_distribution" and "between 1 and 16" in info.value.message
    assert tsvc.templates.list() == []


async def test_pools_using_a_template_through_the_service(tsvc):
    tid = (await tsvc.tasks.result(tsvc.templates.create(plan_for(tsvc, "Gold")).id))["template_id"]
    assert tsvc.templates.pool_names_using(tid) == []
    add_pool(tsvc, tid, 1, "Sales Pool")
    assert tsvc.templates.pool_names_using(tid) == ["Sales Pool"]
    assert tsvc.templates.pool_names_using(tid, 1) == ["Sales Pool"]
    assert tsvc.templates.pool_names_using(tid, 2) == []


async def test_a_new_version_has_its_own_measured_size(tsvc):
    tid = (await tsvc.tasks.result(tsvc.templates.create(plan_for(tsvc, "Gold")).id))["template_id"]
    await tsvc.tasks.result(tsvc.templates.enter_maintenance(tid).id)
    with tsvc.lab.world.lock:                   # the patches written inside the guest
        vms_named(tsvc, "HV01", "Win11-Gold")[0].disks[0].file_bytes += 5 * GiB
    await tsvc.tasks.result(tsvc.templates.leave_maintenance(tid, new_version=True).id)
    v1, v2 = tsvc.templates.versions(tid)
    assert v1.size_bytes > 20 * GiB
    assert v2.size_bytes >= v1.size_bytes + 5 * GiB


async def test_start_up_settles_templates_a_killed_console_left_creating(tsvc):
    events = []
    tsvc.bus.subscribe(events.append)
    hv01 = provider(tsvc, "HV01")
    gold = (await tsvc.tasks.result(tsvc.templates.create(plan_for(tsvc, "Gold")).id))["template_id"]
    farm = tsvc.store.templates
    half = farm.add(Template(None, "Half", hv01.id, vm_of(tsvc, "HV01", "RDSH-2022").id,
                             state=TemplateState.CREATING, created=utc_now()))
    tsvc.secrets.set(secret_key(half.id), "J0in-Secr3t!", persist=False)
    made = farm.add(Template(None, "Made", hv01.id, vm_of(tsvc, "HV01", "Win10-Office").id,
                             state=TemplateState.CREATING, created=utc_now()))
    farm.add_version(TemplateVersion(made.id, 1, utc_now(), notes="First version", snapshot_id=""))
    going = tsvc.templates.get(gold)
    going.state = TemplateState.DELETING
    farm.update(going)

    tsvc.templates.mark_interrupted()
    assert farm.find_by_name("Half") is None and tsvc.secrets.get(secret_key(half.id)) is None
    assert any(isinstance(e, TemplateRemoved) and e.template_id == half.id for e in events)
    assert tsvc.templates.get(made.id).state is TemplateState.READY
    assert tsvc.templates.get(gold).state is TemplateState.DELETING
    outcome = await tsvc.tasks.result(tsvc.templates.delete(gold).id)      # deleting again finishes it
    assert outcome["left_over"] == [] and farm.find_by_name("Gold") is None


async def test_source_check_says_whether_the_guest_could_be_asked(tsvc):
    """Enabled integration services are the host's switch; a guest answers only while it runs."""
    hv01 = provider(tsvc, "HV01")
    off = await tsvc.templates.source_check(hv01.id, vm_of(tsvc, "HV01", "Win11-Gold").id)
    assert not off.services_checked and off.missing_services == []
    running = await tsvc.templates.source_check(hv01.id, vm_of(tsvc, "HV01", "Win11-Pool-01").id)
    assert running.services_checked and running.missing_services == [] and running.running
    agentless = await tsvc.templates.source_check(hv01.id, vm_of(tsvc, "HV01", "Appliance-Firewall").id)
    assert "Shutdown" in agentless.missing_services
    assert any("cannot shut the guest down" in p for p in agentless.problems)
