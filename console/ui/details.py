"""The middle pane: tabs describing the node selected in the tree."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QLineEdit, QScrollArea, QTableView,
                               QTabWidget, QVBoxLayout, QWidget)

from console.domain.inventory import Host, HostFacts, HostStatus, Provider, VM
from console.ui.inventory_model import GROUP_POOLS, GROUP_PROVIDERS, GROUP_TEMPLATES, InventoryModel, NodeKind
from console.ui.table_models import (SORT_ROLE, DiskTableModel, ProviderTableModel, VMTableModel,
                                     format_bytes, format_uptime, provider_status_text)
from console.ui.details_nutanix import (cluster_summary, nutanix_host_rows, nutanix_host_summary,
                                       nutanix_vm_rows)
from console.ui.inventory_clusters import has_clusters

__all__ = ["DetailsPanel", "PropertyForm", "facts_rows", "host_rows", "nutanix_host_rows", "vm_rows"]


class PropertyForm(QScrollArea):
    """Label: value rows. Values are plain text (a VM may be named '<b>x</b>')."""

    def __init__(self, object_name: str, parent=None) -> None:
        from PySide6.QtWidgets import QFormLayout      # built after the window's first paint
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget(self)
        self._form = QFormLayout(body)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._values: dict[str, QLabel] = {}
        self.setWidget(body)

    def set_rows(self, rows: list[tuple[str, str]]) -> None:
        names = [name for name, _ in rows]
        if names != list(self._values):
            while self._form.rowCount():
                self._form.removeRow(0)
            self._values.clear()
            for name in names:
                value = QLabel(self)
                value.setTextFormat(Qt.TextFormat.PlainText)
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                value.setWordWrap(True)
                value.setAccessibleName(name)
                title = QLabel(f"{name}:", self)
                title.setTextFormat(Qt.TextFormat.PlainText)
                self._form.addRow(title, value)
                self._values[name] = value
        for name, text in rows:
            self._values[name].setText(text)

    def value(self, name: str) -> str:
        label = self._values.get(name)
        return label.text() if label is not None else ""


def _table(object_name: str, accessible: str, model, parent) -> tuple[QTableView, QSortFilterProxyModel]:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    view = QTableView(parent)
    view.setObjectName(object_name)
    view.setAccessibleName(accessible)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.horizontalHeader().setObjectName(f"{object_name}Header")
    view.horizontalHeader().setAccessibleName(f"{accessible} columns")
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setDefaultSectionSize(110)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view, proxy


def host_rows(host: Host, vm_count: int, provider: Provider | None = None) -> list[tuple[str, str]]:
    facts: HostFacts | None = host.facts
    status = {HostStatus.CONNECTED: "Connected", HostStatus.UNREACHABLE: "Unreachable",
              HostStatus.AUTH_FAILED: "Authentication failed",
              HostStatus.UNKNOWN: "Not refreshed yet"}[host.status]
    if host.error:
        status = f"{status}: {host.error}"
    rows = [("Host", host.name), ("Status", status)]
    if provider is not None:
        s = provider.settings
        rows += [("Address", f"{s.address} (port {s.port}, {'HTTPS' if s.use_https else 'HTTP'})"),
                 ("Authentication", f"{s.transport.value.upper()} as {s.username or '(no user)'}")]
    if facts is None:
        return rows + [("Virtual machines", str(vm_count))]
    return rows + facts_rows(facts) + [("Virtual machines", str(vm_count))]


def facts_rows(facts: HostFacts) -> list[tuple[str, str]]:
    """What a host told us: also shown by Test connection in Add Provider."""
    lm = facts.live_migration
    if lm.enabled:
        migration = f"Enabled, {lm.authentication} authentication, {lm.max_migrations} at a time"
    else:
        migration = "Disabled"
    volumes = "; ".join(f"{v.path} {format_bytes(v.free_bytes)} free of {format_bytes(v.size_bytes)}"
                        for v in facts.volumes)
    return [
        ("Operating system", " ".join(filter(None, [facts.os_caption, facts.os_version]))),
        ("Hyper-V version", facts.hyperv_version),
        ("Domain", facts.domain if facts.part_of_domain else
         (f"Not in a domain (workgroup {facts.domain})" if facts.domain else "Not in a domain")),
        ("Live migration", migration),
        ("Virtual switches", ", ".join(f"{sw.name} ({sw.switch_type})" for sw in facts.switches) or "None"),
        ("Virtual machine path", facts.vm_path),
        ("Virtual hard disk path", facts.vhd_path),
        ("Volumes", volumes or "None reported"),
        ("Logical processors", str(facts.logical_processors)),
        ("Memory", format_bytes(facts.memory_bytes)),
    ]


def vm_rows(vm: VM) -> list[tuple[str, str]]:
    return [
        ("Name", vm.name), ("State", vm.state.value), ("Host", vm.host), ("ID", vm.id),
        ("Generation", str(vm.generation)), ("Configuration version", vm.version),
        ("Virtual processors", str(vm.cpu_count)), ("Memory", format_bytes(vm.memory_bytes)),
        ("Uptime", format_uptime(vm.uptime_seconds) or "Not running"), ("Network switch", vm.switch),
        ("Configuration folder", vm.path),
        ("Integration services", "Answering" if vm.guest_agent else "Not answering"),
        ("Notes", vm.notes),
    ]


class DetailsPanel(QTabWidget):
    """Shows the selected node by its key path; follows model changes, coalesced."""

    #: the pages other than ``empty``: built when first needed (a node selected, or any of them
    #: read), not before the window's first paint, which shows only ``empty``
    _LAZY_PAGES = frozenset({"summary", "vm_model", "vms_page", "vm_filter", "vm_table", "vm_proxy",
                             "vm_page", "vm_summary", "disk_model", "disk_table", "provider_model",
                             "provider_table"})

    def __init__(self, model: InventoryModel, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("detailsTabs")
        self.setAccessibleName("Details")
        self.model = model
        self._key = ""
        self._pages_built = False

        self.empty = QLabel(self)
        self.empty.setObjectName("detailsEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.hide()
        self._pages: tuple[QWidget, ...] = (self.empty,)

        #: called with the TemplateDetails when it is first built (the window connects its signals)
        self.on_template_view = None
        self.on_pool_view = None          # the same for the PoolDetails
        self._timer = QTimer(self, singleShot=True, interval=100)
        self._timer.timeout.connect(self.refresh)
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved):
            signal.connect(self._model_changed)
        self.show_key("")

    def __getattr__(self, name: str):
        if name in DetailsPanel._LAZY_PAGES and not self.__dict__.get("_pages_built", True):
            self._build_pages()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _build_pages(self) -> None:
        self._pages_built = True
        anchor = self._last_in_focus_chain()
        self.summary = PropertyForm("summaryForm", self)
        self.summary.setAccessibleName("Summary")

        self.vm_model = VMTableModel(self)
        self.vms_page = QWidget(self)
        self.vm_filter = QLineEdit(self.vms_page)
        self.vm_filter.setObjectName("vmFilter")
        self.vm_filter.setAccessibleName("Filter virtual machines")
        self.vm_filter.setPlaceholderText("Filter virtual machines")
        self.vm_filter.setClearButtonEnabled(True)
        self.vm_table, self.vm_proxy = _table("vmTable", "Virtual machines", self.vm_model, self.vms_page)
        self.vm_filter.textChanged.connect(self.vm_proxy.setFilterFixedString)
        for column, width in enumerate((240, 90, 60, 90, 110, 140)):   # Disks stretches
            self.vm_table.horizontalHeader().resizeSection(column, width)
        layout = QVBoxLayout(self.vms_page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.vm_filter)
        layout.addWidget(self.vm_table)

        self.vm_page = QWidget(self)
        self.vm_summary = PropertyForm("vmSummaryForm", self.vm_page)
        self.disk_model = DiskTableModel(self)
        self.disk_table, _ = _table("diskTable", "Virtual disks", self.disk_model, self.vm_page)
        vm_layout = QVBoxLayout(self.vm_page)
        vm_layout.setContentsMargins(4, 4, 4, 4)
        vm_layout.addWidget(self.vm_summary, 3)
        vm_layout.addWidget(QLabel("Virtual disks", self.vm_page))
        vm_layout.addWidget(self.disk_table, 2)

        self.provider_model = ProviderTableModel(self)
        self.provider_table, _ = _table("providerTable", "Providers", self.provider_model, self)
        for column, width in ((0, 200), (1, 260), (2, 300)):
            self.provider_table.horizontalHeader().resizeSection(column, width)
        self.disk_table.horizontalHeader().resizeSection(0, 420)

        built = (self.summary, self.vms_page, self.vm_page, self.provider_table)
        for page in built:
            page.hide()
        self._pages = (*built, self.empty)
        # built later than the tasks dock: put them back where Tab reached them, before the dock
        for widget in (self.summary, self.vm_filter, self.vm_table, self.vm_summary, self.disk_table,
                       self.provider_table):
            QWidget.setTabOrder(anchor, widget)
            anchor = widget

    def _last_in_focus_chain(self) -> QWidget:
        """The last of this panel's focusable widgets in the window's focus chain (Tab order)."""
        last = widget = self
        for _ in range(1000):
            widget = widget.nextInFocusChain()
            if widget is self or not self.isAncestorOf(widget):
                break
            if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                last = widget
        return last

    @property
    def template_view(self):
        """The template tabs (template_details.py), built when a template is first shown."""
        view = self.__dict__.get("_template_view")
        if view is None:
            from console.ui.template_details import TemplateDetails
            view = self._template_view = TemplateDetails(self.model, self)
            for page in view.pages:
                page.hide()
            self._pages = (*self._pages, *view.pages)
            if self.on_template_view is not None:
                self.on_template_view(view)
        return view

    @property
    def pool_view(self):
        """The pool tabs (pool_view.py), built when a pool is first shown."""
        view = self.__dict__.get("_pool_view")
        if view is None:
            from console.ui.pool_view import PoolDetails
            view = self._pool_view = PoolDetails(self.model, self)
            for page in view.pages:
                page.hide()
            self._pages = (*self._pages, *view.pages)
            if self.on_pool_view is not None:
                self.on_pool_view(view)
        return view

    def show_template_tab(self, which: str) -> None:
        """Bring a template's tab to the front: "general", "versions" or "distribution"."""
        view = self.template_view
        page = {"general": view.general, "versions": view.versions_page,
                "distribution": view.distribution_page}[which]
        if self.indexOf(page) >= 0:
            self.setCurrentWidget(page)

    @property
    def key(self) -> str:
        return self._key

    def show_key(self, key_path: str) -> None:
        changed = key_path != self._key
        self._key = key_path
        if changed and self._pages_built:
            self.vm_filter.clear()
        self.refresh(keep_tab=not changed)

    def _model_changed(self, *_args) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _set_pages(self, pages: list[tuple[QWidget, str]], keep_tab: bool) -> None:
        current = self.currentWidget() if keep_tab else None
        wanted = [w for w, _ in pages]
        if [self.widget(i) for i in range(self.count())] != wanted:
            self.blockSignals(True)
            while self.count():
                self.removeTab(0)
            for widget, title in pages:
                self.addTab(widget, title)
            self.blockSignals(False)
            for widget in self._pages:
                if widget not in wanted:
                    widget.hide()       # a page out of the tabs must not paint over them
        if current in wanted:
            self.setCurrentWidget(current)

    def refresh(self, keep_tab: bool = True) -> None:
        index = self.model.index_for_key_path(self._key) if self._key else None
        node = self.model.node_at(index) if index is not None and index.isValid() else None
        if node is None:
            self.empty.setText("Select a provider, host or virtual machine in the tree.")
            self._set_pages([(self.empty, "Details")], keep_tab)
            return
        if node.kind in (NodeKind.TEMPLATE, NodeKind.VERSION):
            self._set_pages(self.template_view.show(node), keep_tab)
            if node.kind is NodeKind.VERSION and not keep_tab:
                self.setCurrentWidget(self.template_view.versions_page)
                self.template_view.select_version(node.obj.number)
            return
        if node.kind is NodeKind.GROUP and node.key == GROUP_TEMPLATES and self.model.templates():
            self._set_pages(self.template_view.show_list(), keep_tab)
            return
        if node.kind is NodeKind.POOL or (node.kind is NodeKind.GROUP and node.key == GROUP_POOLS
                                          and self.model.pools()):
            view = self.pool_view
            self._set_pages(view.show(node) if node.kind is NodeKind.POOL else view.show_list(), keep_tab)
            return
        if node.kind is NodeKind.GROUP:
            if node.key == GROUP_PROVIDERS:
                self.provider_model.set_items(
                    (p, provider_status_text(self.model.provider_hosts(p.id))) for p in self.model.providers())
                self._set_pages([(self.provider_table, "Providers")], keep_tab)
            else:
                self.empty.setText({GROUP_TEMPLATES: "No templates in this farm yet.",
                                    GROUP_POOLS: "No pools in this farm yet."}.get(node.key, ""))
                self._set_pages([(self.empty, node.label)], keep_tab)
            return
        if node.kind is NodeKind.VM:
            self.vm_summary.set_rows(nutanix_vm_rows(node.obj) if node.obj.cluster else vm_rows(node.obj))
            for column in (2, 3):       # bytes used and parent disk: Hyper-V's, Prism reports neither
                self.disk_table.setColumnHidden(column, bool(node.obj.cluster))
            self.disk_model.set_items(node.obj.disks)
            self._set_pages([(self.vm_page, "Summary")], keep_tab)
            return
        if node.kind is NodeKind.CLUSTER:
            vms = self.model.cluster_vms(node)
            self.summary.set_rows(cluster_summary(node.obj, self.model.cluster_hosts(node), vms))
            self.vm_model.set_items(vms)
            self._set_pages([(self.summary, "Summary"), (self.vms_page, "Virtual machines")], keep_tab)
            return
        if node.kind is NodeKind.PROVIDER and has_clusters(node.obj):
            self.summary.set_rows(self._prism_rows(node))
            self._set_pages([(self.summary, "Summary")], keep_tab)
            return
        if node.kind is NodeKind.PROVIDER and node.host is None:
            p: Provider = node.obj
            hosts = self.model.provider_hosts(p.id)
            self.summary.set_rows([("Name", p.name), ("Kind", p.kind.label), ("Address", p.settings.address),
                                   ("Status", provider_status_text(hosts)), ("Hosts", str(len(hosts)))])
            self._set_pages([(self.summary, "Summary")], keep_tab)
            return
        # a host, or a standalone provider (which is its host)
        host = node.host if node.kind is NodeKind.PROVIDER else node.obj
        provider = node.obj if node.kind is NodeKind.PROVIDER else None
        vms = self.model.vms_of(node)
        if node.kind is NodeKind.HOST and node.parent is not None and node.parent.kind is NodeKind.CLUSTER:
            self.summary.set_rows(nutanix_host_summary(host, len(vms)))
        else:
            self.summary.set_rows(host_rows(host, len(vms), provider))
        self.vm_model.set_items(vms)
        self._set_pages([(self.summary, "Summary"), (self.vms_page, "Virtual machines")], keep_tab)

    def _prism_rows(self, node) -> list[tuple[str, str]]:
        p: Provider = node.obj
        clusters = self.model.cluster_nodes(p.id)
        hosts = sum(len(self.model.cluster_hosts(c)) for c in clusters)
        vms = len(node.vms_by_id)
        status, error = self.model.provider_status(p.id)
        status_text = {HostStatus.CONNECTED: "Connected", HostStatus.UNREACHABLE: "Unreachable",
                       HostStatus.AUTH_FAILED: "Authentication failed",
                       HostStatus.UNKNOWN: "Not refreshed yet"}[status] + (f": {error}" if error else "")
        s = p.settings
        port = f", port {s.port}" if "://" not in s.address and s.port not in (0, 5985, 5986) else ""
        return [("Name", p.name), ("Kind", p.kind.label), ("Address", f"{s.address}{port}"),
                ("User", s.username or "(no user)"),
                ("Certificate", f"Pinned, SHA-256 {s.pinned_fingerprint}" if s.pinned_fingerprint
                 else "Trusted through the system's certificate authorities"),
                ("Status", status_text),
                ("Clusters", ", ".join(c.label for c in clusters) or "None yet"),
                ("Hosts", str(hosts)), ("Virtual machines", str(vms))]
