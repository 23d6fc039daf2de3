"""What the template scripts' emulations share: parameters, paths (local and UNC), timing, Compare-VM's
rules and the Windows errors they raise.

Never imports ``scripts`` (which registers the template scripts): the context is used only through the
``OpContext`` protocol's attributes.
"""
from __future__ import annotations

import re
import uuid

from .hyperv_model import SimHost, VirtualMachine
from .powershell import HyperV, PSError, thrown
from .template_model import VmImage
from .template_timings import TIMINGS

NOT_ENOUGH_SPACE = "There is not enough space on the disk."
NETWORK_PATH_NOT_FOUND = "The network path was not found."
ACCESS_DENIED = "Access is denied."
PATH_NOT_FOUND = "The system cannot find the path specified."

_FOLDER_FORBIDDEN = set('\\/:*?"<>|')

#: the configuration versions each Windows Server build runs (Get-VMHostSupportedVersion)
_SUPPORTED_VERSIONS = {
    "10.0.14393": ["5.0", "6.2", "7.0", "7.1", "8.0"],
    "10.0.17763": ["5.0", "6.2", "7.0", "7.1", "8.0", "8.1", "8.2", "8.3", "9.0"],
    "10.0.20348": ["5.0", "6.2", "7.0", "7.1", "8.0", "8.1", "8.2", "8.3", "9.0", "9.1", "9.2", "9.3",
                   "10.0"],
    "10.0.26100": ["5.0", "6.2", "7.0", "7.1", "8.0", "8.1", "8.2", "8.3", "9.0", "9.1", "9.2", "9.3",
                   "10.0", "11.0", "12.0"],
}


# ------------------------------------------------------------------------------------ context

def host_of(ctx) -> SimHost:
    return ctx.world.host(ctx.host_name)


def scale(ctx) -> float:
    """Seconds of wall-clock time per lab second: 1/speed, x10 on a slow host."""
    return ctx.duration("unit")


def timed(ctx, key: str) -> None:
    """A fixed-length step of TIMINGS (armed faults see it as the operation)."""
    seconds = TIMINGS[key] * scale(ctx)
    ctx.begin(seconds)
    ctx.sleep(seconds)


def save(ctx, host_name: str | None = None) -> None:
    ctx.world.save_host(host_name or ctx.host_name)


# ------------------------------------------------------------------------------------ parameters

def guid_param(params: dict, key: str) -> str:
    """``[guid][string]$VdiParams.<key>`` as the scripts do it."""
    value = params.get(key)
    text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
    try:
        return str(uuid.UUID(text.strip())).lower()
    except ValueError:
        raise HyperV.bad_guid_cast(text) from None


def text_param(params: dict, key: str, *, required: bool = True) -> str:
    value = params.get(key)
    text = "" if value is None else str(value)
    if required and not text.strip():
        raise thrown(f"The parameter '{key}' is required.")
    return text


def folder_name_param(params: dict, key: str = "folder_name") -> str:
    name = text_param(params, key)
    if any(c in _FOLDER_FORBIDDEN or ord(c) < 32 for c in name) or name.rstrip(". ") != name:
        raise PSError(f"The folder name '{name}' is not valid.", "VdiInvalidFolderName", "InvalidArgument",
                      "System.ArgumentException", name)
    return name


# ------------------------------------------------------------------------------------ paths

def same_path(a: str, b: str) -> bool:
    return a.rstrip("\\").lower() == b.rstrip("\\").lower()


def under(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or inside it."""
    p, f = path.rstrip("\\").lower(), folder.rstrip("\\").lower()
    return p == f or p.startswith(f + "\\")


def to_unc(host: SimHost, local: str) -> str:
    """D:\\Hyper-V\\X on HV01 -> \\\\HV01.corp.example.com\\D$\\Hyper-V\\X (the administrative share)."""
    drive, _, rest = local.partition(":")
    rest = rest.lstrip("\\")
    return f"\\\\{host.fqdn}\\{drive.upper()}$" + (f"\\{rest}" if rest else "")


def from_unc(world, unc: str) -> tuple[SimHost | None, str]:
    """(host, local path) of \\\\server\\X$\\path; host None when no simulated host has that name."""
    text = unc.replace("/", "\\")
    if not text.startswith("\\\\"):
        return None, ""
    parts = text[2:].split("\\")
    if len(parts) < 2 or not parts[1].endswith("$") or len(parts[1]) != 2:
        return None, ""
    server = parts[0].lower()
    local = f"{parts[1][0].upper()}:\\" + "\\".join(p for p in parts[2:] if p)
    for h in world.hosts.values():
        if server in (h.name.lower(), h.fqdn.lower()):
            return h, local.rstrip("\\") if len(local) > 3 else local
    return None, local


def has_folder(host: SimHost, path: str) -> bool:
    """The simulated file system: the host's default folders, its VMs' folders and template folders,
    and every folder above them."""
    known = [host.vm_path, host.vhd_path, *host.files.folders()]
    known += [vm.path for vm in host.vms.values()]
    known += [d.path.rsplit("\\", 1)[0] for vm in host.vms.values() for d in vm.disks]
    return any(under(k, path) for k in known if k)


def host_by_name(world, name: str) -> SimHost | None:
    for h in world.hosts.values():
        if name and name.lower() in (h.name.lower(), h.fqdn.lower()):
            return h
    return None


# ------------------------------------------------------------------------------------ VMs

def chain_bytes(host: SimHost, vm: VirtualMachine) -> int:
    """Get-TemplateRequirements' disk_bytes: every file of each disk's chain (a differencing disk and
    its parents up to the base disk, each file once), as Get-VHD's FileSize and ParentPath give it. A
    parent that is no disk of a VM on this host is not known to the lab and counts 0."""
    files = {d.path.lower(): d for v in host.vms.values() for d in v.disks}
    seen: set[str] = set()
    total = 0
    for disk in vm.disks:
        current = disk
        while current is not None and current.path.lower() not in seen:
            seen.add(current.path.lower())
            total += current.file_bytes
            current = files.get(current.parent_path.lower()) if current.parent_path else None
    return total


def vhd_folder(vm: VirtualMachine) -> str:
    """The folder of the VM's first disk ("" without disks): Compare-VM -VhdSourcePath's folder."""
    return vm.disks[0].path.rsplit("\\", 1)[0] if vm.disks else ""


def image_of(vm: VirtualMachine) -> VmImage:
    return VmImage(vm_id=vm.id, name=vm.name, cpu_count=vm.cpu_count, memory_bytes=vm.memory_bytes,
                   generation=vm.generation, version=vm.version, switch=vm.switch,
                   integration_services=vm.integration_services, notes=vm.notes,
                   disks=[d.to_dict() for d in vm.disks])


def vm_or_error(host: SimHost, vm_id: str, cmd: str = "GetVM") -> VirtualMachine:
    vm = host.vm_by_id(vm_id)
    if vm is None:
        raise HyperV.vm_not_found(vm_id, cmd)
    return vm


def must_be_off(vm: VirtualMachine, doing: str) -> None:
    if vm.state != "Off":
        raise PSError(f"The virtual machine '{vm.name}' must be turned off to {doing}: it cannot be done "
                      f"in its current state ({vm.state}).", "VdiInvalidState", "InvalidOperation",
                      "System.InvalidOperationException", vm.name)


def _version_key(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def supported_versions(host: SimHost) -> list[str]:
    return _SUPPORTED_VERSIONS.get(host.os_version, _SUPPORTED_VERSIONS["10.0.20348"])


def incompatibilities(image: VmImage, host: SimHost) -> list[dict]:
    """Compare-VM's report for importing ``image`` on ``host``: what Hyper-V would refuse."""
    out = []
    if image.switch and not any(n.lower() == image.switch.lower() for n, _ in host.switches):
        out.append({"message_id": 33012, "message": f"Could not find Ethernet switch '{image.switch}'.",
                    "source": "Network Adapter"})
    versions = supported_versions(host)
    if _version_key(image.version) > max(_version_key(v) for v in versions):
        out.append({"message_id": 40,
                    "message": f"The virtual machine's configuration version {image.version} is not "
                               f"supported by this host. The supported versions are: "
                               f"{', '.join(versions)}.",
                    "source": image.name})
    if image.memory_bytes > host.memory_bytes:
        out.append({"message_id": 24006,
                    "message": f"The virtual machine '{image.name}' is configured with "
                               f"{image.memory_bytes // 2**20} MB of memory, more than this host has "
                               f"({host.memory_bytes // 2**20} MB).",
                    "source": image.name})
    return out


def can_read_share(target: SimHost, source: SimHost) -> bool:
    """Whether a script running on ``target`` (second hop from the console) may read ``source``'s
    administrative share: the same host, or the same domain with Kerberos (constrained delegation)."""
    if target is source:
        return True
    return (target.part_of_domain and source.part_of_domain
            and target.domain.lower() == source.domain.lower()
            and target.lm_enabled and target.lm_authentication == "Kerberos")


# ------------------------------------------------------------------------------------ errors

def disk_full(vm_name: str, vm_id: str, cmd: str, what: str, src: str, dst: str) -> PSError:
    vid = vm_id.upper()
    return PSError(f"'{vm_name}' failed to {what}. (Virtual machine ID {vid})\r\n\r\nFailed to copy file "
                   f"'{src}' to '{dst}': {NOT_ENOUGH_SPACE} (0x80070070). (Virtual machine ID {vid})",
                   f"OperationFailed,Microsoft.HyperV.PowerShell.Commands.{cmd}", "NotSpecified",
                   HyperV.EXC, HyperV.target(vm_name, vm_id))


def vdi_error(message: str, fqid: str, category: str, target: str = "") -> PSError:
    """The scripts' own refusals (``New-VdiError`` of _VdiError.ps1)."""
    return PSError(message, fqid, category, "System.InvalidOperationException", target)


def folder_pattern(parent: str) -> str:
    """``Assert-VdiFolder``'s regular expression (_VdiError.ps1): X:\\...\\<parent>\\<name>, the
    ``parent`` folder possibly at the drive's root (X:\\<parent>\\<name>), no "." or ".." segment."""
    return rf"^[A-Za-z]:(?!.*\\\.\.?(\\|$))\\(.+\\)?{re.escape(parent)}\\[^\\]+$"


def console_folder(params: dict, key: str, parent: str) -> str:
    """``Assert-VdiFolder``: a folder the scripts remove recursively must be one the console made,
    directly under a ``parent`` folder (X:\\...\\<parent>\\<name> or X:\\<parent>\\<name>)."""
    folder = text_param(params, key).rstrip("\\")
    if not re.match(folder_pattern(parent), folder, re.IGNORECASE):
        raise vdi_error(f"'{folder}' is not a {parent} folder of the console.", "VdiFolderRefused",
                        "InvalidArgument", folder)
    return folder


def path_not_found(path: str, cmd: str) -> PSError:
    return PSError(f"Cannot find path '{path}' because it does not exist.",
                   f"PathNotFound,Microsoft.HyperV.PowerShell.Commands.{cmd}", "ObjectNotFound",
                   "System.Management.Automation.ItemNotFoundException", path)
