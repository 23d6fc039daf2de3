"""HyperVAdapter's template operations against the lab: pywinrm over real HTTP on loopback (speed x200,
so a 26 GB copy takes ~1.2 s)."""
from __future__ import annotations

import asyncio
import base64
import re

import pytest

from console.adapters.base import TemplateExport
from console.adapters.hyperv import HyperVAdapter
from console.adapters.hyperv.scripts import build_script, plan_run, script_text
from console.adapters.hyperv.templates import _incompatible
from console.domain import errors as e
from console.domain.inventory import (
    ConnectionSettings,
    PowerState,
    ProviderKind,
    WinRMTransport,
)
from console.lab import HOSTILE_NAMES
from console.lab.template_common import folder_pattern

SPEED = 200.0
TEMPLATE_SCRIPTS = ("Get-TemplateSource", "Get-TemplateRequirements", "New-TemplateCheckpoint",
                    "Get-TemplateCheckpoints", "Restore-TemplateCheckpoint", "Remove-TemplateCheckpoint",
                    "Export-TemplateCheckpoint", "Remove-TemplateExport", "Test-TemplateTarget",
                    "Start-TemplateCopy", "Get-TemplateCopy", "Stop-TemplateCopy", "Import-TemplateCopy",
                    "Remove-TemplateCopy")
HOSTILE = "x'; Remove-VM * -Force; \"$(Stop-Computer)\" `whoami` ; Ünïcødé-名前"


@pytest.fixture
def fast(lab_factory):
    """(lab, connect): a lab at x200 and ``connect("HV01")`` -> a HyperVAdapter polling copies often."""
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


def _vm_id(lab, host: str, name: str) -> str:
    with lab.world.lock:
        return next(vm.id for vm in lab.world.host(host).vms.values() if vm.name == name)


def _target_folder(name: str = "Gold-v1") -> str:
    return f"D:\\Hyper-V\\VDI-Templates\\{name}"


async def _export(lab, source: HyperVAdapter, folder_name: str = "Gold-v1") -> tuple[str, str, TemplateExport]:
    vm_id = _vm_id(lab, "HV01", "Win11-Gold")
    checkpoint = await source.snapshot(vm_id, "VDI template Gold v1")
    return vm_id, checkpoint, await source.export_template(vm_id, checkpoint, folder_name)


# ------------------------------------------------------------------------------------ scripts

def test_every_template_script_builds_with_its_helpers():
    for name in TEMPLATE_SCRIPTS:
        text = build_script(name, {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f"})
        assert text.startswith(f"# vdi-script: {name}\n")
        assert "{{" not in text and "vdi-include" not in text
    assert "function Get-VdiCopy" in build_script("Get-TemplateCopy", {})
    assert "function Assert-VdiFolder" in build_script("Remove-TemplateCopy", {})
    # polled every couple of seconds during a copy: one command, not an upload
    assert not plan_run("Get-TemplateCopy", {"copy_id": "12-v3-7", "folder": _target_folder()}).chunked


@pytest.mark.parametrize("vm_path", ["D:\\Hyper-V", "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"])
def test_cleanup_scripts_fit_one_command_line_with_a_long_template_name(vm_path):
    # CONTRACT.md: the chunked upload writes to $env:TEMP, which fails on a full disk, and these are what
    # clean a full disk up (and Get-TemplateCopy is polled). A 64-character name, version 999.
    folder = f"{vm_path}\\VDI-Templates\\{'N' * 64}-v999"
    copy_id = "123456-v999-123456"
    assert not plan_run("Get-TemplateCopy", {"copy_id": copy_id, "folder": folder}).chunked
    assert not plan_run("Stop-TemplateCopy", {"copy_id": copy_id, "folder": folder}).chunked
    assert not plan_run("Remove-TemplateCopy",
                        {"folder": folder, "vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f"}).chunked


def test_scripts_use_the_audited_properties_and_parameters():
    # the disk chain (audit item 2), the disks through the share (3), the guest's answer (4)
    assert "$vhd.ParentPath" in script_text("Get-TemplateRequirements")
    assert "VhdSourcePath" in script_text("Test-TemplateTarget")
    assert "PrimaryStatusDescription" in script_text("Get-TemplateSource")


@pytest.mark.parametrize("folder, parent, accepted", [
    ("D:\\Hyper-V\\VDI-Templates\\Gold-v1", "VDI-Templates", True),
    ("D:\\VDI-Templates\\Gold-v1", "VDI-Templates", True),            # a VM path at the drive's root
    ("e:\\vdi-export\\Gold-v1", "VDI-Export", True),
    ("D:\\a\\b\\VDI-Export\\Gold v1 (Ü)", "VDI-Export", True),
    ("D:\\VDI-Templates", "VDI-Templates", False),
    ("D:\\", "VDI-Templates", False),
    ("D:\\Hyper-V", "VDI-Templates", False),
    ("D:\\Hyper-V\\VDI-Templates\\..", "VDI-Templates", False),
    ("D:\\..\\VDI-Templates\\x", "VDI-Templates", False),
    ("D:\\.\\VDI-Templates\\x", "VDI-Templates", False),
    ("D:\\Hyper-V\\VDI-Templates\\x\\y", "VDI-Templates", False),
    ("D:\\xVDI-Templates\\y", "VDI-Templates", False),
    ("\\\\HV01\\D$\\VDI-Templates\\x", "VDI-Templates", False),
    ("D:\\Hyper-V\\VDI-Templates\\x", "VDI-Export", False),
])
def test_folder_check_of_the_scripts_and_the_lab_agree(folder, parent, accepted):
    # Assert-VdiFolder's pattern as written in _VdiError.ps1 (PowerShell's -match ignores case), with
    # $Parent filled in: .NET and Python read this pattern alike.
    line = next(ln for ln in script_text("Remove-TemplateCopy").splitlines() if "-notmatch" in ln)
    pattern = line.split('"')[1].replace("$Parent", re.escape(parent))
    assert bool(re.match(pattern, folder, re.IGNORECASE)) is accepted
    assert bool(re.match(folder_pattern(parent), folder, re.IGNORECASE)) is accepted


def test_hostile_parameters_travel_only_as_base64():
    for name in ("New-TemplateCheckpoint", "Import-TemplateCopy", "Export-TemplateCheckpoint"):
        for command in plan_run(name, {"name": HOSTILE, "vm_name": HOSTILE, "folder_name": HOSTILE}).commands:
            script = base64.b64decode(command.split()[-1]).decode("utf-16-le")
            for fragment in ("Stop-Computer", "whoami", "Ünïcødé", "名前", "x';"):
                assert fragment not in script


# ------------------------------------------------------------------------------------ checkpoints

@pytest.mark.asyncio
async def test_template_source_lists_services_and_checkpoints(fast):
    lab, connect = fast
    adapter = connect("HV01")
    gold = await adapter.template_source(_vm_id(lab, "HV01", "Win11-Gold"))
    assert gold.vm.name == "Win11-Gold" and gold.vm.state is PowerState.OFF
    assert set(gold.integration_services) == {"Heartbeat", "Shutdown", "Key-Value Pair Exchange",
                                              "Guest Service Interface", "Time Synchronization", "VSS"}
    assert gold.integration_services["Shutdown"] and not gold.integration_services["Guest Service Interface"]
    assert set(gold.integration_status.values()) == {""}            # off: the guest cannot be asked
    firewall = await adapter.template_source(_vm_id(lab, "HV01", "Appliance-Firewall"))
    assert not firewall.integration_services["Shutdown"] and not firewall.integration_services["Heartbeat"]
    # running without integration services: enabled on the host, but nothing answers in the guest
    assert firewall.integration_status["Time Synchronization"] == "No Contact"
    assert firewall.integration_status["Heartbeat"] == ""
    rdsh = await adapter.template_source(_vm_id(lab, "HV01", "RDSH-2022"))
    assert rdsh.integration_status["Heartbeat"] == rdsh.integration_status["Shutdown"] == "OK"


@pytest.mark.asyncio
async def test_source_requirements(fast):
    lab, connect = fast
    vm_id = _vm_id(lab, "HV01", "Win11-Gold")
    req = await connect("HV01").source_requirements(vm_id)
    assert (req.computer_name, req.fqdn, req.domain) == ("HV01", "HV01.corp.example.com", "corp.example.com")
    assert req.folder_path == "D:\\Hyper-V" and req.switch_name == "vSwitch-LAN" and req.vm_id == vm_id
    assert req.disk_bytes > 20 * 1000 ** 3
    assert req.config_unc.startswith("\\\\HV01.corp.example.com\\D$\\") and req.config_unc.endswith(".vmcx")
    assert req.vhd_folder_unc == "\\\\HV01.corp.example.com\\D$\\Hyper-V\\Virtual Hard Disks"
    # a differencing disk counts with its parent (an export copies the whole chain)
    pool = await connect("HV01").source_requirements(_vm_id(lab, "HV01", "Win11-Pool-01"))
    with lab.world.lock:
        hv01 = lab.world.host("HV01")
        files = [hv01.vm_by_id(_id).disks[0].file_bytes
                 for _id in (_vm_id(lab, "HV01", "Win11-Pool-01"), req.vm_id)]
    assert pool.disk_bytes == sum(files) and req.disk_bytes == files[1]


@pytest.mark.asyncio
async def test_snapshot_is_idempotent_by_name_and_needs_the_vm_off(fast):
    lab, connect = fast
    adapter = connect("HV01")
    vm_id = _vm_id(lab, "HV01", "Win11-Gold")
    first = await adapter.snapshot(vm_id, "VDI template Gold v1")
    again = await adapter.snapshot(vm_id, "VDI template Gold v1")
    other = await adapter.snapshot(vm_id, "VDI template Gold v2")
    assert first == again != other
    assert [s.name for s in await adapter.snapshots(vm_id)] == ["VDI template Gold v1", "VDI template Gold v2"]
    with pytest.raises(e.InvalidStateError, match="current state"):
        await adapter.snapshot(_vm_id(lab, "HV01", "Win11-Pool-01"), "VDI template running v1")


@pytest.mark.asyncio
async def test_revert_and_delete_snapshot(fast, reporter):
    lab, connect = fast
    adapter = connect("HV01")
    vm_id = _vm_id(lab, "HV01", "Win11-Gold")
    checkpoint = await adapter.snapshot(vm_id, "v1")
    vm = await adapter.revert(vm_id, checkpoint)
    assert vm.id == vm_id and vm.state is PowerState.OFF
    await adapter.delete_snapshot(vm_id, checkpoint, reporter)
    await adapter.delete_snapshot(vm_id, checkpoint, reporter)            # gone already: fine
    assert "Removed checkpoint" in reporter.text and "was already gone" in reporter.text
    assert await adapter.snapshots(vm_id) == []
    with pytest.raises(e.NotFoundError):
        await adapter.revert(vm_id, checkpoint)


@pytest.mark.asyncio
async def test_hostile_names_travel_as_data(fast):
    lab, connect = fast
    adapter = connect("HV03")
    vm_id = _vm_id(lab, "HV03", HOSTILE_NAMES[0])
    checkpoint = await adapter.snapshot(vm_id, HOSTILE)
    [snap] = await adapter.snapshots(vm_id)
    assert snap.id == checkpoint and snap.name == HOSTILE
    export = await adapter.export_template(vm_id, checkpoint, "Überwachung 'Q3'; $(x) `t")
    assert export.folder.endswith("\\VDI-Export\\Überwachung 'Q3'; $(x) `t")
    with pytest.raises(e.ConsoleError):                     # a path is refused, never followed
        await adapter.export_template(vm_id, checkpoint, "..\\..\\Windows")
    assert len(lab.world.host("HV03").vms) == 5


# ------------------------------------------------------------------------------------ export, check

@pytest.mark.asyncio
async def test_export_is_returned_again_and_removed(fast, reporter):
    lab, connect = fast
    source = connect("HV01")
    vm_id, checkpoint, export = await _export(lab, source)
    assert export.folder == "D:\\Hyper-V\\VDI-Export\\Gold-v1"
    assert export.unc_folder == "\\\\HV01.corp.example.com\\D$\\Hyper-V\\VDI-Export\\Gold-v1"
    assert export.config_file.startswith("Virtual Machines\\") and export.bytes > 20 * 1000 ** 3
    assert await source.export_template(vm_id, checkpoint, "Gold-v1") == export
    await source.remove_export(export.folder, reporter)
    await source.remove_export(export.folder, reporter)
    assert "Removed the export" in reporter.text and "was already gone" in reporter.text


@pytest.mark.asyncio
async def test_target_check_same_domain_and_workgroup(fast):
    lab, connect = fast
    req = await connect("HV01").source_requirements(_vm_id(lab, "HV01", "Win11-Gold"))
    hv02 = await connect("HV02").test_target(req)
    assert hv02.computer_name == "HV02" and hv02.part_of_domain and hv02.folder_exists
    assert "vSwitch-LAN" in hv02.switches and hv02.live_migration_authentication == "Kerberos"
    assert hv02.compare_ran and hv02.free_bytes > 0
    assert hv02.incompatibilities == []       # the disks found through -VhdSourcePath (no 40010)
    hv04 = await connect("HV04").test_target(req)
    assert not hv04.part_of_domain and not hv04.compare_ran
    assert hv04.compare_error.startswith("Access is denied.") and hv04.constrained_delegation is None


# ------------------------------------------------------------------------------------ copy, import

@pytest.mark.asyncio
async def test_copy_import_and_remove(fast, reporter):
    lab, connect = fast
    _, _, export = await _export(lab, connect("HV01"))
    target = connect("HV02")
    folder = _target_folder()
    copied = await target.copy_template(export, folder, "1-v1-2", reporter)
    assert copied == export.bytes
    fractions = [f for f, _ in reporter.progress_calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 3
    assert any(t.startswith("Copying ") and t.endswith(" GB") and " of " in t for _, t in reporter.progress_calls)
    # the same copy id again: joined, done at once
    assert await target.copy_template(export, folder, "1-v1-2") == copied
    vm = await target.import_template(folder, export.config_file, HOSTILE_NAMES[0] + " (v1)")
    assert vm.name == HOSTILE_NAMES[0] + " (v1)" and vm.state is PowerState.OFF and vm.host == "HV02"
    again = await target.import_template(folder, export.config_file, HOSTILE_NAMES[0] + " (v1)")
    assert again.id == vm.id
    await target.remove_template_copy(folder, vm.id)
    with lab.world.lock:
        assert lab.world.host("HV02").vm_by_id(vm.id) is None
    await target.remove_template_copy(folder, vm.id)               # gone already: success


async def _until(condition, what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.asyncio
async def test_cancelled_copy_is_stopped_and_removed(fast, reporter):
    lab, connect = fast
    _, _, export = await _export(lab, connect("HV01"))
    target = connect("HV02")
    task = asyncio.create_task(target.copy_template(export, _target_folder(), "1-v1-2", reporter))
    await _until(lambda: any(0 < f < 1 for f, _ in reporter.progress_calls), "the copy to make progress")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "Stopped the copy on HV02" in reporter.text
    status = await target.run_script("Get-TemplateCopy", {"copy_id": "1-v1-2", "folder": _target_folder()}, "t")
    assert status["state"] == "missing"


@pytest.mark.asyncio
async def test_copy_to_a_full_disk_is_a_capacity_error_and_removes_the_partial_copy(fast, reporter):
    lab, connect = fast
    _, _, export = await _export(lab, connect("HV01"))
    target = connect("HV02")
    lab.arm_fault("HV02", "disk-full", script="Start-TemplateCopy")    # the disk fills halfway through
    with pytest.raises(e.CapacityError) as info:
        await target.copy_template(export, _target_folder(), "1-v1-2", reporter)
    assert "There is not enough space on the disk." in info.value.message and "HV02" in info.value.message
    assert "Removed the partial copy on HV02" in reporter.text         # Stop-TemplateCopy ran
    status = await target.run_script("Get-TemplateCopy", {"copy_id": "1-v1-2", "folder": _target_folder()}, "t")
    assert status["state"] == "missing"


@pytest.mark.asyncio
async def test_target_going_offline_mid_copy_is_unreachable_and_a_retry_restarts(fast):
    lab, connect = fast
    _, _, export = await _export(lab, connect("HV01"))
    target = connect("HV02")
    lab.arm_fault("HV02", "offline", script="Start-TemplateCopy")     # halfway through the copy
    with pytest.raises(e.UnreachableError):
        await target.copy_template(export, _target_folder(), "1-v1-2")
    lab.set_fault("HV02", None)
    assert await target.copy_template(export, _target_folder(), "1-v1-2") == export.bytes


@pytest.mark.asyncio
async def test_import_incompatibility_is_a_prerequisite_error():
    record = e.ConsoleError("The virtual machine cannot be imported on HV04: Compare-VM reports 1 "
                            "incompatibility: Could not find Ethernet switch 'vSwitch-LAN'. (33012)",
                            "See the details in the log.", '{"fqid": "VdiIncompatible"}')
    mapped = _incompatible(record, "HV04")
    assert isinstance(mapped, e.PrerequisiteError) and "vSwitch-LAN" in mapped.message and "HV04" in mapped.hint
    other = e.NotFoundError("Cannot find path 'x'.")
    assert _incompatible(other, "HV04") is other
