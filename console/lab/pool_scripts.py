"""The pool scripts of issue #5, emulated against the world (design scripts 1-9): New-PoolClone,
Start-PoolClone, Remove-PoolClone and Get-PoolClones here; the guest side (Set-PoolClonePreparation,
Get-PoolCloneGuests, Invoke-PoolCloneLogoff) in ``pool_guests``; the quick clone's copy and merge
(Start-/Get-QuickCloneCopy, Complete-QuickClone) in ``pool_quick``. ``SCRIPTS`` holds all nine.

Same conventions as ``scripts``: each takes the ``OpContext`` and the parameter document, returns the
JSON-able answer or raises ``PSError``; durations are ``pool_timings``' figures scaled by the lab's
speed (x10 on a "slow" host) and announced with ``ctx.begin`` so an armed fault lands mid-operation.
A creation interrupted by the host going away leaves its partial files (``HostPools.leftovers``), as a
real one would; Remove-PoolClone with the folder removes them.
"""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from .hyperv_model import Disk, SimHost, VirtualMachine
from .pool_common import (
    REQUEST_NOTE,
    base_disk,
    clone_folder,
    copy_disk_full,
    file_name,
    name_in_use,
    parent_of,
    pool_folder,
    request_of,
    switch_not_found,
    timed,
    valid_guid,
    vhd_disk_full,
)
from .pool_guests import SCRIPTS as _GUEST_SCRIPTS
from .pool_model import CloneRecord
from .pool_quick import QUICK_CHECKPOINT
from .pool_quick import SCRIPTS as _QUICK_SCRIPTS
from .pool_timings import LINKED_GROWTH_BYTES, TIMINGS, create_seconds
from .powershell import HyperV, PSError
from .template_common import (
    host_of,
    image_of,
    same_path,
    save,
    scale,
    supported_versions,
    text_param,
    vdi_error,
)
from .template_model import Checkpoint

METHODS = ("full", "linked", "quick")
SMALL_FILE = 4 * 1024 ** 2          # what New-VHD writes before anything else: an empty differencing disk


def _int(params: dict, key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    try:
        number = int(value if value is not None else default)
    except (TypeError, ValueError):
        raise PSError(f'Cannot convert value "{value}" to type "System.Int64". Error: "Input string was not '
                      f'in a correct format."', "InvalidCastFromStringToInteger", "InvalidArgument",
                      "System.Management.Automation.RuntimeException", key) from None
    if not low <= number <= high:
        raise PSError(f"Cannot validate argument on parameter '{key}'. The {number} argument is not in the "
                      f"range {low}..{high}.", "ParameterArgumentValidationError", "InvalidData",
                      "System.Management.Automation.ParameterBindingValidationException", key)
    return number


def _contract(vm: VirtualMachine) -> dict:
    return {"vm": vm.to_contract(), "disks": [d.to_dict() for d in vm.disks]}


def _earlier(host: SimHost, folder: str, request_id: str) -> VirtualMachine | None:
    for vm in host.vms.values():
        if same_path(vm.path, folder) and request_of(vm) == request_id:
            return vm
    return None


# ------------------------------------------------------------------------------------ 1

def new_pool_clone(ctx, params: dict) -> object:
    name = text_param(params, "name")
    method = str(params.get("method") or "")
    if method not in METHODS:
        raise PSError(f"Unknown clone method '{method}': expected full, linked or quick.", "VdiUnknownMethod",
                      "InvalidArgument", "System.ArgumentException", method)
    folder = clone_folder(params)
    request_id = text_param(params, "request_id")
    bases = params.get("base_disks")
    if not isinstance(bases, list) or not bases or not all(isinstance(b, str) and b.strip() for b in bases):
        raise vdi_error("The parameter 'base_disks' must list at least one disk path.", "VdiNoBaseDisk",
                        "InvalidArgument", "base_disks")
    switch = str(params.get("switch") or "")
    cpu = _int(params, "cpu_count", 2, 1, 240)
    memory = _int(params, "memory_bytes", 4 * 1024 ** 3, 32 * 1024 ** 2, 12 * 1024 ** 4)
    generation = _int(params, "generation", 2, 1, 2)
    world = ctx.world
    with world.lock:
        host = host_of(ctx)
        earlier = _earlier(host, folder, request_id)
        if earlier is not None:                  # a retry of this request: the VM made before
            return _contract(earlier)
        if host.vm_by_name(name) or any(same_path(vm.path, folder) for vm in host.vms.values()):
            raise name_in_use(name, host.name)
        if folder.lower() in host.pools.creating:
            raise vdi_error(f"A clone is being created in '{folder}' already.", "VdiCreationRunning",
                            "ResourceBusy", folder)
        if switch and not any(n.lower() == switch.lower() for n, _ in host.switches):
            raise switch_not_found(switch)
        sizes = [base_disk(host, b) for b in bases]
        base_bytes = sum(f for _, f in sizes)
        need = base_bytes if method == "full" else LINKED_GROWTH_BYTES
        volume = host.volume_of(folder)
        if volume is None:
            raise vdi_error(f"The drive of '{folder}' does not exist on {host.name}.", "VdiNoDrive",
                            "ObjectNotFound", folder)
        free = host.free_bytes(volume)
        host.pools.drop_leftover(folder)        # an interrupted try's files: overwritten
        host.pools.creating[folder.lower()] = request_id
    seconds = create_seconds(method, base_bytes) * scale(ctx)
    ctx.begin(seconds)
    try:
        if free < need:
            # the copy (full) or the differencing disk's first writes (linked, quick) run out of room
            ctx.sleep(seconds * (free / need if method == "full" and need else 0.05))
            target = f"{folder}\\Virtual Hard Disks\\{file_name(bases[0])}"
            with world.lock:
                host.pools.add_leftover(folder, free if method == "full" else 0)
            save(ctx)
            raise copy_disk_full(target) if method == "full" else vhd_disk_full(target)
        t0 = time.monotonic()
        try:
            ctx.sleep(seconds)
        except Exception:                       # scripts.Aborted: the host went away meanwhile
            done = min(1.0, (time.monotonic() - t0) / seconds) if seconds > 0 else 1.0
            with world.lock:
                host.pools.add_leftover(folder, int(base_bytes * done) if method == "full" else SMALL_FILE)
            save(ctx)
            raise
        with world.lock:
            if host.vm_by_name(name):           # another creation took the name meanwhile
                raise name_in_use(name, host.name)
            vm = _make_vm(host, name, method, folder, request_id, bases, sizes, switch, cpu, memory,
                          generation)
            host.pools.clones[vm.id] = CloneRecord(
                vm_id=vm.id, name=name, method=method, folder=folder, request_id=request_id,
                base_disks=list(bases), base_bytes=base_bytes, base_sizes=[list(s) for s in sizes],
                created_at=time.time(), image_name="WIN-" + vm.id.replace("-", "")[:11].upper(),
                boot_seconds=TIMINGS["boot"] * scale(ctx))
            out = _contract(vm)
    finally:
        with world.lock:
            host.pools.creating.pop(folder.lower(), None)
    save(ctx)
    return out


def _make_vm(host: SimHost, name: str, method: str, folder: str, request_id: str, bases: list[str],
             sizes: list[tuple[int, int]], switch: str, cpu: int, memory: int, generation: int) -> VirtualMachine:
    vhds = f"{folder}\\Virtual Hard Disks"
    growth = LINKED_GROWTH_BYTES // len(bases)
    vm_id = str(uuid.uuid4())
    checkpoint_id = str(uuid.uuid4())
    disks = []
    for base, (size, nbytes) in zip(bases, sizes):
        own = f"{vhds}\\{file_name(base)}"
        if method == "full":                    # Copy-Item, then New-VM -VHDPath
            disks.append(Disk(own, size, nbytes))
        elif method == "linked":                # New-VHD -Differencing -ParentPath <base>
            disks.append(Disk(own, size, growth, base))
        else:                                   # the same, then Checkpoint-VM: writes go to the .avhdx
            stem = file_name(base).rsplit(".", 1)[0]
            disks.append(Disk(f"{vhds}\\{stem}_{checkpoint_id.upper()}.avhdx", size, growth, own))
    vm = host.add_vm(VirtualMachine(
        id=vm_id, name=name, state="Off", cpu_count=cpu, memory_bytes=memory, generation=generation,
        version=supported_versions(host)[-1], path=folder, switch=switch, integration_services=True,
        notes=f"{REQUEST_NOTE}{request_id}", disks=disks))
    if method == "quick":
        image = image_of(vm)
        image.disks = [dict(d.to_dict(), path=d.parent_path, parent_path=b) for d, b in zip(disks, bases)]
        vm.checkpoints.append(Checkpoint(checkpoint_id, QUICK_CHECKPOINT, vm.id,
                                         datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), image))
    return vm


# ------------------------------------------------------------------------------------ 3

def start_pool_clone(ctx, params: dict) -> object:
    vm_id = valid_guid(params.get("vm_id"))
    if vm_id is None:
        raise HyperV.bad_guid_cast(str(params.get("vm_id") or ""))
    world = ctx.world
    with world.lock:
        host = host_of(ctx)
        vm = host.vm_by_id(vm_id)
        if vm is None:
            raise HyperV.vm_not_found(vm_id, "StartVM")
        if vm.state in ("Running", "Starting"):        # started already (a retry): as it is
            return vm.to_contract()
        if vm.state not in ("Off", "Saved"):
            raise HyperV.invalid_state(vm.name, vm.id, "StartVM")
        if host.fault == "disk-full":
            raise HyperV.disk_full_on_start(vm.name, vm.id, vm.path)
        prev_state, prev_started = vm.state, vm.started_at
        vm.prev_state, vm.state, vm.started_at = prev_state, "Starting", None
    save(ctx)
    try:
        timed(ctx, "start")
    except Exception:                           # scripts.Aborted: back to where it was
        with world.lock:
            vm.state, vm.started_at, vm.prev_state = prev_state, prev_started, None
        save(ctx)
        raise
    with world.lock:
        vm.state, vm.prev_state, vm.started_at = "Running", None, time.time()
        rec = host.pools.clones.get(vm.id)
        if rec is not None:
            rec.boot_seconds = TIMINGS["boot"] * scale(ctx)
        out = vm.to_contract()
    save(ctx)
    return out


# ------------------------------------------------------------------------------------ 7, 8

def remove_pool_clone(ctx, params: dict) -> object:
    folder = clone_folder(params)
    raw = str(params.get("vm_id") or "").strip()
    vm_id = valid_guid(raw) if raw else ""
    if vm_id is None:
        raise HyperV.bad_guid_cast(raw)
    timed(ctx, "remove")
    with ctx.world.lock:
        host = host_of(ctx)
        vm = host.vm_by_id(vm_id) if vm_id else None
        if vm is not None and not same_path(vm.path, folder):     # a wrong id never removes another VM
            raise vdi_error(f"VM '{vm.name}' is not in '{folder}'.", "VdiNotPoolClone", "InvalidArgument",
                            vm.name)
        removed = False
        if vm is not None:                                          # Stop-VM -TurnOff; Remove-VM -Force
            del host.vms[vm.id]
            removed = True
        for rec in [r for r in host.pools.clones.values() if same_path(r.folder, folder)]:
            if rec.vm_id not in host.vms:                           # Remove-Item <folder> -Recurse
                del host.pools.clones[rec.vm_id]
                removed = True
        removed = host.pools.drop_leftover(folder) or removed
    if removed:
        save(ctx)
    return {"removed": removed}


def get_pool_clones(ctx, params: dict) -> object:
    folder = pool_folder(params)
    timed(ctx, "list")
    with ctx.world.lock:
        host = host_of(ctx)
        return [{"vm_id": vm.id, "name": vm.name, "folder": vm.path, "request_id": request_of(vm)}
                for vm in host.vms.values() if vm.path and same_path(parent_of(vm.path), folder)]


SCRIPTS = {
    "New-PoolClone": new_pool_clone,
    "Start-PoolClone": start_pool_clone,
    "Remove-PoolClone": remove_pool_clone,
    "Get-PoolClones": get_pool_clones,
    **_GUEST_SCRIPTS,
    **_QUICK_SCRIPTS,
}
