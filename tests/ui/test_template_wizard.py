"""The Create Template wizard in a real window against the lab services: the whole way from HV01 /
Win11-Gold to a template distributed to HV02 and HV03 (HV04, the workgroup host, fails its check and
is removed), and each page's wrong input."""
from __future__ import annotations

import os

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QWizard

from console.domain.tasks import TaskState
from console.domain.templates import TargetState, Template, TemplateState
from console.ui.bridge import ServicesBridge
from console.ui.template_wizard.wizard import (DISTRIBUTION, GENERAL, PREPARATION, SOURCE, SUMMARY,
                                               open_create_template_wizard)

SHOTS = os.environ.get("VDI_SHOTS", "")      # a folder: each page is saved there as wizard_<page>.png


def provider(services, name):
    return next(p for p in services.providers.list() if p.name == name)


@pytest.fixture
def bridge(qtbot, services):
    """A bridge over the lab services whose Hyper-V and Prism Element inventories have been read."""
    b = ServicesBridge(services)
    wanted = [provider(services, n).id for n in ("HV01", "HV02", "HV03", "HV04", "NTNX-PE-01")]
    services.providers.refresh()
    qtbot.waitUntil(lambda: all(services.providers.inventory(pid) is not None for pid in wanted)
                    and services.tasks.running_count() == 0, timeout=30000)
    yield b
    b.close()


@pytest.fixture
def open_wizard(qtbot, bridge):
    opened = []

    def make(provider_id=None, vm_id=None):
        # not qtbot.addWidget: a finished wizard deletes itself (deleteLater), and is gone by teardown
        wizard = open_create_template_wizard(None, bridge, provider_id, vm_id)
        qtbot.waitExposed(wizard)
        opened.append(wizard)
        return wizard
    yield make
    for wizard in opened:
        if shiboken6.isValid(wizard):
            wizard.reject()


def shot(wizard, page: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        wizard.grab().save(os.path.join(SHOTS, f"wizard_{page}.png"))


def message(wizard, name: str) -> QLabel:
    return wizard.findChild(QLabel, name)


def next_enabled(wizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_check(qtbot, box) -> None:
    # a stretched check box ignores a click at its centre (NOTES.md)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def choose_source(qtbot, wizard, services, provider_name, vm_name, filter_text=""):
    page = wizard.source_page
    pid = provider(services, provider_name).id
    page.provider_combo.setCurrentIndex(page.provider_combo.findData(pid))
    if filter_text:
        page.filter_edit.clear()
        qtbot.keyClicks(page.filter_edit, filter_text)
    items = [page.vm_list.item(r) for r in range(page.vm_list.count())]
    item = next(i for i in items if i.text().startswith(vm_name + " ") and not i.isHidden())
    page.vm_list.scrollToItem(item)
    qtbot.mouseClick(page.vm_list.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.vm_list.visualItemRect(item).center())
    qtbot.waitUntil(lambda: not wizard.state.checking_source, timeout=20000)
    assert wizard.state.vm_name == vm_name and wizard.state.check is not None, wizard.state.check_error


def go_next(qtbot, wizard, expected_id):
    qtbot.waitUntil(lambda: next_enabled(wizard), timeout=5000)
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    assert wizard.currentId() == expected_id


def fill_general(qtbot, wizard, name):
    edit = wizard.general_page.name_edit
    edit.clear()
    qtbot.keyClicks(edit, name)
    qtbot.keyClicks(wizard.general_page.description_edit, "Windows 11 with Office, for the sales pool")


def target_row(wizard, name):
    targets = wizard.distribution_page.targets
    return next(targets.item(r) for r in range(targets.count()) if f" {name} " in targets.item(r).text())


def test_whole_wizard_hv01_gold_to_hv02_hv03_with_hv04_failing_and_removed(qtbot, services, open_wizard):
    wizard = open_wizard()
    assert wizard.objectName() == "createTemplateWizard" and wizard.isVisible()
    choose_source(qtbot, wizard, services, "HV01", "Win11-Gold", filter_text="gold")
    assert not wizard.source_page.consent.isVisible()              # Win11-Gold is off
    shot(wizard, "source")
    go_next(qtbot, wizard, GENERAL)

    fill_general(qtbot, wizard, "Win11 Office")
    assert next_enabled(wizard) and not message(wizard, "generalPageMessage").isVisible()
    shot(wizard, "general")
    go_next(qtbot, wizard, PREPARATION)

    page = wizard.preparation_page
    click(qtbot, page.rename_join)
    assert not next_enabled(wizard)                                # a domain join needs a domain
    for field, text in (("domain", "corp.example.com"), ("organizational_unit", "OU=VDI,DC=corp,DC=example,DC=com"),
                        ("join_account", "CORP\\svc-join"), ("join_password", "J0in!pass"),
                        ("owner", "IT Operations"), ("organization", "Example Corp")):
        qtbot.keyClicks(page.edits[field], text)
    assert next_enabled(wizard), message(wizard, "preparationPageMessage").text()
    shot(wizard, "preparation")
    go_next(qtbot, wizard, DISTRIBUTION)

    dist = wizard.distribution_page
    assert not dist.body.isEnabled()
    click_check(qtbot, dist.enable)
    assert dist.body.isEnabled() and wizard.state.distribution_enabled
    available = {dist.available.item(r).text(): dist.available.item(r) for r in range(dist.available.count())}
    nutanix = next(i for t, i in available.items() if t.startswith("NTNX-PE-01"))
    assert not (nutanix.flags() & Qt.ItemFlag.ItemIsEnabled) and "Not a standalone Hyper-V host" in nutanix.toolTip()
    for name in ("HV02", "HV03", "HV04"):
        available[name].setSelected(True)
    click(qtbot, dist.add_button)
    assert dist.targets.count() == 3
    assert all("Checking" in dist.targets.item(r).text() for r in range(3))
    shot(wizard, "distribution_checking")
    assert not next_enabled(wizard)
    qtbot.waitUntil(lambda: not wizard.state.checks_running(), timeout=20000)
    assert target_row(wizard, "HV02").text().startswith("✓") and target_row(wizard, "HV03").text().startswith("✓")
    hv04 = target_row(wizard, "HV04")
    assert hv04.text().startswith("✗")
    assert not next_enabled(wizard)
    text = message(wizard, "distributionPageMessage").text()
    assert "HV04" in text and "Remove HV04" in text
    dist.targets.clearSelection()
    hv04.setSelected(True)
    rows = dist.model.rows
    assert any(r.key == "domain" and r.status.value == "failed" and r.fix for r in rows)
    assert dist.table_label.text() == "Prerequisites of HV04"
    shot(wizard, "distribution")
    click(qtbot, dist.recheck_button)                 # the host is not fixed: it fails again
    assert "Checking" in target_row(wizard, "HV04").text() and not next_enabled(wizard)
    qtbot.waitUntil(lambda: not wizard.state.checks_running(), timeout=20000)
    hv04 = target_row(wizard, "HV04")
    assert hv04.text().startswith("✗") and not next_enabled(wizard)
    dist.targets.clearSelection()
    hv04.setSelected(True)
    click(qtbot, dist.remove_button)
    assert [t.name for t in wizard.state.targets] == ["HV02", "HV03"]
    dist.concurrency.setValue(2)
    go_next(qtbot, wizard, SUMMARY)

    summary = wizard.summary_page.text.toPlainText()
    for words in ("Win11-Gold on HV01", "Win11 Office", "HV02, HV03", "Export version 1 once on HV01",
                  "2 targets (HV02, HV03), 2 at a time", "Import and register"):
        assert words in summary
    assert "J0in!pass" not in summary
    shot(wizard, "summary")
    with qtbot.waitSignal(wizard.templateCreated, timeout=10000) as created:
        click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
    template_id = created.args[0]
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5000)
    task = wizard.task
    qtbot.waitUntil(lambda: services.tasks.get(task.id).state.finished, timeout=60000)
    done = services.tasks.get(task.id)
    assert done.state is TaskState.SUCCEEDED, done.error
    template = services.templates.get(template_id)
    assert template.state is TemplateState.READY and template.distribution_enabled
    assert sorted(provider(services, "HV02").id == t.provider_id or provider(services, "HV03").id == t.provider_id
                  for t in template.targets) == [True, True]
    assert all(t.state is TargetState.READY and t.version == 1 for t in template.targets)
    assert services.secrets.get(f"template:{template_id}:join") == "J0in!pass"


def test_general_refuses_an_empty_and_a_used_name(qtbot, services, open_wizard):
    hv01 = provider(services, "HV01")
    services.store.templates.add(Template(None, "Win11 Office", hv01.id, "some-vm", state=TemplateState.READY))
    wizard = open_wizard()
    choose_source(qtbot, wizard, services, "HV01", "Win11-Gold")
    go_next(qtbot, wizard, GENERAL)
    assert not next_enabled(wizard) and not message(wizard, "generalPageMessage").isVisible()
    qtbot.keyClicks(wizard.general_page.name_edit, "x")
    wizard.general_page.name_edit.selectAll()
    qtbot.keyClick(wizard.general_page.name_edit, Qt.Key.Key_Backspace)
    label = message(wizard, "generalPageMessage")
    assert not next_enabled(wizard) and label.isVisible() and "name" in label.text().lower()
    qtbot.keyClicks(wizard.general_page.name_edit, "WIN11 office")
    assert not next_enabled(wizard) and "already" in label.text()
    shot(wizard, "general_used_name")
    qtbot.keyClicks(wizard.general_page.name_edit, " 2")
    assert next_enabled(wizard) and not label.isVisible()


def test_preparation_refuses_a_bad_distinguished_name(qtbot, services, open_wizard):
    wizard = open_wizard()
    choose_source(qtbot, wizard, services, "HV01", "Win11-Gold")
    go_next(qtbot, wizard, GENERAL)
    fill_general(qtbot, wizard, "DN test")
    go_next(qtbot, wizard, PREPARATION)
    page = wizard.preparation_page
    qtbot.keyClicks(page.edits["domain"], "corp.example.com")
    qtbot.keyClicks(page.edits["join_account"], "CORP\\svc-join")
    qtbot.keyClicks(page.edits["join_password"], "pw")
    assert next_enabled(wizard)
    qtbot.keyClicks(page.edits["organizational_unit"], "OU=VDI;DC=corp")
    label = message(wizard, "preparationPageMessage")
    assert not next_enabled(wizard) and label.isVisible() and label.text().startswith("Organizational unit:")
    shot(wizard, "preparation_bad_dn")
    page.edits["organizational_unit"].clear()
    qtbot.keyClicks(page.edits["organizational_unit"], "OU=VDI,DC=corp,DC=example,DC=com")
    assert next_enabled(wizard) and not label.isVisible()
    assert page.edits["join_password"].echoMode() == page.edits["join_password"].EchoMode.Password


def test_a_running_source_needs_the_shutdown_consent(qtbot, services, open_wizard):
    wizard = open_wizard()
    choose_source(qtbot, wizard, services, "HV01", "Win11-Pool-01")
    page = wizard.source_page
    assert wizard.state.source_running and page.consent.isVisible()
    assert "running" in page.result_label.text() and not next_enabled(wizard)
    click_check(qtbot, page.consent)
    assert wizard.state.shutdown_consent and next_enabled(wizard)
    shot(wizard, "source_running")
    choose_source(qtbot, wizard, services, "HV01", "Appliance-Firewall")      # also lacks services
    assert not wizard.state.shutdown_consent and not next_enabled(wizard)
    assert "Shutdown integration service" in page.result_label.text()


def test_a_nutanix_source_skips_distribution_and_the_summary_says_why(qtbot, services, open_wizard):
    pe = provider(services, "NTNX-PE-01")
    vm = next(v for h in services.providers.inventory(pe.id).hosts for v in h.vms if v.name == "Win11-Gold")
    wizard = open_wizard(pe.id, vm.id)                         # preselected, as from the tree
    qtbot.waitUntil(lambda: wizard.state.check is not None, timeout=20000)
    assert wizard.state.provider_id == pe.id and not wizard.state.distribution_possible
    go_next(qtbot, wizard, GENERAL)
    fill_general(qtbot, wizard, "AHV Gold")
    go_next(qtbot, wizard, PREPARATION)
    go_next(qtbot, wizard, SUMMARY)
    assert DISTRIBUTION not in wizard.visitedIds()
    assert "only for standalone Hyper-V hosts" in wizard.summary_page.text.toPlainText()
    assert "Take the snapshot" in wizard.summary_page.text.toPlainText()
    shot(wizard, "summary_nutanix")


def test_a_refusal_at_finish_shows_on_the_summary_and_keeps_the_wizard_open(qtbot, services, open_wizard):
    wizard = open_wizard()
    choose_source(qtbot, wizard, services, "HV01", "Win11-Gold")
    go_next(qtbot, wizard, GENERAL)
    fill_general(qtbot, wizard, "Taken Later")
    go_next(qtbot, wizard, PREPARATION)
    go_next(qtbot, wizard, DISTRIBUTION)
    go_next(qtbot, wizard, SUMMARY)
    hv01 = provider(services, "HV01")
    services.store.templates.add(Template(None, "taken later", hv01.id, "x", state=TemplateState.READY))
    click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
    label = message(wizard, "summaryPageMessage")
    assert wizard.isVisible() and wizard.currentId() == SUMMARY and wizard.task is None
    assert label.isVisible() and "already exists" in label.text() and "General page" in label.text()
    assert [t.name for t in services.templates.list()] == ["taken later"]


def test_every_field_has_its_object_name_and_an_accessible_name(qtbot, services, open_wizard):
    wizard = open_wizard()
    names = ["sourcePage", "generalPage", "preparationPage", "distributionPage", "summaryPage",
             "sourceProvider", "sourceVmFilter", "sourceVmList", "shutdownConsent", "templateName",
             "templateDescription", "preparationSysprep", "preparationRenameJoin", "domainName",
             "organizationalUnit", "joinAccount", "joinPassword", "localAdministrator", "ownerName",
             "organizationName", "enableDistribution", "availableProviders", "addTarget", "addAllTargets",
             "removeTarget", "targetList", "concurrentDistribution", "prerequisiteTable", "recheckTargets",
             "summaryText", "sourcePageMessage", "generalPageMessage", "preparationPageMessage",
             "distributionPageMessage", "summaryPageMessage"]
    from PySide6.QtWidgets import QWidget
    for name in names:
        widget = wizard.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    assert wizard.distribution_page.concurrency.value() == 2
    assert (wizard.distribution_page.concurrency.minimum(), wizard.distribution_page.concurrency.maximum()) == (1, 16)
    assert wizard.page(SOURCE).objectName() == "sourcePage"
