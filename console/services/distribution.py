"""The distribution engine: one template version exported once on its source host, then copied to each
target (at most ``concurrent_distribution`` copies at a time) and imported there as a local copy.

It runs inside a task (creation, adding a target, a retry, leaving maintenance with a new version).
Every target change is saved and published (DistributionTargetChanged). A failing target is marked
FAILED with its sentence and the others go on; cancelling the task stops the running copies (the
adapter removes the partial copies) and marks the targets cancelled; the template keeps its version.
"""
from __future__ import annotations

import asyncio
import logging
import time
import traceback

from console.adapters.base import TemplateExport
from console.domain.errors import ConsoleError
from console.domain.inventory import Provider
from console.domain.prerequisites import SourceRequirements
from console.domain.tasks import LogLevel, UndoAction
from console.domain.templates import (
    DistributionTarget,
    TargetProgress,
    TargetState,
    Template,
    TemplateState,
    TemplateVersion,
)

from .events import TemplateRemoved
from .tasks import CANCELLED_BY_USER, TaskContext
from .template_retention import Retention
from .template_support import copy_folder_name, copy_vm_name, secret_key

log = logging.getLogger(__name__)

INTERRUPTED = "Interrupted: the console stopped during the distribution."
#: a copy's progress is saved and published at most this often per target
TARGET_PUBLISH_INTERVAL = 0.25
#: share of a target's work that is the copy (the rest is the import)
COPY_SHARE = 0.9
EXPORT_SHARE = 0.15


def template_folder(requirements: SourceRequirements, template: str, number: int) -> str:
    """Where a target keeps its local copy: under the folder path every target shares with the source."""
    return f"{requirements.folder_path.rstrip(chr(92))}\\VDI-Templates\\{copy_folder_name(template, number)}"


class _Progress:
    """The task's progress over a distribution: the export, then the mean of the targets."""

    def __init__(self, ctx: TaskContext, base: float, span: float, provider_ids: list[int],
                 names: dict[int, str] | None = None) -> None:
        self.ctx, self.base, self.span = ctx, base, span
        self.done = {pid: 0.0 for pid in provider_ids}
        self.export = 0.0
        self.names = names or {}
        #: per target: waiting, copying, importing, ready or failed (the tasks dock shows them)
        self.phase = {pid: "waiting" for pid in provider_ids}

    def update(self, text: str = "") -> None:
        mean = sum(self.done.values()) / len(self.done) if self.done else 1.0
        if self.export >= 1.0 and len(self.done) > 1:
            text = self.summary()       # once copies run, each target's own progress
        self.ctx.progress(self.base + self.span * (EXPORT_SHARE * self.export + (1 - EXPORT_SHARE) * mean),
                          text)

    def summary(self) -> str:
        """"HV02 58% · HV03 importing · 2 ready, 1 failed, 12 waiting": the active targets one by one,
        the others counted (20 targets must fit one line of the tasks dock)."""
        active, counts = [], {"ready": 0, "failed": 0, "waiting": 0}
        for pid, phase in self.phase.items():
            name = self.names.get(pid, str(pid))
            if phase == "copying":
                active.append(f"{name} {round(100 * self.done[pid] / COPY_SHARE)}%")
            elif phase == "importing":
                active.append(f"{name} importing")
            else:
                counts[phase] += 1
        rest = ", ".join(f"{n} {phase}" for phase, n in counts.items() if n)
        return " · ".join(active + ([rest] if rest else []))


class _ExportReporter:
    def __init__(self, progress: _Progress, host: str) -> None:
        self._progress, self._host = progress, host

    def progress(self, fraction: float, text: str = "") -> None:
        self._progress.export = min(1.0, max(0.0, fraction))
        self._progress.update(text and f"{self._host}: {text}")

    def log(self, level: LogLevel, text: str) -> None:
        self._progress.ctx.log(level, f"{self._host}: {text}")


class _TargetReporter:
    """What the target's adapter reports through: the copy's fraction goes to the target row (saved and
    published at most every TARGET_PUBLISH_INTERVAL s) and to the task's progress."""

    def __init__(self, engine: Distribution, progress: _Progress, target: DistributionTarget,
                 host: str) -> None:
        self._engine, self._progress, self._target, self._host = engine, progress, target, host
        self.copying = True
        self._published = float("-inf")

    def progress(self, fraction: float, text: str = "") -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if self.copying:
            self._target.fraction = fraction
            self._progress.done[self._target.provider_id] = COPY_SHARE * fraction
            self._progress.phase[self._target.provider_id] = "copying"
            now = time.monotonic()
            if now - self._published >= TARGET_PUBLISH_INTERVAL or fraction >= 1.0:
                self._published = now
                self._engine._save_target(self._target)
        self._progress.update(text and f"{self._host}: {text}")

    def log(self, level: LogLevel, text: str) -> None:
        self._progress.ctx.log(level, f"{self._host}: {text}")


class Distribution(Retention):
    def _init_distribution(self) -> None:
        self._export_locks: dict[int, asyncio.Lock] = {}

    # -- start-up --------------------------------------------------------------------------------
    def mark_interrupted(self) -> list[tuple[int, int]]:
        """At start-up (when this console is alone on the farm): targets a killed console left
        distributing, adding or removing become FAILED "Interrupted..."; a template it left creating is
        removed (no version yet: nothing was made of it) or ready (version 1 exists). A template left
        deleting stays so: deleting it again finishes the job. Returns (template, provider) of targets."""
        marked = []
        for template in self._farm.templates.list():
            if template.state is TemplateState.CREATING and template.latest_version is None:
                log.warning("Template '%s' (%s) was being created when the console stopped, before its "
                            "first version: removed (the creation task can be retried)", template.name,
                            template.id)
                self._secrets.delete(secret_key(template.id))
                self._farm.templates.remove(template.id)
                self._bus.publish(TemplateRemoved(template.id))
                continue
            if template.state is TemplateState.CREATING:
                log.warning("Template '%s' (%s) was being created when the console stopped, after version "
                            "%s: ready", template.name, template.id, template.latest_version.number)
                template.state = TemplateState.READY
                self._farm.templates.update(template)
                self._changed(template.id)
            for target in template.targets:
                if target.progress in (TargetProgress.DISTRIBUTING, TargetProgress.ADDING,
                                       TargetProgress.REMOVING):
                    self._target_failed(target, INTERRUPTED)
                    marked.append((template.id, target.provider_id))
        return marked

    # -- target states ---------------------------------------------------------------------------
    def _target_failed(self, target: DistributionTarget, sentence: str, number: int | None = None) -> None:
        """Progress FAILED with the sentence. ``number``: the version that failed to arrive (the state
        says what the target holds instead); None (a removal, an interruption): the state is kept."""
        target.progress = TargetProgress.FAILED
        if number is None or (target.version == number and target.state is TargetState.READY):
            pass                                   # it still holds what it held
        elif target.version is not None:
            target.state = TargetState.NEEDS_UPDATE
        else:
            target.state = TargetState.NOT_AVAILABLE
        target.last_error = sentence
        self._save_target(target)

    # -- the distribution ------------------------------------------------------------------------
    async def _distribute(self, ctx: TaskContext, template_id: int, number: int, provider_ids: list[int],
                          base: float = 0.0, span: float = 1.0) -> list[str]:
        """Distribute version ``number`` to these targets; the names of the targets that failed."""
        template = self._template(template_id)
        version = template.version(number)
        targets = [t for t in (template.target(pid) for pid in provider_ids) if t is not None]
        if version is None or not targets:
            return []
        names = {t.provider_id: self._provider_name(t.provider_id) for t in targets}
        for target in targets:
            target.progress, target.fraction, target.last_error = TargetProgress.DISTRIBUTING, 0.0, ""
            self._save_target(target)
        progress = _Progress(ctx, base, span, [t.provider_id for t in targets], names)
        ctx.info(f"Distributing version {number} of template '{template.name}' to "
                 f"{', '.join(names.values())} ({template.concurrent_distribution} at a time)")
        source = self._provider(template.provider_id)
        try:
            requirements, _ = await self.source_requirements(source, template.source_vm_id)
            export = await self._export(ctx, template, version, source, progress)
        except asyncio.CancelledError:
            for target in targets:
                self._target_failed(target, CANCELLED_BY_USER, number)
            raise
        except ConsoleError as exc:
            sentence = f"The export on {source.name} failed: {exc}"
            ctx.error(sentence)
            for target in targets:
                self._target_failed(target, sentence, number)
            return list(names.values())
        progress.export = 1.0
        progress.update(f"Copying to {len(targets)} target(s)")
        # The concurrency bounds the copies (the source's disks and network), not the imports: a
        # target's import is local to it, so its slot goes to the next copy as soon as its copy ends.
        slots = asyncio.Semaphore(max(1, template.concurrent_distribution))

        async def one(target: DistributionTarget) -> str | None:
            try:
                return await self._copy_to(ctx, template, number, export, requirements, target,
                                           names[target.provider_id], progress, slots)
            except asyncio.CancelledError:
                if target.progress is TargetProgress.DISTRIBUTING:
                    self._target_failed(target, CANCELLED_BY_USER, number)
                raise

        # return_exceptions: on a cancel, gather waits until every target has stopped its copy (without
        # it, the first child cancelled ends the gather while the others are still cleaning up)
        failed = await asyncio.gather(*(one(t) for t in targets), return_exceptions=True)
        self._after_distribution(ctx, template_id)
        return [name for name in failed if isinstance(name, str)]

    async def _export(self, ctx: TaskContext, template: Template, version: TemplateVersion, source: Provider,
                      progress: _Progress) -> TemplateExport:
        """Export the version on the source host, one export at a time per source host; an export
        already complete is returned as it is (the adapter's rule), so it is made once per version."""
        folder_name = copy_folder_name(template.name, version.number)
        lock = self._export_locks.setdefault(source.id, asyncio.Lock())
        async with lock:
            progress.update(f"Exporting version {version.number} on {source.name}")
            undo = ctx.add_undo(UndoAction(
                f"Remove the export of template '{template.name}' v{version.number} on {source.name}",
                "remove-template-export", {"provider_id": source.id, "folder_name": folder_name}))
            adapter = await self._adapter(source)
            export = await adapter.export_template(template.source_vm_id, version.snapshot_id, folder_name,
                                                   _ExportReporter(progress, source.name))
        ctx.task.cleanup[undo].params["folder"] = export.folder
        ctx.undo_done(undo)             # kept with the version: removed when it or the template is deleted
        ctx.info(f"{source.name}: version {version.number} exported to {export.folder} "
                 f"({export.bytes / 1000 ** 3:.1f} GB)")
        return export

    async def _copy_to(self, ctx: TaskContext, template: Template, number: int, export: TemplateExport,
                       requirements: SourceRequirements, target: DistributionTarget, name: str,
                       progress: _Progress, slots: asyncio.Semaphore) -> str | None:
        """Copy, import, keep the previous version's copy (retention): READY at ``number``. None, or
        the target's name when it failed (FAILED with the sentence; a partial copy is removed)."""
        if target.state is TargetState.READY and target.version == number and target.vm_id:
            ctx.info(f"{name}: already holds version {number}")
            target.progress, target.fraction = TargetProgress.OK, 1.0
            self._save_target(target)
            progress.done[target.provider_id] = 1.0
            progress.phase[target.provider_id] = "ready"
            return None
        folder = template_folder(requirements, template.name, number)
        vm_name = copy_vm_name(template.name, number)
        copy_id = f"{template.id}-v{number}-{target.provider_id}"
        reporter = _TargetReporter(self, progress, target, name)
        undo: int | None = None
        try:
            adapter = await self._adapter(self._provider(target.provider_id))
            undo = ctx.add_undo(UndoAction(f"Remove the copy of template '{template.name}' v{number} on {name}",
                                           "remove-template-copy",
                                           {"provider_id": target.provider_id, "folder": folder, "vm_id": ""}))
            async with slots:
                ctx.info(f"{name}: copying {export.unc_folder} to {folder}")
                await adapter.copy_template(export, folder, copy_id, reporter)
            reporter.copying = False
            progress.phase[target.provider_id] = "importing"
            target.fraction = 1.0
            self._save_target(target)
            ctx.info(f"{name}: importing the copy as VM '{vm_name}'")
            vm = await adapter.import_template(folder, export.config_file, vm_name, reporter)
            ctx.task.cleanup[undo].params["vm_id"] = vm.id
            old_vm, old_folder, old_number = target.vm_id, target.folder, target.version
            if number in (self._farm.templates.kept_copies(template.id, target.provider_id) or {}):
                self._forget_copy(target, number)        # the kept copy of N is the target's own again
            if old_folder and old_folder.lower() != folder.lower() and old_number is not None:
                # pools' linked clones may have their parent disks in it, or a pool may roll back to
                # it: kept; the prune at the end of the distribution removes it if no pool needs it
                self._keep_copy(target, old_number, old_folder, old_vm)
                ctx.info(f"{name}: the copy of version {old_number} in {old_folder} is kept until no pool "
                         "needs it")
            elif old_folder and old_folder.lower() != folder.lower():
                try:
                    await adapter.remove_template_copy(old_folder, old_vm, reporter)
                    ctx.info(f"{name}: removed the previous copy in {old_folder}")
                except ConsoleError as exc:
                    ctx.warning(f"{name}: the previous copy in {old_folder} could not be removed: {exc}")
            # a newer version may have been made meanwhile: this copy is then already out of date
            latest = self._template(template.id).latest_version
            current = latest is None or latest.number == number
            target.state = TargetState.READY if current else TargetState.NEEDS_UPDATE
            target.progress, target.version = TargetProgress.OK, number
            target.vm_id, target.folder, target.fraction, target.last_error = vm.id, folder, 1.0, ""
            self._save_target(target)
            ctx.undo_done(undo)
            progress.done[target.provider_id] = 1.0
            progress.phase[target.provider_id] = "ready"
            progress.update(f"{name}: holds version {number}")
            ctx.info(f"{name}: {'ready at' if current else 'holds'} version {number} (VM '{vm_name}', {vm.id})"
                     + ("" if current else f"; version {latest.number} is newer: it needs an update"))
            return None
        except asyncio.CancelledError:
            ctx.warning(f"{name}: {CANCELLED_BY_USER}")
            self._target_failed(target, CANCELLED_BY_USER, number)
            await self._remove_partial(ctx, target, folder, undo, name, shielded=True)
            raise
        except ConsoleError as exc:
            sentence = str(exc)
            ctx.error(f"{name}: {sentence}")
            self._target_failed(target, sentence, number)
            await self._remove_partial(ctx, target, folder, undo, name)
        except Exception as exc:  # noqa: BLE001  a bug must not stop the other targets
            sentence = f"Internal error ({type(exc).__name__}); details are in the log."
            ctx.error(f"{name}: {sentence}")
            ctx.debug(traceback.format_exc())
            self._target_failed(target, sentence, number)
            await self._remove_partial(ctx, target, folder, undo, name)
        progress.done[target.provider_id] = 1.0
        progress.phase[target.provider_id] = "failed"
        progress.update()
        return name

    async def _remove_unfinished_copy(self, ctx: TaskContext, template: Template, target: DistributionTarget,
                                      name: str) -> str:
        """Before a target or its template goes: an interrupted or failed distribution of the latest
        version may have left a detached copy running on the host, or a partial folder, that the target
        row does not name. Remove-TemplateCopy on that version's folder stops such a copy and removes
        the folder. Best effort: "" or what is left over (it stays on the task's cleanup list)."""
        latest = template.latest_version
        if not template.distribution_enabled or latest is None or (target.version == latest.number
                                                                     and target.folder):
            return ""
        try:
            requirements, _ = await self.source_requirements(self._provider(template.provider_id),
                                                             template.source_vm_id)
        except ConsoleError as exc:
            ctx.warning(f"{name}: where an unfinished copy of version {latest.number} would be is not known "
                        f"({exc}); nothing was removed there.")
            return ""
        folder = template_folder(requirements, template.name, latest.number)
        held = [target.folder] + [c.get("folder", "") for c in target.kept.values()]
        if any(f and f.lower() == folder.lower() for f in held):
            return ""
        undo = ctx.add_undo(UndoAction(f"Remove the unfinished copy of template '{template.name}' "
                                       f"v{latest.number} on {name}", "remove-template-copy",
                                       {"provider_id": target.provider_id, "folder": folder, "vm_id": ""}))
        try:
            adapter = await self._adapter(self._provider(target.provider_id))
            await adapter.remove_template_copy(folder, "", ctx)
        except ConsoleError as exc:
            ctx.warning(f"{name}: an unfinished copy in {folder} could not be looked for and removed ({exc}); "
                        "it stays on the task's cleanup list.")
            return f"{name}: {folder}"
        ctx.undo_done(undo)
        return ""

    async def _remove_partial(self, ctx: TaskContext, target: DistributionTarget, folder: str,
                              undo: int | None, name: str, shielded: bool = False) -> None:
        """Remove what a failed copy or import left in ``folder`` (never the copy the target holds).
        The adapter already removed a partial copy; this takes the folder and any imported VM."""
        held = [target.folder] + [c.get("folder", "") for c in target.kept.values()]
        if undo is None or any(f and f.lower() == folder.lower() for f in held):
            return
        vm_id = ctx.task.cleanup[undo].params.get("vm_id", "")

        async def remove() -> None:
            try:
                adapter = await self._adapter(self._provider(target.provider_id))
                await adapter.remove_template_copy(folder, vm_id)
                ctx.undo_done(undo)
                ctx.info(f"{name}: removed the partial copy in {folder}")
            except ConsoleError as exc:
                ctx.warning(f"{name}: the partial copy in {folder} could not be removed now ({exc}); "
                            "it stays on the task's cleanup list.")

        if shielded:
            try:
                await asyncio.shield(asyncio.ensure_future(remove()))
            except asyncio.CancelledError:
                pass
        else:
            await remove()
