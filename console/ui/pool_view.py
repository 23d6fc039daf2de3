"""The pool view: tabs Clones (counts, the time-to-usable chart, the clone table and its actions),
General and History; and the Pools group's page (one row per pool).

Built the first time a pool is selected (DetailsPanel.pool_view). The buttons only say what the
administrator asked for, through signals; PoolCommands (pool_actions.py) opens the dialogs and calls
the services. The clone table follows the tree model's coalesced clone events one row at a time
(``InventoryModel.clonesChanged``), so a pool of 500 clones being made never rebuilds it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.inventory import PowerAction
from console.domain.templates import CloneState, Pool
from console.ui import icons
from console.ui.details import PropertyForm, _table
from console.ui.inventory_nodes import Node
from console.ui.pool_chart import UsableChart
from console.ui.pool_tables import (
    CloneTableModel,
    HistoryTableModel,
    PoolListModel,
    counts_text,
    general_rows,
)
from console.ui.table_models import ITEM_ROLE, SORT_ROLE

log = logging.getLogger(__name__)

#: the power actions a clone row offers (Restart is in the VM's own menu)
CLONE_POWER = (PowerAction.START, PowerAction.SHUTDOWN, PowerAction.STOP)
#: states whose clone has a VM that can be powered, recreated or deleted one by one
_SETTLED = (CloneState.READY, CloneState.MERGING, CloneState.ASSIGNED, CloneState.FAILED)
STATE_FILTERS = (("All states", ()), ("Ready", (CloneState.READY, CloneState.MERGING)),
                 ("Assigned", (CloneState.ASSIGNED,)),
                 ("Being made", (CloneState.PROVISIONING, CloneState.UPDATING, CloneState.DELETING)),
                 ("Failed", (CloneState.FAILED,)), ("Incomplete", (CloneState.INCOMPLETE,)))


def _button(text: str, name: str, parent: QWidget, tip: str = "") -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setAccessibleName(text.replace("&", "").rstrip("."))
    if tip:
        button.setToolTip(tip)
    return button


class CloneProxy(QSortFilterProxyModel):
    """Text over every column, and a state filter."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.states: tuple[CloneState, ...] = ()

    def set_states(self, states: tuple[CloneState, ...]) -> None:
        self.beginFilterChange()
        self.states = states
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        if self.states:
            clone = self.sourceModel().index(source_row, 0, source_parent).data(ITEM_ROLE)
            if clone is None or clone.state not in self.states:
                return False
        return super().filterAcceptsRow(source_row, source_parent)


class PoolDetails(QObject):
    newPoolRequested = Signal()
    editRequested = Signal(int)                   # pool id
    scaleRequested = Signal(int)
    updateRequested = Signal(int)
    rollbackRequested = Signal(int)
    deleteRequested = Signal(int)
    cleanUpRequested = Signal(int)
    recreateRequested = Signal(int, list)         # pool id, clone names
    deleteClonesRequested = Signal(int, list)
    powerRequested = Signal(int, list, object)    # pool id, clone names, PowerAction

    def __init__(self, model, parent: QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.pool_id: int | None = None
        #: set by PoolCommands: a pool's version history, and the text of a task running for it
        self.history_of: Callable[[int], list] = lambda _pid: []
        self.task_text_of: Callable[[int], str] = lambda _pid: ""
        self._history_key: tuple | None = None

        page = self.clones_page = QWidget(parent)
        page.setObjectName("poolClonesPage")
        self.new_button = _button("&New Pool...", "newPoolButton", page, "Make a new pool of clones")
        self.edit_button = _button("&Edit...", "editPoolButton", page, "Change this pool's settings")
        self.scale_button = _button("&Scale...", "scalePoolButton", page,
                                    "Change the maximum and the number of clones kept available")
        self.update_button = _button("&Update...", "updatePoolButton", page,
                                     "Recreate the clones from another version, batch by batch")
        self.rollback_button = _button("&Rollback...", "rollbackPoolButton", page,
                                       "Recreate the clones from the previous version")
        self.delete_button = _button("&Delete pool...", "deletePoolButton", page,
                                     "Delete the pool, every clone and its disks")
        bar = QHBoxLayout()
        for button in (self.new_button, self.edit_button, self.scale_button, self.update_button,
                       self.rollback_button, self.delete_button):
            bar.addWidget(button)
        bar.addStretch(1)
        self.counts = QLabel(page)
        self.counts.setObjectName("poolCounts")
        self.counts.setAccessibleName("Clone counts")
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        self.clean_up_button = _button("Clean up", "cleanUpButton", page,
                                       "Remove the clones a crash or a cancel left half-made (VM, disks, row)")
        self.clean_up_button.setIcon(icons.icon("task-interrupted"))
        self.clean_up_button.hide()
        self.task_note = QLabel(page)
        self.task_note.setObjectName("poolTaskNote")
        self.task_note.setTextFormat(Qt.TextFormat.PlainText)
        self.task_note.setWordWrap(True)
        self.task_note.hide()
        counts_bar = QHBoxLayout()
        counts_bar.addWidget(self.counts, 1)
        counts_bar.addWidget(self.clean_up_button)
        self.chart = UsableChart(page)

        self.clone_model = CloneTableModel(self)
        self.clone_table, self.clone_proxy = _table("cloneTable", "Clones", self.clone_model, page)
        self.clone_proxy = CloneProxy(page)      # with a state filter: replaces _table's proxy
        self.clone_proxy.setSourceModel(self.clone_model)
        self.clone_proxy.setSortRole(SORT_ROLE)
        self.clone_proxy.setFilterKeyColumn(-1)
        self.clone_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.clone_table.setModel(self.clone_proxy)
        self.clone_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.clone_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for column, width in enumerate((110, 70, 150, 60, 65, 130, 100, 160)):
            self.clone_table.horizontalHeader().resizeSection(column, width)
        self.filter = QLineEdit(page)
        self.filter.setObjectName("cloneFilter")
        self.filter.setAccessibleName("Filter clones")
        self.filter.setPlaceholderText("Filter clones")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.clone_proxy.setFilterFixedString)
        self.state_filter = QComboBox(page)
        self.state_filter.setObjectName("cloneStateFilter")
        self.state_filter.setAccessibleName("Show clones in state")
        for text, _states in STATE_FILTERS:
            self.state_filter.addItem(text)
        self.state_filter.currentIndexChanged.connect(
            lambda i: self.clone_proxy.set_states(STATE_FILTERS[i][1]))
        self.recreate_button = _button("Re&create", "recreateCloneButton", page,
                                       "Delete the selected clones and make them again with the same names")
        self.delete_clone_button = _button("Delete", "deleteCloneButton", page,
                                           "Delete the selected clones and their disks")
        self.power_buttons = {action: _button(action.label, f"{action.name.lower()}CloneButton", page,
                                              f"{action.label} the selected clones") for action in CLONE_POWER}
        clone_bar = QHBoxLayout()
        clone_bar.addWidget(self.filter, 1)
        clone_bar.addWidget(self.state_filter)
        for button in (self.recreate_button, self.delete_clone_button, *self.power_buttons.values()):
            clone_bar.addWidget(button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(counts_bar)
        layout.addWidget(self.task_note)
        layout.addWidget(self.chart)
        layout.addLayout(clone_bar)
        layout.addWidget(self.clone_table, 1)
        # the error in full (the State column cuts it): the selected clone's, else the first failed one's
        self.clone_error = QLabel(page)
        self.clone_error.setObjectName("cloneErrorText")
        self.clone_error.setTextFormat(Qt.TextFormat.PlainText)
        self.clone_error.setWordWrap(True)
        self.clone_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.clone_error.setStyleSheet("color: #b3261e;")
        self.clone_error.hide()
        layout.addWidget(self.clone_error)

        self.general = PropertyForm("poolGeneralForm", parent)
        self.general.setAccessibleName("Pool")
        self.history_model = HistoryTableModel(self)
        self.history_table, _ = _table("poolHistoryTable", "Version history", self.history_model, parent)
        self.history_table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.history_table.horizontalHeader().resizeSection(0, 170)
        self.list_model = PoolListModel(self)
        self.list_table, _ = _table("poolListTable", "Pools", self.list_model, parent)
        for column, width in enumerate((160, 200, 80, 70, 220)):
            self.list_table.horizontalHeader().resizeSection(column, width)
        self.pages = (self.clones_page, self.general, self.history_table, self.list_table)

        self.new_button.clicked.connect(self.newPoolRequested)
        for button, signal in ((self.edit_button, self.editRequested), (self.scale_button, self.scaleRequested),
                               (self.update_button, self.updateRequested),
                               (self.rollback_button, self.rollbackRequested),
                               (self.delete_button, self.deleteRequested),
                               (self.clean_up_button, self.cleanUpRequested)):
            button.clicked.connect(lambda _c=False, s=signal: self._emit_pool(s))
        self.recreate_button.clicked.connect(lambda: self._emit_clones(self.recreateRequested))
        self.delete_clone_button.clicked.connect(lambda: self._emit_clones(self.deleteClonesRequested))
        for action, button in self.power_buttons.items():
            button.clicked.connect(lambda _c=False, a=action: self._power(a))
        self.clone_table.selectionModel().selectionChanged.connect(lambda *_: self._update_clone_buttons())
        model.clonesChanged.connect(self._clones_changed)

    # ----- what is shown ------------------------------------------------------------------------
    @property
    def pool(self) -> Pool | None:
        return self.model.pool(self.pool_id) if self.pool_id is not None else None

    def _template_name(self, template_id: int) -> str:
        t = self.model.template(template_id)
        return t.name if t is not None else f"Template {template_id}"

    def _provider_name(self, provider_id: int) -> str:
        node = self.model.provider_node(provider_id)
        return node.obj.name if node is not None else f"Provider {provider_id}"

    def show_list(self) -> list[tuple[QWidget, str]]:
        """The Pools group's page."""
        self.list_model.set_items((p, self._template_name(p.template_id), self.model.clones(p.id))
                                  for p in self.model.pools())
        return [(self.list_table, "Pools")]

    def show(self, node: Node) -> list[tuple[QWidget, str]]:
        pool: Pool = node.obj
        if pool.id != self.pool_id:
            self.pool_id = pool.id
            self.clone_table.clearSelection()
            self.clone_model.set_items(self.model.clones(pool.id))
            self._history_key = None
        self._fill(pool)
        return [(self.clones_page, "Clones"), (self.general, "General"), (self.history_table, "History")]

    def _fill(self, pool: Pool) -> None:
        clones = self.model.clones(pool.id)
        text, counts = counts_text(clones)
        self.counts.setText(text)
        incomplete = counts["incomplete"]
        self.clean_up_button.setVisible(incomplete > 0)
        self.clean_up_button.setText(f"Clean up {incomplete} half-made clone{'s' if incomplete != 1 else ''}")
        self.clean_up_button.setAccessibleName(self.clean_up_button.text())
        note = self.task_text_of(pool.id)
        self.task_note.setText(note)
        self.task_note.setVisible(bool(note))
        self.chart.set_clones(clones)
        self.general.set_rows(general_rows(pool, self._template_name(pool.template_id),
                                           [self._provider_name(p) for p in pool.target_provider_ids]))
        key = (pool.id, pool.version, pool.follow_tag)
        if key != self._history_key:
            self._history_key = key
            try:
                self.history_model.set_items(self.history_of(pool.id))
            except Exception as exc:  # noqa: BLE001 - the farm closed under us (window closing)
                log.debug("history of pool %s not read: %s", pool.id, exc)
        self._update_buttons()

    def _clones_changed(self, pool_id: int, changed: list, removed: list) -> None:
        if pool_id != self.pool_id:
            return
        for name in removed:
            self.clone_model.drop(name)
        for name in changed:
            clone = self.model.clone(pool_id, name)
            if clone is not None:
                self.clone_model.put(clone)
        pool = self.pool
        if pool is not None:
            self._fill(pool)

    # ----- selection and buttons ----------------------------------------------------------------
    def selected_clones(self) -> list:
        return [idx.data(ITEM_ROLE) for idx in self.clone_table.selectionModel().selectedRows()]

    def select_clones(self, names: list[str]) -> None:
        from PySide6.QtCore import QItemSelectionModel
        selection = self.clone_table.selectionModel()
        selection.clearSelection()
        for name in names:
            row = self.clone_model.row_of(name)
            if row >= 0:
                idx = self.clone_proxy.mapFromSource(self.clone_model.index(row, 0))
                selection.select(idx, QItemSelectionModel.SelectionFlag.Select
                                 | QItemSelectionModel.SelectionFlag.Rows)

    def _update_buttons(self) -> None:
        pool = self.pool
        has = pool is not None
        busy = has and bool(self.model.pool_busy(pool.id))
        for button in (self.edit_button, self.scale_button, self.delete_button):
            button.setEnabled(has)
        self.update_button.setEnabled(has and not busy)
        versions = {h.version for h in self.history_model.items()}
        can_roll_back = has and not busy and len(versions) > 1
        self.rollback_button.setEnabled(can_roll_back)
        self.rollback_button.setToolTip("Recreate the clones from the previous version" if can_roll_back else
                                         "Rollback: the pool has no previous version yet" if has else "")
        self._update_clone_buttons()

    def _update_clone_buttons(self) -> None:
        clones = self.selected_clones()
        shown = next((c for c in clones if c.error), None)
        if shown is None and self.pool_id is not None:
            shown = next((c for c in self.clone_model.items() if c.error and c.state is CloneState.FAILED), None)
        self.clone_error.setText(f"{shown.name}: {shown.error}" if shown is not None else "")
        self.clone_error.setVisible(shown is not None)
        settled = bool(clones) and all(c.state in _SETTLED or c.state is CloneState.INCOMPLETE for c in clones)
        self.recreate_button.setEnabled(settled)
        self.delete_clone_button.setEnabled(settled)
        powered = bool(clones) and all(c.state in _SETTLED and c.vm_id for c in clones)
        for button in self.power_buttons.values():
            button.setEnabled(powered)

    def _emit_pool(self, signal) -> None:
        if self.pool_id is not None:
            signal.emit(self.pool_id)

    def _emit_clones(self, signal) -> None:
        names = [c.name for c in self.selected_clones()]
        if names and self.pool_id is not None:
            signal.emit(self.pool_id, names)

    def _power(self, action: PowerAction) -> None:
        names = [c.name for c in self.selected_clones()]
        if names and self.pool_id is not None:
            self.powerRequested.emit(self.pool_id, names, action)
