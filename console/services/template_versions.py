"""Versions of a template (list, tag, delete one) and deleting a whole template."""
from __future__ import annotations

import re

from console.adapters.base import NullReporter
from console.domain.errors import ConsoleError, NotFoundError, ValidationError
from console.domain.tasks import Task, UndoAction
from console.domain.templates import (
    TargetProgress,
    Template,
    TemplateState,
    TemplateVersion,
)

from .distribution import Distribution
from .events import TemplateRemoved
from .tasks import TaskContext
from .template_support import copy_folder_name, secret_key

TAG_MAX = 32
_TAG = re.compile(r"^[A-Za-z0-9._-]+$")


def export_folder(folder_path: str, template: str, number: int) -> str:
    """Where Export-TemplateCheckpoint put a version on the source host (CONTRACT.md)."""
    return f"{folder_path.rstrip(chr(92))}\\VDI-Export\\{copy_folder_name(template, number)}"


def check_tag(tag: str) -> str:
    text = (tag or "").strip()
    if len(text) > TAG_MAX:
        raise ValidationError(f"The tag is {len(text)} characters long; at most {TAG_MAX} are allowed.",
                              field="tag")
    if text and not _TAG.match(text):
        raise ValidationError(f"The tag '{text}' may hold only letters, digits, '-', '_' and '.'.",
                              "For example production or pre-production.", field="tag")
    return text


class TemplateVersions(Distribution):
    # -- versions --------------------------------------------------------------------------------
    def versions(self, template_id: int) -> list[TemplateVersion]:
        return sorted(self._template(template_id).versions, key=lambda v: v.number)

    def _version(self, template: Template, number: int) -> TemplateVersion:
        version = template.version(int(number))
        if version is None:
            raise NotFoundError(f"Template '{template.name}' has no version {number}.",
                                "List them with 'vdictl templates versions'.")
        return version

    def set_tag(self, template_id: int, number: int, tag: str) -> TemplateVersion:
        """Tag a version ("" clears); a tag is on one version of a template at a time (it moves)."""
        template = self._template(template_id)
        version = self._version(template, number)
        tag = check_tag(tag)
        if tag:
            for other in template.versions:
                if other.number != version.number and other.tag.casefold() == tag.casefold():
                    other.tag = ""
                    self._farm.templates.update_version(other)
        version.tag = tag
        self._farm.templates.update_version(version)
        self._changed(template.id)
        return version

    async def delete_version(self, template_id: int, number: int) -> None:
        """Remove one version (the copies targets kept of it, its checkpoint and export). Refused while
        a pool uses it, when it is the only one, when maintenance started from it, or when it is a
        target's own (latest) copy."""
        template = self._template(template_id)
        version = self._version(template, number)
        what = f"version {version.number} of template '{template.name}'"
        pools = self._farm.templates.pool_names_using(template.id, version.number)
        if pools:
            raise ValidationError(f"Pool(s) {', '.join(pools)} use {what}.",
                                  "Move the pools to another version first.", field="version")
        if len(template.versions) == 1:
            raise ValidationError(f"Version {version.number} is the only version of template '{template.name}'.",
                                  "Delete the template instead.", field="version")
        if template.state is TemplateState.MAINTENANCE and template.maintenance_from == version.number:
            raise ValidationError(f"Template '{template.name}' is in maintenance from version {version.number}.",
                                  "Leave maintenance first.", field="version")
        # a target's own copy (the one its row names) is replaced by a distribution, never deleted here;
        # the copies targets only kept of it (retention) are removed by the task
        holders = [self._provider_name(t.provider_id) for t in template.targets if t.version == version.number]
        if holders:
            raise ValidationError(f"{', '.join(holders)} hold(s) the copy of {what}.",
                                  "Distribute the latest version to them first.", field="version")
        self._refuse_if_busy(template, "delete a version")
        task = self._submit_version_delete(template, {"template_id": template.id, "template": template.name,
                                                      "number": version.number})
        await self._tasks.result(task.id)

    def _submit_version_delete(self, template: Template, params: dict, request_id: str | None = None,
                               retry_of: int | None = None) -> Task:
        template_id, number = template.id, int(params["number"])

        async def work(ctx: TaskContext) -> dict:
            current = self._template(template_id)
            version = current.version(number)
            if version is None:
                return {"template_id": template_id, "number": number, "deleted": False}
            left = []
            for target in current.targets:
                kept = target.kept.get(number)
                if kept and not await self._remove_kept(ctx, current, target, number, kept):
                    left.append(f"{self._provider_name(target.provider_id)}: {kept.get('folder', '')}")
            if left:
                self._changed(template_id)
                raise ConsoleError(f"The copies of version {number} could not be removed from "
                                   f"{'; '.join(left)}; the version stays.",
                                   "Bring the hosts back, then retry this task.")
            provider = self._provider(current.provider_id)
            adapter = await self._adapter(provider)
            if current.distribution_enabled:
                await self._remove_export(ctx, adapter, provider, current, number)
            if version.snapshot_id:
                await self._delete_checkpoint(adapter, current.source_vm_id, version.snapshot_id, ctx)
            self._farm.templates.remove_version(template_id, number)
            self._changed(template_id)
            ctx.info(f"Version {number} of template '{current.name}' deleted")
            return {"template_id": template_id, "number": number, "deleted": True}

        return self._submit(f"Delete version {number} of '{template.name}'",
                            f"{self._provider_name(template.provider_id)} / {template.source_vm_name}",
                            "template-version-delete", params, work, template.provider_id,
                            template.source_host, request_id, retry_of)

    async def _delete_checkpoint(self, adapter, vm_id: str, snapshot_id: str, ctx: TaskContext) -> None:
        remove = getattr(adapter, "delete_snapshot", None)
        if remove is None:
            ctx.info(f"Snapshot {snapshot_id} stays on the provider: this console cannot delete it there.")
            return
        try:
            await remove(vm_id, snapshot_id, NullReporter())
        except NotFoundError:
            ctx.info(f"Checkpoint {snapshot_id} was already gone")
        else:
            ctx.info(f"Checkpoint {snapshot_id} removed")

    async def _remove_export(self, ctx: TaskContext, adapter, provider, template: Template, number: int) -> bool:
        try:
            requirements, _ = await self.source_requirements(provider, template.source_vm_id)
            folder = export_folder(requirements.folder_path, template.name, number)
            await adapter.remove_export(folder, NullReporter())
        except ConsoleError as exc:
            ctx.warning(f"The export of version {number} on {provider.name} could not be removed: {exc}")
            return False
        ctx.info(f"{provider.name}: export of version {number} removed ({folder})")
        return True

    # -- deleting a template ---------------------------------------------------------------------
    def delete(self, template_id: int) -> Task:
        """Remove every target's local copy (and the copies it kept), the exports, the checkpoints the
        console made (the source VM itself stays), the join password, then the template. Refused
        while pools use it, in maintenance, or while its tasks run."""
        template = self._template(template_id)
        pools = self._farm.templates.pool_names_using(template.id)
        if pools:
            raise ValidationError(f"Template '{template.name}' is used by pool(s) {', '.join(pools)}.",
                                  "Delete those pools or move them to another template first.", field="template")
        if template.state is TemplateState.MAINTENANCE:
            raise ValidationError(f"Template '{template.name}' is in maintenance.", "Leave maintenance first.",
                                  field="template")
        self._refuse_if_busy(template, "delete")
        template.state = TemplateState.DELETING
        self._farm.templates.update(template)
        self._changed(template.id)
        return self._submit_delete(template, {"template_id": template.id, "template": template.name})

    def _submit_delete(self, template: Template, params: dict, request_id: str | None = None,
                       retry_of: int | None = None) -> Task:
        template_id = template.id

        async def work(ctx: TaskContext) -> dict:
            return await self._delete_work(ctx, template_id)

        return self._submit(f"Delete template '{template.name}'",
                            f"{self._provider_name(template.provider_id)} / {template.source_vm_name}",
                            "template-delete", params, work, template.provider_id, template.source_host,
                            request_id, retry_of)

    async def _delete_work(self, ctx: TaskContext, template_id: int) -> dict:
        try:
            template = self._template(template_id)
        except NotFoundError:
            ctx.info(f"Template {template_id} is already deleted")
            return {"template_id": template_id, "left_over": []}
        left: list[str] = []
        for target in template.targets:
            name = self._provider_name(target.provider_id)
            if target.folder:
                target.progress = TargetProgress.REMOVING
                self._save_target(target)
                undo = ctx.add_undo(UndoAction(f"Remove the copy of template '{template.name}' on {name}",
                                               "remove-template-copy", {"provider_id": target.provider_id,
                                                                        "folder": target.folder,
                                                                        "vm_id": target.vm_id}))
                try:
                    adapter = await self._adapter(self._provider(target.provider_id))
                    await adapter.remove_template_copy(target.folder, target.vm_id, NullReporter())
                    ctx.undo_done(undo)
                    ctx.info(f"{name}: local copy removed ({target.folder})")
                except ConsoleError as exc:
                    ctx.warning(f"{name}: the local copy in {target.folder} could not be removed: {exc}")
                    left.append(f"{name}: {target.folder}")
            for number, kept in sorted(target.kept.items()):
                if kept.get("folder") and kept["folder"].lower() != (target.folder or "").lower():
                    undo = ctx.add_undo(UndoAction(f"Remove the kept copy of template '{template.name}' "
                                                   f"v{number} on {name}", "remove-template-copy",
                                                   {"provider_id": target.provider_id, "folder": kept["folder"],
                                                    "vm_id": kept.get("vm_id", "")}))
                    try:
                        adapter = await self._adapter(self._provider(target.provider_id))
                        await adapter.remove_template_copy(kept["folder"], kept.get("vm_id", ""),
                                                           NullReporter())
                        ctx.undo_done(undo)
                        ctx.info(f"{name}: kept copy of version {number} removed ({kept['folder']})")
                    except ConsoleError as exc:
                        ctx.warning(f"{name}: the kept copy of version {number} in {kept['folder']} could not "
                                    f"be removed: {exc}")
                        left.append(f"{name}: {kept['folder']}")
            unfinished = await self._remove_unfinished_copy(ctx, template, target, name)
            if unfinished:
                left.append(unfinished)
            self._farm.templates.remove_target(template_id, target.provider_id)
        provider = self._provider(template.provider_id)
        adapter = await self._adapter(provider)
        for version in sorted(template.versions, key=lambda v: v.number):
            if template.distribution_enabled and not await self._remove_export(ctx, adapter, provider, template,
                                                                                version.number):
                left.append(f"{provider.name}: export of version {version.number}")
            if version.snapshot_id:
                try:
                    await self._delete_checkpoint(adapter, template.source_vm_id, version.snapshot_id, ctx)
                except ConsoleError as exc:
                    ctx.warning(f"The checkpoint of version {version.number} could not be removed: {exc}")
                    left.append(f"{provider.name}: checkpoint of version {version.number}")
        self._secrets.delete(secret_key(template_id))
        self._farm.templates.remove(template_id)
        self._bus.publish(TemplateRemoved(template_id))
        ctx.info(f"Template '{template.name}' deleted; VM '{template.source_vm_name}' stays on "
                 f"{provider.name}" + (f". Left over (see the cleanup list): {'; '.join(left)}" if left else ""))
        return {"template_id": template_id, "left_over": left}
