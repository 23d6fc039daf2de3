"""What the template services share: the farm, the tasks, the providers' adapters, the events, and the
journaled task submission every template operation goes through (so ``TemplateService.retry`` can run
any of them again with the same parameters).
"""
from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from console.domain.errors import (
    InvalidStateError,
    NotFoundError,
    ValidationError,
)
from console.domain.inventory import VM, PowerAction, PowerState, Provider, ProviderKind
from console.domain.tasks import LogLevel, Task
from console.domain.templates import DistributionTarget, Template
from console.secrets import SecretStore
from console.store import Farm, utc_now

from .events import DistributionTargetChanged, EventBus, TemplateChanged, VMChanged
from .provider_rules import is_nutanix
from .tasks import TaskContext, TaskEngine

#: the kinds of every template task (TemplateService.retry runs these again)
TEMPLATE_KINDS = ("template-create", "template-target-add", "template-target-remove", "template-distribute",
                  "template-maintenance", "template-delete", "template-version-delete")
# (template-prune is not one: a prune skips targets other tasks work on, so it blocks nothing)
#: the kinds that copy a template to targets (a running one blocks maintenance and deletion)
DISTRIBUTING_KINDS = ("template-create", "template-target-add", "template-distribute")


Work = Callable[[TaskContext], Awaitable["dict | None"]]


def submit_journaled(engine: TaskEngine, farm: Farm, name: str, target: str, kind: str, params: dict, work: Work,
                     *, request_id: str | None = None, retry_of: int | None = None, **placement: Any) -> Task:
    """A task whose row holds what it was asked (``params``, the request id, ``retry_of``) from the
    start and its outcome added at the end, so it can be run again with the same parameters.
    ``placement``: the engine's provider_id and host (a pool task spans hosts and carries none)."""
    request_id = request_id or str(uuid.uuid4())
    asked = {"params": dict(params), "request_id": request_id,
             **({"retry_of": retry_of} if retry_of is not None else {})}

    async def run(ctx: TaskContext) -> dict:
        if retry_of is not None:
            ctx.info(f"Retry of task {retry_of}, same parameters")
        outcome = await work(ctx)
        return {**asked, **(outcome or {})}

    task = engine.submit(name, target, kind, run, **placement)
    task.result = dict(asked)
    farm.tasks.save(task)
    return task


def active_for(engine: TaskEngine, kinds: tuple[str, ...], key: str, value: int) -> list[Task]:
    """The queued or running tasks of ``kinds`` asked with ``params[key] == value`` (a template's, a pool's)."""
    return [t for t in engine.active() if t.kind in kinds and (t.result.get("params") or {}).get(key) == value]


def secret_key(template_id: int) -> str:
    """Where the domain join password of a template lives in the secret store."""
    return f"template:{template_id}:join"


def snapshot_name(template: str, number: int) -> str:
    return f"VDI template {template} v{number}"


def copy_folder_name(template: str, number: int) -> str:
    """The export folder on the source and the local copy's folder on a target."""
    return f"{template}-v{number}"


def copy_vm_name(template: str, number: int) -> str:
    return f"{template} (v{number})"


def template_copy(template: Template) -> Template:
    """A copy for an event: a subscriber that keeps it sees the template as it was then."""
    return copy.deepcopy(template)


def duration_words(seconds: float) -> str:
    """300 -> "5 minutes", 90 -> "90 seconds" (for the shutdown sentence)."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


class Scaled:
    """A reporter that maps an adapter's 0..1 progress into [base, base + span] of the task's."""

    def __init__(self, ctx: TaskContext, base: float, span: float) -> None:
        self._ctx, self._base, self._span = ctx, base, span

    def progress(self, fraction: float, text: str = "") -> None:
        self._ctx.progress(self._base + self._span * min(1.0, max(0.0, fraction)), text)

    def log(self, level: LogLevel, text: str) -> None:
        self._ctx.log(level, text)


class TemplateSupport:
    """Base of TemplateService and its mixins (targets, maintenance, versions)."""

    def __init__(self, farm: Farm, secrets: SecretStore, tasks: TaskEngine, bus: EventBus,
                 providers: Any) -> None:
        self._farm = farm
        self._secrets = secrets
        self._tasks = tasks
        self._bus = bus
        self._providers = providers         # ProviderService: adapters, inventories, host states

    # -- reading ---------------------------------------------------------------------------------
    def _template(self, template_id: int) -> Template:
        return self._farm.templates.get(template_id)

    def _provider(self, provider_id: int) -> Provider:
        return self._providers.get(provider_id)

    def _provider_name(self, provider_id: int) -> str:
        try:
            return self._providers.get(provider_id).name
        except NotFoundError:
            return f"provider {provider_id}"

    def _vm(self, provider: Provider, vm_id: str) -> VM:
        """The VM from the provider's last inventory (NotFoundError asks for a refresh)."""
        return self._providers._vm(provider, vm_id)

    def _remember_vm(self, provider: Provider, vm: VM) -> None:
        """A VM just read from the host replaces the inventory's (which may be minutes old), so a
        later check of the plan sees what the administrator saw; views hear of it (VMChanged)."""
        self._providers._put_vm(provider.id, vm)
        self._bus.publish(VMChanged(provider.id, vm))

    def pool_names_using(self, template_id: int, version: int | None = None) -> list[str]:
        """Names of the pools using the template (or one version of it), for the views and vdictl."""
        return self._farm.templates.pool_names_using(template_id, version)

    async def _adapter(self, provider: Provider) -> Any:
        await self._providers._adapter_module_ready(provider.kind)
        return self._providers._adapter(provider)

    @staticmethod
    def _is_standalone_hyperv(provider: Provider) -> bool:
        return provider.kind is ProviderKind.HYPERV

    @staticmethod
    def _is_nutanix(provider: Provider) -> bool:
        return is_nutanix(provider.kind)

    # -- publishing ------------------------------------------------------------------------------
    def _changed(self, template_id: int) -> Template | None:
        """Publish TemplateChanged with the template as the farm now holds it."""
        try:
            template = self._template(template_id)
        except NotFoundError:
            return None
        self._bus.publish(TemplateChanged(template_copy(template)))
        return template

    def _save_target(self, target: DistributionTarget) -> None:
        target.updated = utc_now()
        self._farm.templates.save_target(target)
        self._bus.publish(DistributionTargetChanged(target.template_id, copy.copy(target)))

    # -- tasks -----------------------------------------------------------------------------------
    def _active_tasks(self, template_id: int, kinds: tuple[str, ...] = TEMPLATE_KINDS) -> list[Task]:
        return active_for(self._tasks, kinds, "template_id", template_id)

    def distribution_running(self, template_id: int) -> Task | None:
        """The creation or distribution task of this template queued or running in this console."""
        running = self._active_tasks(template_id, DISTRIBUTING_KINDS)
        if not running:
            # leaving maintenance with a new version distributes inside its own task
            running = [t for t in self._active_tasks(template_id, ("template-maintenance",))
                       if (t.result.get("params") or {}).get("new_version")]
        return running[0] if running else None

    def _busy_targets(self, template_id: int) -> set[int]:
        """Providers a queued or running task of this template is distributing to or removing."""
        busy: set[int] = set()
        for task in self._active_tasks(template_id):
            params = task.result.get("params") or {}
            if task.kind == "template-maintenance" and not params.get("new_version"):
                continue
            busy.update(params.get("provider_ids") or [])
        return busy

    def _refuse_if_busy(self, template: Template, what: str) -> None:
        running = self.distribution_running(template.id)
        if running is not None:
            raise ValidationError(f"Template '{template.name}' is being distributed (task #{running.id}). "
                                  "Wait for it to finish or cancel it.", field="template")
        others = self._active_tasks(template.id)
        if others:
            raise ValidationError(f"Cannot {what} of template '{template.name}' while task #{others[0].id} "
                                  f"({others[0].name}) runs.", "Wait for it to finish or cancel it.",
                                  field="template")

    def _submit(self, name: str, target: str, kind: str, params: dict, work: Work,
                provider_id: int | None, host: str = "", request_id: str | None = None,
                retry_of: int | None = None) -> Task:
        """Submit a template task; what it was asked is in its journal row from the start."""
        return submit_journaled(self._tasks, self._farm, name, target, kind, params, work, request_id=request_id,
                                retry_of=retry_of, provider_id=provider_id, host=host)

    async def _shut_down(self, ctx: TaskContext, adapter: Any, vm_id: str, vm_name: str, state: PowerState,
                         timeout: float, force_off: bool, again: str) -> None:
        """Shut the guest down gracefully (a saved or paused VM is resumed first), waiting up to
        ``timeout`` s; still running then, or no Shutdown service: turn it off with ``force_off``,
        else InvalidStateError "... did not shut down within 5 minutes." + ``again``."""
        reporter = Scaled(ctx, ctx.task.progress, 0.0)
        if state in (PowerState.SAVED, PowerState.PAUSED):
            ctx.info(f"VM '{vm_name}' is {state.value.lower()}: resuming it to shut it down")
            await adapter.power(vm_id, PowerAction.START, reporter)
        ctx.info(f"Shutting VM '{vm_name}' down (waiting up to {duration_words(timeout)})")
        problem = ""
        try:
            after = await asyncio.wait_for(adapter.power(vm_id, PowerAction.SHUTDOWN, reporter), timeout)
            if after.state is PowerState.OFF:
                ctx.info(f"VM '{vm_name}' is off")
                return
            problem = f"VM '{vm_name}' is {after.state.value.lower()} after the shutdown."
        except TimeoutError:
            problem = f"VM '{vm_name}' did not shut down within {duration_words(timeout)}."
        except InvalidStateError as exc:
            problem = f"VM '{vm_name}' could not be shut down from the guest: {exc.message}"
        if not force_off:
            raise InvalidStateError(problem, again)
        ctx.warning(f"{problem} Turning it off, as allowed.")
        await adapter.power(vm_id, PowerAction.STOP, reporter)
