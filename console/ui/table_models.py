"""Table models for the details tabs: VMs of a host, disks of a VM, the providers.

Each keeps its rows by a stable key and applies a new list as a diff, so a refresh keeps the table's
selection and scroll position.
"""
from __future__ import annotations

from typing import Any, Callable, Generic, Iterable, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from console.domain.inventory import Host, HostStatus, Provider, VirtualDisk, VM
from console.ui import icons

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ITEM_ROLE = Qt.ItemDataRole.UserRole + 2

T = TypeVar("T")


def format_bytes(count: int | None) -> str:
    if not count:
        return "0 B" if count == 0 else ""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if value < 1024 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def format_uptime(seconds: int) -> str:
    if not seconds:
        return ""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days} d {clock}" if days else clock


class KeyedTableModel(QAbstractTableModel, Generic[T]):
    columns: tuple[str, ...] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[T] = []
        self._row_of: dict[str, int] = {}

    # subclasses say what a row is
    def key(self, item: T) -> str:
        raise NotImplementedError

    def cell(self, item: T, column: int) -> str:
        raise NotImplementedError

    def sort_value(self, item: T, column: int) -> Any:
        return self.cell(item, column).casefold()

    def decoration(self, item: T, column: int):
        return None

    def tooltip(self, item: T, column: int) -> str | None:
        return None

    # Qt interface
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(item, col)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.decoration(item, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(item, col)
        if role == SORT_ROLE:
            return self.sort_value(item, col)
        if role == ITEM_ROLE:
            return item
        return None

    def items(self) -> list[T]:
        return list(self._items)

    def set_items(self, items: Iterable[T]) -> None:
        """Apply the new list as removes, in-place changes and appends."""
        wanted: dict[str, T] = {self.key(item): item for item in items}
        gone = [row for row, item in enumerate(self._items) if self.key(item) not in wanted]
        for row in reversed(gone):          # rows are few here; one signal per row is fine
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._items[row]
            self.endRemoveRows()
        self._row_of = {self.key(item): row for row, item in enumerate(self._items)}
        last_col = len(self.columns) - 1
        for row, item in enumerate(self._items):
            new = wanted[self.key(item)]
            if new != item:
                self._items[row] = new
                self.dataChanged.emit(self.index(row, 0), self.index(row, last_col))
        fresh = [item for key, item in wanted.items() if key not in self._row_of]
        if fresh:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._items.extend(fresh)
            for row in range(first, len(self._items)):
                self._row_of[self.key(self._items[row])] = row
            self.endInsertRows()


class VMTableModel(KeyedTableModel[VM]):
    columns = ("Name", "State", "vCPU", "Memory", "Uptime", "Switch", "Disks")

    def key(self, item: VM) -> str:
        return item.id

    def cell(self, vm: VM, column: int) -> str:
        return [vm.name, vm.state.value, str(vm.cpu_count), format_bytes(vm.memory_bytes),
                format_uptime(vm.uptime_seconds), vm.switch, str(len(vm.disks))][column]

    def sort_value(self, vm: VM, column: int) -> Any:
        numeric: dict[int, Callable[[VM], Any]] = {
            2: lambda v: v.cpu_count, 3: lambda v: v.memory_bytes, 4: lambda v: v.uptime_seconds,
            6: lambda v: len(v.disks)}
        return numeric[column](vm) if column in numeric else self.cell(vm, column).casefold()

    def decoration(self, vm: VM, column: int):
        return icons.vm_icon(vm.state) if column == 0 else None

    def tooltip(self, vm: VM, column: int) -> str | None:
        return "\n".join(d.path for d in vm.disks) if column == 6 and vm.disks else None


class DiskTableModel(KeyedTableModel[VirtualDisk]):
    columns = ("Path", "Size", "Used on volume", "Parent")

    def key(self, item: VirtualDisk) -> str:
        return item.path.casefold()

    def cell(self, disk: VirtualDisk, column: int) -> str:
        return [disk.path, format_bytes(disk.size_bytes), format_bytes(disk.file_bytes),
                disk.parent_path][column]

    def sort_value(self, disk: VirtualDisk, column: int) -> Any:
        if column == 1:
            return disk.size_bytes
        if column == 2:
            return disk.file_bytes
        return self.cell(disk, column).casefold()


def provider_status_text(hosts: list[Host]) -> str:
    if not hosts or all(h.status is HostStatus.UNKNOWN for h in hosts):
        return "Not refreshed yet"
    bad = [h for h in hosts if h.status in (HostStatus.UNREACHABLE, HostStatus.AUTH_FAILED)]
    if not bad:
        return "Connected"
    first = bad[0]
    word = "Authentication failed" if first.status is HostStatus.AUTH_FAILED else "Unreachable"
    return f"{word}: {first.error}" if first.error else word


class ProviderTableModel(KeyedTableModel[tuple[Provider, str]]):
    """Rows are (provider, status text)."""

    columns = ("Name", "Kind", "Address", "Status")

    def key(self, item: tuple[Provider, str]) -> str:
        return str(item[0].id)

    def cell(self, item: tuple[Provider, str], column: int) -> str:
        provider, status = item
        return [provider.name, provider.kind.label, provider.settings.address, status][column]

    def tooltip(self, item: tuple[Provider, str], column: int) -> str | None:
        return item[1] if column == 3 else None

    def decoration(self, item, column: int):
        if column != 0:
            return None
        kind = item[0].kind.value
        return icons.icon("provider-nutanix" if kind.startswith("nutanix") else "provider-hyperv")
