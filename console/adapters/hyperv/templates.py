"""Template operations of a standalone Hyper-V host: checkpoints (CloningAdapter's snapshot side) and
the DistributingAdapter calls (export on the source; check, copy, import and removal on a target).

A mixin that ``HyperVAdapter`` inherits: it uses the adapter's ``run_script``, ``host``,
``_computer_name``, ``_connecting`` and ``_copy_poll_interval``. The scripts and their JSON are in
scripts/CONTRACT.md ("Template scripts").
"""
from __future__ import annotations

import uuid
from typing import Any

from console.adapters.base import NullReporter, Reporter, TemplateExport, TemplateSource
from console.domain.errors import ConsoleError, NotFoundError, PrerequisiteError, ValidationError
from console.domain.inventory import Snapshot, VM
from console.domain.prerequisites import SourceRequirements, TargetReport, required_free_bytes
from console.domain.tasks import LogLevel

from . import convert
from . import copy_polling as cp
from . import template_convert as tc

def checked_guid(value: str, what: str, field: str) -> str:
    text = str(value).strip()
    try:
        uuid.UUID(text)
        return text
    except ValueError:
        raise ValidationError(f"'{value}' is not a Hyper-V {what} id.",
                              f"A Hyper-V {what} id is a GUID such as 8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f.",
                              field=field) from None


def _gb(n: int) -> str:
    return tc.gigabytes(n)


class TemplateOperations:
    """The template half of HyperVAdapter (see the module docstring)."""

    host: str
    _computer_name: str
    _copy_poll_interval: float

    async def run_script(self, name: str, params: dict[str, Any], operation: str) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _connecting(self, reporter: Reporter) -> None:  # pragma: no cover
        raise NotImplementedError

    async def _facts(self) -> Any:  # pragma: no cover
        raise NotImplementedError

    @property
    def _host_name(self) -> str:
        return self._computer_name or self.host

    async def _learn_name(self) -> str:
        """The host's computer name, for the VMs it returns and the messages about it (one facts query
        the first time; the copy's messages name the target as the administrator knows it)."""
        if not self._computer_name:
            await self._facts()
        return self._host_name

    def _vm(self, doc: Any) -> VM:
        return convert.vm(doc, self._host_name, self.host)

    # --------------------------------------------------------------------------- checkpoints

    async def snapshot(self, vm_id: str, name: str, reporter: Reporter = NullReporter(), *,
                       request_id: str = "") -> str:
        """New-TemplateCheckpoint. Idempotent by name (a retry finds the checkpoint the first try made),
        so ``request_id`` is not needed here."""
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        self._connecting(reporter)
        reporter.progress(0.3, f"Taking checkpoint '{name}'")
        doc = await self.run_script("New-TemplateCheckpoint", {"vm_id": vm_id, "name": name},
                                    f"the checkpoint '{name}'")
        made = tc.checkpoint(doc, self.host)
        reporter.log(LogLevel.INFO, f"Checkpoint '{made.name}' ({made.id}) of VM {vm_id} on {self._host_name}")
        reporter.progress(1.0, "Done")
        return made.id

    async def snapshots(self, vm_id: str, reporter: Reporter = NullReporter()) -> list[Snapshot]:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        return tc.checkpoints(await self.run_script("Get-TemplateCheckpoints", {"vm_id": vm_id},
                                                    "the checkpoint query"), self.host)

    async def revert(self, vm_id: str, snapshot_id: str, reporter: Reporter = NullReporter()) -> VM:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        snapshot_id = checked_guid(snapshot_id, "checkpoint", "snapshot_id")
        self._connecting(reporter)
        await self._learn_name()
        reporter.progress(0.3, "Applying the checkpoint")
        after = self._vm(await self.run_script("Restore-TemplateCheckpoint",
                                               {"vm_id": vm_id, "checkpoint_id": snapshot_id},
                                               "applying the checkpoint"))
        reporter.log(LogLevel.INFO, f"VM '{after.name}' reverted to checkpoint {snapshot_id}")
        reporter.progress(1.0, "Done")
        return after

    async def delete_snapshot(self, vm_id: str, snapshot_id: str, reporter: Reporter = NullReporter()) -> None:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        snapshot_id = checked_guid(snapshot_id, "checkpoint", "snapshot_id")
        self._connecting(reporter)
        try:
            doc = await self.run_script("Remove-TemplateCheckpoint",
                                        {"vm_id": vm_id, "checkpoint_id": snapshot_id}, "the checkpoint removal")
            gone = convert.flag(doc, "removed", self.host)
        except NotFoundError:           # the VM itself is gone: so is its checkpoint
            gone = False
        reporter.log(LogLevel.INFO, f"Removed checkpoint {snapshot_id}" if gone
                     else f"Checkpoint {snapshot_id} was already gone")
        reporter.progress(1.0, "Done")

    # --------------------------------------------------------------------------- the source host

    async def template_source(self, vm_id: str, reporter: Reporter = NullReporter()) -> TemplateSource:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        self._connecting(reporter)
        await self._learn_name()
        doc = await self.run_script("Get-TemplateSource", {"vm_id": vm_id}, "the template source query")
        source = tc.template_source(doc, self._host_name, self.host)
        reporter.progress(1.0, "Done")
        return source

    async def source_requirements(self, vm_id: str, reporter: Reporter = NullReporter()) -> SourceRequirements:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        self._connecting(reporter)
        doc = await self.run_script("Get-TemplateRequirements", {"vm_id": vm_id}, "the source requirements query")
        requirements = tc.source_requirements(doc, self.host)
        self._computer_name = self._computer_name or requirements.computer_name
        return requirements

    async def export_template(self, vm_id: str, snapshot_id: str, folder_name: str,
                              reporter: Reporter = NullReporter()) -> TemplateExport:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        snapshot_id = checked_guid(snapshot_id, "checkpoint", "snapshot_id")
        self._connecting(reporter)
        reporter.progress(0.2, f"Exporting the checkpoint on {self._host_name}")
        doc = await self.run_script("Export-TemplateCheckpoint",
                                    {"vm_id": vm_id, "checkpoint_id": snapshot_id, "folder_name": folder_name},
                                    f"the export of checkpoint {snapshot_id}")
        export = tc.template_export(doc, self.host)
        reporter.log(LogLevel.INFO, f"Exported {_gb(export.bytes)} GB to {export.folder} on {self._host_name}")
        reporter.progress(1.0, "Done")
        return export

    async def remove_export(self, folder: str, reporter: Reporter = NullReporter()) -> None:
        gone = convert.flag(await self.run_script("Remove-TemplateExport", {"folder": folder},
                                                "the export removal"), "removed", self.host)
        reporter.log(LogLevel.INFO, f"Removed the export {folder} on {self._host_name}" if gone
                     else f"The export {folder} on {self._host_name} was already gone")

    # --------------------------------------------------------------------------- a target host

    async def test_target(self, source: SourceRequirements, reporter: Reporter = NullReporter()) -> TargetReport:
        self._connecting(reporter)
        params = {"source": tc.source_document(source), "required_bytes": required_free_bytes(source.disk_bytes)}
        doc = await self.run_script("Test-TemplateTarget", params, "the distribution prerequisites check")
        report = tc.target_report(doc, self.host)
        self._computer_name = self._computer_name or report.computer_name
        reporter.progress(1.0, "Done")
        return report

    async def copy_template(self, export: TemplateExport, folder: str, copy_id: str,
                            reporter: Reporter = NullReporter()) -> int:
        start = {"copy_id": copy_id, "source_unc_folder": export.unc_folder, "folder": folder}
        poll = {"copy_id": copy_id, "folder": folder}
        await self._learn_name()
        reporter.log(LogLevel.INFO, f"Copying {export.unc_folder} to {folder} on {self._host_name}")
        status = tc.copy_status(await self.run_script("Start-TemplateCopy", start, "the start of the template copy"),
                                self.host)
        status = await cp.stopped_on_failure(
            cp.follow_copy(self.run_script, self.host, self._host_name, self._copy_poll_interval, status, poll,
                           reporter, script="Get-TemplateCopy", share=1.0,
                           failed=lambda error: tc.copy_error(error, self._host_name, export.unc_folder),
                           missing_hint="Retry the distribution to this host."),
            lambda: self._stop_copy(poll, reporter))
        reporter.log(LogLevel.INFO, f"Copied {_gb(status.bytes_total)} GB to {self._host_name}")
        reporter.progress(1.0, f"Copied {_gb(status.bytes_total)} GB")
        return status.bytes_total

    async def _stop_copy(self, poll: dict[str, Any], reporter: Reporter) -> None:
        """Stop-TemplateCopy, best effort: a host that cannot be reached keeps its partial copy, and the
        next Start-TemplateCopy of the same copy id takes it up again."""
        try:
            doc = await self.run_script("Stop-TemplateCopy", poll, "stopping the template copy")
            stopped = convert.flag(doc, "stopped", self.host)
            reporter.log(LogLevel.INFO, f"Stopped the copy on {self._host_name} and removed the partial copy"
                         if stopped else f"Removed the partial copy on {self._host_name}")
        except ConsoleError as exc:
            reporter.log(LogLevel.WARNING, f"The partial copy in {poll['folder']} on {self._host_name} could "
                         f"not be removed: {exc.message}")

    async def import_template(self, folder: str, config_file: str, vm_name: str,
                              reporter: Reporter = NullReporter()) -> VM:
        await self._learn_name()
        reporter.progress(0.1, f"Importing '{vm_name}' on {self._host_name}")
        try:
            doc = await self.run_script("Import-TemplateCopy",
                                        {"folder": folder, "config_file": config_file, "vm_name": vm_name},
                                        f"the import of '{vm_name}'")
        except ConsoleError as exc:
            raise _incompatible(exc, self._host_name) from None
        imported = self._vm(doc)
        reporter.log(LogLevel.INFO, f"Imported '{imported.name}' ({imported.id}) in {folder} on {self._host_name}")
        reporter.progress(1.0, "Done")
        return imported

    async def remove_template_copy(self, folder: str, vm_id: str = "", reporter: Reporter = NullReporter()) -> None:
        if vm_id:
            vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        gone = convert.flag(await self.run_script("Remove-TemplateCopy", {"folder": folder, "vm_id": vm_id},
                                                "the removal of the template copy"), "removed", self.host)
        reporter.log(LogLevel.INFO, f"Removed the template copy in {folder} on {self._host_name}" if gone
                     else f"The template copy in {folder} on {self._host_name} was already gone")


def _incompatible(exc: ConsoleError, host: str) -> ConsoleError:
    """Import-TemplateCopy refuses an import Compare-VM finds incompatible: a prerequisite the
    administrator fixes on the target (CONTRACT.md: fqid VdiIncompatible)."""
    if type(exc) is not ConsoleError:
        return exc
    text = f"{exc.details} {exc.message}".lower()
    if "vdiincompatible" in text or "incompatib" in text:
        return PrerequisiteError(exc.message, f"Fix what Compare-VM reports on {host} (switch names, "
                                 "configuration version, memory), then retry the distribution to it.", exc.details)
    return exc
