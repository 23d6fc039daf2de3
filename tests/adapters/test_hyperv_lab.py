"""HyperVAdapter against the lab: pywinrm over real HTTP on loopback, Basic auth, speed x50."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from console.domain import errors as e
from console.domain.inventory import HostStatus, PowerAction, PowerState
from console.lab import HOSTILE_NAMES

pytestmark = pytest.mark.asyncio


def _vm_id(lab, host: str, name: str) -> str:
    with lab.world.lock:
        return next(vm.id for vm in lab.world.host(host).vms.values() if vm.name == name)


def _state(lab, host: str, vm_id: str) -> str:
    with lab.world.lock:
        return lab.world.host(host).vm_by_id(vm_id).state


async def test_check_domain_host(lab, hyperv, reporter):
    result = await hyperv("HV01").check(reporter)
    assert result.endpoint_kind == "hyperv"
    [facts] = result.hosts
    sim = lab.world.host("HV01")
    assert result.version == (f"Microsoft Windows Server 2022 Datacenter 10.0.20348 / "
                              f"Hyper-V {sim.hyperv_version}")
    assert facts.computer_name == "HV01"
    assert facts.part_of_domain and facts.domain == "corp.example.com"
    assert facts.live_migration.enabled and facts.live_migration.authentication == "Kerberos"
    assert "cifs/HV02.corp.example.com" in facts.live_migration.constrained_delegation
    assert [s.name for s in facts.switches] == ["vSwitch-LAN"]
    assert [v.path for v in facts.volumes] == ["C:\\", "D:\\"]
    assert 0 < facts.volumes[1].free_bytes < facts.volumes[1].size_bytes
    assert facts.vhd_path == "D:\\Hyper-V\\Virtual Hard Disks"
    assert reporter.progress_calls[0] == (0.1, f"Connecting to {hyperv('HV01').host}")
    assert reporter.progress_calls[-1][0] == 1.0


async def test_check_workgroup_host(hyperv):
    result = await hyperv("HV04").check()
    [facts] = result.hosts
    assert result.version.startswith("Microsoft Windows Server 2019 Datacenter 10.0.17763 / Hyper-V 10.0.17763")
    assert not facts.part_of_domain and facts.domain == "WORKGROUP"
    assert facts.live_migration.constrained_delegation is None      # could not be read
    assert not facts.live_migration.enabled
    assert facts.switches[0].name == "External Switch"


async def test_facts_lists_one_host(hyperv):
    [facts] = await hyperv("HV02").facts()
    assert facts.computer_name == "HV02" and facts.logical_processors == 48


async def test_inventory(lab, hyperv, reporter):
    inventory = await hyperv("HV01").inventory(reporter)
    [host] = inventory.hosts
    assert host.name == "HV01" and host.status is HostStatus.CONNECTED and host.facts.computer_name == "HV01"
    vms = {vm.name: vm for vm in host.vms}
    assert set(vms) == {vm.name for vm in lab.world.host("HV01").vms.values()}
    gold, pool, saved, firewall = (vms["Win11-Gold"], vms["Win11-Pool-01"], vms["Win10-Office"],
                                   vms["Appliance-Firewall"])
    assert gold.state is PowerState.OFF and pool.state is PowerState.RUNNING and saved.state is PowerState.SAVED
    assert gold.host == "HV01" and gold.cpu_count == 4 and gold.memory_bytes == 8 * 1024 ** 3
    assert pool.disks[0].parent_path == gold.disks[0].path
    assert pool.guest_agent and not firewall.guest_agent and firewall.generation == 1
    assert pool.uptime_seconds > 3 * 86400
    assert gold.notes.startswith("Golden image")
    assert "HV01: 6 virtual machine(s)" in reporter.text


@pytest.mark.parametrize("name, action, before, after", [
    ("Win11-Gold", PowerAction.START, "Off", PowerState.RUNNING),
    ("Win10-Office", PowerAction.START, "Saved", PowerState.RUNNING),
    ("Win11-Pool-01", PowerAction.SHUTDOWN, "Running", PowerState.OFF),
    ("Appliance-Firewall", PowerAction.STOP, "Running", PowerState.OFF),
    ("RDSH-2022", PowerAction.RESTART, "Running", PowerState.RUNNING),
])
async def test_power_actions_change_state(lab, hyperv, reporter, name, action, before, after):
    vm_id = _vm_id(lab, "HV01", name)
    assert _state(lab, "HV01", vm_id) == before
    adapter = hyperv("HV01")
    vm = await adapter.power(vm_id, action, reporter)
    assert vm.id == vm_id and vm.name == name and vm.state is after
    assert _state(lab, "HV01", vm_id) == after.value
    assert [p for p, _ in reporter.progress_calls] == [0.1, 0.3, 1.0]
    assert reporter.progress_calls[1][1] == f"{action.label} VM '{name}'"
    assert f"VM '{name}' is now {after.value}" in reporter.text
    assert reporter.threads == {threading.get_ident()}     # reporter only ever on the loop thread
    if action is PowerAction.RESTART:
        assert vm.uptime_seconds < 60


async def test_power_action_on_a_vm_already_in_that_state_changes_nothing(lab, hyperv, reporter):
    vm_id = _vm_id(lab, "HV01", "Win11-Pool-02")
    vm = await hyperv("HV01").power(vm_id, PowerAction.START, reporter)
    assert vm.state is PowerState.RUNNING
    assert "Nothing to do for VM 'Win11-Pool-02': The virtual machine is already running." in reporter.text
    assert reporter.progress_calls[-1] == (1.0, "Done")


async def test_shutdown_without_guest_agent_is_invalid_state(lab, hyperv):
    vm_id = _vm_id(lab, "HV01", "Appliance-Firewall")
    with pytest.raises(e.InvalidStateError) as info:
        await hyperv("HV01").power(vm_id, PowerAction.SHUTDOWN)
    assert "shutdown integration service is not available" in info.value.message.lower()
    assert info.value.message.startswith("'Appliance-Firewall' failed to shut down")
    assert "\r" not in info.value.message and "turn the virtual machine off" in info.value.hint
    assert _state(lab, "HV01", vm_id) == "Running"


async def test_restart_of_a_vm_that_is_off_is_invalid_state(lab, hyperv):
    with pytest.raises(e.InvalidStateError, match="current state"):
        await hyperv("HV01").power(_vm_id(lab, "HV01", "Win11-Gold"), PowerAction.RESTART)


async def test_wrong_password_is_refused(hyperv):
    with pytest.raises(e.AuthenticationError) as info:
        await hyperv("HV01", password="not-the-password").check()
    assert info.value.message == "The user name or password was not accepted by 127.0.0.1."
    assert info.value.hint


async def test_auth_fault_is_an_authentication_error(lab, hyperv):
    lab.set_fault("HV02", "auth")
    with pytest.raises(e.AuthenticationError):
        await hyperv("HV02").inventory()


async def test_offline_host_is_unreachable(lab, hyperv):
    lab.set_fault("HV02", "offline")
    adapter = hyperv("HV02")
    with pytest.raises(e.UnreachableError) as info:
        await adapter.check()
    assert info.value.message == f"127.0.0.1:{adapter.endpoint.port} refused the connection."
    lab.set_fault("HV02", None)
    assert (await adapter.check()).hosts[0].computer_name == "HV02"     # back again, same adapter


async def test_host_going_offline_during_a_slow_power_action(lab, hyperv):
    vm_id = _vm_id(lab, "HV01", "Win11-Gold")
    lab.set_fault("HV01", "slow")
    lab.arm_fault("HV01", "offline", script="Set-VMPowerState")
    with pytest.raises(e.UnreachableError) as info:
        await hyperv("HV01").power(vm_id, PowerAction.START)
    assert info.value.message == "The connection to 127.0.0.1 was lost during the start of VM 'Win11-Gold'."
    assert "may or may not have completed" in info.value.hint


async def test_disk_full_is_a_capacity_error(lab, hyperv):
    lab.set_fault("HV01", "disk-full")
    adapter = hyperv("HV01")
    [facts] = await adapter.facts()
    assert all(v.free_bytes == 0 for v in facts.volumes)
    with pytest.raises(e.CapacityError) as info:
        await adapter.power(_vm_id(lab, "HV01", "Win11-Gold"), PowerAction.START)
    assert "There is not enough space on the disk. (0x80070070)" in info.value.message
    assert "Free space" in info.value.hint


async def test_missing_vm_is_not_found(hyperv):
    missing = "00000000-1111-2222-3333-444444444444"
    with pytest.raises(e.NotFoundError) as info:
        await hyperv("HV01").power(missing, PowerAction.START)
    assert info.value.message == f'Hyper-V was unable to find a virtual machine with ID "{missing}".'


async def test_hostile_names_are_listed_and_powered_as_plain_names(lab, hyperv):
    adapter = hyperv("HV03")
    [host] = (await adapter.inventory()).hosts
    by_name = {vm.name: vm for vm in host.vms}
    assert set(HOSTILE_NAMES) <= set(by_name)          # exact, including quotes, $(), ` and non-ASCII
    plan = {HOSTILE_NAMES[0]: PowerAction.START, HOSTILE_NAMES[1]: PowerAction.STOP,
            HOSTILE_NAMES[2]: PowerAction.START, HOSTILE_NAMES[3]: PowerAction.STOP}
    results = await asyncio.gather(*(adapter.power(by_name[n].id, a) for n, a in plan.items()))
    for (name, action), vm in zip(plan.items(), results):
        assert vm.name == name
        assert vm.state is (PowerState.RUNNING if action is PowerAction.START else PowerState.OFF)
    assert len(lab.world.host("HV03").vms) == 5          # nothing was removed by a name


async def test_long_script_goes_through_the_chunked_path(lab, hyperv):
    from console.adapters.hyperv.scripts import plan_run
    # A limit under which Get-HostFacts and Set-VMPowerState are uploaded (Get-Inventory and Get-VM
    # still fit): the calls below go through the upload path and its Invoke-Uploaded runs.
    limit = 6000
    adapter = hyperv("HV01", max_command_chars=limit)
    assert all(plan_run(n, {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "action": "start"}, limit).kind
               == "cached" for n in ("Get-HostFacts", "Set-VMPowerState"))
    inventory = await adapter.inventory()
    assert len(inventory.hosts[0].vms) == 6
    vm_id = _vm_id(lab, "HV01", "Win11-Gold")
    vm = await adapter.power(vm_id, PowerAction.START)
    assert vm.state is PowerState.RUNNING
    # At the real limit, a parameter document too long to hand to an uploaded script goes whole, once.
    long = await hyperv("HV01").run_script("Get-VM", {"vm_id": vm_id, "comment": "é" * 4000}, "a test")
    assert plan_run("Get-VM", {"vm_id": vm_id, "comment": "é" * 4000}).kind == "once"
    assert long["name"] == "Win11-Gold"


async def test_the_loop_keeps_turning_during_a_slow_call(lab, hyperv):
    lab.set_fault("HV01", "slow")           # a start takes 4 s / 50 x 10 = 0.8 s
    ticks: list[float] = []
    stop = asyncio.Event()

    async def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        await hyperv("HV01").power(_vm_id(lab, "HV01", "Win11-Gold"), PowerAction.START)
    finally:
        stop.set()
        await task
    elapsed = time.perf_counter() - started
    assert elapsed > 0.5
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > elapsed / 0.05 and max(gaps) < 0.3   # blocking would stall it ~0.8 s


async def test_calls_to_several_hosts_run_in_parallel(lab, hyperv):
    for name in ("HV01", "HV02", "HV03"):
        lab.set_fault(name, "slow")
    adapters = [hyperv(n) for n in ("HV01", "HV02", "HV03")]
    ids = [_vm_id(lab, "HV01", "Win11-Gold"), _vm_id(lab, "HV02", "Win10-Office-Gold"),
           _vm_id(lab, "HV03", "Win11-Test")]
    started = time.perf_counter()
    vms = await asyncio.gather(*(a.power(i, PowerAction.START) for a, i in zip(adapters, ids)))
    assert all(vm.state is PowerState.RUNNING for vm in vms)
    assert time.perf_counter() - started < 2 * 0.8        # one start takes ~0.8 s when slow; in turn: 2.5 s


async def test_closed_adapter_refuses_further_calls(hyperv):
    adapter = hyperv("HV01")
    await adapter.check()
    await adapter.close()
    with pytest.raises(e.ConsoleError, match="has been closed"):
        await adapter.check()
