"""Filling the tree with one big inventory a slice at a time.

One Prism Central lists thousands of VMs in one inventory; inserting them in one go holds the UI
thread for most of a second (the sorted proxy places every new row). Sliced, the rows go in chunks,
about 12 ms of them per turn of the Qt loop, and the rest waits for the next turn, after paints and
input. The diff is on stable keys, so applying the same inventory again simply continues where the
last slice stopped. Anything else about that provider (a VM changed, a status) first finishes its
fill, so events keep the order the services published them in.

A mixin of InventoryModel: it needs ``_apply_now(inventory)``, ``_append`` and ``_make_vm``.
"""
from __future__ import annotations

import time
from collections import OrderedDict

from PySide6.QtCore import QTimer

from console.domain.inventory import VM, Inventory

#: how long one turn may spend inserting rows (at least one chunk always goes in)
FILL_SLICE_S = 0.012
#: rows inserted per beginInsertRows/endInsertRows while slicing
FILL_CHUNK = 100


class SlicedFill:
    def _init_fill(self) -> None:
        self._fills: OrderedDict[int, Inventory] = OrderedDict()
        self._fill_deadline: float | None = None     # set while a slice runs
        self._fill_cut = False                       # the slice stopped before the end
        self._fill_appended = False                  # the slice inserted its first chunk
        self._fill_timer = QTimer(self, singleShot=True, interval=0)
        self._fill_timer.timeout.connect(self._continue_fills)

    @property
    def filling(self) -> bool:
        """Some inventory is still going into the tree."""
        return bool(self._fills)

    def apply_inventory_in_slices(self, inventory: Inventory) -> None:
        """Apply as much as fits in one slice now, the rest on the following turns of the loop."""
        self._fills.pop(inventory.provider_id, None)     # a newer inventory replaces a pending one
        if not self._apply_slice(inventory):
            self._fills[inventory.provider_id] = inventory
            if not self._fill_timer.isActive():
                self._fill_timer.start()

    def finish_fill(self, provider_id: int) -> None:
        inventory = self._fills.pop(provider_id, None)
        if inventory is not None:
            self._apply_now(inventory)

    def finish_fills(self) -> None:
        self._fill_timer.stop()
        for provider_id in list(self._fills):
            self.finish_fill(provider_id)

    def _drop_fill(self, provider_id: int) -> None:
        self._fills.pop(provider_id, None)

    def _apply_slice(self, inventory: Inventory) -> bool:
        self._fill_deadline = time.perf_counter() + FILL_SLICE_S
        self._fill_cut = self._fill_appended = False
        try:
            self._apply_now(inventory)
        finally:
            self._fill_deadline = None
        return not self._fill_cut

    def _continue_fills(self) -> None:
        if not self._fills:
            return
        provider_id, inventory = self._fills.popitem(last=False)
        if not self._apply_slice(inventory):
            self._fills[provider_id] = inventory          # providers take turns
        if self._fills:
            self._fill_timer.start()

    def _append_vms(self, prov, container, vms: list[VM]) -> None:
        """New VM rows: all at once, or chunk by chunk until the slice's time is up."""
        if self._fill_deadline is None:
            self._append(container, [self._make_vm(prov, container, vm) for vm in vms])
            return
        for start in range(0, len(vms), FILL_CHUNK):
            if self._fill_appended and time.perf_counter() >= self._fill_deadline:
                self._fill_cut = True
                return
            self._append(container, [self._make_vm(prov, container, vm)
                                     for vm in vms[start:start + FILL_CHUNK]])
            self._fill_appended = True
