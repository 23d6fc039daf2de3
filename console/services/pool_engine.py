"""The clone engine: each clone of a run gets a name reserved in one transaction, a target host (the
least loaded, within the pool's cap, skipping hosts whose disk filled in this run), and is created,
prepared, started and waited for until its guest reports ready. At most ``per_host_concurrency``
clones are made on one host at a time across every pool task (a slot is held from the create to the
guest ready: a boot storm is what a host suffers from); a quick clone then becomes independent in the
background of the same task, outside the slot.

A failing clone is FAILED with the sentence and the others go on. Cancelling the task removes the
clones it left half-made. A killed console leaves them PROVISIONING: at the next start they become
INCOMPLETE and ``clean_up`` removes them (the clone rows are the durable undo list: one row per
clone, written before its VM is created; the task's own cleanup list names the pool once).
"""
from __future__ import annotations

import asyncio
import logging
import time
import traceback
import uuid
from typing import Any

from console.adapters.base import CloneSpec
from console.domain.errors import (
    AuthenticationError,
    CapacityError,
    ConsoleError,
    InvalidStateError,
    UnreachableError,
    ValidationError,
)
from console.domain.inventory import PowerAction
from console.domain.pool_rules import _parse as parse_pattern
from console.domain.pool_rules import next_names, room
from console.domain.tasks import UndoAction
from console.domain.templates import (
    Clone,
    CloneState,
    Pool,
    ProvisioningMethod,
)

from .pool_guests import GuestWatchers
from .pool_removal import PoolRemoval
from .pool_run import CloneReporter, Run
from .pool_support import READY_TIMEOUT_SECONDS, Placement
from .tasks import TaskContext

log = logging.getLogger(__name__)

#: at most this many clones at a time on one Nutanix cluster (Prism queues its own tasks)
NUTANIX_CONCURRENCY = 8


class PoolEngine(PoolRemoval):
    def _init_engine(self) -> None:
        self._slots: dict[int, asyncio.Semaphore] = {}
        self._watchers = GuestWatchers(self)

    def _slot(self, placement: Placement) -> asyncio.Semaphore:
        pid = placement.provider.id
        if pid not in self._slots:
            self._slots[pid] = asyncio.Semaphore(NUTANIX_CONCURRENCY if placement.nutanix
                                                 else self.per_host_concurrency)
        return self._slots[pid]

    # -- a run -----------------------------------------------------------------------------------
    async def _start_run(self, ctx: TaskContext, pool_id: int, number: int | None = None) -> Run:
        """Everything a run needs, checked now: the template can give clones of the version, and at
        least one target can take them (else the task fails with the reason)."""
        pool = self._pool(pool_id)
        template = self._template_of(pool)
        version = self._usable_version(pool, template, number)
        placements, refused = self._placements(pool, template, version)
        usable = []
        for placement in placements:
            if placement.nutanix:
                usable.append(placement)
                continue
            try:
                await self._resolve_disks(ctx, placement, pool, template, version)
                usable.append(placement)
            except CapacityError as exc:
                refused.append(f"{placement.provider.name} stops taking clones: its disk is full. ({exc})")
            except ConsoleError as exc:
                refused.append(f"{placement.provider.name} cannot take clones now: {exc}")
        placements = usable
        for sentence in refused:
            ctx.warning(sentence)
        if not placements:
            raise CapacityError(f"No target of pool '{pool.name}' can take clones of version {version.number}: "
                                + " ".join(refused), "Distribute the version to the pool's targets first.")
        prep, password = self._preparation(pool, template)
        if prep.join_account and not password:
            whose = f"pool '{pool.name}'" if pool.preparation_override is not None else f"template '{template.name}'"
            raise ValidationError(f"The domain join password of {whose} ({prep.join_account}) is not known in "
                                  "this session: the clones could not join the domain.",
                                  "This computer has no keyring: enter the password again (edit the pool's "
                                  "preparation), then provision again.", field="join_password")
        counts = {p.provider.id: 0 for p in placements}
        for clone in self._farm.pools.clones(pool.id):
            if clone.provider_id in counts:
                counts[clone.provider_id] += 1
        return Run(ctx, pool, template, version, prep, password,
                   placements={p.provider.id: p for p in placements}, counts=counts)

    async def _provision(self, run: Run, count: int) -> list[str]:
        """Make ``count`` new clones; the names of those that failed."""
        if count <= 0:
            return []
        ctx, pool = run.ctx, run.pool
        run.total += count
        undo = ctx.add_undo(UndoAction(f"Remove the half-made clones of pool '{pool.name}'", "pool-clean-up",
                                       {"pool_id": pool.id}))
        ctx.info(f"Making {count} {run.method.value} clone(s) of template '{run.template.name}' version "
                 f"{run.version.number} on {', '.join(p.provider.name for p in run.placements.values())}")
        names = self._candidate_names(pool)
        results = await asyncio.gather(*(self._new_clone(run, names) for _ in range(count)),
                                       return_exceptions=True)
        await self._wait_merges(run)
        for result in results:
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException) and not isinstance(result, ConsoleError):
                ctx.debug("".join(traceback.format_exception(result)))
        ctx.undo_done(undo)
        run.report("done", force=True)
        return list(run.failed)

    async def _wait_merges(self, run: Run) -> None:
        while run.merges:
            await asyncio.gather(*list(run.merges), return_exceptions=True)

    def _candidate_names(self, pool: Pool) -> list[str]:
        pattern = parse_pattern(pool.naming_pattern)
        return next_names(pattern, (), min(room(pattern), 10 ** 6))

    async def _new_clone(self, run: Run, names: list[str]) -> None:
        """A new clone: its name is reserved once it has a host slot (so a run of 500 reserves 4 per host
        at first, not 500 in one turn of the loop), then it is made."""
        await self._build(run, None, names=names)

    def _reserve(self, run: Run, names: list[str]) -> Clone:
        """One transaction: two creations (this console or another) never take the same name."""
        name = self._farm.pools.reserve_clone_name(run.pool.id, names, method=run.method,
                                                   version=run.version.number, request_id=str(uuid.uuid4()))
        clone = self._farm.pools.clone(run.pool.id, name)
        self._save_clone(clone)
        return clone

    # -- one clone -------------------------------------------------------------------------------
    def _choose(self, run: Run, prefer: int | None = None) -> Placement:
        cap = run.pool.per_host_cap
        free = [p for pid, p in run.placements.items()
                if pid not in run.full and pid not in run.offline and (not cap or run.counts[pid] < cap)]
        if prefer is not None and any(p.provider.id == prefer for p in free):
            return run.placements[prefer]
        if not free:
            if run.full and len(run.full) + len(run.offline) >= len(run.placements):
                raise CapacityError("Every target host of the pool is full: no clone can be made.",
                                    "Free disk space on the hosts or add targets, then recreate the clone.")
            if run.offline and len(run.offline) >= len(run.placements):
                raise next(iter(run.offline.values()))
            raise CapacityError(f"Every target host holds its cap of {cap} clones of pool '{run.pool.name}'.",
                                "Raise the cap per host or add targets.")
        return min(free, key=lambda p: (run.counts[p.provider.id], p.provider.name))

    async def _build(self, run: Run, clone: Clone | None, prefer: int | None = None,
                     names: list[str] | None = None) -> bool:
        """Make one clone (its row exists, or with ``clone`` None a name of ``names`` is reserved once a
        host slot is free): True when it ended usable. Never raises a ConsoleError (the clone is FAILED
        with the sentence); a cancel removes what it made and re-raises."""
        ctx = run.ctx
        placement: Placement | None = None
        try:
            while True:
                placement = self._choose(run, prefer)
                pid = placement.provider.id
                run.counts[pid] += 1
                async with self._slot(placement):
                    if pid in run.full:                     # filled while this clone waited
                        run.counts[pid] -= 1
                        prefer = None
                        continue
                    if pid in run.offline:
                        raise run.offline[pid]
                    if clone is None:
                        try:
                            clone = self._reserve(run, names or [])
                        except ConsoleError as exc:      # no free name left: not the host's fault
                            run.counts[pid] -= 1
                            ctx.error(str(exc))
                            run.failed.append("(no name)")
                            run.done += 1
                            return False
                    try:
                        await self._make(run, clone, placement)
                    except CapacityError as exc:
                        if pid not in run.full:
                            run.full.add(pid)
                            ctx.warning(f"{placement.provider.name} stops taking clones: its disk is full. ({exc})")
                        try:        # nothing of it left there: the clone goes to another host
                            await self._remove_vm(clone, CloneReporter(ctx, clone.name))
                        except ConsoleError:
                            raise exc from None     # what it left stays with its row (FAILED)
                        run.counts[pid] -= 1
                        clone.vm_id = ""
                        prefer = None
                        continue
                break
            if run.method is ProvisioningMethod.QUICK:
                merge = asyncio.ensure_future(self._independent(run, clone, placement))
                run.merges.add(merge)
                merge.add_done_callback(run.merges.discard)
            else:
                self._usable_done(run, clone)
            return True
        except asyncio.CancelledError:
            if placement is not None and run.counts.get(placement.provider.id):
                run.counts[placement.provider.id] -= 1
            if clone is not None:
                await self._shielded_removal(ctx, clone)
            raise
        except Exception as exc:  # noqa: BLE001  one clone failing never stops the others
            if clone is None:          # failed before it had a name (no host can take it)
                try:
                    clone = self._reserve(run, names or [])
                except ConsoleError:
                    ctx.error(str(exc))
                    run.failed.append("(no name)")
                    run.done += 1
                    return False
            if isinstance(exc, (UnreachableError, AuthenticationError)) and placement is not None:
                run.offline.setdefault(placement.provider.id, exc)
            self._failed(run, clone, exc)
            return False

    async def _make(self, run: Run, clone: Clone, placement: Placement) -> None:
        """Create, prepare, start, wait for the guest: the clone is usable (its time measured)."""
        ctx, provider = run.ctx, placement.provider
        reporter = CloneReporter(ctx, clone.name)
        started = time.monotonic()
        clone.provider_id, clone.host = provider.id, provider.name
        clone.folder = "" if placement.nutanix else f"{placement.pool_folder}\\{clone.name}"
        clone.version, clone.method, clone.error = run.version.number, run.method, ""
        clone.usable_seconds = clone.independent_seconds = None
        clone.state = CloneState.UPDATING if clone.state is CloneState.UPDATING else CloneState.PROVISIONING
        clone.request_id = clone.request_id or str(uuid.uuid4())
        self._save_clone(clone)
        adapter = await self._adapter(provider)
        run.report(f"{clone.name} creating on {provider.name}")
        ctx.info(f"{clone.name}: creating a {run.method.value} clone on {provider.name}")
        if placement.nutanix:
            snapshot = run.version.snapshot_id if run.method is ProvisioningMethod.LINKED else None
            creation = adapter.clone(run.template.source_vm_id, clone.name, snapshot, reporter,
                                     request_id=clone.request_id)
        else:
            creation = adapter.create_clone(CloneSpec(
                name=clone.name, method=run.method.value, base_disks=list(placement.base_disks),
                folder=clone.folder, switch=placement.switch, cpu_count=placement.cpu_count,
                memory_bytes=placement.memory_bytes, generation=placement.generation,
                request_id=clone.request_id), reporter)
        vm = await self._finished_even_if_cancelled(creation, clone)
        clone.vm_id = vm.id
        self._save_clone(clone)
        self._vm_changed(provider.id, vm)
        run.report(f"{clone.name} preparing")
        ctx.info(f"{clone.name}: preparing ({run.preparation.method.value}"
                 f"{', domain ' + run.preparation.domain if run.preparation.domain else ''})")
        await adapter.prepare_clone(vm.id, clone.name, run.preparation, run.password, reporter)
        run.report(f"{clone.name} starting")
        if hasattr(adapter, "start_clone"):
            vm = await adapter.start_clone(vm.id, reporter)
        else:
            vm = await adapter.power(vm.id, PowerAction.START, reporter)
        self._vm_changed(provider.id, vm)
        run.report(f"{clone.name} waiting for the guest")
        try:
            await asyncio.wait_for(self._watchers.ready(provider, vm.id, self._expected_boot(run, provider)),
                                   self.scaled(READY_TIMEOUT_SECONDS))
        except TimeoutError:
            raise InvalidStateError(f"The guest of {clone.name} did not report ready within "
                                    f"{READY_TIMEOUT_SECONDS / 60:g} minutes.",
                                    "Open its console on the host to see where it stopped, then recreate it.") \
                from None
        clone.usable_seconds = round(time.monotonic() - started, 3)
        run.started[clone.name] = started
        ctx.info(f"{clone.name}: usable after {clone.usable_seconds:.1f} s on {provider.name}")

    async def _finished_even_if_cancelled(self, creation: Any, clone: Clone) -> Any:
        """The create call, run to its end even when the task is cancelled meanwhile: the host goes on
        with what it was asked, so the cancel's removal must know the VM it made."""
        job = asyncio.ensure_future(creation)
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            try:
                vm = await asyncio.wait_for(job, self.scaled(READY_TIMEOUT_SECONDS))
                clone.vm_id = vm.id
            except Exception as exc:  # noqa: BLE001  it failed or never ended: nothing more is known of it
                log.debug("the cancelled creation of %s ended with %r", clone.name, exc)
            raise

    def _expected_boot(self, run: Run, provider: Any) -> float:
        """Most of the time a guest takes from its start to ready: its first read is not before."""
        figures = self._figures(provider.id)
        seconds = figures.boot_seconds if figures is self.lab_figures else self.scaled(figures.boot_seconds)
        return 0.8 * seconds * (2.0 if run.preparation.method.value == "sysprep" else 1.0)

    def _usable_done(self, run: Run, clone: Clone) -> None:
        if run.method is ProvisioningMethod.FULL:
            clone.independent_seconds = clone.usable_seconds
        clone.state, clone.error = CloneState.READY, ""
        self._save_clone(clone)
        run.done += 1
        run.report(f"{clone.name} ready")

    async def _independent(self, run: Run, clone: Clone, placement: Placement) -> None:
        """A quick clone, usable now: copy its base, re-parent, merge (MERGING until done)."""
        ctx = run.ctx
        clone.state = CloneState.MERGING
        self._save_clone(clone)
        try:
            adapter = await self._adapter(placement.provider)
            ctx.info(f"{clone.name}: becoming independent (copy of the base, re-parent, merge)")
            await adapter.make_independent(clone.vm_id, f"pool{run.pool.id}-{clone.name}-{clone.request_id[:8]}",
                                           CloneReporter(ctx, clone.name))
            clone.independent_seconds = round(time.monotonic() - run.started.get(clone.name, time.monotonic()), 3)
            ctx.info(f"{clone.name}: independent after {clone.independent_seconds:.1f} s")
            self._usable_done(run, clone)
        except asyncio.CancelledError:
            await self._shielded_removal(ctx, clone)
            raise
        except Exception as exc:  # noqa: BLE001
            self._failed(run, clone, exc, prefix="The clone is usable but could not become independent: ")

    def _failed(self, run: Run, clone: Clone, exc: BaseException, prefix: str = "") -> None:
        sentence = str(exc) if isinstance(exc, ConsoleError) else \
            f"Internal error ({type(exc).__name__}); details are in the log."
        if not isinstance(exc, ConsoleError):
            run.ctx.debug("".join(traceback.format_exception(exc)))
        clone.state, clone.error = CloneState.FAILED, prefix + sentence
        self._save_clone(clone)
        run.failed.append(clone.name)
        run.done += 1
        run.ctx.error(f"{clone.name}: {clone.error}")
        run.report(f"{clone.name} failed")
