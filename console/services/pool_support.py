"""What the pool services share: the farm, the tasks, the providers' adapters, the template service,
the events, the lab-scaled clock, and where a pool's clones are made (targets, base disks, folders).

A pool's version: ``pool.version`` is the version its clones are made from. A pool that follows a tag
still provisions from ``pool.version``, but the tag must still be on a version (an untagged tag fails
the next provisioning with the reason); a rolling update moves ``pool.version``.
"""
from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from console.adapters.base import NullReporter
from console.domain.errors import ConsoleError, NotFoundError, ValidationError
from console.domain.inventory import Provider, ProviderKind
from console.domain.templates import (
    Clone,
    DistributionTarget,
    Pool,
    Preparation,
    ProvisioningMethod,
    TargetProgress,
    TargetState,
    Template,
    TemplateState,
    TemplateVersion,
)
from console.secrets import SecretStore
from console.store import Farm

from .events import CloneChanged, CloneRemoved, EventBus, PoolChanged
from .provider_rules import is_nutanix
from .tasks import TaskContext, TaskEngine
from .template_support import Work, active_for, copy_folder_name, submit_journaled
from .template_support import secret_key as template_secret_key

#: the kinds of every pool task
POOL_KINDS = ("pool-provision", "pool-delete", "pool-update", "pool-clone-recreate", "pool-clone-delete",
              "pool-clean-up", "pool-trim")
#: kinds that change a pool's clones wholesale: the keeper leaves such a pool alone while one runs
EXCLUSIVE_KINDS = ("pool-delete", "pool-update", "pool-clean-up")
INTERRUPTED = "Interrupted: the console stopped while this clone was being made."
CLONE_FOLDER_ROOT = "VDI-Pools"
#: real seconds; divided by the lab's speed in lab mode
GUEST_POLL_SECONDS = 2.0
KEEPER_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 1800.0
#: how many clones are made on one host at a time (a boot storm is what a host suffers from)
PER_HOST_CONCURRENCY = 4

def pool_secret_key(pool_id: int) -> str:
    """Where a pool's own domain join password (preparation override) lives in the secret store."""
    return f"pool:{pool_id}:join"


def pool_copy(pool: Pool) -> Pool:
    return copy.deepcopy(pool)


def clone_copy(clone: Clone) -> Clone:
    return dataclasses.replace(clone)


def vm_path_of(folder: str, marker: str) -> str:
    """``D:\\Hyper-V`` from ``D:\\Hyper-V\\VDI-Templates\\Gold-v1`` (marker "VDI-Templates")."""
    head, sep, _ = folder.partition(f"\\{marker}\\")
    return head if sep else folder.rsplit("\\", 2)[0]


def _root_disk_name(disk: Any) -> str:
    """The file name of a disk as a checkpoint's export holds it: a checkpoint's .avhdx stands for its
    parent chain's base disk."""
    path = disk.path
    if path.lower().endswith(".avhdx") and getattr(disk, "parent_path", ""):
        path = disk.parent_path
    return path.rsplit("\\", 1)[-1]


def pool_folder(vm_path: str, pool_name: str) -> str:
    return f"{vm_path.rstrip(chr(92))}\\{CLONE_FOLDER_ROOT}\\{pool_name}"


@dataclass
class Placement:
    """Where one target host makes the pool's clones (Hyper-V), or the Nutanix cluster's provider."""

    provider: Provider
    nutanix: bool = False
    base_disks: list[str] = field(default_factory=list)
    pool_folder: str = ""
    export_needed: bool = False          # a template without distribution: the version's export
    copy_vm_id: str = ""                 # the local copy (imported VM) whose disks are the base
    copy_folder: str = ""
    switch: str = ""
    cpu_count: int = 2
    memory_bytes: int = 4 * 1024 ** 3
    generation: int = 2


class PoolSupport:
    """Base of PoolService and its mixins (checks, engine, updates)."""

    def __init__(self, farm: Farm, secrets: SecretStore, tasks: TaskEngine, bus: EventBus, providers: Any,
                 templates: Any, speed: float = 1.0) -> None:
        self._farm = farm
        self._secrets = secrets
        self._tasks = tasks
        self._bus = bus
        self._providers = providers          # ProviderService
        self._templates = templates          # TemplateService (exports, source requirements)
        self.speed = float(speed)            # the lab's speed: its clock runs this many times faster
        self.lab_figures: Any = None         # pool_rules.HostFigures of lab hosts (set by the container)
        self.per_host_concurrency = PER_HOST_CONCURRENCY
        self._disk_cache: dict[tuple[int, str], list[str]] = {}   # (provider, copy VM or export) -> disks

    # -- the lab-scaled clock --------------------------------------------------------------------
    def scaled(self, seconds: float) -> float:
        """Real seconds as this console waits them (divided by the lab's speed in lab mode)."""
        return seconds / max(self.speed, 1e-6)

    @property
    def guest_poll_interval(self) -> float:
        return max(0.05, min(GUEST_POLL_SECONDS, self.scaled(GUEST_POLL_SECONDS)))

    @property
    def keeper_interval(self) -> float:
        return KEEPER_SECONDS if self.speed == 1.0 else max(0.1, self.scaled(KEEPER_SECONDS))

    def clock(self) -> float:
        """Seconds in the hosts' time: monotonic × speed (a lab hour passes in 1/speed of an hour)."""
        return time.monotonic() * self.speed

    # -- reading ---------------------------------------------------------------------------------
    def _pool(self, pool_id: int) -> Pool:
        return self._farm.pools.get(pool_id)

    def _template_of(self, pool: Pool) -> Template:
        try:
            return self._farm.templates.get(pool.template_id)
        except NotFoundError:
            raise ValidationError(f"The template of pool '{pool.name}' is not in the farm any more.",
                                  "Delete the pool, or make a new one from another template.",
                                  field="template") from None

    def _provider(self, provider_id: int) -> Provider:
        return self._providers.get(provider_id)

    def _provider_name(self, provider_id: int) -> str:
        try:
            return self._providers.get(provider_id).name
        except NotFoundError:
            return f"provider {provider_id}"

    async def _adapter(self, provider: Provider) -> Any:
        await self._providers._adapter_module_ready(provider.kind)
        return self._providers._adapter(provider)

    def _inventory_vm(self, provider_id: int, vm_id: str) -> Any:
        try:
            return self._providers._vm(self._provider(provider_id), vm_id)
        except NotFoundError:
            return None

    @staticmethod
    def _is_nutanix(provider: Provider) -> bool:
        return is_nutanix(provider.kind)

    # -- the version a pool gives clones of ------------------------------------------------------
    def _usable_version(self, pool: Pool, template: Template, number: int | None = None,
                        allow_maintenance: bool = False) -> TemplateVersion:
        """The version clones are made of now, or ValidationError saying why none can be made
        (``allow_maintenance``: an edit of the pool's settings while its template is in maintenance)."""
        if template.state is TemplateState.MAINTENANCE and not allow_maintenance:
            raise ValidationError(f"Template '{template.name}' is in maintenance: it cannot give new clones "
                                  "until maintenance ends.", "Leave maintenance first.", field="template")
        if template.state not in (TemplateState.READY, TemplateState.MAINTENANCE):
            raise ValidationError(f"Template '{template.name}' is {template.state.value}: it cannot give "
                                  "clones.", field="template")
        if pool.follow_tag and number is None:
            tagged = next((v for v in template.versions if v.tag.casefold() == pool.follow_tag.casefold()), None)
            if tagged is None:
                raise ValidationError(f"No version of template '{template.name}' is tagged "
                                      f"'{pool.follow_tag}' any more: pool '{pool.name}' cannot give clones.",
                                      "Tag a version, or make the pool use a fixed version.",
                                      field="follow_tag")
        number = pool.version if number is None else number
        version = template.version(number)
        if version is None:
            raise ValidationError(f"Version {number} of template '{template.name}' does not exist any more: "
                                  f"pool '{pool.name}' cannot give clones of it.",
                                  "Update the pool to an existing version.", field="version")
        return version

    def _tag_version(self, template: Template, tag: str) -> TemplateVersion:
        version = next((v for v in template.versions if v.tag.casefold() == tag.strip().casefold()), None)
        if version is None:
            raise ValidationError(f"No version of template '{template.name}' is tagged '{tag}'.",
                                  "Choose a tag that is on a version.", field="follow_tag")
        return version

    def _preparation(self, pool: Pool, template: Template) -> tuple[Preparation, str]:
        """The preparation clones get and the join password (from the secret store, never the farm)."""
        if pool.preparation_override is not None:
            password = self._secrets.get(pool_secret_key(pool.id)) if pool.id is not None else None
            return pool.preparation_override, password or ""
        return template.preparation, self._secrets.get(template_secret_key(template.id)) or ""

    # -- where clones go -------------------------------------------------------------------------
    def _target_ids(self, pool: Pool, template: Template) -> list[int]:
        """The providers that may take the pool's clones (before the version check)."""
        if template.distribution_enabled:
            return list(pool.target_provider_ids) or [t.provider_id for t in template.targets]
        return [template.provider_id]

    def _placements(self, pool: Pool, template: Template, version: TemplateVersion
                    ) -> tuple[list[Placement], list[str]]:
        """Every target that can make clones of ``version`` now, and a sentence per one that cannot."""
        source = self._provider(template.provider_id)
        source_vm = self._inventory_vm(source.id, template.source_vm_id)
        shape = {}
        if source_vm is not None:
            shape = {"switch": source_vm.switch, "cpu_count": max(1, source_vm.cpu_count),
                     "memory_bytes": source_vm.memory_bytes or 4 * 1024 ** 3,
                     "generation": source_vm.generation or 2}
        if self._is_nutanix(source):
            return [Placement(source, nutanix=True, **shape)], []
        placements, refused = [], []
        if not template.distribution_enabled:
            placements.append(Placement(source, export_needed=True, **shape))
            return placements, refused
        for pid in self._target_ids(pool, template):
            name = self._provider_name(pid)
            target = template.target(pid)
            if target is None:
                refused.append(f"{name} is not a distribution target of template '{template.name}' any more.")
                continue
            held_copy = self._copy_for(target, version.number)
            if held_copy is None:
                held = f"holds version {target.version}" if target.version else "holds no copy"
                refused.append(f"{name} {held} of template '{template.name}', not a ready copy of version "
                               f"{version.number}.")
                continue
            try:
                provider = self._provider(pid)
            except NotFoundError:
                refused.append(f"Provider {pid} is not in the farm any more.")
                continue
            vm_path = vm_path_of(held_copy["folder"], "VDI-Templates")
            placements.append(Placement(provider, copy_vm_id=held_copy["vm_id"], copy_folder=held_copy["folder"],
                                        pool_folder=pool_folder(vm_path, pool.name), **shape))
        return placements, refused

    @staticmethod
    def _copy_for(target: DistributionTarget, number: int) -> dict | None:
        """The copy of version ``number`` clones are made from on this target: its latest copy (READY,
        or NEEDS_UPDATE when a newer version did not arrive: the copy is still whole) or one it kept
        for the template's pools (retention); None while the target is being removed or holds none."""
        if target.progress is TargetProgress.REMOVING:
            return None
        if target.version == number and target.state is TargetState.NOT_AVAILABLE:
            return None
        found = target.copy_of(number)
        return found if found is not None and found.get("vm_id") else None

    def _prune_template_copies(self, ctx: TaskContext, template_id: int) -> int | None:
        """After an update, rollback or deletion of a pool: the template's kept copies no pool needs
        any more go (a template-prune task); its id, or None. Never fails the pool's task."""
        try:
            task = self._templates.prune_copies(template_id)
        except ConsoleError as exc:
            ctx.warning(f"The template's copies no pool needs could not be looked for: {exc}")
            return None
        if task is None:
            return None
        ctx.info(f"The template's copies no pool needs any more are removed by task #{task.id} ({task.name})")
        return task.id

    async def _resolve_disks(self, ctx: TaskContext, placement: Placement, pool: Pool, template: Template,
                             version: TemplateVersion) -> None:
        """The version's disks on that host, read from the host once (then remembered): the local
        copy's disks (the imported VM), or for a template without distribution the disks of the
        version's export on the source host (made once; an existing complete export is returned)."""
        adapter = await self._adapter(placement.provider)
        if placement.export_needed:
            ctx.info(f"{placement.provider.name}: the clones are made from the export of version "
                     f"{version.number} (the template has no distribution)")
            export = await adapter.export_template(template.source_vm_id, version.snapshot_id,
                                                   copy_folder_name(template.name, version.number), ctx)
            key = (placement.provider.id, export.folder.lower())
            if key not in self._disk_cache:
                source = (await adapter.template_source(template.source_vm_id, NullReporter())).vm
                self._disk_cache[key] = [f"{export.folder}\\Virtual Hard Disks\\{_root_disk_name(d)}"
                                         for d in source.disks]
            placement.pool_folder = pool_folder(vm_path_of(export.folder, "VDI-Export"), pool.name)
            placement.export_needed = False
        else:
            key = (placement.provider.id, placement.copy_vm_id.lower())
            if key not in self._disk_cache:
                copy_vm = (await adapter.template_source(placement.copy_vm_id, NullReporter())).vm
                self._disk_cache[key] = [d.path for d in copy_vm.disks]
        placement.base_disks = list(self._disk_cache[key])

    # -- publishing ------------------------------------------------------------------------------
    def _pool_changed(self, pool_id: int) -> Pool | None:
        try:
            pool = self._pool(pool_id)
        except NotFoundError:
            return None
        self._bus.publish(PoolChanged(pool_copy(pool)))
        return pool

    def _save_clone(self, clone: Clone) -> Clone:
        self._farm.pools.save_clone(clone)
        self._bus.publish(CloneChanged(clone.pool_id, clone_copy(clone)))
        return clone

    def _drop_clone(self, pool_id: int, name: str) -> None:
        self._farm.pools.remove_clone(pool_id, name)
        self._bus.publish(CloneRemoved(pool_id, name))

    # -- tasks -----------------------------------------------------------------------------------
    def _active(self, pool_id: int, kinds: tuple[str, ...] = POOL_KINDS) -> list[Any]:
        return active_for(self._tasks, kinds, "pool_id", pool_id)

    def _refuse_if_exclusive(self, pool: Pool, what: str) -> None:
        running = self._active(pool.id, EXCLUSIVE_KINDS)
        if running:
            raise ValidationError(f"Cannot {what} of pool '{pool.name}' while task #{running[0].id} "
                                  f"({running[0].name}) runs.", "Wait for it to finish or cancel it.",
                                  field="pool")

    def _submit(self, name: str, target: str, kind: str, params: dict, work: Work,
                request_id: str | None = None) -> Any:
        """A journaled pool task: what it was asked is in its row from the start. Pool tasks carry no
        provider: they span hosts, and the engine bounds each host itself."""
        return submit_journaled(self._tasks, self._farm, name, target, kind, params, work, request_id=request_id)

def is_hyperv(provider: Provider) -> bool:
    return provider.kind is ProviderKind.HYPERV


__all__ = ["INTERRUPTED", "POOL_KINDS", "Placement", "PoolSupport", "ProvisioningMethod", "pool_secret_key"]
