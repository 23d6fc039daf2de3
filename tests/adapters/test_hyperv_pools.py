"""HyperVAdapter's pool clone operations (issue #5): the scripts as sent, and against the lab over
pywinrm on loopback (speed x200)."""
from __future__ import annotations

import asyncio
import base64

import pytest

from console.adapters.base import CloneSpec
from console.adapters.hyperv import HyperVAdapter
from console.adapters.hyperv import pool_convert as pc
from console.adapters.hyperv.scripts import build_script, plan_run
from console.domain import errors as e
from console.domain.inventory import (
    ConnectionSettings,
    PowerState,
    ProviderKind,
    WinRMTransport,
)
from console.domain.templates import ImagePreparation, Preparation

SPEED = 200.0
POOL_SCRIPTS = ("New-PoolClone", "Set-PoolClonePreparation", "Start-PoolClone", "Get-PoolCloneGuests",
                "Start-QuickCloneCopy", "Get-QuickCloneCopy", "Stop-QuickCloneCopy", "Complete-QuickClone",
                "Remove-PoolClone", "Get-PoolClones", "Invoke-PoolCloneLogoff")
HOSTILE = "x'; Remove-VM * -Force; \"$(Stop-Computer)\" `whoami` ; Ünïcødé-名前"
PASSWORD = "S3cr3t-J0in'$(pw)"


def recorder():
    """A fresh RecordingReporter of this folder's conftest (a new one per use)."""
    return _Recorder()


class _Recorder:
    def __init__(self):
        self.progress_calls, self.lines = [], []

    def progress(self, fraction, text=""):
        self.progress_calls.append((fraction, text))

    def log(self, level, text):
        self.lines.append((level, text))

    @property
    def text(self):
        return "\n".join(t for _, t in self.lines)


GUID = "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f"
POOL = "D:\\Hyper-V\\VDI-Pools\\Sales 'Q3' $(x)"


@pytest.fixture
def fast(lab_factory):
    lab = lab_factory(speed=SPEED)
    made: list[HyperVAdapter] = []

    def connect(host: str) -> HyperVAdapter:
        h = lab.host(host)
        settings = ConnectionSettings(kind=ProviderKind.HYPERV, address=h.url, username=h.username,
                                      transport=WinRMTransport.BASIC)
        adapter = HyperVAdapter(settings, h.password, copy_poll_interval=0.02)
        made.append(adapter)
        return adapter

    yield lab, connect
    for adapter in made:
        adapter._client.close()


def _base(lab, host: str = "HV01", name: str = "Win11-Gold") -> str:
    with lab.world.lock:
        vm = next(v for v in lab.world.host(host).vms.values() if v.name == name)
        return vm.disks[0].path


def _spec(lab, name: str, method: str, request_id: str = "r1") -> CloneSpec:
    return CloneSpec(name=name, method=method, base_disks=[_base(lab)], folder=f"{POOL}\\{name}",
                     switch="vSwitch-LAN", cpu_count=2, memory_bytes=4 * 1024 ** 3, generation=2,
                     request_id=request_id)


def _prep(domain: str = "corp.example.com") -> Preparation:
    return Preparation(method=ImagePreparation.RENAME_AND_JOIN, domain=domain,
                       organizational_unit="OU=VDI,DC=corp,DC=example,DC=com", join_account="CORP\\svc-join")


async def _until(check, timeout: float = 20.0):
    """Poll an async condition (no fixed sleeps): its truthy value, or fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------------------------ the scripts

def test_every_pool_script_builds_with_its_helpers():
    for name in POOL_SCRIPTS:
        text = build_script(name, {"vm_id": GUID})
        assert text.startswith(f"# vdi-script: {name}\n")
        assert "{{" not in text and "vdi-include" not in text
    assert "function Assert-VdiCloneFolder" in build_script("Remove-PoolClone", {})
    assert "function Set-VdiKvpItems" in build_script("Set-PoolClonePreparation", {})
    assert "function ConvertFrom-VdiKvpXml" in build_script("Get-PoolCloneGuests", {})
    # polled once per host for many clones: one command line for a handful of them
    assert not plan_run("Get-PoolCloneGuests", {"vm_ids": [GUID] * 4}).chunked


def test_hostile_values_and_the_password_travel_only_as_base64():
    params = {"name": HOSTILE, "folder": f"{POOL}\\{HOSTILE}", "computer_name": HOSTILE,
              "join_password": PASSWORD, "base_disks": [HOSTILE]}
    for name in ("New-PoolClone", "Set-PoolClonePreparation"):
        for command in plan_run(name, params).commands:
            script = base64.b64decode(command.split()[-1]).decode("utf-16-le")
            for fragment in ("Stop-Computer", "whoami", "Ünïcødé", "名前", "x';", "S3cr3t", "$(pw)"):
                assert fragment not in script


def test_guest_documents_convert_and_bad_ones_are_protocol_errors():
    states = pc.guest_states([{"vm_id": GUID.upper(), "state": "Running", "heartbeat": "OK",
                               "computer_name": "VDI-001", "domain": "corp.example.com", "ready": True,
                               "logged_on_user": "CORP\\user042", "error": ""}], "HV01")
    assert states[GUID].ready and states[GUID].logged_on_user == "CORP\\user042"
    assert pc.guest_states(None, "HV01") == {}
    with pytest.raises(e.ProtocolError):
        pc.guest_states([{"state": "Running"}], "HV01")
    assert isinstance(pc.own_copy_error("There is not enough space on the disk.", "VDI-001", "HV01"), e.CapacityError)


@pytest.mark.asyncio
async def test_the_join_password_never_reaches_a_log_line_or_an_error():
    """Against a fake host that fails quoting what it was given: the error and the log lines are clean."""
    settings = ConnectionSettings(kind=ProviderKind.HYPERV, address="hv01.corp.example.com", username="u",
                                  transport=WinRMTransport.NTLM)
    adapter = HyperVAdapter(settings, "pw")
    sent: list[dict] = []

    async def run_script(name, params, operation):
        sent.append(params)
        raise e.ConsoleError(f"AddKvpItems failed for {params['join_password']}", "hint",
                             f"details {params['join_password']}")

    adapter.run_script = run_script
    reporter = recorder()
    with pytest.raises(e.ConsoleError) as caught:
        await adapter.prepare_clone(GUID, "VDI-001", _prep(), PASSWORD, reporter)
    assert sent[0]["join_password"] == PASSWORD                  # it does travel, as data
    assert PASSWORD not in f"{caught.value.message} {caught.value.hint} {caught.value.details} {caught.value}"
    assert PASSWORD not in reporter.text
    await adapter.close()


# ------------------------------------------------------------------------------------ against the lab

@pytest.mark.asyncio
async def test_linked_clone_lifecycle(fast, caplog):
    caplog.set_level("DEBUG")
    lab, connect = fast
    adapter = connect("HV01")
    reporter = recorder()
    spec = _spec(lab, "VDI-001", "linked")
    vm = await adapter.create_clone(spec, reporter)
    assert vm.name == "VDI-001" and vm.state is PowerState.OFF and vm.host == "HV01"
    assert vm.disks and vm.disks[0].parent_path.lower() == spec.base_disks[0].lower()
    assert (await adapter.create_clone(spec)).id == vm.id                  # a retry finds it
    with pytest.raises(e.ConflictError):                                  # the name is another's now
        await adapter.create_clone(_spec(lab, "VDI-001", "linked", request_id="other"))
    await adapter.prepare_clone(vm.id, "VDI-001", _prep(), PASSWORD, reporter)
    started = await adapter.start_clone(vm.id, reporter)
    assert started.state in (PowerState.RUNNING, PowerState.STARTING)
    assert (await adapter.start_clone(vm.id)).id == vm.id                  # idempotent
    ready = await _until(lambda: _ready(adapter, vm.id))
    assert ready.computer_name == "VDI-001" and ready.heartbeat == "OK" and not ready.logged_on_user
    listed = await adapter.pool_clones(POOL)
    assert [(c["vm_id"], c["name"], c["request_id"]) for c in listed] == [(vm.id, "VDI-001", "r1")]
    await adapter.remove_clone(vm.id, spec.folder, reporter)
    await adapter.remove_clone(vm.id, spec.folder, reporter)               # gone already: fine
    assert "was already gone" in reporter.text
    assert await adapter.guest_states([vm.id]) == {}
    assert await adapter.pool_clones(POOL) == []
    assert PASSWORD not in reporter.text and PASSWORD not in caplog.text


async def _ready(adapter, vm_id):
    state = (await adapter.guest_states([vm_id])).get(vm_id)
    return state if state and state.ready else None


@pytest.mark.asyncio
async def test_guest_errors_users_and_logoff(fast):
    lab, connect = fast
    adapter = connect("HV01")
    vm = await adapter.create_clone(_spec(lab, "VDI-002", "linked"))
    await adapter.prepare_clone(vm.id, "VDI-002", _prep("elsewhere.example"), PASSWORD)
    await adapter.start_clone(vm.id)
    failed = await _until(lambda: _errored(adapter, vm.id))
    assert "could not be contacted" in failed.error and not failed.ready

    other = await adapter.create_clone(_spec(lab, "VDI-003", "linked"))
    await adapter.prepare_clone(other.id, "VDI-003", _prep(), PASSWORD)
    await adapter.start_clone(other.id)
    await _until(lambda: _ready(adapter, other.id))
    assert lab.take_clones("HV01", 1) == ["VDI-003"]
    user = (await adapter.guest_states([other.id]))[other.id].logged_on_user
    assert user.startswith("CORP\\user")
    reporter = recorder()
    await adapter.logoff(other.id, reporter)
    assert "log its user off" in reporter.text
    await _until(lambda: _nobody(adapter, other.id))


async def _errored(adapter, vm_id):
    state = (await adapter.guest_states([vm_id])).get(vm_id)
    return state if state and state.error else None


async def _nobody(adapter, vm_id):
    return not (await adapter.guest_states([vm_id]))[vm_id].logged_on_user


@pytest.mark.asyncio
async def test_full_clone_copies_the_base(fast):
    lab, connect = fast
    adapter = connect("HV01")
    vm = await adapter.create_clone(_spec(lab, "VDI-010", "full"))
    assert vm.disks and not vm.disks[0].parent_path
    assert vm.disks[0].path.lower().startswith(f"{POOL}\\VDI-010\\".lower())


@pytest.mark.asyncio
async def test_quick_clone_becomes_independent(fast):
    lab, connect = fast
    adapter = connect("HV01")
    spec = _spec(lab, "VDI-020", "quick")
    vm = await adapter.create_clone(spec)
    await adapter.start_clone(vm.id)
    reporter = recorder()
    after = await adapter.make_independent(vm.id, "p1-VDI-020", reporter)
    assert after.id == vm.id
    chain = [d.parent_path.lower() for d in after.disks]
    assert all(spec.base_disks[0].lower() != p for p in chain)
    assert any(f < 1.0 for f, _ in reporter.progress_calls) and reporter.progress_calls[-1][0] == 1.0
    again = await adapter.make_independent(vm.id, "p1-VDI-020")          # already merged: as it is
    assert again.id == vm.id


@pytest.mark.asyncio
async def test_clone_folders_outside_vdi_pools_are_refused(fast):
    _lab, connect = fast
    adapter = connect("HV01")
    for folder in ("D:\\Hyper-V\\VDI-001", "D:\\Hyper-V\\VDI-Pools\\..\\..\\Windows", "D:\\"):
        with pytest.raises(e.ConsoleError):
            await adapter.remove_clone("", folder)
    with pytest.raises(e.ValidationError):
        await adapter.create_clone(CloneSpec(name="X", method="instant", base_disks=["D:\\a.vhdx"], folder=POOL))
