"""Removing what a pool clone left on its host: its VM (Hyper-V or Nutanix) and folder, found by id,
request id or name; shielded from a cancel. Split out of pool_engine.py, which makes clones."""
from __future__ import annotations

import asyncio
from typing import Any

from console.adapters.base import NullReporter
from console.domain.errors import ConsoleError
from console.domain.templates import Clone, CloneState

from .events import VMChanged, VMRemoved
from .pool_run import CloneReporter
from .pool_support import PoolSupport
from .tasks import TaskContext


class PoolRemoval(PoolSupport):
    async def _shielded_removal(self, ctx: TaskContext, clone: Clone) -> None:
        """A cancel: the half-made clone's VM and row go (shielded from the cancel itself)."""
        async def remove() -> None:
            try:
                await self._remove_vm(clone, CloneReporter(ctx, clone.name))
                self._drop_clone(clone.pool_id, clone.name)
                ctx.info(f"{clone.name}: half-made clone removed")
            except ConsoleError as exc:
                clone.state, clone.error = CloneState.INCOMPLETE, f"Cancelled; not removed: {exc}"
                self._save_clone(clone)
                ctx.warning(f"{clone.name}: could not be removed ({exc}); it is listed as half-made")
        try:
            await asyncio.shield(asyncio.ensure_future(remove()))
        except asyncio.CancelledError:
            pass

    async def _remove_vm(self, clone: Clone, reporter: Any = None) -> bool:
        """Remove the clone's VM and folder (what exists of it); True when something was removed."""
        reporter = reporter or NullReporter()
        if not clone.provider_id:
            return False
        provider = self._provider(clone.provider_id)
        adapter = await self._adapter(provider)
        if self._is_nutanix(provider):
            vm_id = clone.vm_id or self._find_by_name(provider.id, clone.name)
            if not vm_id:
                return False
            await adapter.delete(vm_id, reporter)
        else:
            vm_id = clone.vm_id
            if not vm_id and clone.folder:
                pool_dir = clone.folder.rsplit("\\", 1)[0]
                for found in await adapter.pool_clones(pool_dir, reporter):
                    if found.get("name", "").casefold() == clone.name.casefold() or \
                            (clone.request_id and found.get("request_id") == clone.request_id):
                        vm_id = found.get("vm_id", "")
            if not vm_id and not clone.folder:
                return False
            await adapter.remove_clone(vm_id, clone.folder, reporter)
        if vm_id:
            self._providers._remove_vm(provider.id, vm_id)
            self._bus.publish(VMRemoved(provider.id, vm_id))
        return True

    def _find_by_name(self, provider_id: int, name: str) -> str:
        inventory = self._providers.inventory(provider_id)
        for host in inventory.hosts if inventory else []:
            for vm in host.vms:
                if vm.name.casefold() == name.casefold():
                    return vm.id
        return ""

    def _vm_changed(self, provider_id: int, vm: Any) -> None:
        self._providers._put_vm(provider_id, vm)
        self._bus.publish(VMChanged(provider_id, vm))
