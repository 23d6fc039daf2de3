"""Shows a certificate the console does not trust yet, and asks whether to pin it.

Opened with open(), never exec(): the answer comes back through ``trusted(fingerprint)``. The
fingerprint shown is the one the service refused, so the administrator pins exactly what was seen;
details read separately (``set_info``, which adds the issuer) are used only when their fingerprint
is the same one.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout)

from console.domain.errors import CertificateNotTrustedError

RED = "#b3261e"


def _normalized(fingerprint: str) -> str:
    return "".join(c for c in (fingerprint or "").lower() if c in "0123456789abcdef")


def _parse(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def format_moment(text: str) -> str:
    """'2026-05-01 12:00 UTC' from ISO-8601; what was given when it is not a date."""
    value = _parse(text)
    if value is None:
        return text or "(unknown)"
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def validity(not_before: str, not_after: str, now: dt.datetime | None = None) -> str:
    """'' when valid now, else the sentence saying why not."""
    now = now or dt.datetime.now(dt.timezone.utc)
    start, end = _parse(not_before), _parse(not_after)
    if end is not None and end < now:
        return f"This certificate expired on {format_moment(not_after)}."
    if start is not None and start > now:
        return f"This certificate is not valid before {format_moment(not_before)}."
    return ""


def breakable(name: str) -> str:
    """A distinguished name with a zero-width space after each comma, so a long one wraps."""
    return name.replace(",", ",\u200b")


def _value(text: str, name: str, parent) -> QLabel:
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)        # a subject may hold any characters
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    label.setObjectName(name)
    label.setAccessibleName(name)
    return label


class CertificateDialog(QDialog):
    """Subject, issuer, validity, SHA-256 fingerprint; a warning when it replaced a pinned one."""

    trusted = Signal(str)       # the fingerprint the administrator accepted

    def __init__(self, error: CertificateNotTrustedError, where: str, parent=None) -> None:
        super().__init__(parent)
        self.error = error
        self.fingerprint = error.fingerprint
        self.setObjectName("certificateDialog")
        self.setAccessibleName("Certificate not trusted")
        self.setWindowTitle("Certificate not trusted")
        self.setMinimumWidth(760)
        changed = bool(error.pinned_fingerprint) and \
            _normalized(error.pinned_fingerprint) != _normalized(error.fingerprint)
        self.changed = changed

        intro = QLabel(self)
        intro.setObjectName("certificateIntro")
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        intro.setText(
            f"{where} presented a certificate that is different from the one the console trusts."
            if changed else
            f"{where} presented a certificate that no trusted authority vouches for (often a "
            "self-signed one). Compare its fingerprint with the one shown in Prism (Settings > SSL "
            "Certificate) before you trust it.")

        self.warning = QLabel(self)
        self.warning.setObjectName("certificateChangedWarning")
        self.warning.setAccessibleName("Certificate changed")
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(f"color: {RED}; font-weight: bold;")
        self.warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if changed:
            self.warning.setText(
                "Warning: the certificate changed. The console had pinned the fingerprint "
                f"{error.pinned_fingerprint}. If nobody replaced the Prism certificate on purpose, "
                "someone may be intercepting the connection: do not trust it.")
        self.warning.setVisible(changed)

        self.subject = _value(breakable(error.subject) or "(not given)", "certificateSubject", self)
        self.issuer = _value("(reading...)", "certificateIssuer", self)
        self.valid_from = _value(format_moment(error.not_before), "certificateValidFrom", self)
        self.valid_to = _value(format_moment(error.not_after), "certificateValidTo", self)
        self.validity_note = _value("", "certificateValidity", self)
        self.fingerprint_edit = QLineEdit(error.fingerprint, self)
        self.fingerprint_edit.setObjectName("certificateFingerprint")
        self.fingerprint_edit.setAccessibleName("SHA-256 fingerprint")
        self.fingerprint_edit.setReadOnly(True)          # selectable and copyable, not editable
        self.fingerprint_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.fingerprint_edit.setCursorPosition(0)
        width = self.fingerprint_edit.fontMetrics().horizontalAdvance(error.fingerprint or "0" * 95) + 24
        self.fingerprint_edit.setMinimumWidth(min(width, 900))      # the whole fingerprint at once
        self._show_validity(error.not_before, error.not_after)

        form = QFormLayout()
        form.addRow("Subject:", self.subject)
        form.addRow("Issuer:", self.issuer)
        form.addRow("Valid from:", self.valid_from)
        form.addRow("Valid to:", self.valid_to)
        form.addRow("", self.validity_note)
        form.addRow(QLabel("SHA-256 fingerprint:", self))
        form.addRow(self.fingerprint_edit)              # its own full-width row: never clipped

        self.buttons = QDialogButtonBox(self)
        self.trust_button = self.buttons.addButton("Trust this certificate",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.trust_button.setObjectName("trustCertificateButton")
        self.trust_button.setAccessibleName("Trust this certificate")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("certificateCancelButton")
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setDefault(True)              # the safe answer is the default one
        self.buttons.accepted.connect(self._trust)
        self.buttons.rejected.connect(self.reject)
        self.trust_button.setEnabled(bool(error.fingerprint))

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.warning)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def _show_validity(self, not_before: str, not_after: str) -> None:
        problem = validity(not_before, not_after)
        self.expired = problem.startswith("This certificate expired")
        self.valid_to.setStyleSheet(f"color: {RED};" if self.expired else "")
        self.valid_from.setStyleSheet(f"color: {RED};" if problem and not self.expired else "")
        self.validity_note.setText(
            f"{problem} The console does not connect with an expired certificate, even a trusted "
            "one: renew it in Prism." if self.expired else problem)
        self.validity_note.setStyleSheet(f"color: {RED};")
        self.validity_note.setVisible(bool(problem))

    def set_info(self, info) -> bool:
        """Details read by ``providers.fetch_certificate``: used only for the same certificate."""
        if info is None or _normalized(getattr(info, "fingerprint", "")) != _normalized(self.fingerprint):
            self.issuer.setText("(not read: the address now presents another certificate)"
                                if info is not None else "(unknown)")
            return False
        issuer = breakable(info.issuer) or "(not given)"
        self.issuer.setText(f"{issuer} (self-signed)" if getattr(info, "self_signed", False) else issuer)
        if info.subject:
            self.subject.setText(breakable(info.subject))
        self.valid_from.setText(format_moment(info.not_before))
        self.valid_to.setText(format_moment(info.not_after))
        self._show_validity(info.not_before, info.not_after)
        return True

    def info_failed(self, *_args) -> None:
        self.issuer.setText("(could not be read)")

    def _trust(self) -> None:
        if not self.fingerprint:
            return
        self.trusted.emit(self.fingerprint)
        self.accept()
