"""The details of a template: tabs General, Versions and Distribution (the Distribution details).

Built the first time a template is selected (DetailsPanel.template_view). The buttons only say
what the administrator asked for, through signals; TemplateCommands (template_actions.py) opens
the dialogs and calls the services. The tables follow the tree's template rows, whose distribution
progress is already coalesced (template_nodes.py), through the details panel's refresh timer.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from console.domain.templates import ImagePreparation, Template, TemplateState
from console.ui.details import PropertyForm, _table
from console.ui.inventory_nodes import Node, NodeKind
from console.ui.table_models import ITEM_ROLE, format_bytes
from console.ui.tasks_model import ProgressDelegate
from console.ui.template_tables import (TargetRow, TargetTableModel, TemplateListModel, VersionRow,
                                        VersionTableModel, busy)

#: pool names using a template (version None: any version); set by TemplateCommands
PoolsOf = Callable[[int, "int | None"], list]


def _button(text: str, name: str, accessible: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setAccessibleName(accessible)
    return button


def _note(name: str, parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)       # template and host names are data
    label.setWordWrap(True)
    return label


def general_rows(t: Template, provider_name: str) -> list[tuple[str, str]]:
    p = t.preparation
    latest = t.latest_version
    state = t.state.value.capitalize()
    if t.state is TemplateState.MAINTENANCE:
        state += (f" (started from v{t.maintenance_from}; no new clones until it is left)"
                  if t.maintenance_from is not None else " (no new clones until it is left)")
    if p.method is ImagePreparation.SYSPREP:
        preparation = "Sysprep (generalize, new SID)"
    else:
        preparation = "Rename and join the domain (quick, keeps the SID)"
    if t.distribution_enabled:
        distribution = (f"Enabled: {len(t.targets)} target{'s' if len(t.targets) != 1 else ''}, "
                        f"{t.concurrent_distribution} copied at a time")
    else:
        distribution = "Not enabled"
    return [("Name", t.name), ("Description", t.description or "None"),
            ("Source VM", t.source_vm_name or t.source_vm_id),
            ("Source provider", provider_name + (f" (host {t.source_host})" if t.source_host
                                                 and t.source_host.casefold() != provider_name.casefold() else "")),
            ("State", state), ("Created", t.created.replace("T", " ")[:19] + " UTC" if t.created else ""),
            ("Latest version", f"v{latest.number}, {format_bytes(latest.size_bytes)}" if latest else "None"),
            ("Distribution", distribution), ("Preparation", preparation),
            ("Domain", p.domain or "None (workgroup)"),
            ("Organizational unit", p.organizational_unit or "Default Computers container"),
            ("Join account", p.join_account or "None"),
            ("Local administrator", p.local_administrator), ("Owner", p.owner or "None"),
            ("Organization", p.organization or "None")]


class TemplateDetails(QObject):
    addTargetRequested = Signal(int)              # template id
    removeTargetRequested = Signal(int, int)      # template id, provider id
    retryTargetRequested = Signal(int, int)       # template id, provider id
    setTagRequested = Signal(int, int)            # template id, version number
    deleteVersionRequested = Signal(int, int)     # template id, version number

    def __init__(self, model, parent: QWidget) -> None:
        super().__init__(parent)
        self.model = model
        self.template_id: int | None = None
        self.pools_of: PoolsOf = lambda _tid, _version: []
        self._pools_cache: dict[tuple[int, int], tuple[str, ...]] = {}

        self.general = PropertyForm("templateGeneralForm", parent)
        self.general.setAccessibleName("Template")

        self.versions_page = QWidget(parent)
        self.versions_page.setObjectName("templateVersionsPage")
        self.version_model = VersionTableModel(self)
        self.versions_table, self.versions_proxy = _table("templateVersionsTable", "Versions",
                                                          self.version_model, self.versions_page)
        self.versions_table.sortByColumn(0, Qt.SortOrder.DescendingOrder)    # the latest on top
        for column, width in enumerate((110, 130, 280, 120, 90)):
            self.versions_table.horizontalHeader().resizeSection(column, width)
        self.set_tag_button = _button("Set &tag...", "setTagButton", "Set tag", self.versions_page)
        self.delete_version_button = _button("Delete version...", "deleteVersionButton", "Delete version",
                                             self.versions_page)
        self.versions_note = _note("versionsNote", self.versions_page)
        bar = QHBoxLayout()
        bar.addWidget(self.set_tag_button)
        bar.addWidget(self.delete_version_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self.versions_page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.versions_table)
        layout.addWidget(self.versions_note)

        self.distribution_page = QWidget(parent)
        self.distribution_page.setObjectName("templateDistributionPage")
        self.target_model = TargetTableModel(self)
        self.targets_table, self.targets_proxy = _table("distributionTable", "Distribution details",
                                                        self.target_model, self.distribution_page)
        self.targets_table.setItemDelegateForColumn(TargetTableModel.COL_PROGRESS,
                                                    ProgressDelegate(self.targets_table))
        for column, width in enumerate((140, 120, 180, 64, 110)):
            self.targets_table.horizontalHeader().resizeSection(column, width)
        self.add_target_button = _button("&Add target...", "addTargetButton", "Add target",
                                         self.distribution_page)
        self.remove_target_button = _button("&Remove target...", "removeTargetButton", "Remove target",
                                            self.distribution_page)
        self.distribution_note = _note("distributionSummary", self.distribution_page)
        bar = QHBoxLayout()
        bar.addWidget(self.add_target_button)
        bar.addWidget(self.remove_target_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self.distribution_page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.distribution_note)
        layout.addLayout(bar)
        layout.addWidget(self.targets_table)
        # the last error in full (the column cuts it): the selected target's, else the first failed one's
        self.target_error = _note("targetErrorText", self.distribution_page)
        self.target_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.target_error)

        self.list_model = TemplateListModel(self)
        self.list_table, _ = _table("templateListTable", "Templates", self.list_model, parent)
        for column, width in enumerate((200, 260, 110, 110)):
            self.list_table.horizontalHeader().resizeSection(column, width)

        self.pages = (self.general, self.versions_page, self.distribution_page, self.list_table)
        self.set_tag_button.clicked.connect(self._set_tag)
        self.delete_version_button.clicked.connect(self._delete_version)
        self.add_target_button.clicked.connect(self._add_target)
        self.remove_target_button.clicked.connect(self._remove_target)
        self.versions_table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.targets_table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.targets_proxy.layoutChanged.connect(self._sync_retry_buttons)

    # ----- what is shown ------------------------------------------------------------------------
    @property
    def template(self) -> Template | None:
        return self.model.template(self.template_id) if self.template_id is not None else None

    def provider_name(self, provider_id: int) -> str:
        node = self.model.provider_node(provider_id)
        return node.obj.name if node is not None else f"Provider {provider_id} (removed)"

    def show_list(self) -> list[tuple[QWidget, str]]:
        """The Templates group's page."""
        self.list_model.set_items((t, self.provider_name(t.provider_id)) for t in self.model.templates())
        return [(self.list_table, "Templates")]

    def show(self, node: Node) -> list[tuple[QWidget, str]]:
        """Fill the tabs for a template row (or one of its versions): the pages, with their titles."""
        template_node = node.parent if node.kind is NodeKind.VERSION else node
        t: Template = template_node.obj
        if t.id != self.template_id:
            self._pools_cache.clear()
            self.targets_table.clearSelection()
        self.template_id = t.id
        self.general.set_rows(general_rows(t, self.provider_name(t.provider_id)))
        self._fill_versions(t)
        self._fill_targets(t)
        self._update_buttons()
        title = "Distribution details" if t.distribution_enabled else "Distribution"
        return [(self.general, "General"), (self.versions_page, "Versions"), (self.distribution_page, title)]

    def select_version(self, number: int) -> None:
        row = next((r for r in range(self.version_model.rowCount())
                    if self.version_model.items()[r].version.number == number), None)
        if row is None:
            return
        idx = self.versions_proxy.mapFromSource(self.version_model.index(row, 0))
        self.versions_table.selectionModel().select(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.versions_table.setCurrentIndex(idx)

    def _pools(self, t: Template, number: int) -> tuple[str, ...]:
        key = (t.id, number)
        if key not in self._pools_cache:
            try:
                self._pools_cache[key] = tuple(self.pools_of(t.id, number))
            except Exception:      # the farm closed under us (window closing): show none
                self._pools_cache[key] = ()
        return self._pools_cache[key]

    def forget_pools(self) -> None:
        """Pools changed (or a version did): read them again on the next refresh."""
        self._pools_cache.clear()

    def _fill_versions(self, t: Template) -> None:
        latest = t.latest_version
        self.version_model.set_items(
            VersionRow(v, self._pools(t, v.number), latest is not None and v.number == latest.number)
            for v in t.versions)
        count = len(t.versions)
        self.versions_note.setText(
            f"{count} version{'s' if count != 1 else ''}. A tag (production, pre-production or your own) "
            "is on one version at a time; a version that a pool uses cannot be deleted.")

    def _fill_targets(self, t: Template) -> None:
        latest = t.latest_version.number if t.latest_version is not None else None
        self.target_model.set_items(TargetRow(x, self.provider_name(x.provider_id), latest) for x in t.targets)
        self._sync_retry_buttons()
        for widget in (self.add_target_button, self.remove_target_button, self.targets_table):
            widget.setVisible(t.distribution_enabled)
        if not t.distribution_enabled:
            self.distribution_note.setText(
                "Distribution is not enabled for this template: its clones are made on "
                f"{self.provider_name(t.provider_id)} only. It is chosen when a template is created "
                "(standalone Hyper-V sources only) and cannot be changed afterwards.")
            return
        running = [x for x in t.targets if busy(x)]
        up_to_date = sum(1 for x in t.targets if x.version == latest and x.state.value == "ready")
        text = (f"v{latest} is on {up_to_date} of {len(t.targets)} target"
                f"{'s' if len(t.targets) != 1 else ''}." if latest is not None else "No version yet.")
        if running:
            text += f" Distributing to {len(running)} now."
        failed = sum(1 for x in t.targets if x.progress.value == "failed")
        if failed:
            text += f" {failed} failed: Retry sends the latest version again."
        self.distribution_note.setText(text)

    def _sync_retry_buttons(self) -> None:
        """A Retry button in the row of each target that failed or lags behind, none elsewhere."""
        for row in range(self.targets_proxy.rowCount()):
            idx = self.targets_proxy.index(row, TargetTableModel.COL_RETRY)
            item: TargetRow = idx.data(ITEM_ROLE)
            t = item.target
            wanted = not busy(t) and (t.progress.value == "failed" or t.version != item.latest)
            button = self.targets_table.indexWidget(idx)
            if wanted and button is None:
                button = QToolButton(self.targets_table)
                button.setText("Retry")
                button.setObjectName(f"retryTarget{t.provider_id}")
                button.setAccessibleName(f"Retry the distribution to {item.provider_name}")
                button.setToolTip(f"Copy the latest version to {item.provider_name} again")
                button.setAutoRaise(True)
                button.clicked.connect(lambda _c=False, pid=t.provider_id: self._retry(pid))
                self.targets_table.setIndexWidget(idx, button)
            elif not wanted and button is not None:
                self.targets_table.setIndexWidget(idx, None)

    def retry_button(self, provider_id: int) -> QToolButton | None:
        row = self.target_model.row_of(provider_id)
        if row < 0:
            return None
        idx = self.targets_proxy.mapFromSource(self.target_model.index(row, TargetTableModel.COL_RETRY))
        return self.targets_table.indexWidget(idx)

    # ----- selection and buttons ----------------------------------------------------------------
    def selected_version(self):
        rows = self.versions_table.selectionModel().selectedRows()
        return rows[0].data(ITEM_ROLE).version if rows else None

    def selected_target(self):
        rows = self.targets_table.selectionModel().selectedRows()
        return rows[0].data(ITEM_ROLE).target if rows else None

    def select_target(self, provider_id: int) -> None:
        row = self.target_model.row_of(provider_id)
        if row >= 0:
            idx = self.targets_proxy.mapFromSource(self.target_model.index(row, 0))
            self.targets_table.selectionModel().select(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.targets_table.setCurrentIndex(idx)

    def _show_error(self) -> None:
        t = self.template
        target = self.selected_target()
        if target is None or not target.last_error:
            target = next((x for x in (t.targets if t is not None else []) if x.last_error), None)
        if target is None or not target.last_error:
            self.target_error.clear()
            self.target_error.hide()
            return
        self.target_error.setText(f"{self.provider_name(target.provider_id)}: {target.last_error}")
        self.target_error.show()

    def _update_buttons(self) -> None:
        self._show_error()
        t = self.template
        version = self.selected_version()
        self.set_tag_button.setEnabled(version is not None)
        self.delete_version_button.setEnabled(version is not None and t is not None and len(t.versions) > 1)
        target = self.selected_target()
        self.remove_target_button.setEnabled(target is not None and target.progress.value != "removing")
        self.add_target_button.setEnabled(t is not None and t.state is not TemplateState.DELETING)

    def _set_tag(self) -> None:
        version = self.selected_version()
        if version is not None and self.template_id is not None:
            self.setTagRequested.emit(self.template_id, version.number)

    def _delete_version(self) -> None:
        version = self.selected_version()
        if version is not None and self.template_id is not None:
            self.deleteVersionRequested.emit(self.template_id, version.number)

    def _add_target(self) -> None:
        if self.template_id is not None:
            self.addTargetRequested.emit(self.template_id)

    def _remove_target(self) -> None:
        target = self.selected_target()
        if target is not None and self.template_id is not None:
            self.removeTargetRequested.emit(self.template_id, target.provider_id)

    def _retry(self, provider_id: int) -> None:
        if self.template_id is not None:
            self.retryTargetRequested.emit(self.template_id, provider_id)
