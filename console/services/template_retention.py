"""Which local copies of a template's versions the distribution targets keep, and pruning the others.

A distribution of version N does not delete a target's copy of the version it held before: the copy
moves to the target's ``kept`` copies, because linked (and not yet independent quick) clones of pools
still at that version have their parent disks in it (on Hyper-V such clones break when it goes), and
a pool may roll back to it. A target keeps its copy of version V while

- a pool of the template is at V, or has a clone at V (a rolling update that stopped half-way), or a
  rolling update of one of its pools to V is queued or running;
- a pool may roll back to V (V is the previous version in the pool's history);
- V is the template's latest version.

Every other kept copy is removed (``prune_copies``, task kind template-prune) when a distribution
ends, when a pool's update or rollback ends, when a pool is deleted; deleting a version removes its
kept copies on every target; deleting the template removes them all. A target's own (latest) copy is
never pruned: it is replaced by the next distribution.
"""
from __future__ import annotations

import copy

from console.domain.errors import ConsoleError, NotFoundError
from console.domain.tasks import Task
from console.domain.templates import (
    DistributionTarget,
    TargetProgress,
    Template,
    previous_version,
)

from .events import DistributionTargetChanged
from .tasks import TaskContext
from .template_checks import TemplateChecks

#: a target in one of these is being changed by another task: its kept copies wait for the next prune
_BUSY = (TargetProgress.DISTRIBUTING, TargetProgress.ADDING, TargetProgress.REMOVING)


class Retention(TemplateChecks):
    # -- the kept copies in the farm ---------------------------------------------------------------
    def _save_target(self, target: DistributionTarget) -> None:
        """Save the row with the kept copies as the farm holds them now: a task saving a target it
        read minutes ago never brings back a copy a prune removed, nor loses one a distribution kept
        (the kept copies change only through keep_copy / forget_copy, one transaction each)."""
        stored = self._farm.templates.kept_copies(target.template_id, target.provider_id)
        if stored is not None:
            target.kept = stored
        super()._save_target(target)

    def _keep_copy(self, target: DistributionTarget, number: int, folder: str, vm_id: str) -> None:
        target.kept = self._farm.templates.keep_copy(target.template_id, target.provider_id, number, folder, vm_id)

    def _forget_copy(self, target: DistributionTarget, number: int) -> None:
        target.kept = self._farm.templates.forget_copy(target.template_id, target.provider_id, number)
        self._bus.publish(DistributionTargetChanged(target.template_id, copy.deepcopy(target)))

    # -- the rule ----------------------------------------------------------------------------------
    def versions_needed(self, template_id: int) -> dict[int, str]:
        """{version: why its copies stay} for the template (the retention rule above)."""
        template = self._template(template_id)
        needed: dict[int, str] = {}
        pools = [p for p in self._farm.pools.list() if p.template_id == template.id]
        for pool in pools:
            needed.setdefault(pool.version, f"pool '{pool.name}' is at version {pool.version}")
            for clone in self._farm.pools.clones(pool.id):
                if clone.version:
                    needed.setdefault(clone.version, f"clone {clone.name} of pool '{pool.name}' is at "
                                                     f"version {clone.version}")
            back = previous_version(pool.version, [c.version for c in self._farm.pools.history(pool.id)])
            if back is not None:
                needed.setdefault(back, f"pool '{pool.name}' may roll back to version {back}")
        by_id = {p.id: p for p in pools}
        for task in self._tasks.active():
            params = task.result.get("params") or {}
            if task.kind == "pool-update" and params.get("pool_id") in by_id and params.get("version"):
                number = int(params["version"])
                needed.setdefault(number, f"pool '{by_id[params['pool_id']].name}' is being updated to "
                                          f"version {number}")
        latest = template.latest_version
        if latest is not None:
            needed.setdefault(latest.number, f"version {latest.number} is the latest")
        return needed

    def _prune_plan(self, template: Template) -> list[tuple[DistributionTarget, int, dict]]:
        """(target, version, copy) of every kept copy no longer needed, targets other tasks are
        changing left for the next prune."""
        needed = self.versions_needed(template.id)
        plan = []
        for target in template.targets:
            if target.progress in _BUSY:
                continue
            for number, kept in sorted(target.kept.items()):
                if number not in needed or number == target.version:
                    plan.append((target, number, kept))
        return plan

    # -- pruning -----------------------------------------------------------------------------------
    def prune_copies(self, template_id: int) -> Task | None:
        """Remove the kept copies the rule no longer keeps, in a short task (kind template-prune);
        None when there is nothing to remove."""
        try:
            template = self._template(template_id)
        except NotFoundError:
            return None
        plan = self._prune_plan(template)
        if not plan:
            return None
        params = {"template_id": template.id, "template": template.name, "action": "prune",
                  "provider_ids": sorted({t.provider_id for t, _, _ in plan})}
        return self._submit_prune(template, params)

    def _submit_prune(self, template: Template, params: dict, request_id: str | None = None,
                      retry_of: int | None = None) -> Task:
        template_id = template.id
        names = ", ".join(self._provider_name(pid) for pid in params.get("provider_ids") or [])

        async def work(ctx: TaskContext) -> dict:
            try:
                current = self._template(template_id)
            except NotFoundError:
                ctx.info(f"Template {template_id} is deleted: its copies went with it")
                return {"template_id": template_id, "removed": [], "left_over": []}
            needed = self.versions_needed(template_id)
            for number, why in sorted(needed.items()):
                ctx.info(f"Version {number} stays on the targets: {why}")
            plan = self._prune_plan(current)
            removed, left = [], []
            for index, (target, number, kept) in enumerate(plan):
                ctx.progress(index / len(plan), f"{self._provider_name(target.provider_id)}: removing the "
                                                f"copy of version {number}")
                if await self._remove_kept(ctx, current, target, number, kept):
                    removed.append(f"{self._provider_name(target.provider_id)}: v{number}")
                else:
                    left.append(f"{self._provider_name(target.provider_id)}: {kept.get('folder', '')}")
            self._changed(template_id)
            if left:
                raise ConsoleError(f"{len(left)} copy(ies) of template '{current.name}' that no pool needs could "
                                   f"not be removed: {'; '.join(left)}.",
                                   "Bring the hosts back, then retry this task.")
            ctx.info(f"Removed {len(removed)} copy(ies) no pool needs any more"
                     + (f": {', '.join(removed)}" if removed else ""))
            return {"template_id": template_id, "removed": removed, "left_over": left}

        return self._submit(f"Remove unneeded copies of template '{template.name}'", names or template.name,
                            "template-prune", params, work, template.provider_id, "", request_id, retry_of)

    async def _remove_kept(self, ctx: TaskContext, template: Template, target: DistributionTarget,
                           number: int, kept: dict) -> bool:
        """Remove one kept copy (its VM and folder) and forget it; False (a warning) when it stays."""
        name = self._provider_name(target.provider_id)
        folder, vm_id = kept.get("folder", ""), kept.get("vm_id", "")
        if number == target.version and folder.lower() == (target.folder or "").lower():
            self._forget_copy(target, number)         # the same copy as the target's own: only the entry
            return True
        try:
            adapter = await self._adapter(self._provider(target.provider_id))
            await adapter.remove_template_copy(folder, vm_id, ctx)
        except ConsoleError as exc:
            ctx.warning(f"{name}: the copy of version {number} in {folder} could not be removed: {exc}")
            return False
        self._forget_copy(target, number)
        ctx.info(f"{name}: removed the copy of version {number} of template '{template.name}' ({folder})")
        return True

    def _after_distribution(self, ctx: TaskContext, template_id: int) -> None:
        """At the end of a distribution: the copies it replaced that no pool needs go (a prune task)."""
        try:
            task = self.prune_copies(template_id)
        except ConsoleError as exc:
            ctx.warning(f"The copies no pool needs could not be looked for: {exc}")
            return
        if task is not None:
            ctx.info(f"Copies no pool needs any more are removed by task #{task.id} ({task.name})")
