"""The window's actions, menus, toolbar and tree context menus, and when each is enabled."""
from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from console.domain.inventory import PowerAction
from console.ui import icons
from console.ui.inventory_model import GROUP_PROVIDERS, Node, NodeKind
from console.ui.pool_actions import PoolActions
from console.ui.template_actions import TemplateActions

#: the provider's capability flags (services' Capabilities) by provider id, None when unknown
CapabilitiesOf = Callable[[int], object]

POWER_ICONS = {PowerAction.START: "vm-start", PowerAction.SHUTDOWN: "vm-shutdown",
               PowerAction.STOP: "vm-stop", PowerAction.RESTART: "vm-restart"}
# The letters of Hyper-V's Virtual Machine Connection (Ctrl+S start, Ctrl+D shut down, Ctrl+O turn off,
# Ctrl+R reset), with Shift added: a stray Ctrl+O or Ctrl+S must not turn off or start a VM.
POWER_SHORTCUTS = {PowerAction.START: "Ctrl+Shift+S", PowerAction.SHUTDOWN: "Ctrl+Shift+D",
                   PowerAction.STOP: "Ctrl+Shift+O", PowerAction.RESTART: "Ctrl+Shift+R"}


def _action(window: QMainWindow, name: str, text: str, icon_name: str = "",
            shortcut: QKeySequence | str | None = None, tip: str = "") -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if icon_name:
        action.setIcon(icons.icon(icon_name))
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    return action


class WindowActions:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.add_provider = _action(window, "actionAddProvider", "&Add Provider...", "add-provider",
                                    tip="Add a Hyper-V host to manage")
        self.quit = _action(window, "actionQuit", "&Quit", shortcut=QKeySequence.StandardKey.Quit)
        self.quit.setShortcut(QKeySequence("Ctrl+Q"))
        self.refresh = _action(window, "actionRefresh", "&Refresh", "refresh", QKeySequence("F5"),
                               "Read the inventory of every provider again")
        self.refresh_provider = _action(window, "actionRefreshProvider", "Refresh this provider", "refresh",
                                        tip="Read this provider's inventory again")
        self.find = _action(window, "actionFind", "&Find in inventory", shortcut="Ctrl+F",
                            tip="Filter the inventory by name; Enter selects the first match")
        self.power: dict[PowerAction, QAction] = {
            action: _action(window, f"action{action.name.capitalize()}", action.label, POWER_ICONS[action],
                            QKeySequence(POWER_SHORTCUTS[action]),
                            tip=f"{action.label} the selected virtual machine")
            for action in PowerAction}
        self.snapshot = _action(window, "actionSnapshot", "Take &snapshot...", "vm-snapshot",
                                tip="Take a snapshot of the selected virtual machine")
        self.clone = _action(window, "actionClone", "&Clone...", "vm-clone",
                             tip="Clone the selected virtual machine, in full or from a snapshot")
        self.delete_vm = _action(window, "actionDeleteVm", "Delete &VM...", "delete",
                                 tip="Delete the selected virtual machine and its disks")
        self.delete = _action(window, "actionDelete", "&Delete provider", "delete",
                              QKeySequence(QKeySequence.StandardKey.Delete),
                              "Remove the selected provider from the console (its VMs are not touched)")
        self.about = _action(window, "actionAbout", "&About VDI Console")
        self.templates = TemplateActions(window)
        self.pools = PoolActions(window)
        self.toggle_tasks: QAction | None = None     # from the dock's toggleViewAction

    def build_menus_and_toolbar(self, tasks_dock) -> QToolBar:
        window = self.window
        bar = window.menuBar()
        bar.setObjectName("menuBar")
        file_menu = bar.addMenu("&File")
        file_menu.setObjectName("menuFile")
        file_menu.addAction(self.add_provider)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        view_menu = bar.addMenu("&View")
        view_menu.setObjectName("menuView")
        view_menu.addAction(self.refresh)
        view_menu.addAction(self.find)
        self.toggle_tasks = tasks_dock.toggleViewAction()
        self.toggle_tasks.setObjectName("actionShowTasks")
        self.toggle_tasks.setText("&Tasks and log")
        view_menu.addAction(self.toggle_tasks)
        actions_menu = bar.addMenu("&Actions")
        actions_menu.setObjectName("menuActions")
        for action in self.power.values():
            actions_menu.addAction(action)
        actions_menu.addSeparator()
        actions_menu.addAction(self.snapshot)
        actions_menu.addAction(self.clone)
        actions_menu.addAction(self.delete_vm)
        actions_menu.addSeparator()
        actions_menu.addAction(self.refresh_provider)
        actions_menu.addAction(self.delete)
        templates_menu = bar.addMenu("&Templates")
        templates_menu.setObjectName("menuTemplates")
        self.templates.add_to_menu(templates_menu)
        pools_menu = bar.addMenu("&Pools")
        pools_menu.setObjectName("menuPools")
        self.pools.add_to_menu(pools_menu)
        help_menu = bar.addMenu("&Help")
        help_menu.setObjectName("menuHelp")
        help_menu.addAction(self.about)

        toolbar = QToolBar("Main toolbar", window)
        toolbar.setObjectName("mainToolBar")
        toolbar.setAccessibleName("Main toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.add_provider)
        toolbar.addAction(self.refresh)
        toolbar.addSeparator()
        for action in self.power.values():
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.snapshot)
        toolbar.addAction(self.clone)
        self.templates.add_to_toolbar(toolbar)
        self.pools.add_to_toolbar(toolbar)
        for action in toolbar.actions():
            if not action.objectName():
                continue    # a separator: its widget's class is private, and wrapping it makes PySide
                            # create every lazy QtWidgets class (~30 ms, before the first paint)
            widget = toolbar.widgetForAction(action)
            if widget is not None:
                widget.setObjectName(f"{action.objectName()}Button")
                widget.setAccessibleName(action.text().replace("&", "").rstrip("."))
        window.addToolBar(toolbar)
        return toolbar

    def update(self, node: Node | None, connected: bool, capabilities_of: CapabilitiesOf | None = None) -> None:
        """Enable what makes sense for the selected node (a VM's power state decides the power actions,
        the provider's capability flags the snapshot, clone and delete actions)."""
        state = node.obj.state if node is not None and node.kind is NodeKind.VM else None
        self._update_vm_actions(node, connected, capabilities_of)
        for action, qaction in self.power.items():
            qaction.setEnabled(connected and state is not None and action.allowed_from(state))
            keys = qaction.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if state is None:
                qaction.setToolTip(f"{action.label} ({keys}): select a virtual machine")
            elif not action.allowed_from(state):
                qaction.setToolTip(f"{action.label} ({keys}): not possible while the VM is {state.value}")
            else:
                qaction.setToolTip(f"{action.label} the selected virtual machine ({keys})")
        in_provider = node is not None and node.provider_node() is not None
        self.refresh_provider.setEnabled(connected and in_provider)
        self.delete.setEnabled(connected and node is not None and node.kind is NodeKind.PROVIDER)
        self.add_provider.setEnabled(connected)
        self.refresh.setEnabled(connected)
        self.templates.update(node, connected)

    def _update_vm_actions(self, node: Node | None, connected: bool,
                           capabilities_of: CapabilitiesOf | None) -> None:
        caps = None
        if connected and node is not None and node.kind is NodeKind.VM and capabilities_of is not None:
            prov = node.provider_node()
            caps = capabilities_of(prov.obj.id) if prov is not None else None
        can_snapshot = bool(getattr(caps, "can_snapshot", False))
        can_clone = bool(getattr(caps, "can_clone_vm", False))
        # deleting is one of the cloning operations (CloningAdapter): offered where cloning is
        for action, allowed in ((self.snapshot, can_snapshot), (self.clone, can_clone),
                                (self.delete_vm, can_clone)):
            action.setEnabled(allowed)
            label = action.text().replace("&", "").rstrip(".")
            if node is None or node.kind is not NodeKind.VM:
                action.setToolTip(f"{label}: select a virtual machine")
            elif not allowed:
                action.setToolTip(f"{label}: this provider cannot do it")
            else:
                action.setToolTip(action.statusTip())

    def context_menu(self, node: Node | None, template_commands=None, pool_commands=None) -> QMenu | None:
        if node is None:
            return None
        menu = QMenu(self.window)
        menu.setObjectName("treeContextMenu")
        if template_commands is not None and self.templates.fill_context_menu(node, menu, template_commands):
            return menu
        if pool_commands is not None and self.pools.fill_context_menu(node, menu):
            return menu
        if node.kind is NodeKind.GROUP:
            if node.key != GROUP_PROVIDERS:
                return None
            menu.addAction(self.add_provider)
            menu.addAction(self.refresh)
        elif node.kind is NodeKind.VM:
            for action in self.power.values():
                menu.addAction(action)
            menu.addSeparator()
            vm_actions = [a for a in (self.snapshot, self.clone, self.delete_vm) if a.isEnabled()]
            for action in vm_actions:
                menu.addAction(action)
            if vm_actions:
                menu.addSeparator()
            menu.addAction(self.templates.new_template)
            menu.addSeparator()
            menu.addAction(self.refresh_provider)
        elif node.kind is NodeKind.PROVIDER:
            menu.addAction(self.refresh_provider)
            menu.addSeparator()
            menu.addAction(self.delete)
        else:                                   # a cluster or a host
            menu.addAction(self.refresh_provider)
        return menu

