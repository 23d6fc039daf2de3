"""The template scripts of the source side and the pre-flight check, emulated against the world
(design scripts 1-9): Get-TemplateSource, Get-TemplateRequirements, New-/Get-/Restore-/Remove-
TemplateCheckpoint(s), Export-TemplateCheckpoint, Remove-TemplateExport, Test-TemplateTarget.
The copy side (scripts 10-14) is in ``template_copies``. Same conventions as ``scripts``: each takes the
``OpContext`` and the parameter document, returns the JSON-able answer or raises ``PSError``.
"""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from .powershell import PSError
from .template_common import (
    NETWORK_PATH_NOT_FOUND,
    can_read_share,
    chain_bytes,
    console_folder,
    disk_full,
    folder_name_param,
    from_unc,
    guid_param,
    has_folder,
    host_by_name,
    host_of,
    image_of,
    incompatibilities,
    must_be_off,
    same_path,
    save,
    scale,
    text_param,
    timed,
    to_unc,
    vhd_folder,
    vm_or_error,
)
from .template_model import Checkpoint, Export
from .template_timings import export_seconds

#: Compare-VM's incompatibility for a disk it cannot find (the lab's figure and sentence)
MISSING_DISK = 40010

_SERVICES = ("Heartbeat", "Shutdown", "Key-Value Pair Exchange", "Guest Service Interface",
             "Time Synchronization", "VSS")
#: what a guest without integration services leaves disabled (Guest Service Interface is disabled on
#: every VM by default in Hyper-V; time synchronisation is the host's side and stays on)
_NEED_GUEST = ("Heartbeat", "Shutdown", "Key-Value Pair Exchange", "VSS")


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checkpoint_not_found(vm_name: str, checkpoint_id: str) -> PSError:
    return PSError(f'Hyper-V was unable to find a checkpoint with ID "{checkpoint_id}" of the virtual '
                   f"machine '{vm_name}'.", "ObjectNotFound,Microsoft.HyperV.PowerShell.Commands.GetVMSnapshot",
                   "ObjectNotFound", "Microsoft.HyperV.PowerShell.VirtualizationException", checkpoint_id)


# ------------------------------------------------------------------------------------ 1, 2

def get_template_source(ctx, params: dict) -> object:
    vm_id = guid_param(params, "vm_id")
    timed(ctx, "read")
    with ctx.world.lock:
        vm = vm_or_error(host_of(ctx), vm_id)
        services = []
        for n in _SERVICES:
            enabled = n != "Guest Service Interface" and (vm.integration_services or n not in _NEED_GUEST)
            # PrimaryStatusDescription: only a running VM's guest answers; one without integration
            # services leaves the services still enabled (Time Synchronization) without contact
            status = ("" if vm.state != "Running" or not enabled
                      else "OK" if vm.integration_services else "No Contact")
            services.append({"name": n, "enabled": enabled, "status": status})
        return {"vm": vm.to_contract(), "integration_services": services,
                "checkpoints": [c.to_contract() for c in vm.checkpoints]}


def get_template_requirements(ctx, params: dict) -> object:
    vm_id = guid_param(params, "vm_id")
    timed(ctx, "read")
    with ctx.world.lock:
        host = host_of(ctx)
        vm = vm_or_error(host, vm_id)
        return {"computer_name": host.name, "fqdn": host.fqdn, "domain": host.domain,
                "folder_path": host.vm_path, "switch_name": vm.switch,
                "disk_bytes": chain_bytes(host, vm),
                "config_unc": to_unc(host, f"{vm.path}\\{image_of(vm).config_file}"), "vm_id": vm.id,
                "vhd_folder_unc": to_unc(host, vhd_folder(vm)) if vm.disks else ""}


# ------------------------------------------------------------------------------------ 3-6

def new_template_checkpoint(ctx, params: dict) -> object:
    vm_id = guid_param(params, "vm_id")
    name = text_param(params, "name")
    world = ctx.world
    with world.lock:
        vm = vm_or_error(host_of(ctx), vm_id, "CheckpointVM")
        for c in vm.checkpoints:
            if c.name.lower() == name.lower():         # asked again (a retry): the one made before
                return c.to_contract()
        must_be_off(vm, "take a template checkpoint")
    timed(ctx, "checkpoint")
    with world.lock:
        existing = [c for c in vm.checkpoints if c.name.lower() == name.lower()]
        if existing:
            return existing[0].to_contract()
        cp = Checkpoint(str(uuid.uuid4()), name, vm.id, _now_iso(), image_of(vm))
        vm.checkpoints.append(cp)
    save(ctx)
    return cp.to_contract()


def get_template_checkpoints(ctx, params: dict) -> object:
    vm_id = guid_param(params, "vm_id")
    timed(ctx, "read")
    with ctx.world.lock:
        vm = vm_or_error(host_of(ctx), vm_id, "GetVMSnapshot")
        return [c.to_contract() for c in vm.checkpoints]


def restore_template_checkpoint(ctx, params: dict) -> object:
    vm_id = guid_param(params, "vm_id")
    checkpoint_id = guid_param(params, "checkpoint_id")
    world = ctx.world
    with world.lock:
        vm = vm_or_error(host_of(ctx), vm_id, "RestoreVMSnapshot")
        cp = next((c for c in vm.checkpoints if c.id == checkpoint_id), None)
        if cp is None:
            raise _checkpoint_not_found(vm.name, checkpoint_id)
        must_be_off(vm, "apply a checkpoint")
    timed(ctx, "apply-checkpoint")
    with world.lock:
        img = cp.image
        vm.cpu_count, vm.memory_bytes, vm.version = img.cpu_count, img.memory_bytes, img.version
        vm.switch, vm.integration_services, vm.notes = img.switch, img.integration_services, img.notes
        by_path = {d.path.lower(): d for d in vm.disks}
        for saved in img.disks:                # the disks go back to their size at the checkpoint
            disk = by_path.get(saved["path"].lower())
            if disk is not None:
                disk.file_bytes = int(saved["file_bytes"])
        out = vm.to_contract()
    save(ctx)
    return out


def remove_template_checkpoint(ctx, params: dict) -> object:
    vm_id = guid_param(params, "vm_id")
    checkpoint_id = guid_param(params, "checkpoint_id")
    world = ctx.world
    with world.lock:
        vm = vm_or_error(host_of(ctx), vm_id, "RemoveVMSnapshot")
        present = any(c.id == checkpoint_id for c in vm.checkpoints)
    if not present:
        timed(ctx, "read")
        return {"removed": False}
    timed(ctx, "remove-checkpoint")
    with world.lock:
        before = len(vm.checkpoints)
        vm.checkpoints = [c for c in vm.checkpoints if c.id != checkpoint_id]
        removed = len(vm.checkpoints) < before
    save(ctx)
    return {"removed": removed}


# ------------------------------------------------------------------------------------ 7, 8

def _export_doc(host, e: Export) -> dict:
    return {"folder": e.folder, "unc_folder": to_unc(host, e.folder), "config_file": e.config_file,
            "bytes": e.bytes_total}


def export_template_checkpoint(ctx, params: dict) -> object:
    vm_id = guid_param(params, "vm_id")
    checkpoint_id = guid_param(params, "checkpoint_id")
    folder_name = folder_name_param(params)
    world = ctx.world
    with world.lock:
        host = host_of(ctx)
        vm = vm_or_error(host, vm_id, "ExportVMSnapshot")
        cp = next((c for c in vm.checkpoints if c.id == checkpoint_id), None)
        if cp is None:
            raise _checkpoint_not_found(vm.name, checkpoint_id)
        folder = f"{host.vm_path}\\VDI-Export\\{folder_name}"
        existing = host.files.export(folder)
        if existing is not None and existing.complete and existing.checkpoint_id == cp.id:
            return _export_doc(host, existing)         # exported before: its marker is there
        # no marker (the export was interrupted), or another checkpoint's: removed and redone
        export = Export(folder, vm.id, cp.id, cp.image.disk_bytes, 0, False, cp.image)
        host.files.put_export(export)
        volume = host.volume_of(folder)
        free = host.free_bytes(volume) if volume is not None else 0
    save(ctx)
    total = export.bytes_total
    seconds = export_seconds(total) * scale(ctx)
    fits = free >= total
    t0 = time.monotonic()
    ctx.begin(seconds)
    try:
        ctx.sleep(seconds if fits else seconds * (free / total if total else 0.0))
    finally:
        with world.lock:
            done = min(1.0, (time.monotonic() - t0) / seconds) if seconds > 0 else 1.0
            export.bytes_written = total if fits and done >= 1.0 else min(free, int(total * done))
        save(ctx)
    if not fits:
        disk = (cp.image.disks or [{"path": f"{vm.path}\\{vm.name}.vhdx"}])[0]["path"]
        raise disk_full(vm.name, vm.id, "ExportVMSnapshot", "export",
                        disk, f"{folder}\\Virtual Hard Disks\\{disk.rsplit(chr(92), 1)[-1]}")
    with world.lock:
        export.bytes_written, export.complete = total, True       # vdi-export.json written last
        out = _export_doc(host, export)
    save(ctx)
    return out


def remove_template_export(ctx, params: dict) -> object:
    folder = console_folder(params, "folder", "VDI-Export")
    timed(ctx, "remove-export")
    with ctx.world.lock:
        host = host_of(ctx)
        removed = host.files.exports.pop(folder.lower(), None) is not None
    if removed:
        save(ctx)
    return {"removed": removed}


# ------------------------------------------------------------------------------------ 9

def test_template_target(ctx, params: dict) -> object:
    source = params.get("source") if isinstance(params.get("source"), dict) else {}
    folder_path = str(source.get("folder_path") or "")
    config_unc = str(source.get("config_unc") or "")
    timed(ctx, "test-target")
    with ctx.world.lock:
        host = host_of(ctx)
        volume = (host.volume_of(folder_path) if folder_path else None) or host.volume_of("C:\\")
        doc = {"computer_name": host.name, "fqdn": host.fqdn, "domain": host.domain,
               "part_of_domain": host.part_of_domain,
               "folder_exists": bool(folder_path) and has_folder(host, folder_path),
               "switches": [n for n, _ in host.switches],
               "live_migration": {"enabled": host.lm_enabled, "authentication": host.lm_authentication,
                                  "constrained_delegation": (list(host.constrained_delegation)
                                                             if host.constrained_delegation is not None
                                                             else None)},
               "free_bytes": host.free_bytes(volume) if volume is not None else 0,
               "compare": _compare(ctx.world, host, source, config_unc)}
    return doc


def _compare(world, host, source: dict, config_unc: str) -> dict:
    """Compare-VM -Path <config_unc> -Copy -GenerateNewId run on the target: a report only."""
    src_host, local = from_unc(world, config_unc)
    if src_host is None:
        src_host = host_by_name(world, str(source.get("fqdn") or source.get("computer_name") or ""))
    if src_host is None or src_host.fault == "offline":
        return {"ran": False, "error": f"{NETWORK_PATH_NOT_FOUND} ({config_unc})", "incompatibilities": []}
    if not can_read_share(host, src_host):
        return {"ran": False, "error": f"Access is denied. ({config_unc})", "incompatibilities": []}
    vm = None
    vm_id = str(source.get("vm_id") or "")
    if not vm_id and local:
        vm_id = local.rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    if vm_id:
        vm = src_host.vm_by_id(vm_id)
    if vm is None or (local and not same_path(local.rsplit("\\Virtual Machines\\", 1)[0], vm.path)):
        return {"ran": False, "error": f"Could not find file '{config_unc}'.", "incompatibilities": []}
    return {"ran": True, "error": "",
            "incompatibilities": _missing_disks(world, host, src_host, vm, source) + incompatibilities(image_of(vm), host)}


def _missing_disks(world, host, src_host, vm, source: dict) -> list[dict]:
    """The configuration names its disks by the source's local paths: another host finds them only in
    the folder given as -VhdSourcePath (by file name), and the source host itself at those paths."""
    if host is src_host:
        return []
    vhd_host, local = from_unc(world, str(source.get("vhd_folder_unc") or ""))
    return [{"message_id": MISSING_DISK, "message": f"Could not find the virtual hard disk '{d.path}'.",
             "source": "Hard Drive"}
            for d in vm.disks
            if vhd_host is not src_host or not same_path(d.path.rsplit("\\", 1)[0], local)]


SCRIPTS = {
    "Get-TemplateSource": get_template_source,
    "Get-TemplateRequirements": get_template_requirements,
    "New-TemplateCheckpoint": new_template_checkpoint,
    "Get-TemplateCheckpoints": get_template_checkpoints,
    "Restore-TemplateCheckpoint": restore_template_checkpoint,
    "Remove-TemplateCheckpoint": remove_template_checkpoint,
    "Export-TemplateCheckpoint": export_template_checkpoint,
    "Remove-TemplateExport": remove_template_export,
    "Test-TemplateTarget": test_template_target,
}
