"""The provider service against the real lab over real WinRM (pywinrm, loopback HTTP)."""
import pytest

from console.domain.errors import AuthenticationError, UnreachableError, ValidationError
from console.domain.inventory import (ConnectionSettings, HostStatus, PowerAction, PowerState,
                                      ProviderKind, WinRMTransport)
from console.domain.tasks import TaskState
from console.services.events import HostStatusChanged, InventoryUpdated, ProviderAdded, VMChanged
from console.services.providers import secret_key
from console.store import Farm


pytestmark = pytest.mark.asyncio


def settings_for(host, **kw):
    return ConnectionSettings(ProviderKind.HYPERV, host.url, host.port, False, WinRMTransport.BASIC,
                              kw.pop("username", host.username), **kw)


async def test_add_checks_then_saves_provider_and_password(plain_services, lab_world):
    _, hosts = lab_world
    events = []
    plain_services.bus.subscribe(events.append)
    provider = await plain_services.providers.add("HV01 lab", settings_for(hosts[0]), hosts[0].password)
    assert provider.id and [p.name for p in plain_services.providers.list()] == ["HV01 lab"]
    assert plain_services.secrets.get(secret_key(provider.id)) == hosts[0].password
    assert hosts[0].password not in plain_services.farm_path.read_bytes().decode("latin-1")
    [check] = plain_services.tasks.recent()
    assert check.name == "Test connection to 127.0.0.1" and check.state is TaskState.SUCCEEDED
    assert check.result["endpoint_kind"] == "hyperv" and check.result["hosts"] == ["HV01"]
    assert any(isinstance(e, ProviderAdded) and e.provider.id == provider.id for e in events)
    with pytest.raises(ValidationError) as info:       # the same endpoint again
        await plain_services.providers.add("Again", settings_for(hosts[0]), hosts[0].password)
    assert info.value.field == "address"


async def test_wrong_password_is_refused_and_nothing_saved(plain_services, lab_world):
    _, hosts = lab_world
    with pytest.raises(AuthenticationError) as info:
        await plain_services.providers.add("HV01", settings_for(hosts[0]), "wrong")
    assert info.value.message
    assert plain_services.providers.list() == []
    [check] = plain_services.tasks.recent()
    assert check.state is TaskState.FAILED and check.error == str(info.value)


async def test_wrong_user_is_refused(plain_services, lab_world):
    _, hosts = lab_world
    with pytest.raises(AuthenticationError):
        await plain_services.providers.add("HV01", settings_for(hosts[0], username="nobody"),
                                           hosts[0].password)
    assert plain_services.providers.list() == []


async def test_refused_connection_is_unreachable_and_nothing_saved(plain_services, closed_port):
    settings = ConnectionSettings(ProviderKind.HYPERV, "127.0.0.1", closed_port, False,
                                  WinRMTransport.BASIC, "lab\\admin")
    with pytest.raises(UnreachableError) as info:
        await plain_services.providers.add("Nobody", settings, "pw")
    assert "127.0.0.1" in str(info.value)
    assert plain_services.providers.list() == []


async def test_lab_hosts_are_registered_once_with_session_passwords(tmp_path):
    from console.secrets import SecretStore
    from console.services.container import build_services
    urls = []
    for _ in range(2):       # a second start finds them and updates the URLs (new ports)
        services = build_services(farm_path=tmp_path / "f.sqlite", lab=True, lab_state=tmp_path / "lab",
                                  lab_speed=50, secrets=SecretStore())
        await services.start()
        providers = [p for p in services.providers.list() if p.kind is ProviderKind.HYPERV]
        assert [p.name for p in providers] == ["HV01", "HV02", "HV03", "HV04"]
        assert all(p.lab and p.settings.transport is WinRMTransport.BASIC for p in providers)
        assert services.providers.missing_passwords() == []
        urls.append({p.name: p.settings.address for p in providers})
        await services.close()
    with Farm(tmp_path / "f.sqlite") as farm:
        hyperv = [p for p in farm.providers.list() if p.kind is ProviderKind.HYPERV]
        assert len(hyperv) == 4
        assert {p.name: p.settings.address for p in hyperv} == urls[1]


async def test_refresh_reads_every_provider(lab_services):
    events = []
    lab_services.bus.subscribe(events.append)
    tasks = lab_services.providers.refresh()
    assert len(tasks) == 6                                 # 4 Hyper-V hosts, a Prism Element and Central
    assert lab_services.providers.refresh() == tasks       # already running: not started twice
    for t in tasks:
        await lab_services.tasks.result(t.id)
    for p in lab_services.providers.list():
        inventory = lab_services.providers.inventory(p.id)
        if p.kind is ProviderKind.HYPERV:
            assert [h.name for h in inventory.hosts] == [p.name] and inventory.hosts[0].vms
            assert lab_services.providers.host_status(p.id, p.name) is HostStatus.CONNECTED
        else:
            assert any(h.vms for h in inventory.hosts) and all(h.cluster for h in inventory.hosts)
    assert sum(isinstance(e, InventoryUpdated) for e in events) == 6


async def refreshed(services):
    """Refresh the Hyper-V hosts (the lab's Prism providers are tested in test_nutanix_*.py)."""
    for p in services.providers.list():
        if p.kind is ProviderKind.HYPERV:
            for t in services.providers.refresh(p.id):
                await services.tasks.result(t.id)


async def test_power_action_updates_the_vm(lab_services):
    await refreshed(lab_services)
    provider, vm = lab_services.providers.find_vm("Win11-Gold")
    assert vm.state is PowerState.OFF
    events = []
    lab_services.bus.subscribe(events.append)
    task = lab_services.providers.power(provider.id, vm.id, PowerAction.START)
    assert task.name == "Start VM 'Win11-Gold'" and task.target == f"{provider.name} / Win11-Gold"
    assert task.host == vm.host
    outcome = await lab_services.tasks.result(task.id)
    assert outcome["state"] == "Running"
    assert [e.vm.state for e in events if isinstance(e, VMChanged)] == [PowerState.RUNNING]
    assert lab_services.providers.find_vm(vm.id)[1].state is PowerState.RUNNING


async def test_invalid_power_action_fails_with_the_hosts_sentence(lab_services):
    await refreshed(lab_services)
    provider, vm = lab_services.providers.find_vm("Win11-Gold")       # Off: restart is refused
    task = lab_services.providers.power(provider.id, vm.id, PowerAction.RESTART)
    with pytest.raises(Exception):
        await lab_services.tasks.result(task.id)
    row = lab_services.tasks.get(task.id)
    assert row.state is TaskState.FAILED and row.error and "Internal error" not in row.error


async def test_host_offline_mid_operation_fails_only_that_task_then_recovers(lab_services):
    await refreshed(lab_services)
    by_name = {p.name: p for p in lab_services.providers.list()}
    lab = lab_services.lab
    hv01_vm = next(v for v in lab_services.providers.inventory(by_name["HV01"].id).hosts[0].vms
                   if v.state is PowerState.RUNNING)
    hv02_vm = next(v for v in lab_services.providers.inventory(by_name["HV02"].id).hosts[0].vms
                   if v.state is PowerState.RUNNING)
    statuses = []
    lab_services.bus.subscribe(lambda e: statuses.append(e) if isinstance(e, HostStatusChanged) else None)
    lab.arm_fault("HV01", "offline", script="Set-VMPowerState")
    doomed = lab_services.providers.power(by_name["HV01"].id, hv01_vm.id, PowerAction.RESTART)
    fine = lab_services.providers.power(by_name["HV02"].id, hv02_vm.id, PowerAction.RESTART)
    with pytest.raises(UnreachableError):
        await lab_services.tasks.result(doomed.id)
    assert (await lab_services.tasks.result(fine.id))["state"] == "Running"
    assert lab_services.tasks.get(doomed.id).state is TaskState.FAILED
    assert lab_services.providers.host_status(by_name["HV01"].id, "HV01") is HostStatus.UNREACHABLE
    assert lab_services.providers.host_status(by_name["HV02"].id, "HV02") is HostStatus.CONNECTED
    assert [(e.host, e.status) for e in statuses] == [("HV01", HostStatus.UNREACHABLE)]

    # a refresh while it is offline: fails with the sentence, the last inventory stays
    [refresh] = lab_services.providers.refresh(by_name["HV01"].id)
    with pytest.raises(UnreachableError):
        await lab_services.tasks.result(refresh.id)
    inventory = lab_services.providers.inventory(by_name["HV01"].id)
    assert inventory.hosts[0].vms and inventory.hosts[0].status is HostStatus.UNREACHABLE
    assert lab_services.tasks.get(refresh.id).error

    lab.set_fault("HV01", None)
    [refresh] = lab_services.providers.refresh(by_name["HV01"].id)
    await lab_services.tasks.result(refresh.id)
    assert lab_services.providers.host_status(by_name["HV01"].id, "HV01") is HostStatus.CONNECTED
    assert statuses[-1].status is HostStatus.CONNECTED


async def test_auth_fault_marks_the_host_auth_failed(lab_services):
    await refreshed(lab_services)
    hv02 = next(p for p in lab_services.providers.list() if p.name == "HV02")
    lab_services.lab.set_fault("HV02", "auth")
    [refresh] = lab_services.providers.refresh(hv02.id)
    with pytest.raises(AuthenticationError):
        await lab_services.tasks.result(refresh.id)
    assert lab_services.providers.host_status(hv02.id, "HV02") is HostStatus.AUTH_FAILED
    assert lab_services.providers.inventory(hv02.id).hosts[0].vms


async def test_missing_password_fails_the_refresh_with_a_sentence(lab_services):
    hv03 = next(p for p in lab_services.providers.list() if p.name == "HV03")
    lab_services.secrets.delete(secret_key(hv03.id))
    assert [p.name for p in lab_services.providers.missing_passwords()] == ["HV03"]
    [refresh] = lab_services.providers.refresh(hv03.id)
    with pytest.raises(AuthenticationError, match="No password is known"):
        await lab_services.tasks.result(refresh.id)
    lab_services.providers.set_password(hv03.id, "Lab-Passw0rd!", persist=False)
    [refresh] = lab_services.providers.refresh(hv03.id)
    assert (await lab_services.tasks.result(refresh.id))["vms"] > 0


async def test_remove_deletes_row_secret_and_inventory(lab_services):
    await refreshed(lab_services)
    hv04 = next(p for p in lab_services.providers.list() if p.name == "HV04")
    await lab_services.providers.remove(hv04.id)
    assert "HV04" not in [p.name for p in lab_services.providers.list()]
    assert lab_services.secrets.get(secret_key(hv04.id)) is None
    assert lab_services.providers.inventory(hv04.id) is None


async def test_unknown_vm_name_is_refused(lab_services):
    await refreshed(lab_services)
    from console.domain.errors import NotFoundError
    with pytest.raises(NotFoundError):
        lab_services.providers.find_vm("no-such-vm")


async def test_ambiguous_vm_name_is_refused_naming_each(lab_services):
    await refreshed(lab_services)
    hv01, hv02 = [p for p in lab_services.providers.list() if p.name in ("HV01", "HV02")]
    twin = lab_services.providers.inventory(hv02.id).hosts[0].vms[0]
    twin.name = "win11-gold"      # the same name, in another case, on another host
    with pytest.raises(ValidationError) as info:
        lab_services.providers.find_vm("Win11-Gold")
    assert "2 virtual machines" in info.value.message and "HV02" in info.value.message
    assert lab_services.providers.find_vm(twin.id)[0].id == hv02.id     # the id is unambiguous
