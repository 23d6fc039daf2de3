"""The window's template actions (New Template, Maintenance, Distribution details, Delete template)
and the commands behind them and behind the template tabs' buttons.

Every dialog is opened with open() (never exec(): NOTES.md, qasync) and its answer starts a service
call through the bridge; started tasks are selected in the tasks dock so their log streams.
"""
from __future__ import annotations

import logging
from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from console.domain.tasks import TaskState
from console.domain.templates import Template, TemplateState
from console.ui import icons
from console.ui.inventory_nodes import Node, NodeKind, is_standalone
from console.ui.template_nodes import GROUP_TEMPLATES, template_key_path
from console.ui.window_commands import WindowCommands

log = logging.getLogger(__name__)


def _action(window, name: str, text: str, icon_name: str, tip: str,
            shortcut: QKeySequence | str | None = None) -> QAction:
    action = QAction(icons.icon(icon_name), text, window)
    action.setObjectName(name)
    action.setToolTip(tip)
    action.setStatusTip(tip)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    return action


def node_template(node: Node | None) -> Template | None:
    """The template of a template row or of one of its version rows."""
    if node is None:
        return None
    if node.kind is NodeKind.VERSION:
        node = node.parent
    return node.obj if node is not None and node.kind is NodeKind.TEMPLATE else None


class TemplateActions:
    def __init__(self, window) -> None:
        self.window = window
        self.new_template = _action(window, "actionNewTemplate", "New &Template...", "new-template",
                                    "Make a template from a virtual machine (the selected one, if any)",
                                    "Ctrl+Shift+N")
        self.maintenance = _action(window, "actionMaintenance", "&Maintenance", "maintenance",
                                   "Put the selected template in maintenance to update its VM, or leave it")
        self.maintenance.setCheckable(True)
        self.distribution_details = _action(window, "actionDistributionDetails", "Distribution &details",
                                            "distribution", "Show where the selected template is distributed")
        # Del, like Delete provider: only one of the two is enabled at a time, so the key is never ambiguous
        self.delete_template = _action(window, "actionDeleteTemplate", "Delete &template...", "delete",
                                       "Delete the selected template, its versions and its local copies",
                                       QKeySequence(QKeySequence.StandardKey.Delete))

    def add_to_menu(self, menu: QMenu) -> None:
        for action in (self.new_template, self.maintenance, self.distribution_details):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.delete_template)

    def add_to_toolbar(self, toolbar) -> None:
        toolbar.addSeparator()
        for action in (self.new_template, self.maintenance, self.distribution_details):
            toolbar.addAction(action)

    def update(self, node: Node | None, connected: bool) -> None:
        t = node_template(node)
        self.new_template.setEnabled(connected)
        can_maintain = connected and t is not None and t.state in (TemplateState.READY, TemplateState.MAINTENANCE)
        self.maintenance.setEnabled(can_maintain)
        self.maintenance.setChecked(t is not None and t.state is TemplateState.MAINTENANCE)
        if t is None:
            self.maintenance.setToolTip("Maintenance: select a template")
        elif t.state is TemplateState.MAINTENANCE:
            self.maintenance.setToolTip(f"Leave maintenance: a new version of '{t.name}', or discard the changes")
        elif can_maintain:
            self.maintenance.setToolTip(f"Enter maintenance: start the VM of '{t.name}' to update it")
        else:
            self.maintenance.setToolTip(f"Maintenance: not possible while the template is {t.state.value}")
        self.distribution_details.setEnabled(connected and t is not None)
        self.delete_template.setEnabled(connected and t is not None and t.state is not TemplateState.DELETING)

    def fill_context_menu(self, node: Node, menu: QMenu, commands: "TemplateCommands") -> bool:
        """Template rows, version rows and the Templates group; False for other rows."""
        if node.kind is NodeKind.GROUP and node.key == GROUP_TEMPLATES:
            menu.addAction(self.new_template)
            return True
        if node.kind not in (NodeKind.TEMPLATE, NodeKind.VERSION):
            return False
        menu.addAction(self.maintenance)
        menu.addAction(self.distribution_details)
        if node.kind is NodeKind.VERSION:
            menu.addSeparator()
            tid, number = node.parent.obj.id, node.obj.number
            tag = menu.addAction("Set &tag...")
            tag.setObjectName("actionSetTag")
            tag.triggered.connect(lambda: commands.set_tag(tid, number))
            delete = menu.addAction("Delete &version...")
            delete.setObjectName("actionDeleteVersion")
            delete.triggered.connect(lambda: commands.delete_version(tid, number))
        menu.addSeparator()
        menu.addAction(self.delete_template)
        return True


class TemplateCommands(WindowCommands):
    #: "Update their clones now" after a new version: template id, version, pool names (PoolCommands
    #: opens the pool update dialog for them)
    poolUpdateRequested = Signal(int, int, list)

    def __init__(self, window, actions: TemplateActions) -> None:
        super().__init__(window, actions)
        self._leaving: dict[int, int] = {}     # task id -> template id: a new version being made
        actions.new_template.triggered.connect(lambda: self.new_template())
        actions.maintenance.triggered.connect(lambda _checked: self.toggle_maintenance())
        actions.distribution_details.triggered.connect(lambda: self.distribution_details())
        actions.delete_template.triggered.connect(lambda: self.delete_template())
        window.details.on_template_view = self._connect_details

    def attach(self, services, bridge) -> None:
        """Show the farm's templates and follow their events."""
        model = self.model
        bridge.templateAdded.connect(model.add_template)
        bridge.templateChanged.connect(model.update_template)
        bridge.templateRemoved.connect(model.remove_template)
        bridge.distributionTargetChanged.connect(model.queue_target)
        bridge.taskChanged.connect(self._task_changed)
        for signal in (bridge.templateAdded, bridge.templateChanged, bridge.templateRemoved):
            signal.connect(lambda *_: self._templates_changed())
        if hasattr(services, "templates"):
            model.set_templates(services.templates.list())

    def _templates_changed(self) -> None:
        if "_template_view" in self.window.details.__dict__:
            self.window.details.template_view.forget_pools()
        self.window._schedule_status()        # the actions' enablement, once per loop turn

    def _connect_details(self, view) -> None:
        view.pools_of = self.pools_of
        view.addTargetRequested.connect(self.add_target)
        view.removeTargetRequested.connect(self.remove_target)
        view.retryTargetRequested.connect(self.retry_target)
        view.setTagRequested.connect(self.set_tag)
        view.deleteVersionRequested.connect(self.delete_version)

    def pools_of(self, template_id: int, version: int | None = None) -> list[str]:
        lookup = getattr(getattr(self.services, "templates", None), "pool_names_using", None)
        return list(lookup(template_id, version)) if lookup is not None else []

    # ----- helpers ----------------------------------------------------------------------------
    def selected(self) -> Template | None:
        t = node_template(self.window.tree.selected_node())
        return self.model.template(t.id) if t is not None else None

    def _template(self, template_id: int) -> Template | None:
        return self.model.template(template_id)

    def _provider_name(self, provider_id: int) -> str:
        node = self.model.provider_node(provider_id)
        return node.obj.name if node is not None else f"provider {provider_id}"

    def _standalone_source(self, t: Template) -> bool:
        node = self.model.provider_node(t.provider_id)
        return node is None or is_standalone(node.obj)

    def _start(self, fn, *args, what: str):
        if self.window.bridge is None:
            return None
        task = self.window.bridge.call(fn, *args, what=what)
        self.window._follow_task(task)
        return task

    # ----- the window's actions ---------------------------------------------------------------
    def new_template(self):
        if self.window.bridge is None:
            return None
        node = self.window.tree.selected_node()
        provider_id = vm_id = None
        if node is not None and node.kind is NodeKind.VM:
            provider_id, vm_id = node.provider_node().obj.id, node.obj.id
        try:
            from console.ui.template_wizard.wizard import open_create_template_wizard
        except ImportError as exc:
            log.error("the Create Template wizard cannot be loaded: %s", exc)
            self.window.show_error("New template", "The Create Template wizard is not available in this build.",
                                   "The details are in the application log.")
            return None
        wizard = open_create_template_wizard(self.window, self.window.bridge, provider_id, vm_id)
        self.last_dialog = wizard
        return wizard

    def toggle_maintenance(self):
        t = self.selected()
        self.actions.maintenance.setChecked(t is not None and t.state is TemplateState.MAINTENANCE)
        if t is None or self.window.bridge is None:
            return None
        if t.state is TemplateState.MAINTENANCE:
            return self.leave_maintenance(t)
        return self.enter_maintenance(t)

    def enter_maintenance(self, t: Template):
        from console.ui.template_dialogs import EnterMaintenanceDialog
        dialog = EnterMaintenanceDialog(t, can_revert=self._standalone_source(t), parent=self.window)
        dialog.versionChosen.connect(lambda number: self._start(
            self.services.templates.enter_maintenance, t.id, number, what="Enter maintenance"))
        self._open(dialog)
        return dialog

    def leave_maintenance(self, t: Template):
        from console.ui.template_dialogs import LeaveMaintenanceDialog
        dialog = LeaveMaintenanceDialog(t, can_discard=self._standalone_source(t), parent=self.window)

        def chosen(new_version: bool, notes: str, force_off: bool) -> None:
            task = self._start(self.services.templates.leave_maintenance, t.id, new_version, notes, force_off,
                               what="Leave maintenance")
            if task is not None and new_version:
                self._leaving[task.id] = t.id
        dialog.leaveChosen.connect(chosen)
        self._open(dialog)
        return dialog

    def _task_changed(self, task) -> None:
        template_id = self._leaving.get(task.id)
        if template_id is None or not task.state.finished:
            return
        del self._leaving[task.id]
        if task.state is TaskState.SUCCEEDED:
            self.offer_pool_update(template_id, list(task.result.get("pools") or []))

    def offer_pool_update(self, template_id: int, pools: list[str]):
        """After a new version: the pools using the template may update their clones now or later."""
        t = self._template(template_id)
        latest = t.latest_version.number if t is not None and t.latest_version is not None else 0
        name = t.name if t is not None else f"template {template_id}"
        if not pools:
            self.window.statusBar().showMessage(f"Version {latest} of '{name}' is ready. No pool uses the "
                                                "template.", 10000)
            return None
        from console.ui.template_dialogs import pool_update_offer

        def now() -> None:
            log.info("pool update handed off: template %s version %s, pools %s", template_id, latest, pools)
            self.poolUpdateRequested.emit(template_id, latest, list(pools))    # PoolCommands opens the update
        box = pool_update_offer(self.window, name, latest, pools, now)
        self._open(box)
        return box

    def distribution_details(self) -> None:
        t = self.selected()
        if t is None:
            return
        self.window.tree.select_key(template_key_path(t.id))
        self.window.details.show_key(template_key_path(t.id))
        self.window.details.show_template_tab("distribution")

    def delete_template(self):
        t = self.selected()
        if t is None or self.window.bridge is None:
            return None
        pools = self.pools_of(t.id, None)
        if pools:
            self.window.show_error("Delete template", f"The template '{t.name}' cannot be deleted: the pool"
                                   f"{'s' if len(pools) != 1 else ''} {', '.join(pools)} use"
                                   f"{'' if len(pools) != 1 else 's'} it.",
                                   "Delete those pools, or move them to another template, first.")
            return None
        copies = (f"Its local copies on {len(t.targets)} distribution target"
                  f"{'s' if len(t.targets) != 1 else ''}, its exports and " if t.targets else "Its ")
        return self._confirm("confirmDeleteTemplate", "Delete template", f"Delete the template '{t.name}'?",
                             f"{copies}the checkpoints the console made of its versions are deleted. The VM "
                             f"'{t.source_vm_name or t.source_vm_id}' itself stays.",
                             partial(self._start, self.services.templates.delete, t.id, what="Delete template"))

    # ----- the template tabs' buttons ---------------------------------------------------------
    def set_tag(self, template_id: int, number: int):
        t = self._template(template_id)
        if t is None or self.window.bridge is None:
            return None
        from console.ui.template_dialogs import SetTagDialog
        dialog = SetTagDialog(t, number, self.window)

        def chosen(tag: str) -> None:
            if self.window.bridge.call(self.services.templates.set_tag, template_id, number, tag,
                                       what="Set tag") is not None:
                self._reload(template_id)
        dialog.tagChosen.connect(chosen)
        self._open(dialog)
        return dialog

    def delete_version(self, template_id: int, number: int):
        t = self._template(template_id)
        if t is None or self.window.bridge is None:
            return None
        pools = self.pools_of(template_id, number)
        if pools:
            self.window.show_error("Delete version", f"Version {number} of '{t.name}' cannot be deleted: "
                                   f"{', '.join(pools)} use{'s' if len(pools) == 1 else ''} it.",
                                   "Move those pools to another version first.")
            return None

        def delete() -> None:
            self.window.bridge.run(self.services.templates.delete_version(template_id, number), "Delete version",
                                   on_done=lambda _r: self._reload(template_id))
        return self._confirm("confirmDeleteVersion", "Delete version",
                             f"Delete version {number} of the template '{t.name}'?",
                             "Its checkpoint is deleted from the template VM; the other versions stay.", delete)

    def _reload(self, template_id: int) -> None:
        """Read a template again after a direct (non-task) change."""
        try:
            self.model.update_template(self.services.templates.get(template_id))
        except Exception as exc:      # removed meanwhile: its TemplateRemoved event says so
            log.debug("template %s not read again: %s", template_id, exc)

    def add_target(self, template_id: int):
        t = self._template(template_id)
        if t is None or self.window.bridge is None:
            return None
        from console.ui.template_dialogs import AddTargetDialog
        choices = self.window.bridge.call(self.services.templates.available_targets, t.provider_id,
                                          what="Add target")
        if choices is None:
            return None
        dialog = AddTargetDialog(t, choices, self.window)

        def check(provider_id: int) -> None:
            self.window.bridge.run(
                self.services.templates.check_target(t.provider_id, t.source_vm_id, provider_id), "Check target",
                on_done=lambda results: dialog.set_results(provider_id, results),
                on_error=lambda message, _hint, _exc: dialog.check_failed(provider_id, message))
        dialog.checkRequested.connect(check)
        dialog.targetChosen.connect(lambda provider_id: self._start(
            self.services.templates.add_target, template_id, provider_id, what="Add target"))
        self._open(dialog)
        return dialog

    def remove_target(self, template_id: int, provider_id: int):
        t = self._template(template_id)
        if t is None or self.window.bridge is None:
            return None
        host = self._provider_name(provider_id)
        return self._confirm("confirmRemoveTarget", "Remove target",
                             f"Remove {host} from the distribution of '{t.name}'?",
                             f"The local copy on {host} will be deleted. Pools can no longer make clones of "
                             f"'{t.name}' there.",
                             partial(self._start, self.services.templates.remove_target, template_id, provider_id,
                                     what="Remove target"))

    def retry_target(self, template_id: int, provider_id: int):
        if self.window.bridge is None:
            return None
        return self._start(self.services.templates.retry_target, template_id, provider_id, what="Retry target")
