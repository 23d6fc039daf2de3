"""Templates in the main window: the tree's Templates branch, the General / Versions / Distribution
tabs, the template dialogs and actions, on plain domain objects (no services). The same views against
the real template services and the lab: test_template_views_lab.py."""
from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from console.domain.inventory import ConnectionSettings, Provider, ProviderKind
from console.domain.prerequisites import CheckStatus, PrerequisiteResult
from console.domain.templates import (DistributionTarget, TargetProgress, TargetState, Template,
                                      TemplateState, TemplateVersion)
from console.ui.inventory_model import InventoryModel, NodeKind
from console.ui.main_window import MainWindow
from console.ui.template_dialogs import (AddTargetDialog, EnterMaintenanceDialog, LeaveMaintenanceDialog,
                                         SetTagDialog)
from console.ui.template_tables import PROGRESS_ROLE, TargetTableModel


def make_template(tid: int = 1, state: TemplateState = TemplateState.READY, **changes) -> Template:
    versions = [TemplateVersion(tid, 1, "2025-01-10T09:00:00+00:00", notes="first", size_bytes=24 * 2**30),
                TemplateVersion(tid, 2, "2025-02-10T09:00:00+00:00", notes="February updates",
                                tag="production", size_bytes=25 * 2**30)]
    targets = [DistributionTarget(tid, 2, TargetState.READY, TargetProgress.OK, version=2),
               DistributionTarget(tid, 3, TargetState.NEEDS_UPDATE, TargetProgress.FAILED, version=1,
                                  last_error="The network path was not found.")]
    t = Template(id=tid, name=f"Win11-{tid}", provider_id=1, source_vm_id="vm-1", source_vm_name="Win11-gold",
                 source_host="HV01", state=state, distribution_enabled=True, versions=versions, targets=targets,
                 created="2025-01-10T09:00:00+00:00")
    return dataclasses.replace(t, **changes)


def hyperv(pid: int, name: str) -> Provider:
    return Provider(id=pid, name=name, settings=ConnectionSettings(kind=ProviderKind.HYPERV, address=name))


@pytest.fixture
def bare_window(qtbot, settings):
    """A window with no services, three Hyper-V providers in its tree."""
    window = MainWindow(settings=settings, remember_layout=False)
    qtbot.addWidget(window)
    window.inventory.set_providers([hyperv(1, "HV01"), hyperv(2, "HV02"), hyperv(3, "HV03")])
    window.show()
    yield window
    window.close()


def labels(model: InventoryModel, node) -> list[str]:
    return [c.label for c in node.children]


# ----- the tree -------------------------------------------------------------------------------------
def test_templates_go_in_and_out_of_the_tree_incrementally(qtbot):
    model = InventoryModel()
    resets, inserted, removed = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((model.node_at(parent), first, last)))
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    group = model.node_at(model.group_index("templates"))

    model.add_template(make_template(1))
    node = model.template_node(1)
    assert node.parent is group and node.kind is NodeKind.TEMPLATE and node.label == "Win11-1"
    assert labels(model, node) == ["v1", "v2 \N{EM DASH} production"]
    assert node.children[1].kind is NodeKind.VERSION
    assert "1 template made from a VM" == group.tooltip

    # a change keeps the row (and its children) and marks them changed, never a reset
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append(model.node_at(a)))
    t = make_template(1, TemplateState.MAINTENANCE, maintenance_from=2)
    t.versions[0] = dataclasses.replace(t.versions[0], tag="pre-production")
    t.versions.append(TemplateVersion(1, 3, "2025-03-01T00:00:00+00:00"))
    inserted.clear()
    model.update_template(t)
    assert model.template_node(1) is node and node.label == "Win11-1 (Maintenance)"
    assert labels(model, node) == ["v1 \N{EM DASH} pre-production", "v2 \N{EM DASH} production", "v3"]
    assert inserted == [(node, 2, 2)] and node in changed and node.children[0] in changed

    model.add_template(make_template(2))
    model.remove_template(1)
    assert [n.obj.id for n in group.children] == [2] and model.template_node(1) is None
    assert model.index_for_key_path("templates/t:2/v:2").isValid()
    assert resets == []


def test_target_changes_are_coalesced_into_one_row_change(qtbot):
    model = InventoryModel()
    model.add_template(make_template(1))
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append(model.node_at(a)))
    for fraction in (0.1, 0.2, 0.3):
        model.queue_target(1, DistributionTarget(1, 3, TargetState.NEEDS_UPDATE, TargetProgress.DISTRIBUTING,
                                                 version=1, fraction=fraction))
    assert changed == []                        # nothing yet: applied together, a moment later
    qtbot.waitUntil(lambda: len(changed) == 1, timeout=2000)
    target = model.template(1).target(3)
    assert target.fraction == 0.3 and target.progress is TargetProgress.DISTRIBUTING
    assert model.template(1).target(2).progress is TargetProgress.OK     # the other target kept


# ----- the details tabs ---------------------------------------------------------------------------
def test_template_tabs_show_general_versions_and_distribution(qtbot, bare_window):
    window = bare_window
    window.inventory.add_template(make_template(1))
    assert window.tree.select_key("templates/t:1")
    details = window.details
    assert [details.tabText(i) for i in range(details.count())] == ["General", "Versions", "Distribution details"]
    view = details.template_view
    assert view.general.value("Source VM") == "Win11-gold"
    assert view.general.value("Distribution") == "Enabled: 2 targets, 2 copied at a time"
    assert [view.version_model.cell(r, 0) for r in view.version_model.items()] == ["v1", "v2 (latest)"]
    rows = {r.provider_name: r for r in view.target_model.items()}
    assert view.target_model.cell(rows["HV03"], TargetTableModel.COL_ERROR) == "The network path was not found."
    assert view.target_model.cell(rows["HV03"], 1) == "Needs update"
    assert view.target_model.cell(rows["HV03"], 2) == "Failed to distribute"
    assert view.retry_button(3) is not None and view.retry_button(2) is None
    assert "1 failed" in view.distribution_note.text()

    # a version row selects the Versions tab and the version
    window.tree.select_key("templates/t:1/v:1")
    assert details.currentWidget() is view.versions_page
    assert view.selected_version().number == 1


def test_distribution_tab_draws_a_progress_bar_while_copying(qtbot, bare_window):
    window = bare_window
    window.inventory.add_template(make_template(1))
    window.tree.select_key("templates/t:1")
    window.details.show_template_tab("distribution")
    view = window.details.template_view
    assert window.details.currentWidget() is view.distribution_page
    window.inventory.queue_target(1, DistributionTarget(1, 3, TargetState.NEEDS_UPDATE,
                                                        TargetProgress.DISTRIBUTING, version=1, fraction=0.42))

    def progress_of(pid):
        row = view.target_model.row_of(pid)
        return view.target_model.index(row, TargetTableModel.COL_PROGRESS) if row >= 0 else None
    qtbot.waitUntil(lambda: progress_of(3).data(PROGRESS_ROLE) == pytest.approx(0.42), timeout=3000)
    assert progress_of(3).data() == "Distributing 42%"
    assert view.retry_button(3) is None                  # no Retry while it copies
    assert progress_of(2).data(PROGRESS_ROLE) is None     # OK: the word, no bar
    assert "Distributing to 1 now" in view.distribution_note.text()


def test_template_without_distribution_says_why(qtbot, bare_window):
    window = bare_window
    window.inventory.add_template(make_template(1, distribution_enabled=False, targets=[]))
    window.tree.select_key("templates/t:1")
    view = window.details.template_view
    assert window.details.tabText(2) == "Distribution"
    assert "not enabled" in view.distribution_note.text()
    assert not view.targets_table.isVisibleTo(window)


# ----- the dialogs --------------------------------------------------------------------------------
def test_enter_maintenance_dialog_defaults_to_the_latest_version(qtbot):
    t = make_template(1)
    dialog = EnterMaintenanceDialog(t)
    qtbot.addWidget(dialog)
    assert dialog.chosen_version() == 2
    chosen = []
    dialog.versionChosen.connect(chosen.append)
    dialog.versions.setCurrentRow(1)            # v1 (the list is newest first)
    dialog.ok_button.click()
    assert chosen == [1]

    nutanix = EnterMaintenanceDialog(t, can_revert=False)
    qtbot.addWidget(nutanix)
    older = nutanix.versions.item(1)
    assert not older.flags() & Qt.ItemFlag.ItemIsEnabled and nutanix.chosen_version() == 2


def test_leave_maintenance_dialog_new_version_notes_and_consent(qtbot):
    t = make_template(1, TemplateState.MAINTENANCE, maintenance_from=2)
    dialog = LeaveMaintenanceDialog(t)
    qtbot.addWidget(dialog)
    answers = []
    dialog.leaveChosen.connect(lambda *a: answers.append(a))
    assert "version 3" in dialog.new_version_radio.text()
    dialog.notes.setPlainText("March updates")
    dialog.force_off.setChecked(True)
    dialog.ok_button.click()
    assert answers == [(True, "March updates", True)]

    nutanix = LeaveMaintenanceDialog(t, can_discard=False)
    qtbot.addWidget(nutanix)
    assert not nutanix.discard_radio.isEnabled()


def test_set_tag_dialog_refuses_a_bad_tag(qtbot):
    dialog = SetTagDialog(make_template(1), 1)
    qtbot.addWidget(dialog)
    dialog.combo.setEditText("not a tag!")
    assert not dialog.ok_button.isEnabled() and dialog.message.text()
    dialog.combo.setEditText("pilot-2")
    chosen = []
    dialog.tagChosen.connect(chosen.append)
    dialog.ok_button.click()
    assert chosen == ["pilot-2"]


def test_add_target_dialog_checks_before_it_adds(qtbot):
    t = make_template(1)
    choices = [(hyperv(2, "HV02"), ""), (hyperv(4, "HV04"), ""),
               (Provider(id=9, name="PC", settings=ConnectionSettings(kind=ProviderKind.NUTANIX_PC, address="pc")),
                "Not a standalone Hyper-V host (Nutanix AHV (Prism Central)).")]
    dialog = AddTargetDialog(t, choices)
    qtbot.addWidget(dialog)
    assert dialog.providers.count() == 2         # HV02 is a target already
    asked, added = [], []
    dialog.checkRequested.connect(asked.append)
    dialog.targetChosen.connect(added.append)
    dialog.select_provider(4)
    assert asked == [4] and not dialog.ok_button.isEnabled()
    fail = PrerequisiteResult("switch", "Same virtual switch name", "vSwitch-LAN", "Default Switch",
                              CheckStatus.FAILED, "Create the virtual switch 'vSwitch-LAN' on HV04.")
    dialog.set_results(4, [fail])
    assert not dialog.ok_button.isEnabled() and "fails 1 prerequisite" in dialog.status.text()
    assert dialog.model.cell(dialog.model.items()[0], 4).startswith("Create the virtual switch")
    dialog.set_results(4, [dataclasses.replace(fail, status=CheckStatus.PASSED, found="vSwitch-LAN", fix="")])
    assert dialog.ok_button.isEnabled()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert added == [4]
    disabled = dialog.providers.item(1)
    assert not disabled.flags() & Qt.ItemFlag.ItemIsEnabled and "Prism Central" in disabled.text()


def test_actions_follow_the_selected_template(qtbot, bare_window):
    window = bare_window
    actions = window.actions.templates
    window.inventory.add_template(make_template(1))
    window.inventory.add_template(make_template(2, TemplateState.MAINTENANCE, maintenance_from=1))
    window.tree.select_key("templates/t:1")
    actions.update(window.tree.selected_node(), connected=True)
    assert actions.maintenance.isEnabled() and not actions.maintenance.isChecked()
    assert actions.delete_template.isEnabled() and not window.actions.delete.isEnabled()
    window.tree.select_key("templates/t:2/v:1")
    actions.update(window.tree.selected_node(), connected=True)
    assert actions.maintenance.isChecked()
    menu = window.actions.context_menu(window.tree.selected_node(), window.template_commands)
    assert {"actionMaintenance", "actionSetTag", "actionDeleteVersion", "actionDeleteTemplate"} <= {
        a.objectName() for a in menu.actions()}
    window.tree.select_key("providers/p:1")
    actions.update(window.tree.selected_node(), connected=True)
    assert not actions.maintenance.isEnabled() and not actions.delete_template.isEnabled()


def test_new_version_offers_the_pools_an_update_now_or_later(qtbot, bare_window):
    window = bare_window
    window.inventory.add_template(make_template(1))
    handed = []
    window.template_commands.poolUpdateRequested.connect(lambda *a: handed.append(a))
    box = window.template_commands.offer_pool_update(1, ["Sales", "Support"])
    assert box.objectName() == "poolUpdateOffer" and "Sales, Support" in box.text()
    later = box.findChild(type(box.buttons()[0]), "updateClonesLaterButton")
    assert later is not None and box.defaultButton() is later
    box.findChild(type(later), "updateClonesNowButton").click()
    assert handed == [(1, 2, ["Sales", "Support"])]
    assert "done by the pools" in window.statusBar().currentMessage()


def test_distribution_details_action_selects_the_distribution_tab(qtbot, bare_window):
    window = bare_window
    window.inventory.add_template(make_template(1))
    window.tree.select_key("templates/t:1/v:1")
    window.actions.update(window.tree.selected_node(), connected=True)
    window.actions.templates.distribution_details.trigger()
    assert window.tree.selected_key() == "templates/t:1"
    assert window.details.currentWidget() is window.details.template_view.distribution_page
