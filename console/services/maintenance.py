"""Maintenance of a template: enter (revert the source VM to a version and power it on; no new clones
meanwhile), leave (shut the guest down, then a new version that is distributed, or discard the changes).

Nutanix: this console cannot revert an AHV VM, so maintenance starts from the VM's current disks (the
latest version) and leaving it can only make a new version.
"""
from __future__ import annotations

from console.adapters.base import NullReporter
from console.domain.errors import ValidationError
from console.domain.inventory import PowerAction, PowerState
from console.domain.tasks import Task, UndoAction
from console.domain.templates import (
    TargetState,
    Template,
    TemplateState,
    TemplateVersion,
)
from console.store import utc_now

from .distribution import Distribution
from .tasks import TaskContext
from .template_support import Scaled, duration_words, snapshot_name

NOTES_MAX = 1000


def nutanix_revert_refusal(template: Template) -> str:
    latest = template.latest_version.number if template.latest_version else 0
    return (f"A Nutanix VM cannot be reverted by this console: maintenance of template '{template.name}' "
            f"starts from the VM's current disks (version {latest}).")


def nutanix_discard_refusal(template: Template) -> str:
    return (f"A Nutanix VM cannot be reverted by this console, so the changes to template "
            f"'{template.name}' cannot be discarded. Leave maintenance with a new version, or revert the "
            "VM in Prism first.")


class Maintenance(Distribution):
    def enter_maintenance(self, template_id: int, version: int | None = None) -> Task:
        """Template state maintenance at once (no new clones), then a task reverts the source VM to
        ``version`` (default: the latest) and powers it on."""
        template = self._template(template_id)
        self._refuse_if_busy(template, "enter maintenance")
        if template.state is TemplateState.MAINTENANCE:
            raise ValidationError(f"Template '{template.name}' is already in maintenance.", field="template")
        if template.state is not TemplateState.READY or template.latest_version is None:
            raise ValidationError(f"Template '{template.name}' is {template.state.value}: it can enter "
                                  "maintenance once it is ready.", field="template")
        number = int(version) if version is not None else template.latest_version.number
        if template.version(number) is None:
            raise ValidationError(f"Template '{template.name}' has no version {number}.", field="version")
        if self._is_nutanix(self._provider(template.provider_id)) and number != template.latest_version.number:
            raise ValidationError(nutanix_revert_refusal(template), field="version")
        self._set_maintenance(template, number)
        params = {"template_id": template.id, "template": template.name, "action": "enter", "version": number}
        return self._submit_maintenance(template, params)

    def leave_maintenance(self, template_id: int, new_version: bool, notes: str = "", force_off: bool = False,
                          shutdown_timeout: float = 300.0) -> Task:
        """Shut the guest down (turn it off after ``shutdown_timeout`` s only with ``force_off``), then
        a new version distributed to every target, or the changes discarded; state ready."""
        template = self._template(template_id)
        if template.state is not TemplateState.MAINTENANCE:
            raise ValidationError(f"Template '{template.name}' is not in maintenance.", field="template")
        self._refuse_if_busy(template, "leave maintenance")
        if not new_version and self._is_nutanix(self._provider(template.provider_id)):
            raise ValidationError(nutanix_discard_refusal(template), field="new_version")
        notes = (notes or "").strip()
        if len(notes) > NOTES_MAX:
            raise ValidationError(f"The notes are {len(notes)} characters long; at most {NOTES_MAX} are "
                                  "allowed.", field="notes")
        if shutdown_timeout <= 0:
            raise ValidationError("The shutdown timeout must be positive.", field="shutdown_timeout")
        params = {"template_id": template.id, "template": template.name, "action": "leave",
                  "new_version": bool(new_version), "notes": notes, "force_off": bool(force_off),
                  "shutdown_timeout": float(shutdown_timeout),
                  "provider_ids": [t.provider_id for t in template.targets] if new_version else []}
        return self._submit_maintenance(template, params)

    def _set_maintenance(self, template: Template, number: int | None) -> None:
        template.state = TemplateState.MAINTENANCE if number is not None else TemplateState.READY
        template.maintenance_from = number
        self._farm.templates.update(template)
        self._changed(template.id)

    def _submit_maintenance(self, template: Template, params: dict, request_id: str | None = None,
                            retry_of: int | None = None) -> Task:
        template_id = template.id
        enter = params["action"] == "enter"

        async def work(ctx: TaskContext) -> dict:
            if enter:
                return await self._enter_work(ctx, template_id, int(params["version"]))
            return await self._leave_work(ctx, template_id, params, request_id)

        if enter:
            name = f"Enter maintenance of template '{template.name}' (version {params['version']})"
        else:
            name = (f"Leave maintenance of template '{template.name}' "
                    + ("with a new version" if params["new_version"] else "discarding the changes"))
        request_id = request_id or f"maintenance-{template.id}-{utc_now()}"
        return self._submit(name, f"{self._provider_name(template.provider_id)} / {template.source_vm_name}",
                            "template-maintenance", params, work, template.provider_id, template.source_host,
                            request_id, retry_of)

    async def _enter_work(self, ctx: TaskContext, template_id: int, number: int) -> dict:
        template = self._template(template_id)
        if template.state is TemplateState.READY:          # a retry after a failed try
            self._set_maintenance(template, number)
        provider = self._provider(template.provider_id)
        adapter = await self._adapter(provider)
        vm_id, vm_name = template.source_vm_id, template.source_vm_name
        try:
            if not self._is_nutanix(provider):
                state = (await adapter.template_source(vm_id, NullReporter())).vm.state
                if state is not PowerState.OFF:
                    await self._shut_down(ctx, adapter, vm_id, vm_name, state, 300.0, False,
                                          "Shut it down yourself, then enter maintenance again.")
                ctx.progress(0.3, f"Reverting VM '{vm_name}' to version {number}")
                await adapter.revert(vm_id, template.version(number).snapshot_id, Scaled(ctx, 0.3, 0.3))
                ctx.info(f"VM '{vm_name}' reverted to version {number}")
            ctx.progress(0.6, f"Starting VM '{vm_name}'")
            await adapter.power(vm_id, PowerAction.START, Scaled(ctx, 0.6, 0.4))
        except BaseException:
            self._set_maintenance(self._template(template_id), None)     # nothing to leave: ready again
            raise
        ctx.info(f"Template '{template.name}' is in maintenance from version {number}; VM '{vm_name}' is "
                 "running. No new clones are made from it until it leaves maintenance.")
        return {"template_id": template_id, "version": number}

    async def _leave_work(self, ctx: TaskContext, template_id: int, params: dict, request_id: str) -> dict:
        template = self._template(template_id)
        if template.state is not TemplateState.MAINTENANCE:
            raise ValidationError(f"Template '{template.name}' is not in maintenance any more.", field="template")
        provider = self._provider(template.provider_id)
        adapter = await self._adapter(provider)
        vm_id, vm_name = template.source_vm_id, template.source_vm_name
        timeout = float(params["shutdown_timeout"])
        ctx.progress(0.05, f"Shutting down VM '{vm_name}'")
        await self._shut_down(ctx, adapter, vm_id, vm_name, PowerState.RUNNING, timeout,
                              bool(params["force_off"]), "Leave maintenance again with 'turn off' allowed.")
        failed: list[str] = []
        if params["new_version"]:
            number = template.latest_version.number + 1
            name = snapshot_name(template.name, number)
            undo = ctx.add_undo(UndoAction(f"Remove checkpoint '{name}' of VM '{vm_name}'", "remove-checkpoint",
                                           {"provider_id": provider.id, "vm_id": vm_id, "name": name}))
            ctx.progress(0.3, f"Taking checkpoint '{name}'")
            snapshot_id = await adapter.snapshot(vm_id, name, Scaled(ctx, 0.3, 0.1),
                                                 request_id=f"{request_id}-v{number}")
            size = await self._measured_bytes(provider, vm_id)       # the disks grew in maintenance
            self._farm.templates.add_version(TemplateVersion(
                template.id, number, utc_now(), notes=params.get("notes", ""), snapshot_id=snapshot_id,
                size_bytes=size))
            ctx.undo_done(undo)
            for target in template.targets:
                if target.version is not None:
                    target.state = TargetState.NEEDS_UPDATE
                    self._save_target(target)
            self._set_maintenance(self._template(template_id), None)
            ctx.info(f"Template '{template.name}' is ready at version {number}")
            failed = await self._distribute(ctx, template_id, number, list(params.get("provider_ids") or []),
                                            base=0.4, span=0.6)
            for target_name in failed:
                ctx.warning(f"Version {number} could not be distributed to {target_name}.")
        else:
            number = template.maintenance_from or template.latest_version.number
            ctx.progress(0.5, f"Discarding the changes: reverting VM '{vm_name}' to version {number}")
            await adapter.revert(vm_id, template.version(number).snapshot_id, Scaled(ctx, 0.5, 0.5))
            self._set_maintenance(self._template(template_id), None)
            ctx.info(f"Changes discarded; template '{template.name}' is ready at version {number}")
        pools = self._farm.templates.pool_names_using(template_id)
        if pools:
            ctx.info(f"Pools using template '{template.name}': {', '.join(pools)}. Update their clones now "
                     "or later from each pool.")
        return {"template_id": template_id, "version": number, "new_version": bool(params["new_version"]),
                "pools": pools, "failed_targets": failed}


__all__ = ["Maintenance", "duration_words"]
