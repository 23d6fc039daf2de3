"""The JSON documents of the template scripts (CONTRACT.md "Template scripts") turned into domain
objects, and back where a document travels to another host. A document that lacks what the contract
promises is a ProtocolError, never a KeyError reaching a person."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from console.adapters.base import TemplateExport, TemplateSource
from console.domain.errors import (
    CapacityError,
    ConsoleError,
    PrerequisiteError,
    UnreachableError,
)
from console.domain.inventory import Snapshot
from console.domain.prerequisites import (
    Incompatibility,
    SourceRequirements,
    TargetReport,
)

from .convert import _bad, _list, vm

_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


def checkpoint(doc: Any, host: str) -> Snapshot:
    try:
        return Snapshot(id=str(doc["id"]), name=str(doc["name"]), vm_id=str(doc.get("vm_id") or ""),
                        created=str(doc.get("created") or ""))
    except _ERRORS as exc:
        raise _bad(host, "a checkpoint", exc) from None


def checkpoints(doc: Any, host: str) -> list[Snapshot]:
    return [checkpoint(c, host) for c in _list(doc)]


def template_source(doc: Any, host_name: str, host: str) -> TemplateSource:
    try:
        listed = _list(doc.get("integration_services"))
        services = {str(s["name"]): bool(s.get("enabled")) for s in listed}
        status = {str(s["name"]): str(s.get("status") or "") for s in listed}
        return TemplateSource(vm=vm(doc["vm"], host_name, host), integration_services=services,
                              checkpoints=checkpoints(doc.get("checkpoints"), host), integration_status=status)
    except _ERRORS as exc:
        raise _bad(host, "a template source", exc) from None


def source_requirements(doc: Any, host: str) -> SourceRequirements:
    try:
        return SourceRequirements(
            computer_name=str(doc["computer_name"]), fqdn=str(doc.get("fqdn") or doc["computer_name"]),
            domain=str(doc.get("domain") or ""), folder_path=str(doc["folder_path"]),
            switch_name=str(doc.get("switch_name") or ""), disk_bytes=int(doc.get("disk_bytes") or 0),
            config_unc=str(doc.get("config_unc") or ""), vm_id=str(doc.get("vm_id") or ""),
            vhd_folder_unc=str(doc.get("vhd_folder_unc") or ""))
    except _ERRORS as exc:
        raise _bad(host, "the source requirements", exc) from None


def source_document(source: SourceRequirements) -> dict[str, Any]:
    """What Test-TemplateTarget receives as ``source``: the same field names as the script's output."""
    return asdict(source)


def target_report(doc: Any, host: str) -> TargetReport:
    try:
        lm = doc.get("live_migration") or {}
        delegation = lm.get("constrained_delegation")
        compare = doc.get("compare") or {}
        return TargetReport(
            computer_name=str(doc["computer_name"]), fqdn=str(doc.get("fqdn") or doc["computer_name"]),
            domain=str(doc.get("domain") or ""), part_of_domain=bool(doc.get("part_of_domain")),
            folder_exists=bool(doc.get("folder_exists")),
            switches=[str(s) for s in _list(doc.get("switches"))],
            live_migration_enabled=bool(lm.get("enabled")),
            live_migration_authentication=str(lm.get("authentication") or ""),
            constrained_delegation=None if delegation is None else [str(d) for d in _list(delegation)],
            free_bytes=int(doc.get("free_bytes") or 0),
            compare_ran=bool(compare.get("ran")), compare_error=str(compare.get("error") or ""),
            incompatibilities=[Incompatibility(int(i.get("message_id") or 0), str(i.get("message") or ""),
                                               str(i.get("source") or ""))
                               for i in _list(compare.get("incompatibilities"))])
    except _ERRORS as exc:
        raise _bad(host, "a target report", exc) from None


def template_export(doc: Any, host: str) -> TemplateExport:
    try:
        return TemplateExport(folder=str(doc["folder"]), unc_folder=str(doc["unc_folder"]),
                              config_file=str(doc["config_file"]), bytes=int(doc.get("bytes") or 0))
    except _ERRORS as exc:
        raise _bad(host, "an export", exc) from None




COPY_STATES = ("running", "done", "failed", "missing")


@dataclass(frozen=True)
class CopyStatus:
    """Start-TemplateCopy / Get-TemplateCopy: one copy on a target."""

    copy_id: str
    state: str              # running, done, failed, missing
    bytes_total: int
    bytes_done: int
    error: str = ""

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total > 0 else 0.0


def copy_status(doc: Any, host: str) -> CopyStatus:
    try:
        state = str(doc["state"])
        if state not in COPY_STATES:
            raise ValueError(f"unknown copy state {state!r}")
        return CopyStatus(copy_id=str(doc.get("copy_id") or ""), state=state,
                          bytes_total=int(doc.get("bytes_total") or 0), bytes_done=int(doc.get("bytes_done") or 0),
                          error=str(doc.get("error") or ""))
    except _ERRORS as exc:
        raise _bad(host, "a copy status", exc) from None


def gigabytes(n: int) -> str:
    return f"{n / 1000 ** 3:.1f}"


def copy_error(sentence: str, target: str, source_unc: str) -> ConsoleError:
    """A failed copy's sentence (robocopy's Windows message) as the typed error a person can act on."""
    sentence = " ".join(sentence.split()) or "The copy stopped before it was complete."
    message = f"The copy of the template to {target} failed: {sentence}"
    lower = sentence.lower()
    if "not enough space on the disk" in lower or "0x80070070" in lower:
        return CapacityError(message, f"Free space on {target}'s volume for the template, then retry the "
                             "distribution to it.", sentence)
    if "network" in lower:       # "The network path was not found.", "...network name is no longer available."
        return UnreachableError(message, f"Check that {target} can reach {source_unc} (the source host is "
                                "running and its administrative share is reachable), then retry.", sentence)
    if "access is denied" in lower:
        return PrerequisiteError(message, f"{target} must read the source's administrative share: join it to "
                                 "the source's domain, use Kerberos live migration and constrained delegation "
                                 "for cifs, then retry.", sentence)
    return ConsoleError(message, "See the copy log next to the folder on the target, then retry.", sentence)
