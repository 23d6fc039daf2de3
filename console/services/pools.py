"""Pools: create one (saved, then its first clones in a task), read them, edit and scale them, delete
a pool with every clone, recreate / delete / power one clone, and clean up half-made clones.

The engine is in pool_engine.py, rolling updates and rollback in pool_updates.py, the editor's checks
in pool_checks.py, the buffer keeper in pool_keeper.py.
"""
from __future__ import annotations

import asyncio
import dataclasses

from console.domain.errors import ConsoleError, NotFoundError, ValidationError
from console.domain.inventory import PowerAction
from console.domain.tasks import Task
from console.domain.templates import Clone, CloneState, Pool, PoolVersionChange
from console.store import utc_now

from .events import PoolAdded, PoolRemoved
from .pool_run import CloneReporter
from .pool_support import INTERRUPTED, pool_copy, pool_secret_key
from .pool_updates import PoolUpdates
from .tasks import TaskContext

_HALF_MADE = (CloneState.INCOMPLETE,)


class PoolService(PoolUpdates):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_engine()
        self.keeper = None            # pool_keeper.PoolKeeper, started by services.start()

    # -- reading ---------------------------------------------------------------------------------
    def list(self) -> list[Pool]:
        return self._farm.pools.list()

    def get(self, pool_id: int) -> Pool:
        return self._farm.pools.get(pool_id)

    def find(self, name_or_id: str) -> Pool:
        """A pool by its number or (case-insensitive) name; for vdictl."""
        text = str(name_or_id).strip()
        if text.isdigit():
            return self.get(int(text))
        pool = self._farm.pools.find_by_name(text)
        if pool is None:
            raise NotFoundError(f"There is no pool named '{text}'.", "List them with 'vdictl pools list'.")
        return pool

    def clones(self, pool_id: int) -> list[Clone]:
        return self._farm.pools.clones(pool_id)

    def history(self, pool_id: int) -> list[PoolVersionChange]:
        return self._farm.pools.history(pool_id)

    def half_made(self, pool_id: int) -> list[Clone]:
        return [c for c in self.clones(pool_id) if c.state in _HALF_MADE]

    def provisioning(self, pool_id: int) -> Task | None:
        """The provisioning task of this pool queued or running in this console."""
        running = self._active(pool_id, ("pool-provision",))
        return running[0] if running else None

    # -- start-up --------------------------------------------------------------------------------
    def mark_interrupted(self) -> list[tuple[int, str]]:
        """At start-up, alone on the farm: clones a killed console left being made, updated or deleted
        become INCOMPLETE "Interrupted: ..." (``clean_up`` removes them)."""
        return self._farm.pools.interrupt_clones(INTERRUPTED)

    # -- creating and changing -------------------------------------------------------------------
    def create(self, pool: Pool, join_password: str = "") -> tuple[Pool, Task | None]:
        """Validate, save the pool (history "create"), then provision ``initial_count`` clones in one
        task "Provision N clone(s) for pool 'X'" (kind pool-provision); no task when it is 0."""
        pool = self._normalised(dataclasses.replace(pool, id=None))
        if pool.preparation_override is not None and pool.preparation_override.join_account and not join_password:
            raise ValidationError(f"Enter the password of {pool.preparation_override.join_account}.",
                                  "It is kept in the keyring, never in the farm.", field="join_password")
        pool.created = utc_now()
        pool = self._farm.pools.add(pool)
        try:
            if join_password and pool.preparation_override is not None:
                self._secrets.set(pool_secret_key(pool.id), join_password)
            self._farm.pools.add_history(PoolVersionChange(pool.id, pool.version, utc_now(), "create"))
        except BaseException:
            self._farm.pools.remove(pool.id)
            raise
        self._bus.publish(PoolAdded(pool_copy(pool)))
        task = self.provision(pool.id, pool.initial_count) if pool.initial_count else None
        return pool, task

    def edit(self, pool: Pool, join_password: str | None = None) -> Pool:
        """Validate and save the pool's settings (the keeper picks up scale changes). The template and
        the version are changed by a rolling update, not here."""
        old = self.get(pool.id)
        if pool.template_id != old.template_id:
            raise ValidationError("A pool's template cannot be changed.", "Make a new pool from the other "
                                  "template.", field="template")
        if pool.version != old.version:
            raise ValidationError("A pool's version is changed by a rolling update.",
                                  "Use Update… (vdictl pools update).", field="version")
        if pool.method != old.method and self.clones(pool.id):
            raise ValidationError("The provisioning method of a pool with clones cannot be changed.",
                                  "Delete its clones first, or make a new pool.", field="method")
        saved = self._normalised(pool, exclude_id=pool.id)
        saved.created = old.created
        if saved.preparation_override is None:
            self._secrets.delete(pool_secret_key(pool.id))
        elif join_password:
            self._secrets.set(pool_secret_key(pool.id), join_password)
        self._farm.pools.update(saved)
        self._pool_changed(saved.id)
        self.wake_keeper()
        return saved

    def scale(self, pool_id: int, maximum: int | None = None, keep_available: int | None = None) -> Pool:
        pool = self.get(pool_id)
        if maximum is not None:
            pool.maximum = int(maximum)
        if keep_available is not None:
            pool.keep_available = int(keep_available)
        pool.initial_count = min(pool.initial_count, pool.maximum)
        count = len(self.clones(pool_id))
        if pool.maximum < count:
            raise ValidationError(f"Pool '{pool.name}' has {count} clones, more than a maximum of {pool.maximum}.",
                                  "Delete clones first, or choose a higher maximum.", field="maximum")
        return self.edit(pool)

    def set_enabled(self, pool_id: int, enabled: bool) -> Pool:
        pool = self.get(pool_id)
        pool.enabled = bool(enabled)
        self._farm.pools.update(pool)
        self._pool_changed(pool_id)
        return pool

    def wake_keeper(self) -> None:
        if self.keeper is not None:
            self.keeper.wake()

    # -- provisioning ----------------------------------------------------------------------------
    def provision(self, pool_id: int, count: int) -> Task:
        """Make ``count`` new clones in one task (kind pool-provision)."""
        pool = self.get(pool_id)
        self._refuse_if_exclusive(pool, "provision clones")
        count = int(count)
        existing = len(self.clones(pool_id))
        if count < 1 or existing + count > pool.maximum:
            raise ValidationError(f"Pool '{pool.name}' has {existing} clone(s); {count} more would pass its "
                                  f"maximum of {pool.maximum}.", field="count")

        async def work(ctx: TaskContext) -> dict:
            run = await self._start_run(ctx, pool_id)
            failed = await self._provision(run, count)
            for name in failed:
                ctx.warning(f"{name} failed; recreate it from the pool view when its host is fixed.")
            if failed and len(failed) == count:
                first = self._farm.pools.clone(pool_id, failed[0])
                raise ConsoleError(f"No clone of pool '{pool.name}' could be made ({len(failed)} failed). "
                                   f"{failed[0]}: {first.error if first else 'see the log'}")
            return {"pool_id": pool_id, "made": count - len(failed), "failed": failed}

        return self._submit(f"Provision {count} clone{'s' if count != 1 else ''} for pool '{pool.name}'",
                            pool.name, "pool-provision", {"pool_id": pool_id, "pool": pool.name, "count": count},
                            work)

    # -- one clone -------------------------------------------------------------------------------
    def _clone(self, pool_id: int, name: str) -> Clone:
        clone = self._farm.pools.clone(pool_id, name) or next(
            (c for c in self.clones(pool_id) if c.name.casefold() == name.strip().casefold()), None)
        if clone is None:
            raise NotFoundError(f"Pool '{self.get(pool_id).name}' has no clone named '{name}'.",
                                "List them with 'vdictl clones list POOL'.")
        return clone

    def recreate_clone(self, pool_id: int, name: str) -> Task:
        """Remove the clone's VM (if any) and make it again with the same name at the pool's version."""
        pool = self.get(pool_id)
        clone = self._clone(pool_id, name)
        self._refuse_if_exclusive(pool, "recreate a clone")

        async def work(ctx: TaskContext) -> dict:
            run = await self._start_run(ctx, pool_id)
            run.total = 1
            current = self._clone(pool_id, clone.name)
            await self._remove_vm(current, CloneReporter(ctx, current.name))
            current.vm_id, current.state, current.request_id = "", CloneState.PROVISIONING, ""
            if current.provider_id in run.counts:
                run.counts[current.provider_id] -= 1
            ok = await self._build(run, current, prefer=current.provider_id or None)
            await self._wait_merges(run)
            if not ok:
                raise ConsoleError(f"Clone {current.name} could not be made again: "
                                   f"{self._clone(pool_id, current.name).error}")
            return {"pool_id": pool_id, "clone": current.name}

        return self._submit(f"Recreate clone {clone.name} of pool '{pool.name}'", f"{pool.name} / {clone.name}",
                            "pool-clone-recreate", {"pool_id": pool_id, "pool": pool.name, "clone": clone.name},
                            work)

    def delete_clone(self, pool_id: int, name: str) -> Task:
        pool = self.get(pool_id)
        clone = self._clone(pool_id, name)

        async def work(ctx: TaskContext) -> dict:
            current = self._clone(pool_id, clone.name)
            await self._delete_one(ctx, current)
            return {"pool_id": pool_id, "clone": current.name}

        return self._submit(f"Delete clone {clone.name} of pool '{pool.name}'", f"{pool.name} / {clone.name}",
                            "pool-clone-delete", {"pool_id": pool_id, "pool": pool.name, "clone": clone.name},
                            work)

    async def _delete_one(self, ctx: TaskContext, clone: Clone) -> None:
        before = clone.state
        clone.state = CloneState.DELETING
        self._save_clone(clone)
        try:
            await self._remove_vm(clone, CloneReporter(ctx, clone.name))
        except ConsoleError as exc:
            clone.state = CloneState.INCOMPLETE if before is CloneState.INCOMPLETE else CloneState.FAILED
            clone.error = f"Could not be deleted: {exc}"
            self._save_clone(clone)
            raise
        self._drop_clone(clone.pool_id, clone.name)
        ctx.info(f"{clone.name}: deleted (VM and disks)")

    def power_clone(self, pool_id: int, name: str, action: PowerAction) -> Task:
        """Start, shut down or turn off a clone's VM (a provider VM task)."""
        clone = self._clone(pool_id, name)
        if not clone.vm_id:
            raise ValidationError(f"Clone {clone.name} has no VM yet.", field="clone")
        provider = self._provider(clone.provider_id)
        if self._inventory_vm(provider.id, clone.vm_id) is None:
            raise NotFoundError(f"The VM of clone {clone.name} is not in the inventory of '{provider.name}'.",
                                "Refresh the provider and try again.")
        return self._providers.power(provider.id, clone.vm_id, PowerAction(action))

    # -- deleting a pool -------------------------------------------------------------------------
    def delete(self, pool_id: int) -> Task:
        """Every clone's VM and disks removed, then the pool's rows (kind pool-delete). A clone that
        cannot be removed (host offline) keeps the pool: the task fails naming it; run it again later."""
        pool = self.get(pool_id)
        self._refuse_if_exclusive(pool, "delete")
        for task in self._active(pool_id):
            self._tasks.cancel(task.id, f"Pool '{pool.name}' is being deleted.")

        async def work(ctx: TaskContext) -> dict:
            while self._active(pool_id, ("pool-provision", "pool-clone-recreate", "pool-clone-delete",
                                         "pool-trim")):
                await asyncio.sleep(0.01)               # the cancelled ones remove what they half-made
            clones = self.clones(pool_id)
            ctx.info(f"Deleting pool '{pool.name}': {len(clones)} clone(s)")
            left = await self._delete_many(ctx, clones)
            if left:
                raise ConsoleError(f"{len(left)} clone(s) of pool '{pool.name}' could not be removed: "
                                   f"{', '.join(left)}. The pool stays until they are.",
                                   "Bring their hosts back, then delete the pool again.")
            self._farm.pools.remove(pool_id)
            self._secrets.delete(pool_secret_key(pool_id))
            self._bus.publish(PoolRemoved(pool_copy(pool)))
            ctx.info(f"Pool '{pool.name}' deleted")
            # the template's copies kept for this pool (its version, its rollback) may go now
            prune = self._prune_template_copies(ctx, pool.template_id)
            return {"pool_id": pool_id, "deleted": len(clones), "prune_task": prune}

        return self._submit(f"Delete pool '{pool.name}'", pool.name, "pool-delete",
                            {"pool_id": pool_id, "pool": pool.name}, work)

    async def _delete_many(self, ctx: TaskContext, clones: list[Clone]) -> list[str]:
        """Remove clones, at most per_host_concurrency at a time per host; the names that stayed."""
        total, done = len(clones), 0
        slots: dict[int, asyncio.Semaphore] = {}

        async def one(clone: Clone) -> str | None:
            nonlocal done
            async with slots.setdefault(clone.provider_id, asyncio.Semaphore(self.per_host_concurrency)):
                try:
                    await self._delete_one(ctx, clone)
                    return None
                except ConsoleError as exc:
                    ctx.error(f"{clone.name}: {exc}")
                    return clone.name
                finally:
                    done += 1
                    ctx.progress(done / total if total else 1.0, f"{clone.name} removed")

        results = await asyncio.gather(*(one(c) for c in clones))
        return [name for name in results if name]

    # -- half-made clones ------------------------------------------------------------------------
    def clean_up(self, pool_id: int) -> Task:
        """Remove every INCOMPLETE clone (VM, disks, row) — what a killed console or a cancel left."""
        pool = self.get(pool_id)
        self._refuse_if_exclusive(pool, "clean up")
        half = self.half_made(pool_id)
        if not half:
            raise ValidationError(f"Pool '{pool.name}' has no half-made clones.", field="pool")

        async def work(ctx: TaskContext) -> dict:
            clones = self.half_made(pool_id)
            left = await self._delete_many(ctx, clones)
            if left:
                raise ConsoleError(f"{len(left)} half-made clone(s) could not be removed: {', '.join(left)}.",
                                   "Bring their hosts back, then clean up again.")
            return {"pool_id": pool_id, "removed": [c.name for c in clones]}

        return self._submit(f"Clean up {len(half)} half-made clone(s) of pool '{pool.name}'", pool.name,
                            "pool-clean-up", {"pool_id": pool_id, "pool": pool.name}, work)
