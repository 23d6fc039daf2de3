"""Templates: create one from a VM (checkpoint = version 1, then distribution), read them, tag and
delete versions, delete a template, and retry any template task.

Targets (add, remove, retry, redistribute) are in template_targets.py, maintenance in maintenance.py,
the distribution engine in distribution.py, the wizard's checks in template_checks.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import uuid

from console.domain.errors import (
    ConsoleError,
    NotFoundError,
    PrerequisiteError,
    ValidationError,
)
from console.domain.inventory import PowerState
from console.domain.prerequisites import CheckStatus, blocking
from console.domain.tasks import Task, TaskState, UndoAction
from console.domain.template_rules import (
    check_account,
    check_distinguished_name,
    check_domain_name,
    check_template_name,
)
from console.domain.templates import (
    MAX_CONCURRENT_DISTRIBUTION,
    DistributionTarget,
    ImagePreparation,
    Preparation,
    Template,
    TemplatePlan,
    TemplateState,
    TemplateVersion,
)
from console.store import utc_now

from .events import TemplateAdded, TemplateRemoved
from .maintenance import Maintenance
from .tasks import TaskContext
from .template_checks import running_sentence
from .template_support import Scaled, secret_key, snapshot_name, template_copy
from .template_targets import TemplateTargets
from .template_versions import TemplateVersions

SHUTDOWN_TIMEOUT = 300.0
DESCRIPTION_MAX = 1000
CONCURRENCY_MAX = MAX_CONCURRENT_DISTRIBUTION
_RETRY_STATES = (TaskState.FAILED, TaskState.CANCELLED, TaskState.INTERRUPTED)


class TemplateService(TemplateTargets, Maintenance, TemplateVersions):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_checks()
        self._init_distribution()
        self._join_passwords: dict[int, str] = {}    # create task id -> password, for a retry this session

    # -- reading ---------------------------------------------------------------------------------
    def missing_join_passwords(self) -> list[Template]:
        """Templates whose preparation joins a domain but whose join password this session does not
        know (no keyring: it was typed in an earlier session). The console asks once."""
        return [t for t in self.list() if t.preparation.join_account and self._secrets.get(secret_key(t.id)) is None]

    def set_join_password(self, template_id: int, password: str, persist: bool = True) -> None:
        template = self.get(template_id)
        if not password:
            account = template.preparation.join_account or "the join account"
            raise ValidationError(f"Enter the password of {account}.", field="join_password")
        self._secrets.set(secret_key(template.id), password, persist=persist)

    def list(self) -> list[Template]:
        return self._farm.templates.list()

    def get(self, template_id: int) -> Template:
        return self._farm.templates.get(template_id)

    def find(self, name_or_id: str) -> Template:
        """A template by its number or (case-insensitive) name; for vdictl."""
        text = str(name_or_id).strip()
        if text.isdigit():
            return self.get(int(text))
        template = self._farm.templates.find_by_name(text)
        if template is None:
            raise NotFoundError(f"There is no template named '{text}'.",
                                "List them with 'vdictl templates list'.")
        return template

    def validate_name(self, name: str) -> str:
        name = check_template_name(name)
        other = self._farm.templates.find_by_name(name)
        if other is not None:
            raise ValidationError(f"A template named '{other.name}' already exists.", "Choose another name.",
                                  field="name")
        return name

    # -- creating --------------------------------------------------------------------------------
    def _validate_plan(self, plan: TemplatePlan) -> tuple[str, Preparation]:
        provider = self._provider(plan.provider_id)
        name = self.validate_name(plan.name)
        description = (plan.description or "").strip()
        if len(description) > DESCRIPTION_MAX:
            raise ValidationError(f"The description is {len(description)} characters long; at most "
                                  f"{DESCRIPTION_MAX} are allowed.", field="description")
        # the inventory's VM, or the one source_check read from the host since (it replaces it there);
        # the task reads the state again before it acts
        vm = self._vm(provider, plan.vm_id)
        other = next((t for t in self._farm.templates.list()
                      if t.provider_id == provider.id and t.source_vm_id == vm.id), None)
        if other is not None:
            raise ValidationError(f"VM '{vm.name}' is already the source of template '{other.name}'.",
                                  "Choose another VM, or make a new version of that template (maintenance).",
                                  field="vm_id")
        if vm.state is not PowerState.OFF and not plan.shutdown_consent:
            raise ValidationError(running_sentence(vm), field="shutdown_consent")
        prep = dataclasses.replace(plan.preparation)
        if prep.method is ImagePreparation.RENAME_AND_JOIN or prep.domain:
            prep.domain = check_domain_name(prep.domain) if prep.domain else ""
        prep.organizational_unit = check_distinguished_name(prep.organizational_unit or "")
        if prep.join_account:
            prep.join_account = check_account(prep.join_account)
            if not plan.join_password:
                raise ValidationError(f"Enter the password of {prep.join_account}.",
                                      "It is kept in the keyring, never in the farm.", field="join_password")
        if not 1 <= int(plan.concurrent_distribution) <= CONCURRENCY_MAX:
            raise ValidationError(f"Copy to between 1 and {CONCURRENCY_MAX} providers at a time.",
                                  field="concurrent_distribution")
        why = self.why_no_distribution(provider)
        if plan.distribution_enabled and why:
            raise ValidationError(why, field="distribution_enabled")
        if plan.target_provider_ids and not plan.distribution_enabled:
            raise ValidationError("Distribution targets need multi-provider template distribution enabled.",
                                  field="targets")
        if len(set(plan.target_provider_ids)) != len(plan.target_provider_ids):
            raise ValidationError("A provider is listed twice as a distribution target.", field="targets")
        for target_id in plan.target_provider_ids:
            target = self._provider(target_id)
            refusal = self.target_refusal(provider, target)
            if refusal:
                raise ValidationError(f"{target.name} cannot be a distribution target: {refusal}",
                                      field="targets")
        return name, prep

    def create(self, plan: TemplatePlan) -> Task:
        """Validate, save the template (creating) and its join password at once, then one task:
        check the targets, shut the source down, checkpoint = version 1, distribute."""
        name, prep = self._validate_plan(plan)
        provider = self._provider(plan.provider_id)
        vm = self._vm(provider, plan.vm_id)
        template = self._farm.templates.add(Template(
            id=None, name=name, provider_id=provider.id, source_vm_id=vm.id,
            description=(plan.description or "").strip(), state=TemplateState.CREATING,
            distribution_enabled=bool(plan.distribution_enabled),
            concurrent_distribution=int(plan.concurrent_distribution), source_vm_name=vm.name,
            source_host=vm.host or vm.cluster, preparation=prep, created=utc_now()))
        try:
            if plan.join_password:
                self._secrets.set(secret_key(template.id), plan.join_password)
            for target_id in plan.target_provider_ids:
                self._farm.templates.save_target(DistributionTarget(template.id, target_id, updated=utc_now()))
        except BaseException:
            self._secrets.delete(secret_key(template.id))      # nothing of it is left, not even there
            self._farm.templates.remove(template.id)
            raise
        template = self._template(template.id)
        self._bus.publish(TemplateAdded(template_copy(template)))
        params = {"template_id": template.id, "template": name, "plan": _plan_params(plan, name, prep),
                  "provider_ids": list(plan.target_provider_ids)}
        task = self._submit_create(template, params)
        if plan.join_password:
            self._join_passwords[task.id] = plan.join_password
        return task

    def _submit_create(self, template: Template, params: dict, request_id: str | None = None,
                       retry_of: int | None = None) -> Task:
        request_id = request_id or str(uuid.uuid4())
        template_id = template.id

        async def work(ctx: TaskContext) -> dict:
            return await self._create_work(ctx, template_id, params, request_id)

        return self._submit(f"Create template '{template.name}'",
                            f"{self._provider_name(template.provider_id)} / {template.source_vm_name}",
                            "template-create", params, work, template.provider_id, template.source_host,
                            request_id, retry_of)

    async def _create_work(self, ctx: TaskContext, template_id: int, params: dict, request_id: str) -> dict:
        template = self._template(template_id)
        provider = self._provider(template.provider_id)
        snapshot_id = ""
        if template.latest_version is None:
            try:
                await self._check_targets_first(ctx, template)
                adapter = await self._adapter(provider)
                # the state now, not the one at submit (a retry, or a VM started since the wizard)
                vm = await self._live_vm(provider, adapter, template.source_vm_id)
                if vm.state is not PowerState.OFF:
                    if not (params.get("plan") or {}).get("shutdown_consent"):
                        raise ValidationError(running_sentence(vm), field="shutdown_consent")
                    ctx.progress(0.05, f"Shutting down VM '{template.source_vm_name}'")
                    await self._shut_down(ctx, adapter, template.source_vm_id, template.source_vm_name,
                                          vm.state, SHUTDOWN_TIMEOUT, False, "Shut it down yourself, then "
                                          "create the template again.")
                name = snapshot_name(template.name, 1)
                undo = ctx.add_undo(UndoAction(f"Remove checkpoint '{name}' of VM '{template.source_vm_name}'",
                                               "remove-checkpoint", {"provider_id": provider.id,
                                                                     "vm_id": template.source_vm_id,
                                                                     "name": name, "snapshot_id": ""}))
                ctx.progress(0.15, f"Taking checkpoint '{name}'")
                snapshot_id = await adapter.snapshot(template.source_vm_id, name, Scaled(ctx, 0.15, 0.15),
                                                     request_id=request_id)
                ctx.task.cleanup[undo].params["snapshot_id"] = snapshot_id
                self._farm.templates.add_version(TemplateVersion(
                    template.id, 1, utc_now(), notes="First version", snapshot_id=snapshot_id,
                    size_bytes=await self._measured_bytes(provider, template.source_vm_id)))
                template.state = TemplateState.READY
                self._farm.templates.update(template)
                ctx.undo_done(undo)
                ctx.info(f"Template '{template.name}' is ready at version 1 (checkpoint {snapshot_id})")
                self._changed(template.id)
            except BaseException:
                await asyncio.shield(asyncio.ensure_future(
                    self._undo_creation(ctx, template, snapshot_id)))
                raise
        targets = [t.provider_id for t in self._template(template_id).targets]
        failed = await self._distribute(ctx, template_id, 1, targets, base=0.3, span=0.7)
        for name in failed:
            ctx.warning(f"Version 1 could not be distributed to {name}; see its row in the distribution "
                        "details and retry it there.")
        self._changed(template_id)
        return {"template_id": template_id, "version": 1, "failed_targets": failed}

    async def _check_targets_first(self, ctx: TaskContext, template: Template) -> None:
        """Every target is checked again before anything is changed; a failing one refuses the creation."""
        if not template.targets:
            return
        ctx.progress(0.01, f"Checking {len(template.targets)} distribution target(s)")
        rows = await asyncio.gather(*(self.check_target(template.provider_id, template.source_vm_id,
                                                        t.provider_id) for t in template.targets))
        refusals = []
        for target, results in zip(template.targets, rows):
            name = self._provider_name(target.provider_id)
            if blocking(results):
                failed = [r for r in results if r.status is CheckStatus.FAILED]
                for r in failed:
                    ctx.error(f"{name}: {r.title}: found {r.found or 'nothing'}. {r.fix}".strip())
                refusals.append(f"{name} ({'; '.join(r.title for r in failed)})")
            else:
                ctx.info(f"{name}: every prerequisite is met")
        if refusals:
            raise PrerequisiteError(f"Distribution target(s) fail the prerequisites: {', '.join(refusals)}.",
                                    "Remove those targets or fix the hosts, then create the template again.")

    async def _undo_creation(self, ctx: TaskContext, template: Template, snapshot_id: str) -> None:
        """Nothing half-made: the checkpoint (if taken), the secret and the template row go."""
        if snapshot_id:
            try:
                adapter = await self._adapter(self._provider(template.provider_id))
                await self._delete_checkpoint(adapter, template.source_vm_id, snapshot_id, ctx)
                for action in ctx.task.cleanup:
                    if action.kind == "remove-checkpoint" and not action.done:
                        action.done = True
                self._farm.tasks.save(ctx.task)
            except ConsoleError as exc:
                ctx.warning(f"The checkpoint could not be removed ({exc}); it stays on the cleanup list.")
        self._secrets.delete(secret_key(template.id))
        self._farm.templates.remove(template.id)
        self._bus.publish(TemplateRemoved(template.id))
        ctx.info(f"Template '{template.name}' was not created; nothing is left of it in the farm")

    # -- retry -----------------------------------------------------------------------------------
    def retry(self, task_id: int) -> Task:
        """A failed, cancelled or interrupted template task again, with the same parameters."""
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFoundError(f"There is no task {task_id}.", "List them with 'vdictl tasks list'.")
        if not task.kind.startswith("template-"):
            raise ValidationError(f"Task {task.id} ({task.name}) is not a template task.", field="task")
        if task.state not in _RETRY_STATES:
            raise ValidationError(f"Task {task.id} ({task.name}) is {task.state.value}: only a failed, "
                                  "cancelled or interrupted task can be retried.", field="task")
        params, request_id = task.result.get("params"), task.result.get("request_id")
        if not isinstance(params, dict):
            raise ValidationError(f"Task {task.id} ({task.name}) did not record its parameters.",
                                  "Start the operation again.", field="task")
        for active in self._tasks.active():
            if active.result.get("retry_of") == task.id:
                return active
        template_id = params.get("template_id")
        if task.kind == "template-create":
            try:
                template = self._template(template_id)
            except NotFoundError:
                return self._recreate(task, params)
            return self._submit_create(template, params, request_id, retry_of=task.id)
        return self._retry_kind(task, params, request_id)

    def _retry_kind(self, task: Task, params: dict, request_id: str | None) -> Task:
        try:
            template = self._template(params.get("template_id"))
        except NotFoundError:
            raise ValidationError(f"Task {task.id} ({task.name}) cannot be retried: its template is gone.",
                                  field="task") from None
        if task.kind in ("template-target-add", "template-distribute"):
            if task.kind == "template-distribute":
                self._distributable(template)
            return self._submit_distribute(template, task.kind, params, request_id, task.id)
        if task.kind == "template-target-remove":
            return self._submit_remove_target(template, params, request_id, task.id)
        if task.kind == "template-maintenance":
            return self._submit_maintenance(template, params, request_id, task.id)
        if task.kind == "template-delete":
            return self._submit_delete(template, params, request_id, task.id)
        if task.kind == "template-prune":
            return self._submit_prune(template, params, request_id, task.id)
        return self._submit_version_delete(template, params, request_id, task.id)

    def _recreate(self, task: Task, params: dict) -> Task:
        plan_params = dict(params.get("plan") or {})
        password = self._join_passwords.get(task.id, "")
        if plan_params.get("preparation", {}).get("join_account") and not password:
            raise ValidationError("The domain join password of this template is not known any more.",
                                  "Create the template again with the wizard.", field="task")
        prep = Preparation.from_dict(plan_params.pop("preparation", {}))
        return self.create(TemplatePlan(preparation=prep, join_password=password, **plan_params))


def _plan_params(plan: TemplatePlan, name: str, prep: Preparation) -> dict:
    """What a retry needs to create the template again (never the password)."""
    return {"provider_id": plan.provider_id, "vm_id": plan.vm_id, "name": name,
            "description": plan.description, "shutdown_consent": plan.shutdown_consent,
            "preparation": prep.to_dict(), "distribution_enabled": plan.distribution_enabled,
            "target_provider_ids": list(plan.target_provider_ids),
            "concurrent_distribution": plan.concurrent_distribution}
