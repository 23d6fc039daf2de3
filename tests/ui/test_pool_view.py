"""Pools in the main window on plain domain objects (no lab): the tree's Pools branch, the pool view
(clone table, counts, chart, clean-up button), the update and scale dialogs, and the commands against
a recording stand-in for services.pools. The same views against the real services and the lab:
test_pool_view_lab.py."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QDateTime

from console.domain.inventory import PowerAction
from console.domain.tasks import Task, TaskState
from console.domain.templates import (
    Clone,
    CloneState,
    Pool,
    PoolVersionChange,
    ProvisioningMethod,
    Template,
    TemplateState,
    TemplateVersion,
)
from console.services import events as ev
from console.services.events import EventBus
from console.ui import icons
from console.ui.bridge import ServicesBridge
from console.ui.inventory_model import InventoryModel, NodeKind
from console.ui.main_window import MainWindow
from console.ui.pool_dialogs import PoolUpdateDialog, ScaleDialog
from console.ui.pool_tables import CloneTableModel

STATES = [CloneState.READY] * 5 + [CloneState.ASSIGNED] * 2 + [CloneState.PROVISIONING] * 2 + [
    CloneState.FAILED, CloneState.INCOMPLETE, CloneState.MERGING]


def make_pool(pid: int = 1, **changes) -> Pool:
    pool = Pool(id=pid, name=f"Sales-{pid}", template_id=1, version=2, method=ProvisioningMethod.LINKED,
                naming_pattern="VDI-%ID:3%", initial_count=12, keep_available=4, maximum=20,
                target_provider_ids=[2, 3], created="2025-03-01T09:00:00+00:00")
    return dataclasses.replace(pool, **changes)


def make_clone(i: int, state: CloneState = CloneState.READY, pool_id: int = 1, **changes) -> Clone:
    usable = None if state in (CloneState.PROVISIONING, CloneState.FAILED, CloneState.INCOMPLETE) else 20.0 + i
    clone = Clone(pool_id=pool_id, name=f"VDI-{i:03d}", provider_id=2 + i % 2, vm_id=f"vm-{i}", version=2,
                  state=state, host=f"HV0{2 + i % 2}", method=ProvisioningMethod.LINKED,
                  created=f"2025-03-01T09:{i:02d}:00+00:00", usable_seconds=usable,
                  assigned_user="CORP\\user042" if state is CloneState.ASSIGNED else "",
                  error="The domain 'corp.example.com' could not be contacted." if state is CloneState.FAILED else "")
    return dataclasses.replace(clone, **changes)


def mixed_clones(pool_id: int = 1) -> list[Clone]:
    return [make_clone(i + 1, state, pool_id) for i, state in enumerate(STATES)]


def make_template() -> Template:
    versions = [TemplateVersion(1, 1, "2025-01-10T09:00:00+00:00"),
                TemplateVersion(1, 2, "2025-02-10T09:00:00+00:00", tag="production"),
                TemplateVersion(1, 3, "2025-03-10T09:00:00+00:00", tag="pre-production", notes="March")]
    return Template(id=1, name="Win11", provider_id=1, source_vm_id="vm-1", state=TemplateState.READY,
                    versions=versions)


class RecordingPools:
    """services.pools as the view uses it: reads from lists, every command recorded."""

    def __init__(self, pools: list[Pool], clones: dict[int, list[Clone]]) -> None:
        self._pools, self._clones, self.calls = pools, clones, []
        self.history_rows = {p.id: [PoolVersionChange(p.id, 1, "2025-03-01T09:00:00+00:00", "create"),
                                    PoolVersionChange(p.id, 2, "2025-03-05T09:00:00+00:00", "update")]
                             for p in pools}

    def list(self):
        return list(self._pools)

    def clones(self, pool_id):
        return list(self._clones.get(pool_id, []))

    def history(self, pool_id):
        return list(self.history_rows.get(pool_id, []))

    def previous_version(self, pool):
        return next((h.version for h in reversed(self.history(pool.id)) if h.version != pool.version), None)

    def __getattr__(self, name):
        if name in ("update", "rollback", "delete", "clean_up", "recreate_clone", "delete_clone", "power_clone",
                    "scale"):
            def call(*args, **kwargs):
                self.calls.append((name, args, kwargs))
                if name == "scale":
                    return dataclasses.replace(self._pools[0], maximum=args[1], keep_available=args[2])
                return Task(id=len(self.calls), name=name, target="", kind=f"pool-{name}",
                            state=TaskState.RUNNING, result={"params": {"pool_id": args[0]}})
            return call
        raise AttributeError(name)


@pytest.fixture
def window(qtbot, settings, loop):
    """A window with one template and two pools, a stand-in for the services behind its bridge."""
    win = MainWindow(settings=settings, remember_layout=False)
    qtbot.addWidget(win)
    win.inventory.add_template(make_template())
    pools = [make_pool(1), make_pool(2, name="Support", enabled=False)]
    fake = RecordingPools(pools, {1: mixed_clones(1), 2: [make_clone(1, pool_id=2)]})
    services = SimpleNamespace(bus=EventBus(), pools=fake, tasks=SimpleNamespace(recent=lambda n: []))
    win.services, win.bridge = services, ServicesBridge(services, win)
    win.pool_commands.attach(services, win.bridge)
    win.show()
    yield win
    win.close()


# ----- the tree ---------------------------------------------------------------------------------------
def test_pools_go_in_and_out_of_the_tree_with_their_clone_count(qtbot):
    model = InventoryModel()
    resets, inserted = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda parent, first, last: inserted.append(model.node_at(parent).key))
    model.set_pools([make_pool(1), make_pool(2, name="Support", enabled=False)],
                    lambda pid: mixed_clones(pid) if pid == 1 else [])
    group = model.node_at(model.group_index("pools"))
    assert [n.label for n in group.children] == ["Sales-1 (12)", "Support (0, disabled)"]
    assert group.children[0].kind is NodeKind.POOL and inserted == ["pools", "pools"]
    assert "12 clones" in group.children[0].tooltip and group.tooltip == "2 pools of clones"
    assert model.pool_icon(group.children[1]).cacheKey() == icons.icon("pool-disabled").cacheKey()
    assert model.pool_icon(group.children[0]).cacheKey() == icons.icon("pool").cacheKey()

    model.set_pool_busy(1, "updating")
    assert group.children[0].label == "Sales-1 (12, updating)"
    assert model.pool_icon(group.children[0]).cacheKey() == icons.icon("pool-updating").cacheKey()
    model.update_pool(make_pool(2, name="Support", enabled=True))
    assert group.children[1].label == "Support (0)"
    model.remove_pool(1)
    assert [n.label for n in group.children] == ["Support (0)"] and model.clones(1) == [] and not resets


def test_clone_events_are_coalesced_into_one_change_per_pool(qtbot):
    model = InventoryModel()
    model.add_pool(make_pool(1))
    node = model.pool_node(1)
    batches, changed = [], []
    model.clonesChanged.connect(lambda pid, names, gone: batches.append((pid, sorted(names), gone)))
    model.dataChanged.connect(lambda a, b: changed.append(model.node_at(a)))
    for i in range(1, 41):                                   # 40 clones, each reported twice
        model.queue_clone(1, make_clone(i, CloneState.PROVISIONING))
        model.queue_clone(1, make_clone(i, CloneState.READY))
    model.queue_clone(99, make_clone(1, pool_id=99))          # a pool not known: dropped
    assert batches == [] and node.label == "Sales-1 (0)"
    qtbot.waitUntil(lambda: bool(batches), timeout=2000)
    assert len(batches) == 1 and batches[0][0] == 1 and len(batches[0][1]) == 40
    assert changed.count(node) == 1 and node.label == "Sales-1 (40)"
    assert {c.state for c in model.clones(1)} == {CloneState.READY}

    model.queue_clone_removed(1, "VDI-001")
    model.flush_clones()
    assert batches[-1] == (1, [], ["VDI-001"]) and node.label == "Sales-1 (39)"


# ----- the pool view ----------------------------------------------------------------------------------
def test_selecting_a_pool_shows_its_clones_counts_and_chart(qtbot, window):
    assert window.tree.select_key("pools/pool:1")
    view = window.details.pool_view
    assert [window.details.tabText(i) for i in range(window.details.count())] == ["Clones", "General", "History"]
    assert view.clone_model.rowCount() == 12
    assert view.counts.text() == ("12 clones: 6 ready, 2 assigned, 2 provisioning, 1 failed, 1 incomplete")
    assert view.clean_up_button.isVisibleTo(view.clones_page)
    assert view.clean_up_button.text() == "Clean up 1 half-made clone"
    chart = view.chart
    assert chart.objectName() == "chartUsable"
    usable = sorted(20.0 + i + 1 for i, s in enumerate(STATES) if s in (CloneState.READY, CloneState.ASSIGNED,
                                                                        CloneState.MERGING))
    assert chart.stats == (usable[0], (usable[3] + usable[4]) / 2, usable[-1])
    assert chart.bar_names()[0] == "VDI-001" and "median" in chart.summary()
    assert not chart.grab().isNull()
    assert view.general.value("Template") == "Win11" and view.general.value("Keep available") == "4"
    assert view.history_model.rowCount() == 2 and view.rollback_button.isEnabled()

    failed = next(c for c in view.clone_model.items() if c.state is CloneState.FAILED)
    row = view.clone_model.row_of(failed.name)
    assert view.clone_model.index(row, 2).data() == "Failed"
    assert "could not be contacted" in view.clone_model.index(row, 2).data(3)     # the tooltip: the error


def test_a_clone_change_touches_its_row_only(qtbot, window):
    window.tree.select_key("pools/pool:1")
    view = window.details.pool_view
    resets, inserted, removed = [], [], []
    view.clone_model.modelReset.connect(lambda: resets.append(1))
    view.clone_model.rowsInserted.connect(lambda *_: inserted.append(1))
    view.clone_model.rowsRemoved.connect(lambda *_: removed.append(1))
    row = view.clone_model.row_of("VDI-008")
    bridge = window.bridge
    bridge._on_event(ev.CloneChanged(1, make_clone(8, CloneState.READY)))
    bridge._on_event(ev.CloneChanged(1, make_clone(13, CloneState.PROVISIONING)))
    bridge._on_event(ev.CloneRemoved(1, "VDI-011"))                       # the incomplete one
    qtbot.waitUntil(lambda: view.clone_model.rowCount() == 12 and view.clone_model.row_of("VDI-013") >= 0,
                    timeout=2000)
    assert view.clone_model.index(row, 2).data() == "Ready" and view.clone_model.row_of("VDI-008") == row
    assert not resets and len(inserted) == 1 and len(removed) == 1
    assert not view.clean_up_button.isVisibleTo(view.clones_page)
    assert window.inventory.pool_node(1).label == "Sales-1 (12)"


def test_clone_cells_sorting_and_state_filter(qtbot, window):
    window.tree.select_key("pools/pool:1")
    view = window.details.pool_view
    model = CloneTableModel()
    quick = make_clone(3, CloneState.MERGING, method=ProvisioningMethod.QUICK)
    full = make_clone(4, method=ProvisioningMethod.FULL, independent_seconds=75.0)
    linked = make_clone(5)
    assert model.cell(quick, 7) == "Merging now" and model.cell(full, 7) == "1 min 15 s"
    assert model.cell(linked, 7) == "Never (depends on v2)" and model.cell(linked, 6) == "25.0 s"
    assert model.cell(quick, 2) == "Ready, merging" and "merged" in model.tooltip(quick, 2)
    assert model.sort_value(make_clone(9), 0) < model.sort_value(make_clone(10, name="VDI-1000"), 0)

    view.state_filter.setCurrentText("Failed")
    assert view.clone_proxy.rowCount() == 1
    view.state_filter.setCurrentText("All states")
    view.filter.setText("user042")
    assert view.clone_proxy.rowCount() == 2
    view.filter.clear()
    assert view.clone_proxy.rowCount() == 12


def test_the_pools_group_lists_the_pools(qtbot, window):
    window.tree.select_key("pools")
    view = window.details.pool_view
    assert window.details.currentWidget() is view.list_table
    cells = [view.list_model.cell(item, 0) for item in view.list_model.items()]
    assert sorted(cells) == ["Sales-1", "Support"]


# ----- actions and commands -----------------------------------------------------------------------------
def test_pool_actions_follow_the_selection_and_the_context_menu(qtbot, window):
    actions = window.actions.pools
    window.tree.select_key("pools/pool:1")
    window._update_actions()
    assert actions.edit_pool.isEnabled() and actions.delete_pool.isEnabled() and actions.clean_up.isEnabled()
    assert not window.actions.templates.delete_template.isEnabled() and not window.actions.delete.isEnabled()
    menu = window.actions.context_menu(window.tree.selected_node(), window.template_commands, window.pool_commands)
    assert {"actionEditPool", "actionScalePool", "actionUpdatePool", "actionRollbackPool", "actionCleanUpPool",
            "actionDeletePool"} <= {a.objectName() for a in menu.actions()}
    window.tree.select_key("pools/pool:2")
    window._update_actions()
    assert not actions.clean_up.isEnabled() and actions.update_pool.isEnabled()
    window.tree.select_key("templates/t:1")
    window._update_actions()
    assert not actions.edit_pool.isEnabled() and actions.new_pool.isEnabled()


def test_delete_pool_confirms_with_the_clone_count(qtbot, window):
    fake = window.services.pools
    window.tree.select_key("pools/pool:1")
    window.details.pool_view.delete_button.click()
    box = window.pool_commands.last_dialog
    assert box.objectName() == "confirmDeletePool"
    assert box.text() == "Delete the pool 'Sales-1' and its 12 clones?" and "2 are assigned" in box.informativeText()
    box.button(box.StandardButton.No).click()
    assert fake.calls == []
    window.details.pool_view.delete_button.click()
    box = window.pool_commands.last_dialog
    box.button(box.StandardButton.Yes).click()
    assert fake.calls == [("delete", (1,), {})]


def test_clone_buttons_recreate_delete_and_power_the_selection(qtbot, window):
    fake = window.services.pools
    window.tree.select_key("pools/pool:1")
    view = window.details.pool_view
    assert not view.recreate_button.isEnabled()
    view.select_clones(["VDI-001", "VDI-002"])
    assert view.recreate_button.isEnabled() and view.power_buttons[PowerAction.STOP].isEnabled()
    view.power_buttons[PowerAction.SHUTDOWN].click()
    assert [c[1] for c in fake.calls] == [(1, "VDI-001", PowerAction.SHUTDOWN), (1, "VDI-002", PowerAction.SHUTDOWN)]
    view.recreate_button.click()
    box = window.pool_commands.last_dialog
    assert box.objectName() == "confirmRecreateClones" and "2 clones (VDI-001, VDI-002)" in box.text()
    box.button(box.StandardButton.Yes).click()
    assert [c[:2] for c in fake.calls[2:]] == [("recreate_clone", (1, "VDI-001")), ("recreate_clone", (1, "VDI-002"))]
    view.select_clones(["VDI-008"])                                       # provisioning: nothing to do yet
    assert not view.recreate_button.isEnabled() and not view.delete_clone_button.isEnabled()
    view.clean_up_button.click()
    box = window.pool_commands.last_dialog
    assert box.objectName() == "confirmCleanUp" and "VDI-011" in box.informativeText()
    box.button(box.StandardButton.Yes).click()
    assert fake.calls[-1] == ("clean_up", (1,), {})


def test_update_dialog_drives_pools_update_and_marks_the_pool_updating(qtbot, window):
    fake = window.services.pools
    window.tree.select_key("pools/pool:1")
    view = window.details.pool_view
    view.update_button.click()
    dialog = window.pool_commands.last_dialog
    assert dialog.objectName() == "poolUpdateDialog" and dialog.version_combo.currentData() == 3
    dialog.batch_size.setValue(3)
    dialog.stop_on_error.setChecked(True)
    dialog.logoff_force.setChecked(True)
    dialog.ok_button.click()
    assert fake.calls == [("update", (1,), {"version": 3, "batch_size": 3, "stop_on_error": True, "at": None,
                                            "logoff": "force", "grace_minutes": 30})]
    assert window.inventory.pool_busy(1) == "updating"
    assert window.inventory.pool_node(1).label == "Sales-1 (12, updating)"
    qtbot.waitUntil(lambda: view.task_note.isVisibleTo(view.clones_page), timeout=2000)
    assert not view.update_button.isEnabled()
    task = Task(id=1, name="", target="", kind="pool-update", state=TaskState.SUCCEEDED)
    window.bridge._on_event(ev.TaskChanged(task))
    assert window.inventory.pool_busy(1) == ""


def test_update_dialog_options_tag_time_wait_and_past_times(qtbot):
    dialog = PoolUpdateDialog([make_pool(1)], make_template(), clone_count=12)
    qtbot.addWidget(dialog)
    dialog.tag_radio.setChecked(True)
    dialog.tag_combo.setCurrentIndex(dialog.tag_combo.findData("pre-production"))
    dialog.start_at.setChecked(True)
    later = QDateTime.currentDateTime().addSecs(7200)
    dialog.at_time.setDateTime(later)
    dialog.grace.setValue(45)
    options = dialog.options()
    assert options["tag"] == "pre-production" and "version" not in options
    assert options["logoff"] == "wait" and options["grace_minutes"] == 45
    assert abs(options["at"] - datetime.fromtimestamp(later.toSecsSinceEpoch(), tz=UTC)).total_seconds() < 60
    assert dialog.ok_button.isEnabled()
    dialog.at_time.setDateTime(QDateTime.currentDateTime().addSecs(-600))
    assert not dialog.ok_button.isEnabled() and "in the past" in dialog.message.text()
    dialog.start_now.setChecked(True)
    dialog.version_radio.setChecked(True)
    dialog.version_combo.setCurrentIndex(dialog.version_combo.findData(2))       # the pool's own version
    assert dialog.ok_button.isEnabled() and "already at v2" in dialog.message.text()

    rollback = PoolUpdateDialog([make_pool(1)], make_template(), rollback_to=1)
    qtbot.addWidget(rollback)
    assert "from v1" in rollback.findChildren(type(rollback.message))[0].text()
    assert "version" not in rollback.options() and rollback.ok_button.text() == "Roll back"


def test_rollback_goes_to_the_previous_version_in_the_history(qtbot, window):
    fake = window.services.pools
    window.tree.select_key("pools/pool:1")
    window.details.pool_view.rollback_button.click()
    dialog = window.pool_commands.last_dialog
    assert dialog.rollback_to == 1 and dialog.windowTitle() == "Roll back pool"
    dialog.ok_button.click()
    assert fake.calls[0][0] == "rollback" and fake.calls[0][1] == (1,) and "version" not in fake.calls[0][2]
    assert window.inventory.pool_busy(1) == "rolling back"


def test_scale_dialog_refuses_a_buffer_above_the_maximum(qtbot, window):
    fake = window.services.pools
    dialog = ScaleDialog(make_pool(1), 12)
    qtbot.addWidget(dialog)
    dialog.keep_available.setValue(30)
    assert not dialog.ok_button.isEnabled() and "more than the maximum of 20" in dialog.message.text()
    dialog.maximum.setValue(8)
    dialog.keep_available.setValue(2)
    assert dialog.ok_button.isEnabled() and "4 clones more than the new maximum" in dialog.note.text()
    window.tree.select_key("pools/pool:1")
    window.details.pool_view.scale_button.click()
    dialog = window.pool_commands.last_dialog
    dialog.maximum.setValue(30)
    dialog.keep_available.setValue(6)
    dialog.ok_button.click()
    assert fake.calls == [("scale", (1, 30, 6), {})]
    assert window.inventory.pool(1).maximum == 30


def test_the_maintenance_hand_off_opens_the_update_dialog_for_those_pools(qtbot, window):
    box = window.template_commands.offer_pool_update(1, ["Sales-1", "Support"])
    box.findChild(type(box.buttons()[0]), "updateClonesNowButton").click()
    dialog = window.pool_commands.last_dialog
    assert dialog.objectName() == "poolUpdateDialog" and [p.name for p in dialog.pools] == ["Sales-1", "Support"]
    assert dialog.version_combo.currentData() == 3 and dialog.windowTitle() == "Update pools"
    assert "update dialog" in window.statusBar().currentMessage()
    dialog.ok_button.click()
    assert [(c[0], c[1]) for c in window.services.pools.calls] == [("update", (1,)), ("update", (2,))]


def test_bridge_re_emits_pool_events(qtbot, window):
    bridge, seen = window.bridge, []
    bridge.poolAdded.connect(lambda p: seen.append(("added", p.id)))
    bridge.poolRemoved.connect(lambda pid: seen.append(("removed", pid)))
    bridge._on_event(ev.PoolAdded(make_pool(7, name="Lab")))
    bridge._on_event(ev.PoolRemoved(make_pool(2)))
    assert seen == [("added", 7), ("removed", 2)]
    assert window.inventory.pool_node(7).label == "Lab (0)" and window.inventory.pool_node(2) is None
