"""What the pool scripts' emulations share: the pool folders, the base disks a clone is made from, the
guest's view with its side effects, and the Windows errors they raise. Never imports ``scripts``."""
from __future__ import annotations

import re
import uuid

from .hyperv_model import SimHost, VirtualMachine
from .pool_model import CloneRecord, GuestView
from .pool_timings import TIMINGS
from .powershell import PSError
from .template_common import path_not_found, same_path, scale, text_param, vdi_error

POOLS_FOLDER = "VDI-Pools"
_CLONE_FOLDER = re.compile(rf"^[A-Za-z]:\\.+\\{POOLS_FOLDER}\\[^\\]+\\[^\\]+$", re.IGNORECASE)
_POOL_FOLDER = re.compile(rf"^[A-Za-z]:\\.+\\{POOLS_FOLDER}\\[^\\]+$", re.IGNORECASE)
_DOTS = re.compile(r"\\\.\.?(\\|$)")
REQUEST_NOTE = "vdi-request:"


def _folder(params: dict, key: str, pattern: re.Pattern, what: str) -> str:
    folder = text_param(params, key).rstrip("\\")
    if not pattern.match(folder) or _DOTS.search(folder):
        raise vdi_error(f"'{folder}' is not {what} of the console.", "VdiFolderRefused", "InvalidArgument",
                        folder)
    return folder


def clone_folder(params: dict, key: str = "folder") -> str:
    """``<VM path>\\VDI-Pools\\<pool>\\<clone>``: the only folders the pool scripts make or remove."""
    return _folder(params, key, _CLONE_FOLDER, f"a clone folder (X:\\...\\{POOLS_FOLDER}\\<pool>\\<clone>)")


def pool_folder(params: dict, key: str = "pool_folder") -> str:
    return _folder(params, key, _POOL_FOLDER, f"a pool folder (X:\\...\\{POOLS_FOLDER}\\<pool>)")


def parent_of(path: str) -> str:
    return path.rstrip("\\").rsplit("\\", 1)[0]


def file_name(path: str) -> str:
    return path.rstrip("\\").rsplit("\\", 1)[-1]


def request_of(vm: VirtualMachine) -> str:
    for line in vm.notes.splitlines():
        if line.startswith(REQUEST_NOTE):
            return line[len(REQUEST_NOTE):].strip()
    return ""


def valid_guid(text: object) -> str | None:
    try:
        return str(uuid.UUID(str(text).strip())).lower()
    except (ValueError, TypeError, AttributeError):
        return None


def base_disk(host: SimHost, path: str) -> tuple[int, int]:
    """(size_bytes, file_bytes) of a base disk on this host: a VM's disk (a template's local copy, the
    golden VM) or a disk in a complete template export; Windows' error when there is no such file."""
    for vm in host.vms.values():
        for d in vm.disks:
            if same_path(d.path, path):
                return d.size_bytes, d.file_bytes
    for e in host.files.exports.values():
        if not e.complete:
            continue
        for d in e.image.disks:
            if same_path(f"{e.folder}\\Virtual Hard Disks\\{file_name(d['path'])}", path):
                return int(d["size_bytes"]), int(d["file_bytes"])
    raise path_not_found(path, "NewVHD")


def timed(ctx, key: str) -> None:
    """A fixed-length step of pool_timings.TIMINGS (armed faults see it as the operation)."""
    seconds = TIMINGS[key] * scale(ctx)
    ctx.begin(seconds)
    ctx.sleep(seconds)


def guest_of(rec: CloneRecord, vm: VirtualMachine, at: float) -> tuple[GuestView, bool]:
    """The guest's view at ``at``, recording what it settled for good (the preparation finished or
    failed; a user gone with a stopped VM): (view, whether the record changed)."""
    view = rec.guest_at(at, vm.state, vm.started_at)
    changed = False
    if view.ready and rec.prepared_at is None and rec.preparation is not None:
        rec.prepared_at = rec.preparation_ends(vm.started_at)
        changed = True
    if view.error and not rec.prep_error:
        rec.prep_error = view.error
        changed = True
    if rec.logged_on_user and not (vm.state == "Running" and view.ready):
        rec.logged_on_user = ""                 # the VM was turned off or restarted: the session ended
        changed = True
    return view, changed


# ------------------------------------------------------------------------------------ errors

def vhd_disk_full(path: str) -> PSError:
    """New-VHD on a full volume."""
    return PSError(f"Failed to create the virtual hard disk.\r\n\r\nThe system failed to create '{path}': "
                   f"There is not enough space on the disk. (0x80070070).",
                   "CreateVirtualHardDisk,Microsoft.Vhd.PowerShell.Cmdlets.NewVhd", "NotSpecified",
                   "Microsoft.HyperV.PowerShell.VirtualizationException", path)


def copy_disk_full(path: str) -> PSError:
    """Copy-Item of a base disk running out of room."""
    return PSError("There is not enough space on the disk.\r\n",
                   "System.IO.IOException,Microsoft.PowerShell.Commands.CopyItemCommand", "WriteError",
                   "System.IO.IOException", path)


def switch_not_found(name: str) -> PSError:
    return PSError(f"Hyper-V was unable to find a virtual switch with name \"{name}\".",
                   "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.NewVM", "InvalidArgument",
                   "Microsoft.HyperV.PowerShell.VirtualizationException", name)


def name_in_use(name: str, host: str) -> PSError:
    return vdi_error(f"A virtual machine named '{name}' already exists on {host}.", "VdiNameInUse",
                     "ResourceExists", name)


def kvp_unavailable(vm: VirtualMachine) -> PSError:
    return vdi_error(f"The Key-Value Pair Exchange integration service of '{vm.name}' is not available: "
                     f"its guest cannot receive the preparation.", "VdiKvpUnavailable", "InvalidOperation",
                     vm.name)
