"""Both provider kinds end to end against the Prism lab over HTTPS with a pinned certificate: check,
inventory, power, snapshot, full clone, clone from snapshot, delete; idempotent retries; odd names."""
from __future__ import annotations

import asyncio

import pytest
from nutanix_kit import PC, PE

from console.domain.errors import ConflictError, InvalidStateError, NotFoundError
from console.domain.inventory import PowerAction, PowerState
from console.lab.prism import ODD_NAME

pytestmark = pytest.mark.asyncio
BOTH = pytest.mark.parametrize("name", [PE, PC])


def vms_of(inventory):
    return {vm.name: vm for host in inventory.hosts for vm in host.vms}


@BOTH
async def test_check_names_the_kind_version_and_hosts(connect, reporter, name):
    result = await connect(name).check(reporter)
    if name == PE:
        assert result.endpoint_kind == "nutanix-pe" and result.version == "AOS 5.20.4.6 (cluster NTNX-PE-01)"
        assert [h.computer_name for h in result.hosts] == ["NTNX-PE-01-A", "NTNX-PE-01-B", "NTNX-PE-01-C"]
    else:
        assert result.endpoint_kind == "nutanix-pc"
        assert result.version == "Prism Central pc.2022.6.0.6; clusters: NTNX-PE-01, NTNX-PE-02"
        assert len(result.hosts) == 6 and result.hosts[-1].computer_name == "NTNX-PE-02-C"
    facts = result.hosts[0]
    assert facts.hyperv_version == "20220304.342" and facts.memory_bytes == 768 * 1024 ** 3
    assert facts.logical_processors >= 40 and facts.domain == "" and facts.switches == []
    assert reporter.progress_calls[-1][0] == 1.0


@BOTH
async def test_inventory_has_clusters_hosts_and_vms(connect, name):
    inventory = await connect(name).inventory()
    clusters = {h.cluster for h in inventory.hosts}
    assert clusters == ({"NTNX-PE-01"} if name == PE else {"NTNX-PE-01", "NTNX-PE-02"})   # no PC pseudo
    vms = vms_of(inventory)
    assert len(vms) == (12 if name == PE else 24)
    gold, running = vms["Win11-Gold"], vms["Win11-VDI-001"]
    assert (gold.state, gold.host, gold.cluster) == (PowerState.OFF, "", "NTNX-PE-01")
    assert running.state is PowerState.RUNNING and running.host.startswith("NTNX-PE-01-")
    assert gold.cpu_count == 4 and gold.memory_bytes == 8 * 1024 ** 3
    assert [d.size_bytes for d in vms["SQL-VDI-01"].disks] == [g * 1024 ** 3 for g in (100, 200, 50)]
    assert vms["SQL-VDI-01"].nics == ["Servers-VLAN30"] and gold.switch == "VDI-VLAN120"
    assert vms[ODD_NAME].name == ODD_NAME                       # quotes and non-ASCII kept as they are
    assert vms["Win11-Test"].state is PowerState.PAUSED
    for host in inventory.hosts:                               # VMs sit under the host they run on
        assert all(vm.host == host.name and vm.cluster == host.cluster for vm in host.vms)


@BOTH
async def test_power_actions_follow_prism_tasks(connect, reporter, requests_sent, name):
    adapter = connect(name)
    vm = vms_of(await adapter.inventory())["Win11-VDI-003"]
    started = await adapter.power(vm.id, PowerAction.START, reporter)
    assert started.state is PowerState.RUNNING and started.host.startswith("NTNX-PE-01-")
    # the progress came from the Prism task's own percentage, rising, ending at 100 %
    task_steps = [f for f, text in reporter.progress_calls if text.endswith("%")]
    assert task_steps and task_steps == sorted(task_steps) and reporter.progress_calls[-1][0] == 1.0
    assert (await adapter.power(vm.id, PowerAction.RESTART)).state is PowerState.RUNNING
    assert (await adapter.power(vm.id, PowerAction.SHUTDOWN)).state is PowerState.OFF
    before = len(requests_sent.requests)
    again = await adapter.power(vm.id, PowerAction.STOP, reporter)         # already off: nothing sent
    assert again.state is PowerState.OFF and "already Off" in reporter.text
    assert all(m == "GET" for m, _, _ in requests_sent.requests[before:])
    with pytest.raises(InvalidStateError, match="only a running VM can be restarted"):
        await adapter.power(vm.id, PowerAction.RESTART)
    await adapter.power(vm.id, PowerAction.START)
    assert (await adapter.power(vm.id, PowerAction.STOP)).state is PowerState.OFF


@BOTH
async def test_snapshot_clones_and_delete_are_idempotent(connect, reporter, requests_sent, name):
    adapter = connect(name)
    vm = vms_of(await adapter.inventory())["Win11-Gold"]
    snap = await adapter.snapshot(vm.id, "Before patch 2024-06", reporter)
    assert await adapter.snapshot(vm.id, "Before patch 2024-06", reporter) == snap    # the retry finds it
    posts = requests_sent.count("POST", "snapshot")
    assert posts == 1

    full = await adapter.clone(vm.id, "VDI-Full-001", reporter=reporter)
    assert (full.name, full.state, full.cluster) == ("VDI-Full-001", PowerState.OFF, "NTNX-PE-01")
    retried = await adapter.clone(vm.id, "VDI-Full-001", reporter=reporter)
    assert retried.id == full.id and "made by an earlier try" in reporter.text
    thin = await adapter.clone(vm.id, "VDI-Thin-001", snapshot_id=snap)
    assert thin.name == "VDI-Thin-001" and thin.id not in (full.id, vm.id)
    assert requests_sent.count("POST", "/clone") + requests_sent.count("POST", "/restore") == 2
    assert not reporter.cleanup                                # nothing left for a cleanup list

    names = vms_of(await adapter.inventory())
    assert names["VDI-Full-001"].id == full.id and names["VDI-Thin-001"].id == thin.id
    assert len([n for n in names if n.startswith("VDI-Full-001")]) == 1    # one VM, not two

    await adapter.delete(full.id, reporter)
    await adapter.delete(thin.id)
    await adapter.delete(full.id, reporter)                     # already gone: success with a line
    assert f"VM {full.id} does not exist (already deleted): nothing to do." in reporter.text
    assert {"VDI-Full-001", "VDI-Thin-001"}.isdisjoint(vms_of(await adapter.inventory()))


@BOTH
async def test_a_vm_name_with_quotes_and_non_ascii_letters(connect, name):
    adapter = connect(name)
    odd = vms_of(await adapter.inventory())[ODD_NAME]
    clone_name = 'Klon "Ärzte" 東京 #1 \'x\'; $(rm -rf)'
    clone = await adapter.clone(odd.id, clone_name)
    assert clone.name == clone_name
    assert vms_of(await adapter.inventory())[clone_name].id == clone.id
    assert (await adapter.power(odd.id, PowerAction.SHUTDOWN)).state is PowerState.OFF
    await adapter.delete(clone.id)


@BOTH
async def test_a_vm_deleted_between_the_list_and_the_action(connect, prism, name):
    adapter, other = connect(name), connect(name)
    vm = vms_of(await adapter.inventory())["Win11-VDI-002"]
    await other.delete(vm.id)                                  # someone else, meanwhile
    for action in (adapter.power(vm.id, PowerAction.SHUTDOWN), adapter.snapshot(vm.id, "s"),
                   adapter.clone(vm.id, "copy")):
        with pytest.raises(NotFoundError) as caught:
            await action
        assert caught.value.message.startswith("The VM was deleted by someone else")
        assert "Refresh" in caught.value.hint


@BOTH
async def test_clone_from_a_snapshot_deleted_meanwhile(connect, prism, name):
    adapter = connect(name)
    vm = vms_of(await adapter.inventory())["Win11-Gold"]
    snap = await adapter.snapshot(vm.id, "short-lived")
    with prism.world.lock:                                     # someone deletes it in Prism
        for cluster in prism.world.managed:
            cluster.snapshots.pop(snap, None)
    with pytest.raises(NotFoundError, match="snapshot .* was deleted by someone else"):
        await adapter.clone(vm.id, "from-gone", snapshot_id=snap)


@BOTH
async def test_a_paused_vm_is_started_again(connect, requests_sent, name):
    adapter = connect(name)
    paused = vms_of(await adapter.inventory())["Win11-Test"]
    assert paused.state is PowerState.PAUSED
    assert (await adapter.power(paused.id, PowerAction.START)).state is PowerState.RUNNING
    if name == PE:
        assert any(b == {"transition": "RESUME"} for _, p, b in requests_sent.requests if "set_power_state" in p)


@BOTH
async def test_two_tries_of_one_clone_at_once_make_one_vm(connect, name):
    adapter = connect(name)
    source = vms_of(await adapter.inventory())["Win10-Office-Gold"]
    first, second = await asyncio.gather(adapter.clone(source.id, "VDI-Twice"),
                                         adapter.clone(source.id, "VDI-Twice"), return_exceptions=True)
    made = [r for r in (first, second) if not isinstance(r, BaseException)]
    refused = [r for r in (first, second) if isinstance(r, BaseException)]
    assert len(made) >= 1 and all(isinstance(r, ConflictError) for r in refused)
    for error in refused:
        assert "Another try of this clone of 'Win10-Office-Gold' to 'VDI-Twice' is still running" in error.message
    assert (await adapter.clone(source.id, "VDI-Twice")).id == made[0].id          # the retry finds it
    assert [vm.name for vm in vms_of(await adapter.inventory()).values()].count("VDI-Twice") == 1
