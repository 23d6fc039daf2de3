"""Pools in the main window against the real pool services and the lab (x400): a pool appears in the
tree, its clones stream into the table and the chart, Delete pool confirms with the count and removes
every clone, the maintenance hand-off opens the update dialog which drives pools.update, and the
clean-up button appears for the INCOMPLETE clones a killed console left. VDI_SHOTS=<folder> also saves
screenshots."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from console.domain.tasks import TaskState
from console.domain.templates import (
    CloneState,
    ImagePreparation,
    Pool,
    Preparation,
    ProvisioningMethod,
    TemplatePlan,
)
from console.secrets import SecretStore
from console.services.container import build_services
from console.ui.main_window import MainWindow
from console.ui.pool_nodes import pool_key_path

SPEED = 400.0
PREPARATION = Preparation(method=ImagePreparation.RENAME_AND_JOIN, domain="corp.example.com",
                          join_account="CORP\\svc-join")


def start(arun, tmp_path):
    svc = build_services(farm_path=tmp_path / "farm.sqlite", lab=True, lab_state=tmp_path / "lab",
                         lab_speed=SPEED, secrets=SecretStore())
    arun(svc.start())
    return svc


@pytest.fixture
def psvc(arun, tmp_path):
    svc = start(arun, tmp_path)
    yield svc
    arun(svc.close())


def open_window(qtbot, svc, settings) -> MainWindow:
    window = MainWindow(svc, settings, remember_layout=False)
    qtbot.addWidget(window)
    window.resize(1400, 1000)
    window.show()

    def loaded():
        providers = window.inventory.providers()
        return (len(providers) == len(svc.lab.hosts) + len(svc.lab.prism)
                and all(window.inventory.provider_node(p.id).children for p in providers)
                and not [t for t in svc.tasks.active() if t.kind == "refresh"])
    qtbot.waitUntil(loaded, timeout=30000)
    return window


@pytest.fixture
def window(qtbot, psvc, settings):
    win = open_window(qtbot, psvc, settings)
    yield win
    win.close()


def wait_task(qtbot, svc, task, timeout=60000):
    assert task is not None, "nothing was started"
    qtbot.waitUntil(lambda: svc.tasks.get(task.id).state.finished, timeout=timeout)
    return svc.tasks.get(task.id)


def make_template(qtbot, svc, name="Win11-Pool"):
    hv01 = svc.providers.find("HV01")
    vm = svc.providers.find_vm("Win11-Gold", hv01.id)[1]
    plan = TemplatePlan(provider_id=hv01.id, vm_id=vm.id, name=name, distribution_enabled=True,
                        target_provider_ids=[svc.providers.find(h).id for h in ("HV02", "HV03")],
                        preparation=PREPARATION, join_password="Join-Pa55word!")
    task = wait_task(qtbot, svc, svc.templates.create(plan))
    assert task.state is TaskState.SUCCEEDED, task.error
    return svc.templates.find(name)


def new_pool(svc, template, name="Sales", initial=6, method=ProvisioningMethod.LINKED, **kw) -> Pool:
    return Pool(id=None, name=name, template_id=template.id, version=template.latest_version.number,
                method=method, naming_pattern="VDI-%ID:3%", initial_count=initial, keep_available=0,
                maximum=20, **kw)


def create_pool(qtbot, svc, template, wait=True, **kw):
    pool, task = svc.pools.create(new_pool(svc, template, **kw))
    if wait and task is not None:
        assert wait_task(qtbot, svc, task).state is TaskState.SUCCEEDED
    return pool, task


def test_a_pool_appears_in_the_tree_and_its_clones_stream_into_the_table_and_chart(qtbot, window, psvc):
    template = make_template(qtbot, psvc)
    pool, task = create_pool(qtbot, psvc, template, wait=False)
    qtbot.waitUntil(lambda: window.inventory.pool_node(pool.id) is not None, timeout=5000)
    assert window.tree.select_key(pool_key_path(pool.id))
    view = window.details.pool_view
    seen = set()

    def watch():
        seen.update(view.clone_model.cell(c, 2) for c in view.clone_model.items())
        return psvc.tasks.get(task.id).state.finished
    qtbot.waitUntil(watch, timeout=60000)
    assert psvc.tasks.get(task.id).state is TaskState.SUCCEEDED
    qtbot.waitUntil(lambda: [view.clone_model.cell(c, 2) for c in view.clone_model.items()] == ["Ready"] * 6,
                    timeout=3000)
    assert "Provisioning" in seen                                  # rows came while they were being made
    assert sorted(c.name for c in view.clone_model.items()) == [f"VDI-00{i}" for i in range(1, 7)]
    assert {c.host for c in view.clone_model.items()} == {"HV02", "HV03"}
    assert len(view.chart.bar_names()) == 6 and view.chart.stats[0] > 0
    assert window.inventory.pool_node(pool.id).label == "Sales (6)"
    assert view.counts.text().startswith("6 clones: 6 ready")
    assert not view.clean_up_button.isVisibleTo(view.clones_page)
    assert view.history_model.rowCount() == 1
    view.edit_button.click()                                   # Edit and New Pool open the pool editor
    editor = window.pool_commands.last_dialog
    assert editor.objectName() == "poolEditor" and "Sales" in editor.windowTitle()
    editor.reject()
    view.new_button.click()
    editor = window.pool_commands.last_dialog
    assert editor.objectName() == "poolEditor" and editor.windowTitle() == "New Pool"
    editor.reject()


def test_delete_pool_confirms_with_the_count_and_removes_every_clone(qtbot, window, psvc):
    template = make_template(qtbot, psvc)
    pool, _task = create_pool(qtbot, psvc, template, initial=3)
    window.tree.select_key(pool_key_path(pool.id))
    window.details.pool_view.delete_button.click()
    box = window.pool_commands.last_dialog
    assert box.objectName() == "confirmDeletePool" and box.text() == "Delete the pool 'Sales' and its 3 clones?"
    box.button(box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: window.inventory.pool_node(pool.id) is None, timeout=30000)
    with psvc.lab.world.lock:
        left = [vm.name for h in psvc.lab.world.hosts.values() for vm in h.vms.values()
                if "\\VDI-Pools\\" in (vm.path or "")]
    assert left == []


def test_the_maintenance_hand_off_opens_the_update_dialog_which_drives_pools_update(qtbot, window, psvc):
    template = make_template(qtbot, psvc)
    pool, _task = create_pool(qtbot, psvc, template, initial=4)
    wait_task(qtbot, psvc, psvc.templates.enter_maintenance(template.id, None))
    commands = window.template_commands
    started = []
    psvc.bus.subscribe(lambda e: started.append(e.task) if type(e).__name__ == "TaskAdded" else None)
    window.tree.select_key(f"templates/t:{template.id}")
    qtbot.waitUntil(lambda: window.inventory.template(template.id).state.value == "maintenance", timeout=5000)
    window.actions.update(window.tree.selected_node(), True)
    window.actions.templates.maintenance.trigger()
    leave = commands.last_dialog
    assert leave.objectName() == "leaveMaintenanceDialog"
    leave.force_off.setChecked(True)
    leave.ok_button.click()
    offers = lambda: [d for d in window._dialogs if d.objectName() == "poolUpdateOffer"]
    qtbot.waitUntil(lambda: bool(offers()), timeout=60000)      # when the new version is made
    qtbot.waitUntil(lambda: not [t for t in psvc.tasks.active() if t.kind.startswith("template")], timeout=60000)
    [offer] = offers()
    assert "Sales" in offer.text()
    offer.findChild(type(offer.buttons()[0]), "updateClonesNowButton").click()
    dialog = window.pool_commands.last_dialog
    assert dialog.objectName() == "poolUpdateDialog" and [p.id for p in dialog.pools] == [pool.id]
    assert dialog.version_combo.currentData() == 2
    dialog.batch_size.setValue(2)
    dialog.logoff_force.setChecked(True)
    dialog.ok_button.click()
    update = next(t for t in started if t.kind == "pool-update")
    asked = psvc.tasks.get(update.id).result["params"]
    assert asked["batch_size"] == 2 and asked["version"] == 2 and asked["logoff"] == "force"
    node = window.inventory.pool_node(pool.id)
    qtbot.waitUntil(lambda: "updating" in node.label, timeout=5000)
    assert wait_task(qtbot, psvc, update).state is TaskState.SUCCEEDED
    qtbot.waitUntil(lambda: node.label == "Sales (4)", timeout=5000)
    window.tree.select_key(pool_key_path(pool.id))
    view = window.details.pool_view
    qtbot.waitUntil(lambda: {c.version for c in view.clone_model.items()} == {2}, timeout=5000)
    assert window.inventory.pool(pool.id).version == 2
    qtbot.waitUntil(lambda: view.history_model.rowCount() == 2, timeout=5000)
    assert view.rollback_button.isEnabled()


def test_clean_up_button_appears_for_the_clones_a_killed_console_left(qtbot, arun, tmp_path, settings):
    svc = start(arun, tmp_path)
    try:
        for provider in svc.providers.list():           # no window yet: read the Hyper-V hosts' inventories
            if provider.kind.value == "hyperv":
                wait_task(qtbot, svc, svc.providers.refresh(provider.id)[0])
        template = make_template(qtbot, svc)
        pool, _task = create_pool(qtbot, svc, template, initial=3)
        svc.pools.set_enabled(pool.id, False)              # the keeper leaves it alone from now on
        farm = svc.pools._farm.pools
        for clone in farm.clones(pool.id)[:2]:              # as a console killed while making them leaves them
            farm.save_clone(dataclasses.replace(clone, state=CloneState.PROVISIONING))
    finally:
        arun(svc.close())
    svc = start(arun, tmp_path)                            # start-up, alone on the farm: INCOMPLETE
    window = open_window(qtbot, svc, settings)
    try:
        window.tree.select_key(pool_key_path(pool.id))
        view = window.details.pool_view
        assert view.clean_up_button.isVisibleTo(view.clones_page)
        assert view.clean_up_button.text() == "Clean up 2 half-made clones"
        assert "2 incomplete" in view.counts.text()
        view.clean_up_button.click()
        box = window.pool_commands.last_dialog
        assert box.objectName() == "confirmCleanUp" and "VDI-001, VDI-002" in box.informativeText()
        box.button(box.StandardButton.Yes).click()
        task = next(t for t in svc.tasks.recent(50) if t.kind == "pool-clean-up")
        assert wait_task(qtbot, svc, task).state is TaskState.SUCCEEDED
        qtbot.waitUntil(lambda: [c.name for c in view.clone_model.items()] == ["VDI-003"], timeout=5000)
        assert not view.clean_up_button.isVisibleTo(view.clones_page)
        assert svc.pools.half_made(pool.id) == []
    finally:
        window.close()
        arun(svc.close())


@pytest.mark.skipif(not os.environ.get("VDI_SHOTS"), reason="screenshots: set VDI_SHOTS=<folder>")
def test_screenshots_of_a_pool_against_the_lab(qtbot, window, psvc):
    """VDI_SHOTS=/tmp/shots: pool_view_lab.png (a quick pool of 12 being made) and pool_update_lab.png."""
    folder = Path(os.environ["VDI_SHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    template = make_template(qtbot, psvc)
    pool, task = create_pool(qtbot, psvc, template, wait=False, initial=12, method=ProvisioningMethod.QUICK)
    qtbot.waitUntil(lambda: window.inventory.pool_node(pool.id) is not None, timeout=5000)
    window.tree.select_key(pool_key_path(pool.id))
    view = window.details.pool_view
    qtbot.waitUntil(lambda: len(view.chart.bar_names()) >= 8, timeout=60000)
    window.grab().save(str(folder / "pool_view_lab.png"))
    wait_task(qtbot, psvc, task)
    view.update_button.click()
    window.pool_commands.last_dialog.grab().save(str(folder / "pool_update_lab.png"))
    window.pool_commands.last_dialog.reject()
