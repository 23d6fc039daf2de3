"""The main window against the real services and the embedded lab (WinRM over loopback)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from console.domain.inventory import HostStatus, PowerAction, PowerState
from console.domain.tasks import TaskState
from console.lab import HOSTILE_NAMES
from console.ui.inventory_model import NodeKind, is_standalone
from console.ui.main_window import MainWindow


def open_window(qtbot, services, settings) -> MainWindow:
    window = MainWindow(services, settings)
    qtbot.addWidget(window)
    window.show()
    return window


def wait_loaded(qtbot, window, services, timeout=20000) -> None:
    """Every lab provider has its VMs in the tree and no task is left running."""
    def loaded():
        model = window.inventory
        providers = model.providers()
        return (len(providers) == len(services.lab.hosts) + len(services.lab.prism)
                and all(model.provider_node(p.id).children for p in providers)
                and services.tasks.running_count() == 0)
    qtbot.waitUntil(loaded, timeout=timeout)


@pytest.fixture
def window(qtbot, services, settings):
    win = open_window(qtbot, services, settings)
    wait_loaded(qtbot, win, services)
    yield win
    win.close()


def hyperv_providers(window):
    """The lab's Hyper-V hosts (the lab registers its Prism endpoints too)."""
    return [p for p in window.inventory.providers() if is_standalone(p)]


def vm_node(window, name: str):
    for provider in hyperv_providers(window):
        node = window.inventory.provider_node(provider.id)
        for child in node.children:
            if child.kind is NodeKind.VM and child.obj.name == name:
                return child
    raise AssertionError(f"no VM named {name!r} in the tree")


def first_vm(window, state: PowerState):
    for provider in hyperv_providers(window):
        for child in window.inventory.provider_node(provider.id).children:
            if child.kind is NodeKind.VM and child.obj.state is state:
                return child
    raise AssertionError(f"no VM in state {state}")


def test_hosts_and_vms_appear_with_status_and_details(qtbot, window, services):
    names = sorted(p.name for p in window.inventory.providers())
    assert names == sorted([h.name for h in services.lab.hosts] + [p.name for p in services.lab.prism])
    qtbot.waitUntil(lambda: window.providers_label.text() == f"{len(names)} providers connected, 0 unreachable",
                    timeout=2000)
    qtbot.waitUntil(lambda: window.tasks_label.text() == "0 tasks running", timeout=2000)
    assert window.secrets_label.isVisibleTo(window) == (not services.secrets.persistent)
    first = hyperv_providers(window)[0]
    window.tree.select_key(f"providers/p:{first.id}")
    assert [window.details.tabText(i) for i in range(window.details.count())] == ["Summary", "Virtual machines"]
    assert window.details.summary.value("Hyper-V version")
    assert window.details.vm_model.rowCount() == len(window.inventory.provider_node(first.id).children)
    window.tree.select_key("providers")
    assert window.details.tabText(0) == "Providers"
    assert window.details.provider_model.rowCount() == len(names)


def test_start_a_vm_task_appears_succeeds_and_its_log_streams(qtbot, window, services):
    node = first_vm(window, PowerState.OFF)
    key = node.key_path()
    assert window.tree.select_key(key)
    start = window.actions.power[PowerAction.START]
    assert start.isEnabled()
    assert not window.actions.power[PowerAction.SHUTDOWN].isEnabled()
    before = window.tasks_model.rowCount()
    start.trigger()

    qtbot.waitUntil(lambda: window.tasks_model.rowCount() == before + 1, timeout=5000)
    task = window.tasks_model.task_at(before)
    assert task.name == f"Start VM '{node.obj.name}'"
    qtbot.waitUntil(lambda: window.tasks_model.task(task.id).state.finished, timeout=20000)
    window.tasks_model.flush()
    assert window.tasks_model.task(task.id).state is TaskState.SUCCEEDED, window.tasks_model.task(task.id).error
    assert window.tasks_dock.current_task_id() == task.id       # selected, so its log streams
    qtbot.waitUntil(lambda: len(window.log_pane.text_lines()) >= 2, timeout=5000)
    assert window.log_pane.text_lines() == [
        line for line in window.log_pane.text_lines() if line.strip()]
    qtbot.waitUntil(lambda: window.tree.selected_node().obj.state is PowerState.RUNNING, timeout=5000)
    assert window.tree.selected_key() == key
    qtbot.waitUntil(lambda: not start.isEnabled(), timeout=2000)
    assert window.actions.power[PowerAction.SHUTDOWN].isEnabled()


def test_hostile_vm_names_are_shown_literally(qtbot, window):
    for name in HOSTILE_NAMES:
        node = vm_node(window, name)
        assert window.tree.select_key(node.key_path())
        assert window.tree.view.currentIndex().data() == name
        qtbot.waitUntil(lambda: window.details.vm_summary.value("Name") == name, timeout=2000)
        label = window.details.vm_summary._values["Name"]
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_unreachable_host_is_marked_and_counted(qtbot, window, services):
    victim = hyperv_providers(window)[1]
    services.lab.set_fault(victim.name, "offline")
    window.refresh(victim.id)
    node = window.inventory.provider_node(victim.id)
    qtbot.waitUntil(lambda: node.host.status is HostStatus.UNREACHABLE, timeout=20000)
    idx = window.inventory.index_for_key_path(node.key_path())
    assert idx.data().endswith("(unreachable)")
    assert node.host.error and node.host.error in idx.data(Qt.ItemDataRole.ToolTipRole)
    assert node.children, "the last known VMs stay listed"
    qtbot.waitUntil(lambda: "1 unreachable" in window.providers_label.text(), timeout=2000)
    services.lab.set_fault(victim.name, None)
    window.refresh(victim.id)
    qtbot.waitUntil(lambda: node.host.status is HostStatus.CONNECTED, timeout=20000)
    assert not idx.data().endswith("(unreachable)")


def test_layout_and_selection_restored_in_a_second_window(qtbot, services, settings):
    first = open_window(qtbot, services, settings)
    wait_loaded(qtbot, first, services)
    key = first_vm(first, PowerState.RUNNING).key_path()
    first.tree.select_key(key)
    first.resize(731, 555)          # within the offscreen screen: restoreGeometry clamps to it
    first.resizeDocks([first.tasks_dock], [220], Qt.Orientation.Vertical)
    first.splitter.setSizes([211, 500])
    qtbot.waitUntil(lambda: first.splitter.sizes()[0] == 211 and first.tasks_dock.height() == 220)
    first.tasks_dock.splitter.setSizes([100, 90])
    sizes = first.splitter.sizes()
    log_sizes = first.tasks_dock.splitter.sizes()
    first.close()

    second = open_window(qtbot, services, settings)
    try:
        qtbot.waitUntil(lambda: second.tree.selected_key() == key, timeout=20000)
        assert (second.size().width(), second.size().height()) == (731, 555)
        assert second.splitter.sizes() == sizes
        assert second.tasks_dock.height() == 220
        assert second.tasks_dock.splitter.sizes() == log_sizes
    finally:
        second.close()


def test_delete_provider_after_confirm(qtbot, window, services):
    victim = window.inventory.providers()[0]
    window.tree.select_key(f"providers/p:{victim.id}")
    assert window.actions.delete.isEnabled()
    box = window.confirm_delete_provider()
    assert victim.name in box.text()
    box.button(box.StandardButton.No).click()
    assert window.inventory.provider_node(victim.id) is not None
    box = window.confirm_delete_provider()
    box.button(box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: window.inventory.provider_node(victim.id) is None, timeout=5000)
    assert victim.id not in [p.id for p in services.providers.list()]


def test_missing_password_is_asked_once_then_refreshes(qtbot, services, settings):
    victim = next(p for p in services.providers.list() if is_standalone(p))
    services.secrets.delete(f"provider:{victim.id}")
    window = open_window(qtbot, services, settings)
    try:
        qtbot.waitUntil(lambda: window.findChild(object, "passwordDialog") is not None, timeout=5000)
        from console.ui.password_dialog import PasswordDialog
        dialog = window.findChild(PasswordDialog, "passwordDialog")
        assert victim.name in dialog.windowTitle()
        ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
        assert not ok.isEnabled()
        from console.lab import PASSWORD
        qtbot.keyClicks(dialog.password_edit, PASSWORD)
        ok.click()
        node = window.inventory.provider_node(victim.id)
        qtbot.waitUntil(lambda: node.host.status is HostStatus.CONNECTED and bool(node.children), timeout=20000)
        assert services.secrets.get(f"provider:{victim.id}") == PASSWORD
    finally:
        window.close()


def test_every_interactive_widget_has_object_and_accessible_names(qtbot, window):
    from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox,
                                   QHeaderView, QLineEdit, QPlainTextEdit, QTabWidget, QWidget)
    dialog = window.open_add_provider()
    interactive = (QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox, QLineEdit,
                   QPlainTextEdit, QTabWidget)
    missing = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, interactive) or widget.objectName().startswith("qt_"):
            continue
        if _inside(widget, (QAbstractSpinBox, QComboBox, QLineEdit)):
            continue            # a spin box's line edit, a combo's popup, a line edit's clear button
        if widget.isHidden() and isinstance(widget, QHeaderView):
            continue            # hidden row headers
        if not widget.objectName() or not widget.accessibleName():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} {widget.accessibleName()!r} in {type(widget.parentWidget()).__name__} {widget.parentWidget().objectName()!r}")
    dialog.reject()
    assert missing == [], "\n".join(missing)


def _inside(widget, kinds) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parentWidget()
    return False


def test_task_context_actions_copy_log_and_cancel_state(qtbot, window, services):
    from PySide6.QtGui import QGuiApplication
    row = window.tasks_model.rowCount() - 1
    task = window.tasks_model.task_at(row)
    assert window.tasks_dock.select_task(task.id)
    qtbot.waitUntil(lambda: window.log_pane.task_id == task.id, timeout=2000)
    window.tasks_dock.copy_log_action.trigger()
    copied = QGuiApplication.clipboard().text()
    assert copied and copied.splitlines() == window.log_pane.text_lines()
    # a finished task cannot be cancelled: the menu greys the action out
    window.tasks_dock._context_menu(window.tasks_dock.view.visualRect(
        window.tasks_dock.view.currentIndex()).center())
    assert not window.tasks_dock.cancel_action.isEnabled()


def test_tree_context_menus_offer_what_applies(qtbot, window):
    vm = first_vm(window, PowerState.RUNNING)
    window.tree.select_key(vm.key_path())
    texts = [a.text() for a in window.actions.context_menu(vm).actions() if not a.isSeparator()]
    assert texts[:4] == ["Start", "Shut down", "Turn off", "Restart"]
    assert window.actions.power[PowerAction.SHUTDOWN].isEnabled()
    assert not window.actions.power[PowerAction.START].isEnabled()
    provider_node = vm.provider_node()
    menu = window.actions.context_menu(provider_node)
    assert [a.objectName() for a in menu.actions() if not a.isSeparator()] == [
        "actionRefreshProvider", "actionDelete"]
    templates = window.inventory.node_at(window.inventory.group_index("templates"))
    assert window.actions.context_menu(templates) is None


def test_a_templates_join_password_unknown_this_session_is_asked_after_the_providers(qtbot, services, settings):
    """No keyring: the join password typed in an earlier session is gone; the console asks once."""
    from console.domain.templates import ImagePreparation, Preparation, Template, TemplateState
    from console.ui.password_dialog import PasswordDialog
    hv01 = next(p for p in services.providers.list() if p.name == "HV01")
    template = services.store.templates.add(Template(
        None, "Joined", hv01.id, "vm-id", state=TemplateState.READY,
        preparation=Preparation(ImagePreparation.RENAME_AND_JOIN, "corp.example.com", "",
                                "CORP\\svc-join")))
    assert [t.id for t in services.templates.missing_join_passwords()] == [template.id]
    window = open_window(qtbot, services, settings)
    try:
        def join_dialog():
            dialog = window.findChild(PasswordDialog, "passwordDialog")
            return dialog if dialog is not None and "Joined" in dialog.windowTitle() else None
        qtbot.waitUntil(lambda: join_dialog() is not None, timeout=5000)
        dialog = join_dialog()
        from PySide6.QtWidgets import QLabel
        assert any("CORP\\svc-join" in label.text() for label in dialog.findChildren(QLabel))
        qtbot.keyClicks(dialog.password_edit, "J0in-Secret!")
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: services.secrets.get(f"template:{template.id}:join") == "J0in-Secret!",
                        timeout=5000)
        assert services.templates.missing_join_passwords() == []
    finally:
        window.close()
