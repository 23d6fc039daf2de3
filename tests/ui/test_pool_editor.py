"""The pool editor in a real window against the lab services (x200): every tab driven, the issue's
wrong inputs each refused with its sentence and Save disabled, Save creates the pool (and starts its
provisioning), Edit keeps the template. Screenshots of each tab go to VDI_SHOTS (a folder), when set,
as pool_<tab>.png."""
from __future__ import annotations

import os

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QWidget

from console.domain.inventory import ProviderKind
from console.domain.templates import (
    ImagePreparation,
    ProvisioningMethod,
    TemplatePlan,
)
from console.secrets import SecretStore
from console.ui.bridge import ServicesBridge
from console.ui.pool_editor.dialog import open_pool_editor

SHOTS = os.environ.get("VDI_SHOTS", "")
SPEED = 200


@pytest.fixture
def services(arun, tmp_path):
    """The real services with the embedded lab at x200 (a distributed template copies in ~1 s)."""
    from console.services.container import build_services
    svc = build_services(farm_path=tmp_path / "farm.sqlite", lab=True, lab_state=tmp_path / "lab",
                         lab_speed=SPEED, secrets=SecretStore())
    arun(svc.start())
    yield svc
    arun(svc.close())


def provider(services, name):
    return services.providers.find(name)


def refresh(qtbot, services, kinds=(ProviderKind.HYPERV,)):
    ids = [p.id for p in services.providers.list() if p.kind in kinds]
    services.providers.refresh()
    qtbot.waitUntil(lambda: all(services.providers.inventory(pid) is not None for pid in ids)
                    and services.tasks.running_count() == 0, timeout=30000)


def create_template(qtbot, services, name="Win11 Office", targets=("HV02", "HV03"), host="HV01",
                    vm_name="Win11-Gold"):
    """A template made through the services (like tests/ui/test_template_views_lab.py), finished."""
    src = provider(services, host)
    vm = services.providers.find_vm(vm_name, src.id)[1]
    plan = TemplatePlan(provider_id=src.id, vm_id=vm.id, name=name, distribution_enabled=bool(targets),
                        target_provider_ids=[provider(services, t).id for t in targets],
                        concurrent_distribution=2)
    task = services.templates.create(plan)
    qtbot.waitUntil(lambda: services.tasks.get(task.id).state.finished, timeout=60000)
    assert services.tasks.get(task.id).error in ("", None), services.tasks.get(task.id).error
    return services.templates.find(name)


@pytest.fixture
def bridge(qtbot, services):
    refresh(qtbot, services)
    b = ServicesBridge(services)
    yield b
    b.close()


@pytest.fixture
def template(qtbot, services, bridge):
    return create_template(qtbot, services)


@pytest.fixture
def open_editor(qtbot, bridge):
    opened = []

    def make(pool_id=None, template_id=None):
        editor = open_pool_editor(None, bridge, pool_id=pool_id, template_id=template_id)
        qtbot.waitExposed(editor)
        opened.append(editor)
        return editor
    yield make
    for editor in opened:
        if shiboken6.isValid(editor):
            editor.reject()


def shot(editor, tab: str, name: str = "") -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        editor.show_tab(tab)
        QApplication.processEvents()             # the layout follows the messages shown or hidden
        editor.grab().save(os.path.join(SHOTS, f"pool_{name or tab}.png"))


def child(editor, name: str) -> QWidget:
    widget = editor.findChild(QWidget, name)
    assert widget is not None, name
    return widget


def shown(label) -> bool:
    """A message line is on (its tab may be behind another one)."""
    return not label.isHidden() and bool(label.text())


def reason(editor) -> str:
    return editor.save_reason.text()


def save_enabled(editor) -> bool:
    return editor.save_button.isEnabled()


def retype(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def set_spin(qtbot, spin, value: int) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    assert spin.value() == value


def click_check(qtbot, box) -> None:
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def fill_basics(qtbot, editor, template, name="Sales"):
    editor.show_tab("general")
    qtbot.keyClicks(editor.general.name_edit, name)
    editor.show_tab("provisioning")
    choose(editor.provisioning.template_combo, template.id)


def test_every_tab_driven_and_save_creates_the_pool(qtbot, services, template, open_editor):
    editor = open_editor()
    assert editor.objectName() == "poolEditor" and editor.windowTitle() == "New Pool" and editor.isVisible()
    assert not save_enabled(editor) and reason(editor) == "General: Enter a name for the pool."
    assert not shown(editor.general.messages["name"])         # an untouched name is not an error yet

    # General
    qtbot.keyClicks(editor.general.name_edit, "Sales")
    qtbot.keyClicks(editor.general.description_edit, "Sales floor desktops")
    click_check(qtbot, editor.general.enabled_box)
    assert not editor.state.enabled
    click_check(qtbot, editor.general.enabled_box)
    assert editor.state.enabled and editor.state.description == "Sales floor desktops"
    assert reason(editor).startswith("Provisioning: Choose the template")
    shot(editor, "general")

    # Provisioning: all three methods on Hyper-V, each with its meaning and an estimate
    editor.show_tab("provisioning")
    prov = editor.provisioning
    choose(prov.template_combo, template.id)
    assert editor.state.template.id == template.id and editor.state.version == 1
    assert prov.version_combo.currentData() == 1 and prov.version_combo.isEnabled()
    for method, name in ((ProvisioningMethod.FULL, "methodFull"), (ProvisioningMethod.LINKED, "methodLinked"),
                         (ProvisioningMethod.QUICK, "methodQuick")):
        assert child(editor, name).isEnabled()
        assert child(editor, f"{name}Meaning").text()
        assert child(editor, f"{name}Estimate").text().startswith("Usable in ~"), method
    assert "never independent (depends on v1)" in child(editor, "methodLinkedEstimate").text()
    assert "independent in ~" in child(editor, "methodQuickEstimate").text()
    qtbot.mouseClick(child(editor, "methodQuick"), Qt.MouseButton.LeftButton, pos=QPoint(8, 8))
    assert editor.state.method is ProvisioningMethod.QUICK
    shot(editor, "provisioning")

    # Naming: a live preview
    editor.show_tab("naming")
    naming = editor.naming
    retype(qtbot, naming.pattern_edit, "SAL-%ID:3%")
    assert naming.preview.text().startswith("SAL-001, SAL-002, SAL-003, SAL-004, SAL-005")
    shot(editor, "naming")

    # Scale
    editor.show_tab("scale")
    scale = editor.scale.spins
    set_spin(qtbot, scale["maximum"], 40)
    set_spin(qtbot, scale["initial_count"], 2)
    set_spin(qtbot, scale["keep_available"], 2)
    set_spin(qtbot, scale["delete_unused_after_minutes"], 120)
    assert "up to SAL-040 (the maximum of 40)" in naming.preview.text()
    shot(editor, "scale")

    # Active Directory and preparation: the template's, then overridden
    editor.show_tab("preparation")
    prep = editor.preparation
    assert not prep.edits["domain"].isEnabled()
    click_check(qtbot, prep.override)
    assert prep.edits["domain"].isEnabled() and editor.state.override_preparation
    qtbot.mouseClick(prep.rename_join, Qt.MouseButton.LeftButton, pos=QPoint(8, 8))
    assert not save_enabled(editor) and reason(editor).startswith("Preparation:")
    for key, text in (("domain", "corp.example.com"), ("organizational_unit", "OU=Sales,DC=corp,DC=example,DC=com"),
                      ("join_account", "CORP\\svc-sales"), ("join_password", "Sal3s!join")):
        qtbot.keyClicks(prep.edits[key], text)
    shot(editor, "preparation")

    # Targets: both distribution targets, a cap per host
    editor.show_tab("targets")
    targets = editor.targets.targets
    assert [targets.item(r).text() for r in range(targets.count())] == ["HV02", "HV03"]
    assert all(targets.item(r).checkState() == Qt.CheckState.Checked for r in range(2))
    set_spin(qtbot, editor.targets.cap, 20)
    assert save_enabled(editor), reason(editor)
    assert reason(editor) == "Save creates the pool and makes 2 quick clone(s) on HV02, HV03 now."
    shot(editor, "targets")

    with qtbot.waitSignal(editor.poolSaved, timeout=10000) as saved:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    pool = services.pools.get(saved.args[0])
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=5000)
    assert (pool.name, pool.description, pool.enabled, pool.template_id, pool.version) == \
        ("Sales", "Sales floor desktops", True, template.id, 1)
    assert (pool.method, pool.naming_pattern, pool.initial_count, pool.keep_available, pool.maximum) == \
        (ProvisioningMethod.QUICK, "SAL-%ID:3%", 2, 2, 40)
    assert (pool.delete_unused_after_minutes, pool.per_host_cap) == (120, 20)
    assert sorted(pool.target_provider_ids) == sorted([provider(services, "HV02").id, provider(services, "HV03").id])
    override = pool.preparation_override
    assert override.method is ImagePreparation.RENAME_AND_JOIN and override.join_account == "CORP\\svc-sales"
    assert services.secrets.get(f"pool:{pool.id}:join") == "Sal3s!join"
    assert editor.task is not None                          # the first two clones are being made


def test_a_naming_pattern_too_short_for_the_maximum_and_invalid_characters(qtbot, template, open_editor):
    editor = open_editor(template_id=template.id)
    fill_basics(qtbot, editor, template)
    assert save_enabled(editor), reason(editor)
    set_spin(qtbot, editor.scale.spins["maximum"], 500)
    retype(qtbot, editor.naming.pattern_edit, "VDI-%ID:2%")
    expected = "%ID:2% gives at most 99 names (VDI-01 … VDI-99), fewer than the maximum of 500. Use %ID:3%"
    label = editor.naming.messages["naming_pattern"]
    assert not save_enabled(editor) and shown(label) and label.text().startswith(expected)
    assert reason(editor).startswith("Naming: " + expected)
    assert editor.naming.preview.text().endswith("(no room for the maximum of 500)")
    assert not editor.tabs_widget.tabIcon(2).isNull()       # the Naming tab is marked
    shot(editor, "naming", "naming_too_short")
    retype(qtbot, editor.naming.pattern_edit, "VDI_%ID:3%")
    assert not save_enabled(editor) and "characters a computer name cannot have: _" in label.text()
    retype(qtbot, editor.naming.pattern_edit, "1VDI-%ID:3%")
    assert not save_enabled(editor) and "must start with a letter" in label.text()
    retype(qtbot, editor.naming.pattern_edit, "SQL-VDI-%ID:2%")   # SQL-VDI-01 is a VM on HV02
    set_spin(qtbot, editor.scale.spins["maximum"], 10)
    assert not save_enabled(editor) and "SQL-VDI-01 already exists" in label.text()
    retype(qtbot, editor.naming.pattern_edit, "VDI-%ID:3%")
    assert save_enabled(editor) and not shown(label) and editor.tabs_widget.tabIcon(2).isNull()


def test_a_buffer_above_the_maximum_is_refused_where_it_is_typed(qtbot, template, open_editor):
    editor = open_editor()
    fill_basics(qtbot, editor, template)
    set_spin(qtbot, editor.scale.spins["maximum"], 5)
    set_spin(qtbot, editor.scale.spins["keep_available"], 8)
    label = editor.scale.messages["keep_available"]
    assert not save_enabled(editor) and shown(label)
    assert label.text() == "A buffer of 8 available clones is more than the maximum of 5. Lower the buffer, or raise the maximum."
    assert reason(editor).startswith("Scale: A buffer of 8")
    shot(editor, "scale", "scale_buffer_above_maximum")
    set_spin(qtbot, editor.scale.spins["keep_available"], 5)
    assert save_enabled(editor) and not shown(label)
    set_spin(qtbot, editor.targets.cap, 2)                   # 2 hosts × 2 < 5
    assert not save_enabled(editor) and "fewer than the maximum of 5" in editor.targets.messages["per_host_cap"].text()
    assert reason(editor).startswith("Targets: 2 target hosts with at most 2 clones each")


def test_a_template_in_maintenance_and_an_untagged_version_are_refused(qtbot, services, template, open_editor):
    editor = open_editor(template_id=template.id)
    fill_basics(qtbot, editor, template)
    assert save_enabled(editor), reason(editor)
    # follow a tag no version has
    choose(editor.provisioning.tag_combo, "pre-production")
    assert not editor.provisioning.version_combo.isEnabled()
    label = editor.provisioning.messages["follow_tag"]
    assert not save_enabled(editor) and shown(label)
    assert "No version of template 'Win11 Office' is tagged 'pre-production'" in label.text()
    shot(editor, "provisioning", "provisioning_untagged")
    services.templates.set_tag(template.id, 1, "pre-production")          # the editor follows the change
    qtbot.waitUntil(lambda: save_enabled(editor), timeout=5000)
    assert editor.state.resolved_version == 1 and "now v1" in editor.provisioning.version_note.text()
    choose(editor.provisioning.tag_combo, "")
    assert save_enabled(editor) and editor.provisioning.version_combo.isEnabled()
    # maintenance: the template cannot give clones until it ends
    services.templates.enter_maintenance(template.id)
    text = "Template 'Win11 Office' is in maintenance: it cannot give new clones until maintenance ends."
    qtbot.waitUntil(lambda: not save_enabled(editor), timeout=5000)
    assert editor.provisioning.messages["template"].text() == text
    assert reason(editor) == f"Provisioning: {text}"
    shot(editor, "provisioning", "provisioning_maintenance")


def test_editing_keeps_the_template_and_a_version_change_says_update(qtbot, services, template, open_editor):
    editor = open_editor(template_id=template.id)
    fill_basics(qtbot, editor, template, name="Edit Me")
    set_spin(qtbot, editor.scale.spins["initial_count"], 0)
    with qtbot.waitSignal(editor.poolSaved, timeout=10000) as saved:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    pool_id = saved.args[0]
    assert editor.task is None                               # nothing to make at once

    editor = open_editor(pool_id=pool_id)
    assert editor.windowTitle() == "Edit Pool 'Edit Me'" and editor.general.name_edit.text() == "Edit Me"
    assert not editor.provisioning.template_combo.isEnabled()
    assert "cannot change" in editor.provisioning.template_note.text()
    assert save_enabled(editor), reason(editor)               # its own name is not "taken"
    set_spin(qtbot, editor.scale.spins["maximum"], 25)
    retype(qtbot, editor.general.name_edit, "Edited")
    with qtbot.waitSignal(editor.poolSaved, timeout=10000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    pool = services.pools.get(pool_id)
    assert (pool.name, pool.maximum, pool.template_id) == ("Edited", 25, template.id)

    # a second version: choosing it is an update of the clones
    entered = services.templates.enter_maintenance(template.id)
    qtbot.waitUntil(lambda: services.tasks.get(entered.id).state.finished, timeout=60000)
    task = services.templates.leave_maintenance(template.id, new_version=True)
    qtbot.waitUntil(lambda: services.tasks.get(task.id).state.finished, timeout=60000)
    qtbot.waitUntil(lambda: services.tasks.running_count() == 0, timeout=60000)
    editor = open_editor(pool_id=pool_id)
    other = open_editor()
    retype(qtbot, other.general.name_edit, "edited")
    assert "A pool named 'Edited' already exists" in other.general.messages["name"].text()
    other.reject()
    assert "Update…" in editor.provisioning.version_note.text()
    choose(editor.provisioning.version_combo, 2)
    label = editor.provisioning.messages["version"]
    assert not save_enabled(editor) and shown(label)
    assert "The pool is at v1: moving it to v2 is an update, not an edit. Use Update… to move the clones" \
        in label.text() and reason(editor).startswith("Provisioning: The pool is at v1")
    shot(editor, "provisioning", "provisioning_edit_version")


def test_every_field_has_its_object_name_and_an_accessible_name(qtbot, template, open_editor):
    editor = open_editor(template_id=template.id)
    names = ["poolEditor", "generalTab", "provisioningTab", "namingTab", "scaleTab", "preparationTab",
             "targetsTab", "poolName", "poolDescription", "poolEnabled", "poolTemplate", "poolVersion",
             "followTag", "methodFull", "methodLinked", "methodQuick", "methodFullEstimate",
             "methodLinkedEstimate", "methodQuickEstimate", "namingPattern", "namingPreview", "initialCount",
             "keepAvailable", "maximum", "deleteUnusedAfter", "overridePreparation", "preparationSysprep",
             "preparationRenameJoin", "domainName", "organizationalUnit", "joinAccount", "joinPassword",
             "localAdministrator", "ownerName", "organizationName", "targetList", "perHostCap", "saveButton",
             "saveReason"]
    for name in names:
        widget = editor if name == "poolEditor" else child(editor, name)
        assert widget.accessibleName(), name
    assert editor.state.template.id == template.id                # preselected, as from the tree
    assert child(editor, "joinPassword").echoMode() == child(editor, "joinPassword").EchoMode.Password


def test_a_nutanix_template_disables_quick_clones_with_the_reason(qtbot, services, bridge, open_editor):
    refresh(qtbot, services, kinds=(ProviderKind.NUTANIX_PE,))
    template = create_template(qtbot, services, name="AHV Gold", targets=(), host="NTNX-PE-01")
    editor = open_editor(template_id=template.id)
    fill_basics(qtbot, editor, template, name="AHV Sales")
    quick, linked = child(editor, "methodQuick"), child(editor, "methodLinked")
    assert not quick.isEnabled() and linked.isEnabled() and child(editor, "methodFull").isEnabled()
    text = ("Quick clones need Hyper-V differencing disks; Nutanix AHV clones from snapshots are already "
            "instant (use linked).")
    assert child(editor, "methodQuickEstimate").text() == f"Not possible: {text}" and quick.toolTip() == text
    assert child(editor, "methodLinkedMeaning").text().startswith("A clone of the version's snapshot")
    targets = editor.targets.targets
    assert [targets.item(r).text() for r in range(targets.count())] == ["NTNX-PE-01"]
    assert save_enabled(editor), reason(editor)
    shot(editor, "provisioning", "provisioning_nutanix")
