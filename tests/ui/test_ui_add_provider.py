"""Add Provider: every bad input is refused with its sentence and nothing is saved."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from console.domain.inventory import WinRMTransport
from console.lab import PASSWORD, USERNAME
from console.ui.add_provider_dialog import AddProviderDialog
from console.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, services, settings):
    win = MainWindow(services, settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


@pytest.fixture
def dialog(qtbot, window) -> AddProviderDialog:
    dlg = window.open_add_provider()
    qtbot.waitExposed(dlg)
    return dlg


def fill(qtbot, dlg: AddProviderDialog, address: str, name: str = "", user: str = USERNAME,
         password: str = PASSWORD, auth: WinRMTransport = WinRMTransport.BASIC) -> None:
    dlg.auth_combo.setCurrentIndex(dlg.auth_combo.findData(auth.value))
    for edit, text in ((dlg.address_edit, address), (dlg.user_edit, user), (dlg.password_edit, password)):
        edit.clear()
        qtbot.keyClicks(edit, text)
    if name:
        dlg.name_edit.clear()
        qtbot.keyClicks(dlg.name_edit, name)


def message(dlg: AddProviderDialog, field: str) -> str:
    label = dlg.messages[field]
    return label.text() if label.isVisibleTo(dlg) else ""


def saved_names(services) -> list[str]:
    return sorted(p.name for p in services.providers.list())


def test_empty_address_is_refused_as_you_type(qtbot, dialog):
    qtbot.keyClicks(dialog.address_edit, "h")
    qtbot.keyClick(dialog.address_edit, Qt.Key.Key_Backspace)
    assert message(dialog, "address") == "Enter the host's name, IP address or WinRM URL."
    assert not dialog.ok_button.isEnabled()
    assert not dialog.test_button.isEnabled()


def test_malformed_address(qtbot, dialog):
    fill(qtbot, dialog, "bad host!", name="bad")
    assert "is not a host name, IP address or URL" in message(dialog, "address")
    assert not dialog.ok_button.isEnabled()
    dialog.address_edit.clear()
    qtbot.keyClicks(dialog.address_edit, "300.1.2.3")
    assert "is not a valid IPv4 address" in message(dialog, "address")


def test_port_out_of_range(qtbot, dialog):
    fill(qtbot, dialog, "hv09.corp.example:70000", name="hv09")
    assert message(dialog, "address").startswith("Port 70000 is out of range.")
    assert not dialog.ok_button.isEnabled()
    assert dialog.port_spin.maximum() == 65535 and dialog.port_spin.minimum() == 1


def test_https_moves_the_port_unless_chosen(qtbot, dialog):
    assert dialog.port_spin.value() == 5985
    dialog.https_check.setChecked(True)
    assert dialog.port_spin.value() == 5986
    dialog.port_spin.setValue(6000)
    dialog.https_check.setChecked(False)
    assert dialog.port_spin.value() == 6000


def test_basic_over_http_to_another_host_needs_the_visible_opt_in(qtbot, dialog):
    fill(qtbot, dialog, "10.0.0.5", name="remote", auth=WinRMTransport.BASIC)
    assert dialog.insecure_box.isVisibleTo(dialog)
    assert "readable by anyone on the network" in message(dialog, "basic")
    assert not dialog.ok_button.isEnabled()
    check = dialog.insecure_check
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))
    assert check.isChecked()
    assert dialog.insecure_warning.isVisibleTo(dialog)
    assert message(dialog, "basic") == ""
    assert dialog.ok_button.isEnabled()
    # NTLM or loopback: the opt-in is not offered at all
    dialog.auth_combo.setCurrentIndex(dialog.auth_combo.findData(WinRMTransport.NTLM.value))
    assert not dialog.insecure_box.isVisibleTo(dialog)


def test_duplicate_name_and_duplicate_endpoint(qtbot, dialog, services):
    lab_host = services.lab.hosts[0]
    fill(qtbot, dialog, "hv77.corp.example", name=lab_host.name, auth=WinRMTransport.NTLM)
    assert message(dialog, "name") == f"A provider named '{lab_host.name}' already exists. Choose another name."
    assert not dialog.ok_button.isEnabled()
    fill(qtbot, dialog, lab_host.url, name="another name")
    assert "already connects to" in message(dialog, "address")
    assert not dialog.ok_button.isEnabled()


def submit_and_wait_error(qtbot, dialog) -> str:
    assert dialog.ok_button.isEnabled(), dialog.errors
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30000)
    assert dialog.isVisible(), "the dialog stays open on an error"
    return dialog.result_label.text()


def test_unknown_host_name(qtbot, dialog, services):
    before = saved_names(services)
    fill(qtbot, dialog, "nosuchhost.invalid", name="ghost", auth=WinRMTransport.NTLM)
    text = submit_and_wait_error(qtbot, dialog)
    assert "could not be resolved" in text
    assert saved_names(services) == before


def test_connection_refused(qtbot, dialog, services):
    before = saved_names(services)
    fill(qtbot, dialog, "127.0.0.1:1", name="closed")
    text = submit_and_wait_error(qtbot, dialog)
    assert text and "Traceback" not in text
    assert "127.0.0.1" in text
    assert saved_names(services) == before


def test_wrong_password(qtbot, window, services, arun):
    lab_host = services.lab.hosts[-1]
    provider = next(p for p in services.providers.list() if p.name == lab_host.name)
    arun(services.providers.remove(provider.id))
    dialog = window.open_add_provider()
    before = saved_names(services)
    fill(qtbot, dialog, lab_host.url, name="wrong-password", password="not the password")
    text = submit_and_wait_error(qtbot, dialog)
    assert text.splitlines()[0]
    assert "password" in text.lower() or "rejected" in text.lower() or "authentication" in text.lower()
    assert saved_names(services) == before
    assert services.secrets.get("provider:999") is None


def test_test_connection_shows_what_it_found_then_add_saves(qtbot, window, services, arun):
    lab_host = services.lab.hosts[-1]
    provider = next(p for p in services.providers.list() if p.name == lab_host.name)
    arun(services.providers.remove(provider.id))
    qtbot.waitUntil(lambda: window.inventory.provider_node(provider.id) is None, timeout=5000)
    dialog = window.open_add_provider()
    fill(qtbot, dialog, lab_host.url, name="Added again")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=30000)
    text = dialog.result_label.text()
    assert text.startswith("Connected"), text
    assert "Hyper-V version" in text and "Virtual switches" in text and "Volumes" in text
    assert "Added again" not in saved_names(services)

    signalled = []
    dialog.providerAdded.connect(signalled.append)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: bool(signalled), timeout=30000)
    assert "Added again" in saved_names(services)
    added = signalled[0]
    qtbot.waitUntil(lambda: window.tree.selected_key() == f"providers/p:{added.id}", timeout=5000)
    qtbot.waitUntil(lambda: bool(window.inventory.provider_node(added.id).children), timeout=30000)
