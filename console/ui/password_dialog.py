"""Asks for a provider's password when no keyring kept it (once per session)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout

from console.domain.inventory import Provider


class PasswordDialog(QDialog):
    passwordGiven = Signal(int, str)      # provider id, password

    def __init__(self, provider: Provider, persistent: bool, parent=None) -> None:
        super().__init__(parent)
        self.provider = provider
        self.setObjectName("passwordDialog")
        self.setAccessibleName("Provider password")
        self.setWindowTitle(f"Password for {provider.name}")
        user = provider.settings.username or "(no user)"
        text = QLabel(f"Enter the password of {user} on {provider.name} ({provider.settings.address}).", self)
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        where = QLabel("It is kept in the system keyring." if persistent else
                       "There is no keyring on this machine: the password is kept for this session only.",
                       self)
        where.setWordWrap(True)
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("providerPasswordEdit")
        self.password_edit.setAccessibleName("Password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setObjectName("passwordOkButton")
        ok.setAccessibleName("Use this password")
        ok.setEnabled(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("passwordCancelButton")
        cancel.setAccessibleName("Skip this provider")
        self.password_edit.textChanged.connect(lambda t: ok.setEnabled(bool(t)))
        self.buttons.accepted.connect(self._give)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (text, self.password_edit, where, self.buttons):
            layout.addWidget(widget)

    def _give(self) -> None:
        if not self.password_edit.text():
            return
        self.passwordGiven.emit(self.provider.id, self.password_edit.text())
        self.accept()
