"""Asks for a password no keyring kept (once per session): a provider's, or a domain join account's
(a template's or a pool's preparation)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout

from console.domain.inventory import Provider


class PasswordDialog(QDialog):
    passwordGiven = Signal(int, str)      # the provider's (or template's, pool's) id, password

    def __init__(self, provider: Provider | None, persistent: bool, parent=None, *,
                 object_id: int | None = None, title: str = "", prompt: str = "",
                 skip_text: str = "Skip this provider") -> None:
        super().__init__(parent)
        self.provider = provider
        self.object_id = provider.id if provider is not None else object_id
        self.setObjectName("passwordDialog")
        self.setAccessibleName(title or "Provider password")
        if provider is not None:
            title = f"Password for {provider.name}"
            user = provider.settings.username or "(no user)"
            prompt = f"Enter the password of {user} on {provider.name} ({provider.settings.address})."
        self.setWindowTitle(title)
        text = QLabel(prompt, self)
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
        cancel.setAccessibleName(skip_text)
        self.password_edit.textChanged.connect(lambda t: ok.setEnabled(bool(t)))
        self.buttons.accepted.connect(self._give)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (text, self.password_edit, where, self.buttons):
            layout.addWidget(widget)

    def _give(self) -> None:
        if not self.password_edit.text():
            return
        self.passwordGiven.emit(self.object_id, self.password_edit.text())
        self.accept()


def join_password_dialog(kind: str, object_id: int, name: str, account: str, persistent: bool,
                         parent=None) -> PasswordDialog:
    """For a template's or a pool's domain join account (``kind`` "template" or "pool")."""
    return PasswordDialog(None, persistent, parent, object_id=object_id,
                          title=f"Domain join password for {kind} {name}",
                          prompt=(f"Enter the password of {account}, the account that joins the clones of "
                                  f"{kind} '{name}' to the domain. Without it, new clones cannot join."),
                          skip_text=f"Skip {kind} {name}")
