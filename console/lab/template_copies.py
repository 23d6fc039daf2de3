"""The copy side of template distribution, emulated (design scripts 10-14): Start-, Get-, Stop-
TemplateCopy, Import-TemplateCopy, Remove-TemplateCopy. They run on the target host.

A copy is a detached robocopy on Windows: Start returns at once and the copy goes on without any WinRM
shell. Here a ``CopyJob`` records when it started and at what rate, and its progress is computed from
the time since (so a restarted lab or console finds it further along or done). ``settle`` decides, on
each look, whether something stopped it before now: the target or the source going offline (from the
hosts' fault history) -> "The network path was not found."; the "disk-full" fault on the target, or
the copy's bytes outgrowing the free space of the target's volume -> "There is not enough space on the
disk." (the partial copy stays on the disk until Stop-TemplateCopy removes it).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from .copy_progress import COPY_DONE, COPY_RUNNING, CopyProgress, missing
from .hyperv_model import Disk, SimHost, VirtualMachine
from .powershell import PSError, thrown
from .template_common import (
    ACCESS_DENIED,
    NETWORK_PATH_NOT_FOUND,
    NOT_ENOUGH_SPACE,
    PATH_NOT_FOUND,
    can_read_share,
    console_folder,
    disk_full,
    from_unc,
    host_of,
    incompatibilities,
    path_not_found,
    same_path,
    save,
    scale,
    text_param,
    timed,
    vdi_error,
)
from .template_model import CopyJob
from .template_timings import TIMINGS, copy_seconds, import_seconds

# ------------------------------------------------------------------------------------ settling

def first_fault(host: SimHost, since: float, until: float, faults: tuple[str, ...]) -> float | None:
    """When ``host`` first had one of ``faults`` between ``since`` and ``until`` (None: it did not)."""
    if host.fault_at(since) in faults:
        return since
    for t, fault in host.fault_log:
        if since < t <= until and fault in faults:
            return t
    return None


Stop = tuple[float, str, int]       # (when, error, bytes on the disk then)


def settle_running(host: SimHost, job: CopyProgress, now: float, room: int | None,
                   also: Callable[[float], list[Stop]] | None = None) -> bool:
    """Decide the fate up to ``now`` of a running copy that ``host`` writes (a template copy, a quick
    clone's own copy); True when it changed (the caller saves the host). It stops at the first of: the
    host going offline, its "disk-full" fault, the stops ``also(horizon)`` adds, and the copy outgrowing
    ``room`` (the bytes its volume has for it; None: no volume)."""
    horizon = min(now, job.ends_at())
    stops: list[Stop] = []
    t = first_fault(host, job.started_at, horizon, ("offline",))
    if t is not None:
        stops.append((t, NETWORK_PATH_NOT_FOUND, job.copied_by(t)))
    t = first_fault(host, job.started_at, horizon, ("disk-full",))
    if t is not None:
        stops.append((t, NOT_ENOUGH_SPACE, job.copied_by(t)))
    if also is not None:
        stops += also(horizon)
    if room is not None and room < job.bytes_total:
        t = job.started_at + max(0, room) / job.rate if job.rate > 0 else job.started_at
        if t <= horizon:
            stops.append((t, NOT_ENOUGH_SPACE, max(0, room)))
    if stops:
        when, error, nbytes = min(stops, key=lambda s: s[0])
        job.fail(when, error, nbytes)
        return True
    if now >= job.ends_at():
        job.state = COPY_DONE
        return True
    return False


def settle_job(world, host: SimHost, job: CopyJob, now: float) -> bool:
    """Decide a template copy's fate up to ``now`` (``settle_running``; the source going offline or its
    export being removed stop it too); True when it changed (the caller saves the host)."""
    if job.state != COPY_RUNNING:
        return False
    src = world.hosts.get(job.source_host)

    def source_stops(horizon: float) -> list[Stop]:
        stops: list[Stop] = []
        t = first_fault(src, job.started_at, horizon, ("offline",)) if src is not None else job.started_at
        if t is not None:
            stops.append((t, NETWORK_PATH_NOT_FOUND, job.copied_by(t)))
        export = src.files.export(job.source_folder) if src is not None else None
        if (export is None or not export.complete) and now < job.ends_at():
            stops.append((now, PATH_NOT_FOUND, job.copied_by(now)))    # the export was removed under it
        return stops

    volume = host.volume_of(job.folder)
    room = volume.size_bytes - host.used_bytes(volume, now, exclude=job) if volume is not None else None
    return settle_running(host, job, now, room, source_stops)


def settle(ctx, host: SimHost | None = None, now: float | None = None) -> None:
    """Settle every running copy of this host (under the world lock), saving it when one changed."""
    now = now if now is not None else time.time()
    with ctx.world.lock:
        host = host or host_of(ctx)
        changed = False
        for job in list(host.files.copies.values()):
            changed = settle_job(ctx.world, host, job, now) or changed
    if changed:
        save(ctx, host.name)


def _job_of(host: SimHost, copy_id: str, folder: str) -> CopyJob | None:
    """The copy recorded for ``folder`` when it is ``copy_id`` (a folder records one copy at a time)."""
    job = host.files.copies.get(copy_id)
    return job if job is not None and same_path(job.folder, folder) else None


# ------------------------------------------------------------------------------------ 10-12

def start_template_copy(ctx, params: dict) -> object:
    copy_id = text_param(params, "copy_id")
    source_unc = text_param(params, "source_unc_folder")
    folder = console_folder(params, "folder", "VDI-Templates")
    world = ctx.world
    settle(ctx)
    with world.lock:
        host = host_of(ctx)
        job = _job_of(host, copy_id, folder)
        again = job is not None and job.state in (COPY_RUNNING, COPY_DONE)
    if again:                                   # running or done: returned as it is, not restarted
        timed(ctx, "copy-start")
        settle(ctx)
        with world.lock:
            return job.to_contract(time.time())
    now = time.time()
    with world.lock:
        # new, failed or another copy's folder: robocopy (again) into <folder>\_export, replacing
        # the partial files
        for old in host.files.copies_in(folder):
            if not old.imported:
                del host.files.copies[old.copy_id]
        src, local = from_unc(world, source_unc)
        export = src.files.export(local) if src is not None else None
        image = export.image if export is not None and export.complete else None
        total = export.bytes_total if image is not None else 0
        rate = TIMINGS["copy-rate"] / scale(ctx)
        if src is not None and src.fault == "slow" and host.fault != "slow":
            rate /= 10                                   # the slower end sets the pace
        job = CopyJob(copy_id, folder, src.name if src is not None else "", local, total, rate, now, image)
        if src is None or src.fault == "offline":
            job.fail(now, NETWORK_PATH_NOT_FOUND, 0)
        elif not can_read_share(host, src):
            job.fail(now, ACCESS_DENIED, 0)
        elif image is None or host.volume_of(folder) is None:
            job.fail(now, PATH_NOT_FOUND, 0)
        host.files.copies[copy_id] = job
    save(ctx)
    # armed faults (Lab.arm_fault) see the whole copy as this script's operation: "halfway" is halfway
    # through the copy, though the script itself returns at once
    ctx.begin(copy_seconds(total) * scale(ctx) if job.state == COPY_RUNNING else 0.0)
    ctx.sleep(TIMINGS["copy-start"] * scale(ctx))
    settle(ctx)
    with world.lock:
        return job.to_contract(time.time())


def get_template_copy(ctx, params: dict) -> object:
    copy_id = text_param(params, "copy_id")
    folder = text_param(params, "folder").rstrip("\\")
    timed(ctx, "copy-get")
    settle(ctx)
    with ctx.world.lock:
        job = _job_of(host_of(ctx), copy_id, folder)
        return job.to_contract(time.time()) if job is not None else missing(copy_id)


def stop_template_copy(ctx, params: dict) -> object:
    copy_id = text_param(params, "copy_id")
    folder = console_folder(params, "folder", "VDI-Templates")
    timed(ctx, "copy-stop")
    settle(ctx)
    with ctx.world.lock:
        host = host_of(ctx)
        job = _job_of(host, copy_id, folder)          # another copy id's folder is left alone
        doomed = job is not None and not job.imported
        stopped = doomed and job.state == COPY_RUNNING
        if doomed:                                    # the process ends, <folder>\_export goes
            del host.files.copies[job.copy_id]
    if doomed:
        save(ctx)
    return {"stopped": stopped}


# ------------------------------------------------------------------------------------ 13, 14

def _incompatible(host: SimHost, problems: list[dict], config: str) -> PSError:
    listed = " ".join(f"{p['message']} ({p['message_id']})" for p in problems)
    return vdi_error(f"The template cannot be imported on {host.name}: Compare-VM reports "
                     f"incompatibilities: {listed}", "VdiIncompatible", "InvalidData", config)


def import_template_copy(ctx, params: dict) -> object:
    folder = text_param(params, "folder").rstrip("\\")
    config_file = text_param(params, "config_file")
    vm_name = text_param(params, "vm_name")
    world = ctx.world
    settle(ctx)
    with world.lock:
        host = host_of(ctx)
        earlier = next((vm for vm in host.vms.values() if same_path(vm.path, folder)), None)
        if earlier is not None:               # an earlier try's: renamed if needed, returned
            earlier.name = vm_name
            for j in host.files.copies_in(folder):
                j.imported = True
            out = earlier.to_contract()
    if earlier is not None:
        save(ctx)
        return out
    with world.lock:
        config = f"{folder}\\_export\\{config_file}"
        jobs = [j for j in host.files.copies_in(folder) if not j.imported]
        job = next((j for j in jobs if j.state == COPY_DONE), None)
        if job is None or job.image is None or not same_path(job.image.config_file, config_file):
            if jobs and job is None:
                raise thrown(f"The copy in '{folder}\\_export' is not complete ({jobs[0].state}).")
            raise path_not_found(config, "CompareVM")
        image = job.image
        problems = incompatibilities(image, host)
        if problems:
            raise _incompatible(host, problems, config)
        volume = host.volume_of(folder)
        room = host.free_bytes(volume) if volume is not None else 0
    seconds = import_seconds(image.disk_bytes) * scale(ctx)
    ctx.begin(seconds)
    if room < image.disk_bytes:               # Import-VM -Copy copies the disks out of _export
        ctx.sleep(seconds * room / image.disk_bytes)
        disk = (image.disks or [{"path": "disk.vhdx"}])[0]["path"].rsplit("\\", 1)[-1]
        raise disk_full(image.name, image.vm_id, "ImportVM", "import",
                        f"{folder}\\_export\\Virtual Hard Disks\\{disk}",
                        f"{folder}\\Virtual Hard Disks\\{disk}")
    ctx.sleep(seconds)
    with world.lock:
        disks = [Disk(f"{folder}\\Virtual Hard Disks\\{d['path'].rsplit(chr(92), 1)[-1]}",
                      int(d["size_bytes"]), int(d["file_bytes"])) for d in image.disks]
        vm = host.add_vm(VirtualMachine(
            id=str(uuid.uuid4()), name=vm_name, state="Off", cpu_count=image.cpu_count,
            memory_bytes=image.memory_bytes, generation=image.generation, version=image.version,
            path=folder, switch=image.switch, integration_services=image.integration_services,
            notes=image.notes, disks=disks))
        job.imported = True                   # Remove-Item <folder>\_export -Recurse
        out = vm.to_contract()
    save(ctx)
    return out


def remove_template_copy(ctx, params: dict) -> object:
    folder = console_folder(params, "folder", "VDI-Templates")
    vm_id = str(params.get("vm_id") or "").strip().lower()
    timed(ctx, "remove-copy")
    settle(ctx)
    with ctx.world.lock:
        host = host_of(ctx)
        vm = host.vm_by_id(vm_id) if vm_id else None
        if vm is not None and not same_path(vm.path, folder):     # a wrong id never removes another VM
            raise vdi_error(f"VM '{vm.name}' is not in '{folder}'.", "VdiNotTemplateCopy",
                            "InvalidArgument", vm.name)
        removed = False
        if vm is not None:                                          # Stop-VM -TurnOff; Remove-VM -Force
            del host.vms[vm.id]
            removed = True
        for j in host.files.copies_in(folder):                      # Remove-Item <folder> -Recurse
            del host.files.copies[j.copy_id]
            removed = True
    if removed:
        save(ctx)
    return {"removed": removed}


SCRIPTS = {
    "Start-TemplateCopy": start_template_copy,
    "Get-TemplateCopy": get_template_copy,
    "Stop-TemplateCopy": stop_template_copy,
    "Import-TemplateCopy": import_template_copy,
    "Remove-TemplateCopy": remove_template_copy,
}
