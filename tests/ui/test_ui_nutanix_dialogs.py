"""The certificate dialog and the snapshot / clone / delete dialogs on their own (no services)."""
from __future__ import annotations

import datetime as dt

from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QMessageBox

from console.domain.errors import CertificateNotTrustedError
from console.domain.inventory import PowerState, Snapshot, VM
from console.ui.certificate_dialog import CertificateDialog, validity
from console.ui.prism_address import display_endpoint, prism_url_port
from console.ui.vm_dialogs import CloneDialog, SnapshotDialog, confirm_delete_vm, name_problem

FP_NEW = ":".join(["AB"] * 32)
FP_OLD = ":".join(["01"] * 32)


def iso(days: int) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).isoformat()


def error(pinned: str = "", not_after: str | None = None) -> CertificateNotTrustedError:
    return CertificateNotTrustedError("The certificate is not trusted.", fingerprint=FP_NEW,
                                      subject="CN=prism.lab,O=Nutanix Lab", not_before=iso(-10),
                                      not_after=not_after or iso(300), pinned_fingerprint=pinned)


class Info:
    def __init__(self, fingerprint: str, issuer: str = "CN=prism.lab,O=Nutanix Lab") -> None:
        self.fingerprint, self.issuer, self.self_signed = fingerprint, issuer, True
        self.subject, self.not_before, self.not_after = "CN=prism.lab,O=Nutanix Lab", iso(-10), iso(300)


def test_first_certificate_shows_its_fields_and_trust_gives_its_fingerprint(qtbot):
    dialog = CertificateDialog(error(), "127.0.0.1:9440")
    qtbot.addWidget(dialog)
    dialog.open()
    assert not dialog.warning.isVisibleTo(dialog)
    assert dialog.subject.text().replace("\u200b", "") == "CN=prism.lab,O=Nutanix Lab"
    assert dialog.fingerprint_edit.text() == FP_NEW
    assert dialog.fingerprint_edit.isReadOnly()
    assert QFontInfo(dialog.fingerprint_edit.font()).fixedPitch()
    assert dialog.set_info(Info(FP_NEW.lower().replace(":", "")))
    assert dialog.issuer.text().replace("\u200b", "") == "CN=prism.lab,O=Nutanix Lab (self-signed)"
    assert not dialog.validity_note.isVisibleTo(dialog)
    trusted = []
    dialog.trusted.connect(trusted.append)
    dialog.trust_button.click()
    assert trusted == [FP_NEW]
    assert not dialog.isVisible()


def test_changed_certificate_warns_naming_the_old_pin_and_cancel_trusts_nothing(qtbot):
    dialog = CertificateDialog(error(pinned=FP_OLD), "NTNX-PC-01 (127.0.0.1)")
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.changed
    assert dialog.warning.isVisibleTo(dialog)
    assert FP_OLD in dialog.warning.text()
    assert "changed" in dialog.warning.text()
    assert dialog.cancel_button.isDefault()
    trusted = []
    dialog.trusted.connect(trusted.append)
    dialog.cancel_button.click()
    assert trusted == []


def test_expired_certificate_is_shown_in_red(qtbot):
    dialog = CertificateDialog(error(not_after=iso(-1)), "127.0.0.1:9440")
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.expired
    assert "#b3261e" in dialog.valid_to.styleSheet()
    assert dialog.validity_note.isVisibleTo(dialog)
    assert "expired" in dialog.validity_note.text()
    assert validity(iso(-10), iso(300)) == ""


def test_details_of_another_certificate_are_not_mixed_in(qtbot):
    dialog = CertificateDialog(error(), "127.0.0.1:9440")
    qtbot.addWidget(dialog)
    assert not dialog.set_info(Info(FP_OLD, issuer="CN=someone else"))
    assert "someone else" not in dialog.issuer.text()
    assert dialog.fingerprint_edit.text() == FP_NEW


def test_prism_address_display():
    assert prism_url_port("https://prism.corp") == 9440
    assert prism_url_port("https://prism.corp:443") == 443
    assert display_endpoint("prism.corp", 9440) == "prism.corp:9440"
    assert display_endpoint("https://10.0.0.5:9441", 0) == "10.0.0.5:9441"


def vm(name: str = "Win11-Gold", state: PowerState = PowerState.OFF) -> VM:
    return VM(id="9844af5d-101b-40ea-a125-8bf1a02f888b", name=name, host="", cluster="NTNX-PE-01", state=state)


def test_snapshot_name_refused_with_a_sentence(qtbot):
    dialog = SnapshotDialog(vm())
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.ok_button.isEnabled()              # a default name is offered
    for text, words in (("", "Enter a name"), ("a\tb", "control character"), ("x" * 65, "at most 64")):
        dialog.name_edit.setText(text)
        assert words in dialog.message.text()
        assert dialog.message.isVisibleTo(dialog)
        assert not dialog.ok_button.isEnabled()
    asked = []
    dialog.snapshotRequested.connect(asked.append)
    dialog.name_edit.setText("  before patch 'é' ")
    dialog.ok_button.click()
    assert asked == ["before patch 'é'"]


def test_clone_dialog_full_or_from_a_snapshot(qtbot):
    dialog = CloneDialog(vm(), "NTNX-PC-01", {"Win11-Gold", "Win11-Gold-clone"})
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.name_edit.text() == "Win11-Gold-clone-2"       # a free name
    assert dialog.full_radio.isChecked() and not dialog.snapshot_radio.isEnabled()
    dialog.name_edit.setText("win11-gold")
    assert "already exists on NTNX-PC-01" in dialog.name_message.text()
    assert not dialog.ok_button.isEnabled()
    dialog.name_edit.setText("Pool-Base")
    assert dialog.ok_button.isEnabled()

    dialog.set_snapshots([])
    assert not dialog.snapshot_radio.isEnabled()
    assert "has no snapshots" in dialog.snapshot_note.text()
    dialog.set_snapshots([Snapshot(id="s-1", name="before patch", vm_id=vm().id, created="2026-01-02T03:04:05Z"),
                          Snapshot(id="s-2", name="after patch", vm_id=vm().id)])
    assert dialog.snapshot_radio.isEnabled()
    dialog.snapshot_radio.setChecked(True)
    assert dialog.snapshot_combo.isEnabled()
    dialog.snapshot_combo.setCurrentIndex(1)
    asked = []
    dialog.cloneRequested.connect(lambda name, snap: asked.append((name, snap)))
    dialog.ok_button.click()
    assert asked == [("Pool-Base", "s-2")]


def test_clone_dialog_when_the_snapshots_cannot_be_read(qtbot):
    dialog = CloneDialog(vm(), "NTNX-PE-01", set())
    qtbot.addWidget(dialog)
    dialog.snapshots_failed("Prism Element at 127.0.0.1:1 does not answer.", "Check the address.")
    assert "could not be read" in dialog.snapshot_note.text()
    assert not dialog.snapshot_radio.isEnabled() and dialog.full_radio.isChecked()
    assert dialog.ok_button.isEnabled()


def test_name_rules():
    assert name_problem("ok", "virtual machine") == ""
    assert "already exists" in name_problem("OK", "virtual machine", {"ok"})


def test_delete_confirmation_names_the_vm_and_defaults_to_no(qtbot):
    box = confirm_delete_vm(vm("Dev <b>01</b>", PowerState.RUNNING), "NTNX-PC-01", None)
    qtbot.addWidget(box)
    assert "'Dev <b>01</b>'" in box.text() and "NTNX-PE-01" in box.text()
    assert "It is running" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
