"""The left pane: a filter box over the inventory tree, and the selection kept by stable key."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from console.ui.inventory_model import (GROUP_PROVIDERS, KEY_ROLE, SORT_ROLE, InventoryModel,
                                        Node, NodeKind)


class InventoryFilter(QSortFilterProxyModel):
    """Case-insensitive substring filter; a match keeps its ancestors and shows its children.

    Filter and sort read the tree's nodes directly: one Python call per row instead of the several
    index()/data() round trips the generic proxy makes (20,000 rows: ~1 s down to a fraction).
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_needle(self, text: str) -> None:
        needle = text.strip().casefold()
        if needle != self._needle:
            self._needle = needle
            # One layout change, not the incremental path: that one inserts the rows coming back in
            # hundreds of small runs, and an expanded view lays itself out again after each run
            # (clearing a filter over 20,000 expanded rows: ~9 s down to ~1 s).
            self.invalidate()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        if not self._needle:
            return True
        parent = source_parent.internalPointer() if source_parent.isValid() else self.sourceModel().root
        return self._needle in parent.children[source_row].label.casefold()

    def lessThan(self, left, right) -> bool:
        a, b = left.internalPointer(), right.internalPointer()
        if (a.kind is NodeKind.VM) is not (b.kind is NodeKind.VM):
            return b.kind is NodeKind.VM        # in a cluster, its hosts come before its idle VMs
        return a.sort_key < b.sort_key


class InventoryTree(QWidget):
    """Filter box + tree. ``selectionChangedTo`` carries the selected node (or None)."""

    selectionChangedTo = Signal(object)      # Node | None
    contextMenuRequestedFor = Signal(object, object)   # Node | None, global QPoint

    def __init__(self, model: InventoryModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = InventoryFilter(self)
        self.proxy.setSourceModel(model)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("inventoryFilter")
        self.filter_edit.setAccessibleName("Filter the inventory")
        self.filter_edit.setPlaceholderText("Filter by name")
        self.filter_edit.setClearButtonEnabled(True)
        # typing fast over 20,000 rows: filter once the keys pause
        self._filter_timer = QTimer(self, singleShot=True, interval=150)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())

        self.view = QTreeView(self)
        self.view.setObjectName("inventoryTree")
        self.view.setAccessibleName("Inventory")
        self.view.setModel(self.proxy)
        self.view.setHeaderHidden(True)
        self.view.header().setObjectName("inventoryTreeHeader")
        self.view.header().setAccessibleName("Inventory columns")
        self.view.setUniformRowHeights(True)        # keeps 20,000 rows cheap to lay out
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.expand(self.proxy.mapFromSource(model.group_index(GROUP_PROVIDERS)))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.view)

        # a selection restored from the settings before its row exists: applied when it appears
        self._pending_key = ""
        model.rowsInserted.connect(self._try_pending)

    # ----- filter -------------------------------------------------------------------------------
    def _apply_filter(self) -> None:
        text = self.filter_edit.text().strip()
        self.proxy.set_needle(text)
        if text:
            self.view.expandAll()

    def apply_filter_now(self) -> None:
        self._filter_timer.stop()
        self._apply_filter()

    # ----- selection ----------------------------------------------------------------------------
    def selected_node(self) -> Node | None:
        idx = self.view.currentIndex()
        if not idx.isValid():
            return None
        return self.model.node_at(self.proxy.mapToSource(idx))

    @property
    def pending_key(self) -> str:
        """A restored selection still waiting for its row."""
        return self._pending_key

    def selected_key(self) -> str:
        idx = self.view.currentIndex()
        return idx.data(KEY_ROLE) or "" if idx.isValid() else ""

    def select_key(self, key_path: str) -> bool:
        """Select the row with this key path now, or as soon as it appears."""
        source = self.model.index_for_key_path(key_path)
        if not source.isValid():
            self._pending_key = key_path
            return False
        self._pending_key = ""
        idx = self.proxy.mapFromSource(source)
        if not idx.isValid():
            return False
        parent = idx.parent()
        while parent.isValid():
            self.view.expand(parent)
            parent = parent.parent()
        self.view.setCurrentIndex(idx)
        self.view.scrollTo(idx)
        return True

    def _try_pending(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        if self._pending_key and self.model.index_for_key_path(self._pending_key).isValid():
            self.select_key(self._pending_key)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._pending_key = ""      # the administrator chose: forget the restored one
        self.selectionChangedTo.emit(self.selected_node())

    def _context_menu(self, pos) -> None:
        idx = self.view.indexAt(pos)
        node = None
        if idx.isValid():
            self.view.setCurrentIndex(idx)
            node = self.model.node_at(self.proxy.mapToSource(idx))
        self.contextMenuRequestedFor.emit(node, self.view.viewport().mapToGlobal(pos))
