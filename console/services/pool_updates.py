"""Rolling update and rollback: a pool's clones recreated from another version, batch by batch.

Per clone: the logoff policy (force: log the user off now; wait: until nobody is logged on or the
grace time ends, then force), the old VM removed, the clone made again with the same name from the
new version on the same host when it can (prepare, start, guest ready). Progress per batch and per
clone ("Batch 2 of 5: VDI-007 preparing"), log lines per clone. ``stop_on_error``: the first failed
clone stops the update after its batch (the clones not reached keep the old version) and the pool
keeps its version; otherwise the pool's version changes when every batch has run (history "update"
or "rollback") and the failed clones are listed (recreate them from the pool view).
"""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from console.domain.errors import ConsoleError, ValidationError
from console.domain.pool_rules import plan_batches
from console.domain.tasks import Task
from console.domain.templates import CloneState, Pool, PoolVersionChange, previous_version
from console.store import utc_now

from .pool_checks import PoolChecks
from .pool_engine import PoolEngine
from .pool_run import CloneReporter, Run
from .tasks import TaskContext

LOGOFF_POLICIES = ("force", "wait")
GRACE_LIMIT = 24 * 60
#: clone states an update recreates (INCOMPLETE ones are for clean_up; DELETING ones are going)
_UPDATABLE = (CloneState.READY, CloneState.ASSIGNED, CloneState.MERGING, CloneState.FAILED)
#: tasks of the pool an update waits for before it starts (they make or remove clones)
_BEFORE = ("pool-provision", "pool-clone-recreate", "pool-clone-delete", "pool-trim")


class PoolUpdates(PoolEngine, PoolChecks):
    def update(self, pool_id: int, version: int | None = None, tag: str | None = None, batch_size: int = 1,
               stop_on_error: bool = False, at: datetime | None = None, logoff: str = "force",
               grace_minutes: int = 30, *, _kind: str = "update") -> Task:
        """Recreate the pool's clones from ``version`` (or the version ``tag`` is on, or the tag the
        pool follows), ``batch_size`` at a time; queued until ``at`` when given. Kind pool-update."""
        pool = self.get(pool_id)
        self._refuse_if_exclusive(pool, "update the clones")
        template = self._template_of(pool)
        if version is not None and tag:
            raise ValidationError("Give a version or a tag, not both.", field="version")
        if version is not None:
            number = int(version)
        elif tag or pool.follow_tag:
            number = self._tag_version(template, tag or pool.follow_tag).number
        else:
            raise ValidationError("Choose the version to update to (or a tag).", field="version")
        target_version = self._usable_version(pool, template, number)
        placements, refused = self._placements(pool, template, target_version)
        if not placements:
            raise ValidationError(f"No target of pool '{pool.name}' holds a ready copy of version {number}: "
                                  + " ".join(refused), "Distribute the version first.", field="version")
        plan_batches([], batch_size)                     # the batch size is a whole number >= 1
        if logoff not in LOGOFF_POLICIES:
            raise ValidationError(f"The logoff policy is 'force' or 'wait', not '{logoff}'.", field="logoff")
        if not 0 <= int(grace_minutes) <= GRACE_LIMIT:
            raise ValidationError(f"The grace time is between 0 and {GRACE_LIMIT} minutes.", field="grace_minutes")
        if number == pool.version and all(c.version == number for c in self.clones(pool_id)
                                          if c.state is not CloneState.FAILED):
            raise ValidationError(f"Pool '{pool.name}' and its clones are already at version {number}.",
                                  field="version")
        when = _aware(at) if at is not None else None
        params = {"pool_id": pool_id, "pool": pool.name, "version": number, "from_version": pool.version,
                  "batch_size": int(batch_size), "stop_on_error": bool(stop_on_error),
                  "at": when.isoformat() if when else "", "logoff": logoff,
                  "grace_minutes": int(grace_minutes), "kind": _kind}

        async def work(ctx: TaskContext) -> dict:
            return await self._update_work(ctx, pool_id, params)

        verb = "Roll back" if _kind == "rollback" else "Update"
        return self._submit(f"{verb} pool '{pool.name}' to version {number}", pool.name, "pool-update", params, work)

    def rollback(self, pool_id: int, **options) -> Task:
        """The same flow to the previous version in the pool's history (history "rollback")."""
        pool = self.get(pool_id)
        previous = self.previous_version(pool)
        if previous is None:
            raise ValidationError(f"Pool '{pool.name}' has no previous version to roll back to.", field="version")
        options.pop("version", None)
        options.pop("tag", None)
        return self.update(pool_id, version=previous, _kind="rollback", **options)

    def previous_version(self, pool: Pool) -> int | None:
        """The version a rollback goes to (the template keeps its copies for it: retention)."""
        return previous_version(pool.version, [change.version for change in self.history(pool.id)])

    # -- the work --------------------------------------------------------------------------------
    async def _update_work(self, ctx: TaskContext, pool_id: int, params: dict) -> dict:
        if params["at"]:
            when = datetime.fromisoformat(params["at"])
            delay = (when - datetime.now(UTC)).total_seconds()
            if delay > 0:
                ctx.progress(0.0, f"Scheduled for {when.astimezone():%Y-%m-%d %H:%M}")
                ctx.info(f"The update starts at {when.astimezone():%Y-%m-%d %H:%M} (in {delay / 60:.0f} min)")
                await asyncio.sleep(delay)
        number, old = int(params["version"]), int(params["from_version"])
        if self._active(pool_id, _BEFORE):
            ctx.info("Waiting for the pool's running provisioning to finish")
            while self._active(pool_id, _BEFORE):
                await asyncio.sleep(0.05)
        run = await self._start_run(ctx, pool_id, number)
        names = [c.name for c in self.clones(pool_id) if c.state in _UPDATABLE
                 and (c.version != number or c.state is CloneState.FAILED)]
        batches = plan_batches(names, int(params["batch_size"]))
        run.total = len(names)
        ctx.info(f"Updating {len(names)} clone(s) of pool '{run.pool.name}' from version {old} to {number} in "
                 f"{len(batches)} batch(es) of {params['batch_size']}; logoff: {params['logoff']}")
        stopped = False
        for index, batch in enumerate(batches, start=1):
            run.label = f"Batch {index} of {len(batches)}: "
            run.report(", ".join(batch), force=True)
            ctx.info(f"Batch {index} of {len(batches)}: {', '.join(batch)}")
            await asyncio.gather(*(self._update_one(run, name, params) for name in batch))
            await self._wait_merges(run)
            if params["stop_on_error"] and run.failed:
                stopped = True
                break
        if stopped:
            self._prune_template_copies(ctx, run.template.id)
            first = run.failed[0]
            clone = self._farm.pools.clone(pool_id, first)
            left = len(names) - run.done
            raise ConsoleError(f"Clone {first} failed: {clone.error if clone else 'see the log'} The update "
                               f"stopped there; {left} clone(s) keep version {old} and the pool stays at "
                               f"version {old}.", "Fix the cause, then update again (or roll back).")
        pool = self.get(pool_id)
        pool.version = number
        self._farm.pools.update(pool)
        self._farm.pools.add_history(PoolVersionChange(pool_id, number, utc_now(), params["kind"], ctx.task.id))
        self._pool_changed(pool_id)
        for name in run.failed:
            ctx.warning(f"{name} could not be made from version {number}; recreate it from the pool view.")
        ctx.info(f"Pool '{pool.name}' is at version {number}")
        prune = self._prune_template_copies(ctx, pool.template_id)
        return {"pool_id": pool_id, "version": number, "updated": len(names) - len(run.failed),
                "failed": list(run.failed), "prune_task": prune}

    async def _update_one(self, run: Run, name: str, params: dict) -> bool:
        ctx = run.ctx
        clone = self._farm.pools.clone(run.pool.id, name)
        if clone is None:
            run.done += 1
            return True
        reporter = CloneReporter(ctx, name)
        try:
            if clone.vm_id and clone.state in (CloneState.READY, CloneState.ASSIGNED, CloneState.MERGING):
                await self._log_off(run, clone, params)
            clone.state, clone.error = CloneState.UPDATING, ""
            self._save_clone(clone)
            run.report(f"{name} removing version {clone.version}")
            await self._remove_vm(clone, reporter)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001  one clone failing never stops the batch
            self._failed(run, clone, exc)
            return False
        if clone.provider_id in run.counts:
            run.counts[clone.provider_id] -= 1
        clone.vm_id, clone.request_id, clone.assigned_user = "", "", ""
        return await self._build(run, clone, prefer=clone.provider_id or None)

    async def _log_off(self, run: Run, clone, params: dict) -> None:
        provider = self._provider(clone.provider_id)
        state = (await self._watchers.states(provider, [clone.vm_id])).get(clone.vm_id)
        user = getattr(state, "logged_on_user", "") if state is not None else ""
        if not user:
            return
        ctx = run.ctx
        if params["logoff"] == "wait":
            grace = int(params["grace_minutes"])
            run.report(f"{clone.name} waiting for {user} to log off")
            ctx.info(f"{clone.name}: {user} is logged on; waiting up to {grace} minute(s) for the logoff")
            try:
                await asyncio.wait_for(self._watchers.logged_off(provider, clone.vm_id), self.scaled(grace * 60))
                ctx.info(f"{clone.name}: {user} logged off")
                return
            except TimeoutError:
                ctx.warning(f"{clone.name}: the grace time of {grace} minute(s) ended; logging {user} off")
        adapter = await self._adapter(provider)
        await adapter.logoff(clone.vm_id, CloneReporter(ctx, clone.name))
        ctx.info(f"{clone.name}: {user} was logged off")


def _aware(at: datetime) -> datetime:
    """A time the administrator typed (naive = this computer's local time), as UTC."""
    if at.tzinfo is None:
        at = at.astimezone()
    return at.astimezone(UTC)
