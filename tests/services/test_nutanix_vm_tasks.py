"""Snapshot, clone (full and from a snapshot), delete, power and retry as tasks on Nutanix providers,
against the Prism lab over real HTTPS, with the events the tree follows."""
import pytest
from nutanix_service_kit import PC, PE, add_prism, prism_settings, vms_of, wait_for

from console.adapters.nutanix import make_nutanix_adapter, request_uuid
from console.domain.errors import CancelledError, NotFoundError, ValidationError
from console.domain.inventory import PowerAction, PowerState
from console.domain.tasks import TaskState
from console.services.events import VMChanged, VMRemoved

pytestmark = pytest.mark.asyncio


def events_of(services, kind):
    seen = []
    services.bus.subscribe(lambda e: seen.append(e) if isinstance(e, kind) else None)
    return seen


@pytest.mark.parametrize("name", [PE, PC])
async def test_snapshot_clone_from_it_full_clone_and_delete(prism_services, prism, name):
    provider, vms = await add_prism(prism_services, prism, name)
    source = vms["Win11-VDI-003"]
    changed, removed = events_of(prism_services, VMChanged), events_of(prism_services, VMRemoved)

    snap_task = prism_services.providers.snapshot(provider.id, source.id, 'Before "patch" Ä')
    assert snap_task.name == "Snapshot VM 'Win11-VDI-003'" and snap_task.target == f"{name} / Win11-VDI-003"
    snap_id = (await prism_services.tasks.result(snap_task.id))["snapshot_id"]
    journal = prism_services.store.tasks.get(snap_task.id).result
    assert journal["params"]["name"] == 'Before "patch" Ä' and journal["request_id"]
    listed = await prism_services.providers.snapshots(provider.id, source.id)
    assert [(s.id, s.name, s.vm_id) for s in listed][-1] == (snap_id, 'Before "patch" Ä', source.id)

    thin = prism_services.providers.clone(provider.id, source.id, "VDI-Thin-01", snapshot_id=snap_id)
    full = prism_services.providers.clone(provider.id, source.id, "VDI-Full-01")
    assert thin.name == "Clone VM 'Win11-VDI-003' to 'VDI-Thin-01'"
    made = [await prism_services.tasks.result(t.id) for t in (thin, full)]
    assert {m["vm"] for m in made} == {"VDI-Thin-01", "VDI-Full-01"}
    assert {e.vm.name for e in changed} == {"VDI-Thin-01", "VDI-Full-01"}      # new VMs for the tree
    clone_vm = next(e.vm for e in changed if e.vm.name == "VDI-Full-01")
    assert clone_vm.cluster == "NTNX-PE-01" and clone_vm.host == "" and clone_vm.state is PowerState.OFF
    assert vms_of(prism_services, provider.id)["VDI-Full-01"].id == clone_vm.id   # in the last inventory

    delete = prism_services.providers.delete_vm(provider.id, clone_vm.id)
    assert delete.name == "Delete VM 'VDI-Full-01'"
    assert (await prism_services.tasks.result(delete.id))["deleted"] is True
    assert [(e.provider_id, e.vm_id) for e in removed] == [(provider.id, clone_vm.id)]
    assert "VDI-Full-01" not in vms_of(prism_services, provider.id)
    [refresh] = prism_services.providers.refresh(provider.id)
    await prism_services.tasks.result(refresh.id)
    now = vms_of(prism_services, provider.id)
    assert "VDI-Full-01" not in now and now["VDI-Thin-01"].id == made[0]["vm_id"]


async def test_power_through_prism_moves_the_vm_under_its_host(prism_services, prism):
    provider, vms = await add_prism(prism_services, prism, PC)
    vm = vms["Win11-VDI-003"]
    assert vm.state is PowerState.OFF and vm.host == ""
    task = prism_services.providers.power(provider.id, vm.id, PowerAction.START)
    assert task.name == "Start VM 'Win11-VDI-003'"
    outcome = await prism_services.tasks.result(task.id)
    assert outcome["state"] == "Running" and outcome["host"]
    inventory = prism_services.providers.inventory(provider.id)
    [where] = [h for h in inventory.hosts for v in h.vms if v.id == vm.id]
    assert where.name == outcome["host"] and where.cluster == "NTNX-PE-01"


async def test_clone_failing_at_60_percent_removes_the_partial_vm_then_retry_makes_it(prism_services, prism):
    provider, vms = await add_prism(prism_services, prism, PE)
    source = vms["Win11-Gold"]
    prism.set_fault(PE, "clone-fails-60")
    task = prism_services.providers.clone(provider.id, source.id, "VDI-Broken-01")
    with pytest.raises(Exception) as info:
        await prism_services.tasks.result(task.id)
    row = prism_services.store.tasks.get(task.id)
    assert row.state is TaskState.FAILED and "(at 60%)" in row.error
    assert "The partial VM 'VDI-Broken-01' was deleted." in info.value.message
    assert row.cleanup and all(u.done for u in row.cleanup)          # nothing left to clean up
    [refresh] = prism_services.providers.refresh(provider.id)
    await prism_services.tasks.result(refresh.id)
    assert "VDI-Broken-01" not in vms_of(prism_services, provider.id)

    prism.set_fault(PE, None)
    retry = prism_services.providers.retry(task.id)
    assert retry.id != task.id and retry.name == task.name and retry.kind == "vm-clone"
    request_id = row.result["request_id"]
    assert prism_services.store.tasks.get(retry.id).result["request_id"] == request_id
    outcome = await prism_services.tasks.result(retry.id)
    assert outcome["retry_of"] == task.id and outcome["request_id"] == request_id
    assert outcome["vm_id"] == request_uuid("clone", source.id, "", "VDI-Broken-01", request_id)
    with pytest.raises(ValidationError, match="only a failed, cancelled or interrupted task"):
        prism_services.providers.retry(retry.id)


async def test_retry_of_a_clone_prism_finished_finds_its_vm(prism_services, prism):
    """The console cancelled the clone while Prism kept making it: the retry finds that VM."""
    provider, vms = await add_prism(prism_services, prism, PE)
    source = vms["Win11-Gold"]
    prism.set_fault(PE, "slow")                    # time to cancel while Prism works
    task = prism_services.providers.clone(provider.id, source.id, "VDI-Once-01")
    live = prism_services.tasks.get(task.id)
    await wait_for(lambda: live.progress >= 0.1)   # Prism's task is running
    prism_services.tasks.cancel(task.id)
    with pytest.raises(CancelledError):
        await prism_services.tasks.result(task.id)
    planned = request_uuid("clone", source.id, "", "VDI-Once-01", live.result["request_id"])
    await wait_for(lambda: prism.world.find_vm(planned) is not None, timeout=15)
    prism.set_fault(PE, None)

    retry = prism_services.providers.retry(task.id)
    assert prism_services.providers.retry(task.id).id == retry.id     # asked twice: one retry runs
    outcome = await prism_services.tasks.result(retry.id)
    assert outcome["vm_id"] == planned
    assert any("exists already" in line.text for line in prism_services.tasks.log_lines(retry.id))
    [refresh] = prism_services.providers.refresh(provider.id)
    await prism_services.tasks.result(refresh.id)
    inventory = prism_services.providers.inventory(provider.id)
    assert [v.id for h in inventory.hosts for v in h.vms if v.name == "VDI-Once-01"] == [planned]


@pytest.mark.parametrize("action", ["power", "snapshot", "clone"])
async def test_vm_deleted_by_someone_else_between_list_and_action(prism_services, prism, action):
    provider, vms = await add_prism(prism_services, prism, PC)
    victim = vms["Win11-VDI-003"]
    other = make_nutanix_adapter(prism_settings(prism, PE), prism.password, poll_interval=0.02)
    try:
        await other.delete(victim.id)               # someone else, through Prism Element
    finally:
        await other.close()
    task = {"power": lambda: prism_services.providers.power(provider.id, victim.id, PowerAction.START),
            "snapshot": lambda: prism_services.providers.snapshot(provider.id, victim.id, "s"),
            "clone": lambda: prism_services.providers.clone(provider.id, victim.id, "c")}[action]()
    with pytest.raises(NotFoundError) as info:
        await prism_services.tasks.result(task.id)
    assert info.value.message.startswith("The VM was deleted by someone else: Prism Central at 127.0.0.1")
    assert prism_services.tasks.get(task.id).error.startswith("The VM was deleted by someone else")


async def test_deleting_a_vm_already_gone_succeeds(prism_services, prism):
    provider, vms = await add_prism(prism_services, prism, PE)
    gone = vms["Win11-Test"]
    other = make_nutanix_adapter(prism_settings(prism, PE), prism.password, poll_interval=0.02)
    try:
        await other.delete(gone.id)
    finally:
        await other.close()
    removed = events_of(prism_services, VMRemoved)
    task = prism_services.providers.delete_vm(provider.id, gone.id)
    assert (await prism_services.tasks.result(task.id))["deleted"] is True
    assert any("already deleted" in line.text for line in prism_services.tasks.log_lines(task.id))
    assert [e.vm_id for e in removed] == [gone.id]
    assert "Win11-Test" not in vms_of(prism_services, provider.id)


async def test_retry_refuses_what_it_cannot_rerun(prism_services, prism):
    provider, vms = await add_prism(prism_services, prism, PE)
    [refresh] = prism_services.tasks.recent()[-1:]
    assert refresh.kind == "refresh"
    with pytest.raises(ValidationError, match=r"\(Refresh NTNX-PE-01\) cannot be retried"):
        prism_services.providers.retry(refresh.id)
    with pytest.raises(NotFoundError, match="There is no task 999"):
        prism_services.providers.retry(999)
    with pytest.raises(NotFoundError, match="is not in the inventory"):
        prism_services.providers.clone(provider.id, "9844af5d-101b-40ea-a125-8bf1a02f888b", "x")
