"""Distribution prerequisites: what a target host must share with the source, checked from facts.

The rules (Parallels RAS template distribution, seeds/000): same folder path, same virtual switch
name, joined to the same domain, live migration enabled with Kerberos, constrained delegation for
``cifs`` and ``Microsoft Virtual System Migration Service`` (where it can be read), free space for the
template's disks plus a margin, and ``Compare-VM`` reporting no incompatibility. Pure functions over
plain data; the adapter gathers the facts, the wizard and the services show the rows.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class CheckStatus(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"        # blocks the target
    WARNING = "warning"      # could not be verified (e.g. delegation unreadable); does not block


@dataclass(frozen=True)
class PrerequisiteResult:
    key: str                 # folder, switch, domain, live-migration, delegation, free-space, compare-vm, reachable
    title: str               # "Same folder path exists"
    expected: str            # "D:\\Hyper-V"
    found: str               # what the target has
    status: CheckStatus
    fix: str = ""            # for FAILED/WARNING: what the administrator does about it


@dataclass
class Incompatibility:
    """One line of Compare-VM's report."""

    message_id: int
    message: str
    source: str = ""         # the object it is about (a network adapter, the VM, a disk)


@dataclass
class SourceRequirements:
    """What the source VM and its host require of a target (gathered from the source host)."""

    computer_name: str       # source host NetBIOS name
    fqdn: str                # source host FQDN (for delegation entries and UNC paths)
    domain: str              # source host's domain ("" or "WORKGROUP" when not joined)
    folder_path: str         # the source host's VM folder (Get-VMHost VirtualMachinePath)
    switch_name: str         # the source VM's first network adapter's switch
    disk_bytes: int          # bytes of the template's disks (what a copy needs)
    config_unc: str = ""     # \\\\HV01.corp.example.com\\D$\\...\\<id>.vmcx, for Compare-VM
    vm_id: str = ""


@dataclass
class TargetReport:
    """What Test-TemplateTarget found on one target host."""

    computer_name: str
    fqdn: str
    domain: str
    part_of_domain: bool
    folder_exists: bool
    switches: list[str] = field(default_factory=list)
    live_migration_enabled: bool = False
    live_migration_authentication: str = ""          # "Kerberos" | "CredSSP"
    constrained_delegation: list[str] | None = None  # None: could not be read
    free_bytes: int = 0                              # on the folder's volume
    compare_ran: bool = False
    compare_error: str = ""                          # why Compare-VM could not run
    incompatibilities: list[Incompatibility] = field(default_factory=list)


#: free space a target must keep beyond the template's disks: 10 % of them, at least 20 GB
MARGIN_FRACTION = 0.10
MARGIN_MIN_BYTES = 20 * 1000 ** 3


def required_free_bytes(disk_bytes: int) -> int:
    """The copy lands in a staging folder and is imported next to it before the staging copy is
    removed, so for a moment the target holds the disks twice; plus the margin."""
    return 2 * disk_bytes + max(MARGIN_MIN_BYTES, int(disk_bytes * MARGIN_FRACTION))
