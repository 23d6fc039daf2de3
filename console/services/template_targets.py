"""Distribution targets after creation: add one (checked first), remove one (its local copy goes),
retry one, redistribute the latest version to every target not ready at it."""
from __future__ import annotations

import asyncio

from console.domain.errors import ConsoleError, PrerequisiteError, ValidationError
from console.domain.prerequisites import CheckStatus, blocking
from console.domain.tasks import Task
from console.domain.templates import (
    DistributionTarget,
    TargetProgress,
    Template,
    TemplateState,
)

from .distribution import Distribution
from .tasks import CANCELLED_BY_USER, TaskContext

_DISTRIBUTABLE = (TemplateState.READY, TemplateState.MAINTENANCE)


class TemplateTargets(Distribution):
    def _distributable(self, template: Template) -> None:
        if not template.distribution_enabled:
            raise ValidationError(f"Template '{template.name}' was created without multi-provider "
                                  "distribution; that cannot be changed after creation.", field="template")
        if template.state not in _DISTRIBUTABLE or template.latest_version is None:
            raise ValidationError(f"Template '{template.name}' is {template.state.value}: its targets can "
                                  "change once it is ready.", field="template")

    def _target_of(self, template: Template, provider_id: int) -> DistributionTarget:
        target = template.target(provider_id)
        if target is None:
            raise ValidationError(f"{self._provider_name(provider_id)} is not a distribution target of "
                                  f"template '{template.name}'.", field="provider")
        return target

    def _refuse_busy_target(self, template: Template, provider_id: int) -> None:
        if provider_id in self._busy_targets(template.id):
            raise ValidationError(f"Template '{template.name}' is being distributed to "
                                  f"{self._provider_name(provider_id)}. Wait for it to finish or cancel it.",
                                  field="provider")

    # -- adding ----------------------------------------------------------------------------------
    def _refuse_adding(self, template: Template) -> None:
        """In maintenance the latest version is about to be replaced: a new target would get the old
        one (and leaving with a new version distributes only to the targets it started with)."""
        self._distributable(template)
        if template.state is TemplateState.MAINTENANCE:
            raise ValidationError(f"Template '{template.name}' is in maintenance.",
                                  "Add the target once it has left maintenance.", field="template")
        maintenance = self._active_tasks(template.id, ("template-maintenance",))
        if maintenance:
            raise ValidationError(f"Cannot add a distribution target to template '{template.name}' while task "
                                  f"#{maintenance[0].id} ({maintenance[0].name}) runs.", "Wait for it to finish.",
                                  field="template")

    def add_target(self, template_id: int, provider_id: int) -> Task:
        """Check the provider as a target (the task fails listing the failed rows, and the target is
        not added), then distribute the latest version to it."""
        template = self._template(template_id)
        self._refuse_adding(template)
        provider = self._provider(provider_id)
        refusal = self.target_refusal(self._provider(template.provider_id), provider)
        if refusal:
            raise ValidationError(f"{provider.name} cannot be a distribution target: {refusal}", field="provider")
        if template.target(provider_id) is not None:
            raise ValidationError(f"{provider.name} is already a distribution target of template "
                                  f"'{template.name}'.", field="provider")
        self._save_target(DistributionTarget(template.id, provider.id))
        self._changed(template.id)
        params = {"template_id": template.id, "template": template.name, "provider_ids": [provider.id]}
        return self._submit_distribute(template, "template-target-add", params)

    def retry_target(self, template_id: int, provider_id: int) -> Task:
        """Distribute the latest version to one target again (the same copy id: a copy still running
        on the host from the first try is joined, not started again)."""
        template = self._template(template_id)
        self._distributable(template)
        self._target_of(template, provider_id)
        self._refuse_busy_target(template, provider_id)
        params = {"template_id": template.id, "template": template.name, "provider_ids": [provider_id]}
        return self._submit_distribute(template, "template-distribute", params)

    def redistribute(self, template_id: int) -> Task:
        """Distribute the latest version to every target that is not ready at it."""
        template = self._template(template_id)
        self._distributable(template)
        latest = template.latest_version.number
        busy = self._busy_targets(template.id)
        pending = [t.provider_id for t in template.targets if t.provider_id not in busy
                   and not (t.version == latest and t.progress is TargetProgress.OK)]
        params = {"template_id": template.id, "template": template.name, "provider_ids": pending}
        return self._submit_distribute(template, "template-distribute", params)

    def _submit_distribute(self, template: Template, kind: str, params: dict, request_id: str | None = None,
                           retry_of: int | None = None) -> Task:
        template_id, provider_ids = template.id, list(params["provider_ids"])
        names = ", ".join(self._provider_name(pid) for pid in provider_ids) or "no target"
        adding = kind == "template-target-add"

        async def work(ctx: TaskContext) -> dict:
            current = self._template(template_id)
            if adding:
                self._refuse_adding(current)
                await self._check_new_target(ctx, current, provider_ids[0])
            else:
                self._distributable(current)
            number = current.latest_version.number
            failed = await self._distribute(ctx, template_id, number, provider_ids)
            self._changed(template_id)
            if failed and len(provider_ids) == 1:
                target = self._template(template_id).target(provider_ids[0])
                raise ConsoleError(f"Template '{current.name}' could not be distributed to {failed[0]}: "
                                   f"{target.last_error if target else ''}".strip(),
                                   "Fix the host, then retry the target.")
            for name in failed:
                ctx.warning(f"Version {number} could not be distributed to {name}.")
            return {"template_id": template_id, "version": number, "failed_targets": failed}

        name = (f"Add {names} to template '{template.name}'" if adding
                else f"Distribute template '{template.name}' to {names}")
        return self._submit(name, names, kind, params, work,
                            provider_ids[0] if len(provider_ids) == 1 else template.provider_id, "",
                            request_id, retry_of)

    async def _check_new_target(self, ctx: TaskContext, template: Template, provider_id: int) -> None:
        name = self._provider_name(provider_id)
        target = template.target(provider_id)
        if target is None:             # a retry after a refusal: the row was removed
            target = DistributionTarget(template.id, provider_id)
        target.progress = TargetProgress.ADDING
        self._save_target(target)
        ctx.progress(0.02, f"Checking {name} as a distribution target")
        try:
            results = await self.check_target(template.provider_id, template.source_vm_id, provider_id)
        except BaseException as exc:
            # never left "Adding": not added (the row goes) unless it holds something from before
            if target.vm_id or target.folder:
                self._target_failed(target, CANCELLED_BY_USER if isinstance(exc, asyncio.CancelledError)
                                    else f"The check of {name} did not finish: {exc}")
            else:
                self._farm.templates.remove_target(template.id, provider_id)
                self._changed(template.id)
            raise
        if not blocking(results):
            ctx.info(f"{name}: every prerequisite is met")
            return
        failed = [r for r in results if r.status is CheckStatus.FAILED]
        for r in failed:
            ctx.error(f"{name}: {r.title}: found {r.found or 'nothing'}. {r.fix}".strip())
        self._farm.templates.remove_target(template.id, provider_id)
        self._changed(template.id)
        raise PrerequisiteError(f"{name} fails the prerequisites of a distribution target: "
                                f"{'; '.join(r.title for r in failed)}.",
                                " ".join(r.fix for r in failed if r.fix) or "Fix the host, then add it again.")

    # -- removing --------------------------------------------------------------------------------
    def remove_target(self, template_id: int, provider_id: int) -> Task:
        """Remove the target's local copy and the copies it kept, then the target. Refused while a
        distribution to it runs."""
        template = self._template(template_id)
        self._target_of(template, provider_id)
        self._refuse_busy_target(template, provider_id)
        self._refuse_target_with_clones(template, provider_id)
        params = {"template_id": template.id, "template": template.name, "provider_ids": [provider_id],
                  "provider_id": provider_id}
        return self._submit_remove_target(template, params)

    def _refuse_target_with_clones(self, template: Template, provider_id: int) -> None:
        """Pool clones on that host have their parent disks in its copies (linked and quick clones
        until they merge): removing the copies would leave clones that no longer start."""
        holding = {}
        for pool in self._farm.pools.list():
            if pool.template_id != template.id:
                continue
            count = sum(1 for c in self._farm.pools.clones(pool.id) if c.provider_id == provider_id)
            if count:
                holding[pool.name] = count
        if holding:
            names = ", ".join(f"'{n}' ({c} clone{'s' if c != 1 else ''})" for n, c in sorted(holding.items()))
            raise ValidationError(f"{self._provider_name(provider_id)} holds clones of template '{template.name}' "
                                  f"in pool {names}: removing its copies would leave them without their disks.",
                                  "Delete those clones first (the pool view, or vdictl), then remove the "
                                  "target.", field="provider")

    def _submit_remove_target(self, template: Template, params: dict, request_id: str | None = None,
                              retry_of: int | None = None) -> Task:
        template_id, provider_id = template.id, int(params["provider_id"])
        name = self._provider_name(provider_id)

        async def work(ctx: TaskContext) -> dict:
            current = self._template(template_id)
            target = current.target(provider_id)
            if target is None:
                ctx.info(f"{name} is no longer a target of template '{current.name}'")
                return {"template_id": template_id, "removed": False}
            target.progress, target.last_error = TargetProgress.REMOVING, ""
            self._save_target(target)
            try:
                if target.folder:
                    ctx.info(f"{name}: removing the local copy in {target.folder}")
                    adapter = await self._adapter(self._provider(provider_id))
                    await adapter.remove_template_copy(target.folder, target.vm_id, ctx)
            except ConsoleError as exc:
                self._target_failed(target, str(exc))
                raise
            for number, kept in sorted(target.kept.items()):      # the copies it kept for pools go too
                if not await self._remove_kept(ctx, current, target, number, kept):
                    self._target_failed(target, f"The copy of version {number} in {kept.get('folder', '')} "
                                                "could not be removed.")
                    raise ConsoleError(f"{name}: the copy of version {number} of template '{current.name}' "
                                       "could not be removed.", "Bring the host back, then retry this task.")
            await self._remove_unfinished_copy(ctx, current, target, name)
            self._farm.templates.remove_target(template_id, provider_id)
            self._changed(template_id)
            ctx.info(f"{name} is no longer a distribution target of template '{current.name}'")
            return {"template_id": template_id, "removed": True}

        return self._submit(f"Remove {name} from template '{template.name}'", name, "template-target-remove",
                            params, work, provider_id, "", request_id, retry_of)
