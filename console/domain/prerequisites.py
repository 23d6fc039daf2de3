"""Distribution prerequisites: what a target host must share with the source, checked from facts.

The rules (Parallels RAS template distribution, seeds/000): same folder path, same virtual switch
name, joined to the same domain, live migration enabled with Kerberos, constrained delegation for
``cifs`` and ``Microsoft Virtual System Migration Service`` (where it can be read), free space for the
template's disks plus a margin, and ``Compare-VM`` reporting no incompatibility. Pure functions over
plain data; the adapter gathers the facts, the wizard and the services show the rows.
"""
from __future__ import annotations

import enum
import math
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
    vhd_folder_unc: str = ""  # the source VM's disk folder through its share: Compare-VM -VhdSourcePath


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


# -- the rows of one target's check ----------------------------------------------------------------

#: every row of a target's check, in the order shown (the wizard draws pending rows from this)
TARGET_CHECKS: tuple[tuple[str, str], ...] = (
    ("folder", "Same folder path exists"),
    ("switch", "Same virtual switch name"),
    ("domain", "Joined to the same domain"),
    ("live-migration", "Live migration enabled with Kerberos"),
    ("delegation", "Constrained delegation for cifs and Microsoft Virtual System Migration Service"),
    ("free-space", "Free space for the template"),
    ("compare-vm", "Compare-VM reports no incompatibility"),
)
_TITLES = dict(TARGET_CHECKS)
_DELEGATION_SERVICES = ("cifs", "Microsoft Virtual System Migration Service")
# Compare-VM message ids with a known remedy (the rest get the general sentence)
_SWITCH_MISSING_ID = 33012
_VERSION_ID = 40
_MEMORY_ID = 24006


def _gb(n: int) -> str:
    return f"{n / 1000 ** 3:.1f} GB"


def _gb_up(n: int) -> str:
    """Rounded up, so "free 0.0 GB more" never appears for a shortfall of a few bytes."""
    return f"{math.ceil(n / 10 ** 8) / 10:.1f} GB"


def _row(key: str, expected: str, found: str, status: CheckStatus, fix: str = "") -> PrerequisiteResult:
    return PrerequisiteResult(key, _TITLES[key], expected, found, status,
                              fix if status is not CheckStatus.PASSED else "")


def _same_host(source: SourceRequirements, target: TargetReport) -> bool:
    if source.fqdn and target.fqdn:
        return source.fqdn.lower() == target.fqdn.lower()
    return source.computer_name.lower() == target.computer_name.lower()


def _missing_delegation(entries: list[str], host: str, other_fqdn: str) -> list[str]:
    held = {e.strip().lower() for e in entries}
    return [f"{host}: {svc}/{other_fqdn}" for svc in _DELEGATION_SERVICES
            if f"{svc}/{other_fqdn}".lower() not in held]


def _delegation_row(source: SourceRequirements, target: TargetReport,
                    source_delegation: list[str] | None) -> PrerequisiteResult:
    expected = "cifs and Microsoft Virtual System Migration Service, both ways"
    if _same_host(source, target):
        return _row("delegation", expected, "Not needed: same host", CheckStatus.PASSED)
    src_fqdn = source.fqdn or source.computer_name
    tgt_fqdn = target.fqdn or target.computer_name
    missing: list[str] = []
    if source_delegation is not None:
        missing += _missing_delegation(source_delegation, source.computer_name, tgt_fqdn)
    if target.constrained_delegation is not None:
        missing += _missing_delegation(target.constrained_delegation, target.computer_name, src_fqdn)
    aduc = ("In Active Directory Users and Computers, open the computer account of {host} → "
            "Properties → Delegation, choose 'Trust this computer for delegation to specified "
            "services only' (Kerberos only) and add cifs and Microsoft Virtual System Migration "
            "Service of {other}.")
    if missing:
        fixes = []
        if any(m.startswith(f"{source.computer_name}:") for m in missing):
            fixes.append(aduc.format(host=source.computer_name, other=target.computer_name))
        if any(m.startswith(f"{target.computer_name}:") for m in missing):
            fixes.append(aduc.format(host=target.computer_name, other=source.computer_name))
        return _row("delegation", expected, "Missing " + "; ".join(missing), CheckStatus.FAILED,
                    " ".join(fixes))
    if source_delegation is None or target.constrained_delegation is None:
        unread = [h for h, d in ((source.computer_name, source_delegation),
                                 (target.computer_name, target.constrained_delegation)) if d is None]
        return _row("delegation", expected, f"Could not be read on {' and '.join(unread)}",
                    CheckStatus.WARNING,
                    "Check it in Active Directory Users and Computers: the computer accounts of "
                    f"{source.computer_name} and {target.computer_name} → Properties → Delegation "
                    "must each list cifs and Microsoft Virtual System Migration Service of the "
                    "other host.")
    return _row("delegation", expected, "Present both ways", CheckStatus.PASSED)


def _compare_fix(target: TargetReport, items: list[Incompatibility]) -> str:
    fixes = []
    for item in items:
        if item.message_id == _SWITCH_MISSING_ID:
            fixes.append(f"Create the missing virtual switch on {target.computer_name}.")
        elif item.message_id == _VERSION_ID:
            fixes.append(f"{target.computer_name} runs an older Hyper-V than the VM's configuration "
                         "version needs: upgrade it, or choose a target with the same or a newer "
                         "Windows Server.")
        elif item.message_id == _MEMORY_ID:
            fixes.append(f"Give the template VM less memory, or choose a target with more memory "
                         f"than {target.computer_name}.")
    if len(fixes) < len(items):
        fixes.append(f"Resolve each incompatibility on {target.computer_name}, then check again.")
    return " ".join(dict.fromkeys(fixes))


def evaluate_target(source: SourceRequirements, target: TargetReport,
                    source_delegation: list[str] | None) -> list[PrerequisiteResult]:
    """One row per prerequisite (TARGET_CHECKS order) for copying the source's template to
    ``target``; FAILED rows block it and carry the fix an administrator can act on."""
    host = target.computer_name or target.fqdn
    rows = []
    # folder
    rows.append(_row("folder", source.folder_path,
                     source.folder_path if target.folder_exists else "Does not exist",
                     CheckStatus.PASSED if target.folder_exists else CheckStatus.FAILED,
                     f"Create the folder {source.folder_path} on {host}, or make it the default "
                     f"virtual machine folder in Hyper-V Settings → Virtual Machines "
                     f"(Set-VMHost -VirtualMachinePath)."))
    # switch
    if not source.switch_name:
        rows.append(_row("switch", "(source VM not connected)", ", ".join(target.switches) or "None",
                         CheckStatus.PASSED))
    else:
        has = any(s.lower() == source.switch_name.lower() for s in target.switches)
        rows.append(_row("switch", source.switch_name, ", ".join(target.switches) or "No virtual switch",
                         CheckStatus.PASSED if has else CheckStatus.FAILED,
                         f"Create the virtual switch '{source.switch_name}' on {host} (Hyper-V "
                         "Manager → Virtual Switch Manager), or rename its switch."))
    # domain
    source_joined = bool(source.domain) and source.domain.upper() != "WORKGROUP"
    found = target.domain if target.part_of_domain else f"Workgroup ({target.domain or 'WORKGROUP'})"
    same = (source_joined and target.part_of_domain
            and target.domain.lower() == source.domain.lower())
    if not source_joined:
        fix = (f"Join the source host {source.computer_name} to the Active Directory domain the "
               "targets are in: distribution copies over SMB with Kerberos.")
    else:
        fix = (f"Join {host} to {source.domain} (System Properties → Computer Name → Change, or "
               f"Add-Computer -DomainName {source.domain}), restart it, then check again.")
    rows.append(_row("domain", source.domain or "WORKGROUP", found,
                     CheckStatus.PASSED if same else CheckStatus.FAILED, fix))
    # live migration
    auth = target.live_migration_authentication or "not set"
    lm_ok = target.live_migration_enabled and auth.lower() == "kerberos"
    rows.append(_row("live-migration", "Enabled, Kerberos",
                     f"{'Enabled' if target.live_migration_enabled else 'Disabled'}, {auth}",
                     CheckStatus.PASSED if lm_ok else CheckStatus.FAILED,
                     f"On {host}, enable live migration with Kerberos authentication: Hyper-V "
                     "Settings → Live Migrations (Advanced Features → Use Kerberos), or "
                     "Enable-VMMigration and Set-VMHost -VirtualMachineMigrationAuthenticationType "
                     "Kerberos."))
    # delegation
    rows.append(_delegation_row(source, target, source_delegation))
    # free space
    needed = required_free_bytes(source.disk_bytes)
    enough = target.free_bytes >= needed
    rows.append(_row("free-space", f"At least {_gb(needed)}", f"{_gb(target.free_bytes)} free",
                     CheckStatus.PASSED if enough else CheckStatus.FAILED,
                     f"Free at least {_gb_up(needed - target.free_bytes)} on the volume of "
                     f"{source.folder_path} on {host}, or choose another target."))
    # Compare-VM
    if not target.compare_ran:
        rows.append(_row("compare-vm", "No incompatibility",
                         f"Could not run: {target.compare_error or 'no answer'}", CheckStatus.FAILED,
                         f"Compare-VM on {host} must read the template's configuration over the "
                         "network: fix the domain, live migration and delegation rows, then check "
                         "again."))
    elif target.incompatibilities:
        listed = "; ".join(f"{i.message} ({i.message_id})" for i in target.incompatibilities)
        rows.append(_row("compare-vm", "No incompatibility", listed, CheckStatus.FAILED,
                         _compare_fix(target, target.incompatibilities)))
    else:
        rows.append(_row("compare-vm", "No incompatibility", "No incompatibility", CheckStatus.PASSED))
    return rows


def unreachable_result(host: str, error: str) -> list[PrerequisiteResult]:
    """The single row shown when the target (or the source) cannot be asked at all."""
    return [PrerequisiteResult("reachable", "Host reachable", "Answers over WinRM",
                               error or "No answer", CheckStatus.FAILED,
                               f"Check that {host} is on, that WinRM answers (Test-WSMan {host}) "
                               "and that the provider's credentials are valid, then check again.")]


def blocking(results: list[PrerequisiteResult]) -> bool:
    """True when a row FAILED: the target cannot be used. Warnings do not block."""
    return any(r.status is CheckStatus.FAILED for r in results)
