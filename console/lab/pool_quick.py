"""The quick clone's way to independence (design scripts 5, 6): Start-/Get-QuickCloneCopy (a detached
local copy of the base disk(s) into the clone's folder, like Start-TemplateCopy) and Complete-QuickClone
(re-parent the checkpoint's .avhdx onto the copy while the VM runs, then merge the checkpoint away).

The copy's progress follows the clock (``pool_model.QuickCopy.bytes_at``), so a restarted lab or console
finds it further along or done. ``settle`` decides on each look whether something stopped it: the host
going offline (from its fault history) -> "The network path was not found."; the "disk-full" fault, or
the copy outgrowing the volume's free space -> "There is not enough space on the disk." (the partial
copy stays on the disk until a new copy replaces it or the clone is removed).
"""
from __future__ import annotations

import time

from .copy_progress import COPY_DONE, COPY_RUNNING, missing
from .hyperv_model import Disk, SimHost
from .pool_common import file_name, timed, valid_guid
from .pool_model import CloneRecord, QuickCopy
from .pool_timings import TIMINGS, merge_seconds, quick_copy_seconds
from .powershell import HyperV
from .template_common import host_of, save, scale, text_param, vdi_error
from .template_copies import settle_running

QUICK_CHECKPOINT = "VDI quick clone"


def settle_copy(host: SimHost, rec: CloneRecord, now: float) -> bool:
    """Decide a running copy's fate up to ``now``; True when it changed (the caller saves the host)."""
    job = rec.copy
    if job is None or job.state != COPY_RUNNING:
        return False
    volume = host.volume_of(rec.folder)
    room = volume.size_bytes - host.used_bytes(volume, now) + job.bytes_at(now) if volume is not None else None
    return settle_running(host, job, now, room)


def _quick_record(host: SimHost, vm_id: str) -> CloneRecord:
    vm = host.vm_by_id(vm_id)
    if vm is None:
        raise HyperV.vm_not_found(vm_id, "GetVM")
    rec = host.pools.clones.get(vm.id)
    if rec is None or rec.method != "quick":
        raise vdi_error(f"'{vm.name}' is not a quick clone: it has no base disk to copy and no checkpoint to "
                        f"merge.", "VdiNotQuickClone", "InvalidArgument", vm.name)
    return rec


def _vm_id(params: dict) -> str:
    vm_id = valid_guid(params.get("vm_id"))
    if vm_id is None:
        raise HyperV.bad_guid_cast(str(params.get("vm_id") or ""))
    return vm_id


def _settled(ctx, rec: CloneRecord) -> dict:
    with ctx.world.lock:
        host = host_of(ctx)
        now = time.time()
        changed = settle_copy(host, rec, now)
        out = rec.copy.to_contract(now) if rec.copy is not None else missing("")
    if changed:
        save(ctx)
    return out


# ------------------------------------------------------------------------------------ 5

def start_quick_clone_copy(ctx, params: dict) -> object:
    vm_id = _vm_id(params)
    copy_id = text_param(params, "copy_id")
    world = ctx.world
    with world.lock:
        host = host_of(ctx)
        rec = _quick_record(host, vm_id)
        settle_copy(host, rec, time.time())
        job = rec.copy
        if rec.merged:                          # independent already: the copy is long done
            job = job or QuickCopy(copy_id, rec.base_bytes, 1.0, rec.created_at, COPY_DONE)
            return job.to_contract(time.time())
        again = job is not None and job.copy_id == copy_id and job.state in (COPY_RUNNING, COPY_DONE)
    if again:                                   # running or done: returned as it is, not restarted
        timed(ctx, "copy-start")
        return _settled(ctx, rec)
    with world.lock:                            # new, failed or another id: robocopy (again)
        now = time.time()
        rate = TIMINGS["quick-copy-rate"] / scale(ctx)
        rec.copy = QuickCopy(copy_id, rec.base_bytes, rate, now)
    save(ctx)
    # armed faults (Lab.arm_fault) see the whole copy as this script's operation
    ctx.begin(quick_copy_seconds(rec.base_bytes) * scale(ctx))
    ctx.sleep(TIMINGS["copy-start"] * scale(ctx))
    return _settled(ctx, rec)


def get_quick_clone_copy(ctx, params: dict) -> object:
    copy_id = text_param(params, "copy_id")
    vm_id = valid_guid(params.get("vm_id"))
    timed(ctx, "copy-get")
    with ctx.world.lock:
        rec = host_of(ctx).pools.clones.get(vm_id or "")
        known = rec is not None and rec.copy is not None and rec.copy.copy_id == copy_id
    return _settled(ctx, rec) if known else missing(copy_id)


# ------------------------------------------------------------------------------------ 6

def complete_quick_clone(ctx, params: dict) -> object:
    vm_id = _vm_id(params)
    world = ctx.world
    with world.lock:
        host = host_of(ctx)
        rec = _quick_record(host, vm_id)
        vm = host.vm_by_id(vm_id)
        if rec.merged:                          # done before (a retry): as it is
            return vm.to_contract()
        if settle_copy(host, rec, time.time()):
            save(ctx)
        state = rec.copy.state if rec.copy is not None else "not started"
        if state != COPY_DONE:
            raise vdi_error(f"'{vm.name}' cannot be completed in its current state: the copy of its base "
                            f"disk is {state}.", "VdiCopyIncomplete", "InvalidOperation", vm.name)
        growth = sum(d.file_bytes for d in vm.disks)
    seconds = merge_seconds(growth) * scale(ctx)
    ctx.begin(seconds)
    ctx.sleep(seconds)                          # an abort leaves it as it was: a retry merges
    with world.lock:
        vhds = f"{rec.folder}\\Virtual Hard Disks"
        disks = []
        for base, (size, nbytes), d in zip(rec.base_disks, rec.base_sizes, vm.disks):
            stem = file_name(base).rsplit(".", 1)[0]
            disks.append(Disk(f"{vhds}\\{stem}-own.vhdx", size, nbytes + d.file_bytes))
        vm.disks = disks                        # Set-VHD -ParentPath <own copy>; Remove-VMSnapshot
        vm.checkpoints = [c for c in vm.checkpoints if c.name != QUICK_CHECKPOINT]
        rec.merged = True
        out = vm.to_contract()
    save(ctx)
    return out


SCRIPTS = {
    "Start-QuickCloneCopy": start_quick_clone_copy,
    "Get-QuickCloneCopy": get_quick_clone_copy,
    "Complete-QuickClone": complete_quick_clone,
}
