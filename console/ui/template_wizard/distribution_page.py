"""Distribution (standalone Hyper-V sources only): enable multi-provider distribution, choose the
targets, and see each target's pre-flight check.

Adding a target starts its check at once (services.templates.check_target, concurrently for several);
its row spins ("Checking...") until the answer, then shows ✓ or ✗, and the table below lists the
selected target's prerequisites with what was found and the fix. Next stays disabled while a check
runs or a target fails; the message says which target and why.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QGridLayout, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QListWidgetItem, QPushButton, QSpinBox, QTableView,
                               QVBoxLayout, QWidget, QWizardPage)

from console.domain.prerequisites import CheckStatus
from console.ui.template_wizard.common import (ERROR_COLOUR, OK_COLOUR, WARN_COLOUR, message_label,
                                               named, show_message)
from console.ui.template_wizard.prerequisite_model import PrerequisiteModel
from console.ui.template_wizard.state import CONCURRENCY_RANGE

ID_ROLE = Qt.ItemDataRole.UserRole
SPINNER = "◐◓◑◒"


class DistributionPage(QWizardPage):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        named(self, "distributionPage", "Distribution")
        self.setTitle("Distribution")
        self.setSubTitle("Copy the template to other standalone Hyper-V hosts, so clones are made from "
                         "a local copy on each.")
        self._frame = 0
        self._spinner = QTimer(self, interval=150)
        self._spinner.timeout.connect(self._spin)

        self.enable = named(QCheckBox("&Enable multi-provider template distribution", self),
                            "enableDistribution", "Enable multi-provider template distribution")
        self.enable_note = QLabel("This cannot be changed after the template is created: a template "
                                  "made without distribution stays on its source host only.", self)
        self.enable_note.setObjectName("enableDistributionNote")
        self.enable_note.setWordWrap(True)

        self.available = named(QListWidget(self), "availableProviders", "Available providers")
        self.available.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for lst in (self.available,):
            lst.setWordWrap(True)
            lst.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            lst.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.targets = named(QListWidget(self), "targetList", "Distribution targets")
        self.targets.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.add_button = named(QPushButton("&Add >", self), "addTarget", "Add target")
        self.add_all_button = named(QPushButton("Add a&ll >>", self), "addAllTargets", "Add all targets")
        self.remove_button = named(QPushButton("< &Remove", self), "removeTarget", "Remove target")
        self.recheck_button = named(QPushButton("Re-&check", self), "recheckTargets", "Re-check targets")
        self.recheck_button.setToolTip("Run the pre-flight check of every target again (after fixing a host)")
        self.concurrency = named(QSpinBox(self), "concurrentDistribution",
                                 "Number of providers for concurrent distribution")
        self.concurrency.setRange(*CONCURRENCY_RANGE)
        self.concurrency.setValue(state.concurrency)
        self.table_label = QLabel("Prerequisites", self)
        self.table_label.setObjectName("prerequisiteTableLabel")
        self.model = PrerequisiteModel(self)
        self.table = named(QTableView(self), "prerequisiteTable", "Prerequisites of the selected target")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.Interactive,) * 4 + (QHeaderView.ResizeMode.Stretch,)):
            header.setSectionResizeMode(col, mode)
        for col, width in enumerate((185, 120, 135, 80)):
            self.table.setColumnWidth(col, width)
        self.table.setMinimumHeight(170)
        self.message = message_label("distributionPageMessage", "Distribution page message", self)

        self.body = QWidget(self)
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("A&vailable:", self.body, buddy=self.available), 0, 0)
        grid.addWidget(QLabel("&Targets:", self.body, buddy=self.targets), 0, 2)
        grid.addWidget(self.available, 1, 0)
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        for button in (self.add_button, self.add_all_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        grid.addLayout(buttons, 1, 1)
        grid.addWidget(self.targets, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(2, 1)
        table_head = QHBoxLayout()
        table_head.addWidget(self.table_label, 1)
        table_head.addWidget(self.recheck_button)
        grid.addLayout(table_head, 2, 0, 1, 3)
        grid.addWidget(self.table, 3, 0, 1, 3)
        spin_row = QHBoxLayout()
        spin_row.addWidget(QLabel("&Number of providers for concurrent distribution:", self.body,
                                  buddy=self.concurrency))
        spin_row.addWidget(self.concurrency)
        spin_row.addStretch(1)
        grid.addLayout(spin_row, 4, 0, 1, 3)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(3, 3)
        for lst in (self.available, self.targets):
            lst.setMinimumHeight(90)
            lst.setMaximumHeight(140)

        layout = QVBoxLayout(self)
        layout.addWidget(self.enable)
        layout.addWidget(self.enable_note)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.message)

        self.enable.toggled.connect(self._enable_toggled)
        self.add_button.clicked.connect(self.add_selected)
        self.add_all_button.clicked.connect(self.add_all)
        self.remove_button.clicked.connect(self.remove_selected)
        self.recheck_button.clicked.connect(self.recheck)
        self.concurrency.valueChanged.connect(lambda v: setattr(self.state, "concurrency", v))
        self.targets.itemSelectionChanged.connect(self._show_selected)
        self.available.itemSelectionChanged.connect(self._update_buttons)
        self.available.itemDoubleClicked.connect(lambda _i: self.add_selected())
        bridge.targetChecked.connect(self._checked)

    # ----- filling ------------------------------------------------------------------------------
    def initializePage(self) -> None:
        self.enable.blockSignals(True)
        self.enable.setChecked(self.state.distribution_enabled)
        self.enable.blockSignals(False)
        self._fill_available()
        self._render()

    def _fill_available(self) -> None:
        chosen = {t.provider_id for t in self.state.targets}
        self.available.clear()
        if self.state.provider_id is None:
            return
        for provider, reason in self.bridge.available_targets(self.state.provider_id):
            if provider.id in chosen:
                continue
            text = provider.name + (" (the source host)" if provider.id == self.state.provider_id else "")
            # the reason on its own wrapped line: a long one is read, not clipped
            item = QListWidgetItem(text if not reason else f"{text}\n{reason}")
            item.setData(ID_ROLE, provider.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, provider.name)
            if reason:
                item.setFlags(item.flags() & ~(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable))
                item.setToolTip(reason)
            self.available.addItem(item)

    # ----- choosing targets ---------------------------------------------------------------------
    def _enable_toggled(self, on: bool) -> None:
        self.state.distribution_enabled = on
        self._render()

    def _enabled_items(self, only_selected: bool) -> list[QListWidgetItem]:
        items = self.available.selectedItems() if only_selected else [
            self.available.item(r) for r in range(self.available.count())]
        return [i for i in items if i.flags() & Qt.ItemFlag.ItemIsEnabled]

    def add_selected(self) -> None:
        self._add(self._enabled_items(only_selected=True))

    def add_all(self) -> None:
        self._add(self._enabled_items(only_selected=False))

    def add_provider(self, provider_id: int) -> bool:
        """Add one available provider by id (for tests and keyboard-free callers)."""
        for item in self._enabled_items(only_selected=False):
            if item.data(ID_ROLE) == provider_id:
                self._add([item])
                return True
        return False

    def _add(self, items: list[QListWidgetItem]) -> None:
        if not items or not self.state.distribution_enabled:
            return
        added = []
        for item in items:
            pid = item.data(ID_ROLE)
            self.state.add_target(pid, item.data(Qt.ItemDataRole.UserRole + 1))
            self.available.takeItem(self.available.row(item))
            added.append(pid)
        for pid in added:
            self._start_check(pid)
        self._render(select=added[-1])

    def remove_selected(self) -> None:
        ids = [i.data(ID_ROLE) for i in self.targets.selectedItems()]
        for pid in ids:
            self.state.remove_target(pid)       # a late check answer for it is dropped
        if ids:
            self._fill_available()
            self._render()

    def recheck(self) -> None:
        for entry in list(self.state.targets):
            self._start_check(entry.provider_id)
        self._render()

    def _start_check(self, provider_id: int) -> None:
        generation = self.state.start_check(provider_id)
        if generation >= 0:
            self.bridge.check_target(self.state.provider_id, self.state.vm_id, provider_id, generation)

    def _checked(self, provider_id: int, generation: int, results) -> None:
        if self.state.target_checked(provider_id, generation, results):
            self._render()

    # ----- showing ------------------------------------------------------------------------------
    def _row_text(self, entry) -> tuple[str, str, str]:
        """(text, colour, tooltip) of a target row."""
        if entry.checking:
            return f"{SPINNER[self._frame % len(SPINNER)]}  {entry.name} — Checking…", "", "The check runs"
        failed = entry.failed_rows
        if entry.results is None:
            return f"?  {entry.name} — not checked", WARN_COLOUR, ""
        if failed:
            what = "check fails" if len(failed) == 1 else "checks fail"
            return (f"✗  {entry.name} — {len(failed)} {what}", ERROR_COLOUR,
                    "\n".join(f"{r.title}: {r.found}" for r in failed))
        warnings = [r for r in entry.results if r.status is CheckStatus.WARNING]
        if warnings:
            return (f"✓  {entry.name} — ready ({len(warnings)} not verified)", OK_COLOUR,
                    "\n".join(f"{r.title}: {r.found}" for r in warnings))
        return f"✓  {entry.name} — ready", OK_COLOUR, "Every prerequisite is met"

    def _render(self, select: int | None = None) -> None:
        s = self.state
        self.body.setEnabled(s.distribution_enabled)
        if select is None:
            selected = [i.data(ID_ROLE) for i in self.targets.selectedItems()]
            select = selected[0] if selected else None
        self.targets.blockSignals(True)
        self.targets.clear()
        for entry in s.targets:
            text, colour, tip = self._row_text(entry)
            item = QListWidgetItem(text)
            item.setData(ID_ROLE, entry.provider_id)
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, text.split("  ", 1)[-1])
            if colour:
                item.setForeground(QBrush(QColor(colour)))
            self.targets.addItem(item)
            if entry.provider_id == select:
                item.setSelected(True)
                self.targets.setCurrentItem(item)
        if not self.targets.selectedItems() and self.targets.count():
            self.targets.item(0).setSelected(True)
        self.targets.blockSignals(False)
        if s.checks_running():
            if not self._spinner.isActive():
                self._spinner.start()
        else:
            self._spinner.stop()
        self._show_selected()
        self._update_buttons()
        problem = s.target_problem()
        if problem:
            show_message(self.message, problem, error=not s.checks_running())
        elif s.distribution_enabled and not s.targets:
            show_message(self.message, "No target chosen: the template stays on its source host until "
                                       "targets are added (they can be added later too).", error=False)
        else:
            show_message(self.message, "")
        self.completeChanged.emit()

    def _spin(self) -> None:
        self._frame += 1
        for row in range(self.targets.count()):
            item = self.targets.item(row)
            entry = self.state.target(item.data(ID_ROLE))
            if entry is not None and entry.checking:
                item.setText(self._row_text(entry)[0])

    def _show_selected(self) -> None:
        items = self.targets.selectedItems()
        entry = self.state.target(items[0].data(ID_ROLE)) if items else None
        if entry is None:
            self.table_label.setText("Prerequisites")
            self.model.set_results(None, "Add a target to see its prerequisites." if self.state.distribution_enabled
                                   else "")
        else:
            self.table_label.setText(f"Prerequisites of {entry.name}")
            self.model.set_results(entry.results, f"Checking {entry.name}…" if entry.checking else "")
            self.table.resizeRowsToContents()
        self.table.clearSpans()
        if self.model.placeholder:
            self.table.setSpan(0, 0, 1, self.model.columnCount())   # one sentence across the table

    def _update_buttons(self) -> None:
        on = self.state.distribution_enabled
        self.add_button.setEnabled(on and bool(self._enabled_items(only_selected=True)))
        self.add_all_button.setEnabled(on and bool(self._enabled_items(only_selected=False)))
        self.remove_button.setEnabled(on and bool(self.state.targets))
        self.recheck_button.setEnabled(on and bool(self.state.targets))

    def isComplete(self) -> bool:
        return not self.state.target_problem()
