"""Templates in the main window against the real template services and the lab (x50): a template
created through the services appears in the tree, the Distribution details follow the copies, Retry,
Add and Remove target, maintenance, tags, Delete. VDI_SHOTS=<folder> also saves screenshots."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from console.domain.inventory import Provider
from console.domain.prerequisites import CheckStatus
from console.domain.tasks import TaskState
from console.domain.templates import TargetProgress, TemplatePlan
from console.ui.inventory_model import NodeKind
from console.ui.main_window import MainWindow
from console.ui.template_tables import PROGRESS_ROLE, TargetTableModel


@pytest.fixture
def lab_window(qtbot, services, settings):
    """The window on the lab's services, every provider loaded."""
    window = MainWindow(services, settings, remember_layout=False)
    qtbot.addWidget(window)
    window.show()

    def loaded():
        providers = window.inventory.providers()
        return (len(providers) == len(services.lab.hosts) + len(services.lab.prism)
                and all(window.inventory.provider_node(p.id).children for p in providers)
                and services.tasks.running_count() == 0)
    qtbot.waitUntil(loaded, timeout=30000)
    yield window
    window.close()


def provider_named(window, name: str) -> Provider:
    return next(p for p in window.inventory.providers() if p.name.upper().startswith(name))


def gold_vm(window):
    hv01 = provider_named(window, "HV01")
    node = window.inventory.provider_node(hv01.id)
    return hv01, next(c.obj for c in node.children if c.kind is NodeKind.VM and c.obj.name == "Win11-Gold")


def create_template(qtbot, window, services, name="Win11-Pool", targets=("HV02", "HV03"), wait=True):
    hv01, vm = gold_vm(window)
    plan = TemplatePlan(provider_id=hv01.id, vm_id=vm.id, name=name, distribution_enabled=bool(targets),
                        target_provider_ids=[provider_named(window, t).id for t in targets],
                        concurrent_distribution=2)
    task = services.templates.create(plan)
    if wait:
        qtbot.waitUntil(lambda: services.tasks.get(task.id).state.finished, timeout=60000)
    template = services.templates.find(name)
    return template, task


def test_a_created_template_appears_in_the_tree_with_its_version(qtbot, lab_window, services):
    window = lab_window
    template, _task = create_template(qtbot, window, services, targets=(), wait=False)
    qtbot.waitUntil(lambda: window.inventory.template_node(template.id) is not None, timeout=5000)
    key = f"templates/t:{template.id}"
    qtbot.waitUntil(lambda: window.inventory.index_for_key_path(f"{key}/v:1").isValid(), timeout=30000)
    node = window.inventory.template_node(template.id)
    assert node.label == "Win11-Pool" and node.children[0].label == "v1"
    assert window.tree.select_key(key)
    assert window.details.template_view.general.value("Source VM") == "Win11-Gold"


def test_distribution_tab_follows_the_copies_with_a_progress_bar(qtbot, lab_window, services):
    window = lab_window
    template, task = create_template(qtbot, window, services, wait=False)
    qtbot.waitUntil(lambda: window.inventory.template_node(template.id) is not None, timeout=5000)
    window.tree.select_key(f"templates/t:{template.id}")
    window.details.show_template_tab("distribution")
    view = window.details.template_view
    seen_bars = set()

    def watch():
        for row in range(view.target_model.rowCount()):
            value = view.target_model.index(row, TargetTableModel.COL_PROGRESS).data(PROGRESS_ROLE)
            if value is not None:
                seen_bars.add(round(value, 2))
        return services.tasks.get(task.id).state.finished
    qtbot.waitUntil(watch, timeout=60000)
    assert services.tasks.get(task.id).state is TaskState.SUCCEEDED
    assert seen_bars and any(0 < v < 1 for v in seen_bars)          # the bar moved while copying
    qtbot.waitUntil(lambda: [view.target_model.cell(r, 1) for r in view.target_model.items()] == ["Ready"] * 2,
                    timeout=3000)
    assert {view.target_model.cell(r, 2) for r in view.target_model.items()} == {"OK"}
    assert {view.target_model.cell(r, TargetTableModel.COL_VERSION) for r in view.target_model.items()} == {"v1"}
    assert view.retry_button(provider_named(window, "HV02").id) is None


def started_by(services, click) -> list:
    """The tasks a click started."""
    before = {t.id for t in services.tasks.recent(500)}
    click()
    return [t for t in services.tasks.recent(500) if t.id not in before]


def wait_task(qtbot, services, task, timeout=60000):
    assert task is not None, "the command did not start a task"
    qtbot.waitUntil(lambda: services.tasks.get(task.id).state.finished, timeout=timeout)
    return services.tasks.get(task.id)


def test_retry_sends_the_latest_version_to_a_failed_target(qtbot, lab_window, services):
    window = lab_window
    services.lab.arm_fault("HV03", "disk-full", script="Start-TemplateCopy")    # halfway through its copy
    template, task = create_template(qtbot, window, services)
    assert task is not None and services.tasks.get(task.id).result.get("failed_targets")
    hv03 = provider_named(window, "HV03").id
    window.tree.select_key(f"templates/t:{template.id}")
    window.details.show_template_tab("distribution")
    view = window.details.template_view
    qtbot.waitUntil(lambda: view.retry_button(hv03) is not None, timeout=5000)
    row = next(r for r in view.target_model.items() if r.target.provider_id == hv03)
    assert view.target_model.cell(row, 2) == "Failed to distribute" and row.target.last_error

    services.lab.set_fault("HV03", None)
    started = started_by(services, view.retry_button(hv03).click)
    assert len(started) == 1
    task = wait_task(qtbot, services, started[0])
    assert task.state is TaskState.SUCCEEDED, task.error

    def cells():
        row = next(r for r in view.target_model.items() if r.target.provider_id == hv03)
        return [view.target_model.cell(row, c) for c in range(5)]
    qtbot.waitUntil(lambda: cells()[1:] == ["Ready", "OK", "", "v1"], timeout=3000)
    assert view.retry_button(hv03) is None


def test_remove_target_asks_first_then_deletes_the_local_copy(qtbot, lab_window, services):
    window = lab_window
    template, _task = create_template(qtbot, window, services)
    hv02 = provider_named(window, "HV02").id
    window.tree.select_key(f"templates/t:{template.id}")
    window.details.show_template_tab("distribution")
    view = window.details.template_view
    view.select_target(hv02)
    assert view.remove_target_button.isEnabled()
    view.remove_target_button.click()
    box = window.template_commands.last_dialog
    assert box.objectName() == "confirmRemoveTarget" and "local copy on HV02 will be deleted" in box.informativeText()
    box.button(box.StandardButton.No).click()
    assert services.templates.get(template.id).target(hv02) is not None        # No: nothing happens
    view.remove_target_button.click()
    box = window.template_commands.last_dialog
    box.button(box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: services.templates.get(template.id).target(hv02) is None, timeout=30000)
    qtbot.waitUntil(lambda: view.target_model.row_of(hv02) < 0, timeout=3000)
    assert view.target_model.rowCount() == 1


def test_maintenance_enter_and_leave_with_a_new_version(qtbot, lab_window, services):
    window = lab_window
    template, _task = create_template(qtbot, window, services, targets=("HV02",))
    action = window.actions.templates.maintenance
    window.tree.select_key(f"templates/t:{template.id}")
    qtbot.waitUntil(action.isEnabled, timeout=3000)
    assert not action.isChecked()
    action.trigger()
    dialog = window.template_commands.last_dialog
    assert dialog.objectName() == "enterMaintenanceDialog" and dialog.chosen_version() == 1
    assert not action.isChecked()                    # checked only once the template is in maintenance
    [enter] = started_by(services, dialog.ok_button.click)
    node = window.inventory.template_node(template.id)
    qtbot.waitUntil(lambda: node.label.endswith("(Maintenance)"), timeout=3000)
    assert wait_task(qtbot, services, enter).state is TaskState.SUCCEEDED
    window.actions.update(window.tree.selected_node(), True)
    assert action.isChecked()

    action.trigger()
    dialog = window.template_commands.last_dialog
    assert dialog.objectName() == "leaveMaintenanceDialog"
    dialog.notes.setPlainText("March updates")
    dialog.force_off.setChecked(True)
    started = started_by(services, dialog.ok_button.click)
    assert len(started) == 1, window.last_error
    leave = wait_task(qtbot, services, started[0])
    assert leave.state is TaskState.SUCCEEDED, leave.error
    qtbot.waitUntil(lambda: window.inventory.index_for_key_path(f"templates/t:{template.id}/v:2").isValid(),
                    timeout=60000)
    qtbot.waitUntil(lambda: services.tasks.running_count() == 0, timeout=60000)
    assert node.label == "Win11-Pool"
    assert services.templates.get(template.id).version(2).notes == "March updates"
    # no pool uses it: the status bar says so (the offer is for pools)
    qtbot.waitUntil(lambda: "No pool uses the template" in window.statusBar().currentMessage(), timeout=3000)


def test_set_tag_from_the_versions_tab(qtbot, lab_window, services):
    window = lab_window
    template, _task = create_template(qtbot, window, services, targets=())
    window.tree.select_key(f"templates/t:{template.id}/v:1")
    view = window.details.template_view
    assert view.selected_version().number == 1 and view.set_tag_button.isEnabled()
    view.set_tag_button.click()
    dialog = window.template_commands.last_dialog
    assert dialog.objectName() == "setTagDialog"
    dialog.combo.setEditText("production")
    dialog.ok_button.click()
    assert services.templates.get(template.id).version(1).tag == "production"
    node = window.inventory.template_node(template.id)
    qtbot.waitUntil(lambda: node.children[0].label == "v1 \N{EM DASH} production", timeout=3000)
    qtbot.waitUntil(lambda: view.version_model.cell(view.version_model.items()[0], 3) == "production",
                    timeout=3000)


def test_delete_is_refused_while_a_pool_uses_the_template(qtbot, lab_window, services):
    window = lab_window
    template, _task = create_template(qtbot, window, services, targets=())
    services.store.execute(
        "INSERT INTO pools (name, template_id, version, method, naming_pattern, initial_count, keep_available,"
        " maximum, preparation) VALUES ('Sales-Desktops', ?, 1, 'linked', 'S-%ID:3%', 1, 0, 5, 'sysprep')",
        (template.id,))
    window.tree.select_key(f"templates/t:{template.id}")
    window.actions.update(window.tree.selected_node(), True)
    assert window.actions.templates.delete_template.isEnabled()
    window.actions.templates.delete_template.trigger()
    box = window.template_commands.last_dialog
    if box is not None and box.objectName() == "confirmDeleteTemplate":
        box.button(box.StandardButton.Yes).click()          # the services refuse it then
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=5000)
    assert "Sales-Desktops" in window.last_error[1]
    assert services.templates.get(template.id) is not None
    assert window.inventory.template_node(template.id) is not None


@pytest.mark.skipif(not __import__("os").environ.get("VDI_SHOTS"), reason="screenshots: set VDI_SHOTS=<folder>")
def test_screenshots_of_distribution_and_versions(qtbot, lab_window, services):
    """VDI_SHOTS=/tmp/shots: distribution.png (one copy running, one failed) and versions.png."""
    import os
    from pathlib import Path
    folder = Path(os.environ["VDI_SHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    window = lab_window
    services.lab.arm_fault("HV03", "disk-full", script="Start-TemplateCopy")
    template, task = create_template(qtbot, window, services, targets=("HV02", "HV03"), wait=False)
    qtbot.waitUntil(lambda: window.inventory.template_node(template.id) is not None, timeout=5000)
    window.tree.select_key(f"templates/t:{template.id}")
    window.tree.view.expand(window.tree.proxy.mapFromSource(window.inventory.group_index("templates")))
    window.details.show_template_tab("distribution")
    view = window.details.template_view
    hv02, hv03 = provider_named(window, "HV02").id, provider_named(window, "HV03").id

    def moment():
        t = window.inventory.template(template.id)
        a, b = (t.target(hv02), t.target(hv03)) if t is not None else (None, None)
        return (a is not None and b is not None and a.progress is TargetProgress.DISTRIBUTING
                and 0.55 < a.fraction < 0.9 and b.progress is TargetProgress.FAILED)
    qtbot.waitUntil(moment, timeout=60000)
    window.details.refresh()
    window.grab().save(str(folder / "distribution.png"))
    wait_task(qtbot, services, task)
    services.lab.set_fault("HV03", None)

    enter = services.templates.enter_maintenance(template.id, None)
    wait_task(qtbot, services, enter)
    leave = services.templates.leave_maintenance(template.id, True, "Windows updates of March; Office 2024",
                                                 True)
    wait_task(qtbot, services, leave)
    services.templates.set_tag(template.id, 1, "production")
    services.templates.set_tag(template.id, 2, "pre-production")
    window.tree.select_key(f"templates/t:{template.id}/v:2")
    qtbot.waitUntil(lambda: window.details.currentWidget() is view.versions_page, timeout=3000)
    qtbot.waitUntil(lambda: view.version_model.rowCount() == 2, timeout=3000)
    window.details.refresh()
    window.grab().save(str(folder / "versions.png"))
    window.details.show_template_tab("general")
    window.grab().save(str(folder / "template-general.png"))


def test_new_template_opens_the_wizard_on_the_selected_vm(qtbot, lab_window, services):
    window = lab_window
    hv01, vm = gold_vm(window)
    window.tree.select_key(f"providers/p:{hv01.id}/vm:{vm.id}")
    window.actions.update(window.tree.selected_node(), True)
    window.actions.templates.new_template.trigger()
    wizard = window.template_commands.last_dialog
    assert wizard is not None and wizard.objectName() == "createTemplateWizard"
    wizard.reject()


def test_delete_key_asks_before_deleting_a_template(qtbot, lab_window, services):
    window = lab_window
    template, _task = create_template(qtbot, window, services, targets=())
    window.tree.select_key(f"templates/t:{template.id}")
    window.tree.view.setFocus()
    window.actions.update(window.tree.selected_node(), True)
    qtbot.keyClick(window.tree.view, Qt.Key.Key_Delete)
    box = window.template_commands.last_dialog
    assert box is not None and box.objectName() == "confirmDeleteTemplate"
    assert "'Win11-Gold' itself stays" in box.informativeText()
    [delete] = started_by(services, lambda: box.button(box.StandardButton.Yes).click())
    assert wait_task(qtbot, services, delete).state is TaskState.SUCCEEDED
    qtbot.waitUntil(lambda: window.inventory.template_node(template.id) is None, timeout=3000)


def test_add_target_runs_the_check_and_refuses_a_failing_host(qtbot, lab_window, services):
    window = lab_window
    template, _task = create_template(qtbot, window, services, targets=("HV02",))
    window.tree.select_key(f"templates/t:{template.id}")
    window.details.show_template_tab("distribution")
    view = window.details.template_view
    view.add_target_button.click()
    dialog = window.template_commands.last_dialog
    assert dialog.objectName() == "addTargetDialog"
    hv03, hv04 = provider_named(window, "HV03").id, provider_named(window, "HV04").id
    dialog.select_provider(hv04)                          # a workgroup host: fails its check
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=20000)
    assert not dialog.ok_button.isEnabled() and "fails" in dialog.status.text()
    assert any(r.status is CheckStatus.FAILED and r.fix for r in dialog.model.items())
    dialog.select_provider(hv03)
    qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=20000)
    [add] = started_by(services, dialog.ok_button.click)
    assert wait_task(qtbot, services, add).state is TaskState.SUCCEEDED
    qtbot.waitUntil(lambda: view.target_model.row_of(hv03) >= 0, timeout=3000)


def test_retry_in_the_tasks_dock_runs_a_failed_template_task_again(qtbot, lab_window, services):
    """The dock's Retry is for template tasks too: they go to the templates, not the providers."""
    from console.ui.tasks_dock import retryable
    window = lab_window
    services.lab.arm_fault("HV03", "disk-full", script="Start-TemplateCopy")    # halfway through its copy
    template, _task = create_template(qtbot, window, services, targets=("HV03",))
    hv03 = provider_named(window, "HV03").id
    task = services.templates.retry_target(template.id, hv03)
    qtbot.waitUntil(lambda: services.tasks.get(task.id).state.finished, timeout=60000)
    failed = services.tasks.get(task.id)
    assert failed.state is TaskState.FAILED and retryable(failed)

    services.lab.set_fault("HV03", None)
    started = started_by(services, lambda: window.tasks_dock.retryRequested.emit(failed.id))
    assert len(started) == 1 and started[0].kind == failed.kind
    qtbot.waitUntil(lambda: services.tasks.get(started[0].id).state.finished, timeout=60000)
    assert services.tasks.get(started[0].id).state is TaskState.SUCCEEDED
    assert services.templates.get(template.id).target(hv03).version == 1
