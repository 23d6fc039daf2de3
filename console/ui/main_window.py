"""The main window, laid out like the Parallels RAS Console: tree | details, tasks and log below."""
from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter

from console import APP_NAME, __version__
from console.domain.inventory import PowerAction, Provider
from console.ui import icons
from console.ui.details import DetailsPanel
from console.ui.inventory_model import InventoryModel, Node, NodeKind
from console.ui.inventory_tree import InventoryTree
from console.ui.pool_actions import PoolCommands
from console.ui.tasks_dock import TasksDock
from console.ui.tasks_model import TasksModel
from console.ui.template_actions import TemplateCommands
from console.ui.vm_commands import VMCommands
from console.ui.window_actions import WindowActions
from console.ui.window_layout import LayoutMemory

if TYPE_CHECKING:
    from console.ui.bridge import ServicesBridge

log = logging.getLogger(__name__)
SETTINGS_ORG = "VDI Console"
SETTINGS_APP = "VDI Console"


class MainWindow(LayoutMemory, QMainWindow):
    closed = Signal()

    def __init__(self, services=None, settings: QSettings | None = None, parent=None,
                 remember_layout: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setAccessibleName(APP_NAME)
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icons.icon("app"))
        self.settings = settings if settings is not None else QSettings(SETTINGS_ORG, SETTINGS_APP)
        self.remember_layout = remember_layout    # False: a screenshot run neither reads nor writes it
        self.services = None
        self.bridge: ServicesBridge | None = None
        self.last_error: tuple[str, str, str] | None = None   # what, sentence, hint (tests read it)
        self._dialogs: list = []            # open non-modal dialogs (kept alive until closed)
        self._pending_task_select: int | None = None

        self.inventory = InventoryModel(self)
        self.tree = InventoryTree(self.inventory, self)
        self.details = DetailsPanel(self.inventory, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([320, 960])
        self.setCentralWidget(self.splitter)

        self.tasks_model = TasksModel(self)
        self.tasks_dock = TasksDock(self.tasks_model, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.tasks_dock)
        self.log_pane = self.tasks_dock.log_pane

        self.vm_commands = VMCommands(self)
        self.actions = WindowActions(self)
        self.toolbar = self.actions.build_menus_and_toolbar(self.tasks_dock)
        self.template_commands = TemplateCommands(self, self.actions.templates)
        self.pool_commands = PoolCommands(self, self.actions.pools)
        self._connect_actions()

        self.providers_label = self._status_label("providersStatus", "Providers status")
        self.tasks_label = self._status_label("tasksStatus", "Tasks status")
        self.secrets_label = self._status_label("secretsStatus", "Password storage")
        self.secrets_label.setText("Passwords are kept for this session only (no keyring)")
        self.secrets_label.hide()
        self.statusBar().setObjectName("statusBar")
        self.statusBar().addPermanentWidget(self.secrets_label)
        self.statusBar().addPermanentWidget(self.providers_label)
        self.statusBar().addPermanentWidget(self.tasks_label)
        self._status_timer = QTimer(self, singleShot=True, interval=200)
        self._status_timer.timeout.connect(self.update_status)
        # task and inventory events come in bursts (F5: one task per provider): the actions'
        # enablement is worked out once per loop turn, not once per event
        self._actions_timer = QTimer(self, singleShot=True, interval=0)
        self._actions_timer.timeout.connect(self._update_actions)

        self.tree.selectionChangedTo.connect(self._node_selected)
        self.tree.contextMenuRequestedFor.connect(self._tree_menu)
        self.inventory.dataChanged.connect(lambda *_: self._schedule_status())
        self.inventory.rowsInserted.connect(lambda *_: self._schedule_status())
        self.inventory.rowsRemoved.connect(lambda *_: self._schedule_status())
        self.tasks_dock.taskSelected.connect(self._task_selected)
        self.tasks_dock.cancelRequested.connect(self._cancel_task)
        self.tasks_dock.retryRequested.connect(self.vm_commands.retry)
        self.tasks_dock.copyLogRequested.connect(self._copy_log)
        self.tasks_model.rowsInserted.connect(self._maybe_select_pending_task)

        self.resize(1280, 820)
        self.resizeDocks([self.tasks_dock], [300], Qt.Orientation.Vertical)
        if remember_layout:
            self.restore_layout()
        self.actions.update(None, connected=False)
        self.update_status()
        if services is not None:
            self.attach(services)

    def _status_label(self, name: str, accessible: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        return label

    def _connect_actions(self) -> None:
        a = self.actions
        a.add_provider.triggered.connect(self.open_add_provider)
        a.quit.triggered.connect(self.close)
        a.refresh.triggered.connect(lambda: self.refresh(None))
        a.refresh_provider.triggered.connect(self._refresh_selected_provider)
        a.find.triggered.connect(self.focus_filter)
        self.tree.filter_edit.returnPressed.connect(self.select_first_match)
        for action, qaction in a.power.items():
            qaction.triggered.connect(lambda _checked=False, act=action: self.power(act))
        a.delete.triggered.connect(self.confirm_delete_provider)
        a.snapshot.triggered.connect(self.vm_commands.take_snapshot)
        a.clone.triggered.connect(self.vm_commands.clone)
        a.delete_vm.triggered.connect(self.vm_commands.delete_vm)
        a.about.triggered.connect(self.show_about)

    # ----- services ----------------------------------------------------------------------------------
    def attach(self, services, refresh: bool = True) -> None:
        """Connect to started services: show what they know, then read the inventory again."""
        from console.ui.bridge import ServicesBridge   # imports asyncio: after the first paint
        self.services = services
        self.bridge = bridge = ServicesBridge(services, self)
        bridge.taskAdded.connect(self._task_added)
        bridge.taskChanged.connect(self._task_changed)
        bridge.taskLogged.connect(self.log_pane.append_line)
        bridge.providerAdded.connect(self.inventory.add_provider)
        bridge.providerUpdated.connect(lambda p: self.vm_commands.forget(p.id))
        bridge.providerUpdated.connect(self.inventory.update_provider)
        bridge.providerRemoved.connect(self.inventory.remove_provider)
        bridge.inventoryUpdated.connect(self.inventory.apply_inventory_in_slices)
        bridge.hostStatusChanged.connect(self.inventory.set_host_status)
        bridge.vmChanged.connect(self.inventory.update_vm)
        bridge.vmChanged.connect(lambda *_: self._update_actions())
        bridge.vmRemoved.connect(self.inventory.remove_vm)
        bridge.certificateRejected.connect(self.vm_commands.certificate_rejected)
        bridge.operationFailed.connect(self.show_error)
        self.template_commands.attach(services, bridge)
        self.pool_commands.attach(services, bridge)
        if services.lab is not None:
            self.setWindowTitle(f"{APP_NAME} (lab)")
        self.secrets_label.setVisible(not services.secrets.persistent)

        providers = services.providers.list()
        self.inventory.set_providers(providers)
        for provider in providers:
            known = services.providers.inventory(provider.id)
            if known is not None:
                self.inventory.apply_inventory(known)
        self.tasks_model.set_tasks(services.tasks.recent(500))
        self._update_actions()
        self.update_status()
        missing = {p.id for p in services.providers.missing_passwords()}
        if refresh:
            for provider in providers:
                if provider.id not in missing:
                    bridge.call(services.providers.refresh, provider.id, what="Refresh")
        self._ask_passwords([p for p in providers if p.id in missing])

    def _ask_passwords(self, queue: list[Provider]) -> None:
        """One small dialog at a time (open(), never exec()): each answer refreshes its provider. Then
        the domain join passwords of templates and pools (console/ui/join_passwords.py)."""
        if not queue:
            from console.ui.join_passwords import ask_join_passwords
            ask_join_passwords(self)
            return
        from console.ui.password_dialog import PasswordDialog
        provider, rest = queue[0], queue[1:]
        dialog = PasswordDialog(provider, self.services.secrets.persistent, self)

        def given(provider_id: int, password: str) -> None:
            self.bridge.call(self.services.providers.set_password, provider_id, password, what="Password")
            self.bridge.call(self.services.providers.refresh, provider_id, what="Refresh")
        dialog.passwordGiven.connect(given)
        dialog.finished.connect(lambda _r: (self._forget_dialog(dialog), self._ask_passwords(rest)))
        self._keep_dialog(dialog)
        dialog.open()

    def _keep_dialog(self, dialog) -> None:
        self._dialogs.append(dialog)

    def _forget_dialog(self, dialog) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
        dialog.deleteLater()

    # ----- events ------------------------------------------------------------------------------------
    def _task_added(self, task) -> None:
        self.tasks_model.queue_task(task)       # the rows of a burst go in together, next loop turn
        self._schedule_status()

    def _task_changed(self, task) -> None:
        self.tasks_model.update_task(task)
        self._schedule_status()

    def _task_selected(self, task_id) -> None:
        lines = self.services.tasks.log_lines(task_id) if task_id is not None and self.services else []
        self.log_pane.show_task(task_id, lines)

    def _maybe_select_pending_task(self, *_args) -> None:
        if self._pending_task_select is not None and self.tasks_dock.select_task(self._pending_task_select):
            self._pending_task_select = None

    def _follow_task(self, task) -> None:
        """Select a task just started from the UI, so its log streams."""
        if task is None:
            return
        if not self.tasks_dock.select_task(task.id):
            self._pending_task_select = task.id

    def _node_selected(self, node: Node | None) -> None:
        self.details.show_key(node.key_path() if node is not None else "")
        self._update_actions()

    def _update_actions(self) -> None:
        node = self.tree.selected_node()
        self.actions.update(node, connected=self.services is not None, capabilities_of=self.vm_commands.capabilities)
        self.pool_commands.update_actions(node, connected=self.services is not None)

    def _schedule_status(self) -> None:
        if not self._status_timer.isActive():
            self._status_timer.start()
        if not self._actions_timer.isActive():
            self._actions_timer.start()

    def update_status(self) -> None:
        connected, unreachable = self.inventory.status_counts()
        self.providers_label.setText(f"{connected} provider{'s' if connected != 1 else ''} connected, "
                                     f"{unreachable} unreachable")
        running = self.tasks_model.running_count()
        self.tasks_label.setText(f"{running} task{'s' if running != 1 else ''} running")

    def show_error(self, what: str, message: str, hint: str) -> None:
        self.last_error = (what, message, hint)
        self.statusBar().showMessage(f"{what}: {message}" if what else message, 10000)
        from PySide6.QtWidgets import QMessageBox
        box = QMessageBox(QMessageBox.Icon.Warning, what or APP_NAME, message, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorMessage")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(hint)
        box.finished.connect(lambda _r: self._forget_dialog(box))
        self._keep_dialog(box)
        box.open()

    # ----- commands ----------------------------------------------------------------------------------
    def refresh(self, provider_id: int | None = None) -> None:
        if self.bridge is None:
            return
        self.bridge.call(self.services.providers.refresh, provider_id, what="Refresh")

    def focus_filter(self) -> None:
        """Ctrl+F: type a name, Enter goes to it (the whole window works from the keyboard)."""
        self.tree.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.tree.filter_edit.selectAll()

    def select_first_match(self) -> bool:
        """Enter in the filter box: select the first row whose name matches (a VM rather than its
        provider when both do) and move the keyboard focus to the tree."""
        tree = self.tree
        tree.apply_filter_now()
        needle = tree.filter_edit.text().strip().casefold()
        if not needle:
            return False
        proxy, first = tree.proxy, None
        pending = deque(proxy.index(r, 0) for r in range(proxy.rowCount()))
        while pending:                                    # breadth-first, in the order shown
            idx = pending.popleft()
            node = self.inventory.node_at(proxy.mapToSource(idx))
            if node is not None and needle in node.label.casefold():
                if node.kind is NodeKind.VM:
                    first = idx
                    break
                if first is None:
                    first = idx
            pending.extend(proxy.index(r, 0, idx) for r in range(proxy.rowCount(idx)))
        if first is None:
            self.statusBar().showMessage(f"Nothing in the inventory matches '{tree.filter_edit.text().strip()}'.",
                                         5000)
            return False
        tree.view.setCurrentIndex(first)
        tree.view.scrollTo(first)
        tree.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return True

    def _refresh_selected_provider(self) -> None:
        node = self.tree.selected_node()
        prov = node.provider_node() if node is not None else None
        if prov is not None:
            self.refresh(prov.obj.id)

    def power(self, action: PowerAction) -> None:
        node = self.tree.selected_node()
        if self.bridge is None or node is None or node.kind is not NodeKind.VM:
            return
        if not action.allowed_from(node.obj.state):
            return
        provider_id = node.provider_node().obj.id
        task = self.bridge.call(self.services.providers.power, provider_id, node.obj.id, action,
                                what=f"{action.label} VM")
        self._follow_task(task)

    def open_add_provider(self):
        if self.bridge is None:
            return None
        from console.ui.add_provider_dialog import AddProviderDialog
        dialog = AddProviderDialog(self.bridge, self)
        dialog.providerAdded.connect(self._provider_added)
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))
        self._keep_dialog(dialog)
        dialog.open()
        return dialog

    def _provider_added(self, provider: Provider) -> None:
        self.inventory.add_provider(provider)
        self.tree.select_key(f"providers/p:{provider.id}")
        self.refresh(provider.id)

    def confirm_delete_provider(self):
        node = self.tree.selected_node()
        if self.bridge is None or node is None or node.kind is not NodeKind.PROVIDER:
            return None
        provider: Provider = node.obj
        from PySide6.QtWidgets import QMessageBox
        box = QMessageBox(QMessageBox.Icon.Question, "Delete provider",
                          f"Remove the provider '{provider.name}' from the console?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("confirmDelete")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText("Its virtual machines are not touched; only the console forgets the host "
                               "and its saved password.")
        box.setDefaultButton(QMessageBox.StandardButton.No)

        def answered(button) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self.bridge.run(self.services.providers.remove(provider.id), "Delete provider")
        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _r: self._forget_dialog(box))
        self._keep_dialog(box)
        box.open()
        return box

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox
        box = QMessageBox(QMessageBox.Icon.NoIcon, f"About {APP_NAME}",
                          f"{APP_NAME} {__version__}\nVDI template provisioning on Hyper-V and Nutanix AHV.",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("aboutBox")
        box.setIconPixmap(icons.icon("app").pixmap(64, 64))
        box.finished.connect(lambda _r: self._forget_dialog(box))
        self._keep_dialog(box)
        box.open()

    def _cancel_task(self, task_id: int) -> None:
        if self.bridge is not None:
            self.bridge.call(self.services.tasks.cancel, task_id, what="Cancel task")

    def _copy_log(self, task_id: int) -> None:
        if self.services is not None:
            self.tasks_dock.copy_lines(self.services.tasks.log_lines(task_id))

    def _tree_menu(self, node, global_pos) -> None:
        menu = self.actions.context_menu(node, self.template_commands, self.pool_commands)
        if menu is not None:
            menu.popup(global_pos)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.remember_layout:
            self.save_layout()
        if self.bridge is not None:
            self.bridge.close()
        super().closeEvent(event)
        self.closed.emit()
