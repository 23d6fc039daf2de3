"""Add Provider for Nutanix AHV: Prism Element and Prism Central against the lab's HTTPS endpoints,
the certificate trust dialog, the wrong-kind switch, and bad input refused as it is typed."""
from __future__ import annotations

import pytest
import shiboken6

from console.domain.inventory import ProviderKind
from console.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, services, settings):
    win = MainWindow(services, settings, remember_layout=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    # let the refreshes the window started finish: a request cut off at close leaves httpx noise
    # (pytest-qt may have closed and deleted the window by now)
    qtbot.waitUntil(lambda: services.tasks.running_count() == 0, timeout=30000)
    if shiboken6.isValid(win):
        win.close()


def forget_lab_provider(arun, services, name: str):
    """The lab registered this endpoint already: the dialog would refuse it as a duplicate."""
    provider = next(p for p in services.providers.list() if p.name == name)
    arun(services.providers.remove(provider.id))
    return next(e for e in services.lab.prism if e.name == name)


def open_dialog(qtbot, window, kind: ProviderKind):
    dialog = window.open_add_provider()
    qtbot.waitExposed(dialog)
    dialog.set_kind(kind)
    return dialog


def type_in(qtbot, dialog, address: str, user: str = "admin", password: str = "", name: str = ""):
    for edit, text in ((dialog.address_edit, address), (dialog.user_edit, user),
                       (dialog.password_edit, password)):
        edit.clear()
        qtbot.keyClicks(edit, text)
    if name:
        dialog.name_edit.clear()
        qtbot.keyClicks(dialog.name_edit, name)


def shown(dialog, field: str) -> str:
    label = dialog.messages[field]
    return label.text() if label.isVisibleTo(dialog) else ""


def test_nutanix_kinds_use_https_and_port_9440_with_no_transport_choice(qtbot, window):
    dialog = open_dialog(qtbot, window, ProviderKind.HYPERV)
    labels = [dialog.kind_combo.itemText(i) for i in range(dialog.kind_combo.count())]
    assert labels == ["Microsoft Hyper-V (standalone)", "Nutanix AHV (Prism Element)",
                      "Nutanix AHV (Prism Central)"]
    assert dialog.port_spin.value() == 5985 and dialog.https_check.isVisibleTo(dialog)
    dialog.set_kind(ProviderKind.NUTANIX_PC)
    assert dialog.port_spin.value() == 9440
    assert not dialog.https_check.isVisibleTo(dialog) and not dialog.auth_combo.isVisibleTo(dialog)
    type_in(qtbot, dialog, "https://prism.corp.example:9441", password="x")
    assert dialog.port_spin.value() == 9441 and not dialog.port_spin.isEnabled()
    assert dialog.name_edit.text() == "prism"
    settings = dialog.settings()
    assert settings.use_https and settings.kind is ProviderKind.NUTANIX_PC
    dialog.set_kind(ProviderKind.HYPERV)
    assert dialog.https_check.isVisibleTo(dialog)


def test_bad_prism_input_is_refused_with_a_sentence(qtbot, window):
    dialog = open_dialog(qtbot, window, ProviderKind.NUTANIX_PE)
    type_in(qtbot, dialog, "http://prism.corp.example:9440", password="secret", name="pe")
    assert "https" in shown(dialog, "address").lower()
    assert not dialog.ok_button.isEnabled() and not dialog.test_button.isEnabled()
    type_in(qtbot, dialog, "prism corp", password="secret", name="pe")
    assert "is not a host name, IP address or URL" in shown(dialog, "address")
    type_in(qtbot, dialog, "prism.corp.example", user="", password="secret", name="pe")
    assert shown(dialog, "username")
    assert not dialog.ok_button.isEnabled()
    type_in(qtbot, dialog, "prism.corp.example", password="secret", name="NTNX-PC-01")
    assert "already exists" in shown(dialog, "name")
    type_in(qtbot, dialog, "prism.corp.example", password="secret", name="pe")
    assert dialog.errors == {} and dialog.ok_button.isEnabled()


def test_first_certificate_is_shown_trusted_then_the_provider_is_added_with_its_pin(qtbot, window, services,
                                                                                      arun):
    endpoint = forget_lab_provider(arun, services, "NTNX-PE-01")
    dialog = open_dialog(qtbot, window, ProviderKind.NUTANIX_PE)
    type_in(qtbot, dialog, endpoint.url, endpoint.username, endpoint.password, name="Cluster PE")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.certificate_dialog is not None, timeout=20000)
    cert = dialog.certificate_dialog
    assert cert.fingerprint_edit.text().replace(":", "").lower() == \
        endpoint.fingerprint.replace(":", "").lower()
    assert not cert.changed and not cert.warning.isVisibleTo(cert)
    assert "ntnx-pe-01" in cert.subject.text().lower()
    qtbot.waitUntil(lambda: "self-signed" in cert.issuer.text(), timeout=10000)
    assert "Certificate not trusted" not in [p.name for p in services.providers.list()]
    cert.trust_button.click()
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("Connected"), timeout=20000)
    assert "Prism Element" in dialog.result_label.text()
    assert "Hypervisor" in dialog.result_label.text()
    assert "Cluster PE" not in [p.name for p in services.providers.list()]

    added = []
    dialog.providerAdded.connect(added.append)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: bool(added), timeout=20000)
    saved = services.providers.get(added[0].id)
    assert saved.kind is ProviderKind.NUTANIX_PE
    assert saved.settings.pinned_fingerprint.replace(":", "").lower() == \
        endpoint.fingerprint.replace(":", "").lower()
    qtbot.waitUntil(lambda: bool(window.inventory.cluster_nodes(saved.id)), timeout=20000)


def test_cancelling_the_certificate_adds_nothing(qtbot, window, services, arun):
    endpoint = forget_lab_provider(arun, services, "NTNX-PE-01")
    before = sorted(p.name for p in services.providers.list())
    dialog = open_dialog(qtbot, window, ProviderKind.NUTANIX_PE)
    type_in(qtbot, dialog, endpoint.url, endpoint.username, endpoint.password, name="Untrusted")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.certificate_dialog is not None, timeout=20000)
    assert "certificate" in dialog.result_label.text().lower()
    dialog.certificate_dialog.cancel_button.click()
    assert dialog.isVisible() and not dialog._busy
    assert dialog.pinned_fingerprint == ""
    assert sorted(p.name for p in services.providers.list()) == before


def test_prism_central_given_as_prism_element_offers_the_switch(qtbot, window, services, arun):
    endpoint = forget_lab_provider(arun, services, "NTNX-PC-01")
    dialog = open_dialog(qtbot, window, ProviderKind.NUTANIX_PE)
    type_in(qtbot, dialog, endpoint.url, endpoint.username, endpoint.password, name="Central")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.certificate_dialog is not None, timeout=20000)
    dialog.certificate_dialog.trust_button.click()
    qtbot.waitUntil(lambda: dialog.switch_button.isVisibleTo(dialog), timeout=20000)
    assert dialog.result_label.text() == "This address is Prism Central, not Prism Element."
    assert dialog.switch_button.text() == "Switch to Prism Central"
    dialog.switch_button.click()
    assert dialog.kind() is ProviderKind.NUTANIX_PC
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("Connected"), timeout=20000)
    assert "Prism Central" in dialog.result_label.text()
    assert not dialog.switch_button.isVisibleTo(dialog)
