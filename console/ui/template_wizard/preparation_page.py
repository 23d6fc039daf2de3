"""Preparation: how clones of the template are made unique — Sysprep, or a quick rename and domain
join — and the domain, organizational unit, join account, local administrator, owner and
organization. Each field is checked as you type (console/domain/template_rules.py through
WizardState.preparation_problems); the join password goes to the keyring at Finish, never the farm."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWizardPage

from console.ui.template_wizard.common import message_label, named, show_message
from console.ui.template_wizard.preparation_fields import PreparationFields

LABELS = {"domain": "Domain", "organizational_unit": "Organizational unit", "join_account": "Join account",
          "join_password": "Join password", "local_administrator": "Local administrator",
          "owner": "Owner", "organization": "Organization"}


class PreparationPage(QWizardPage):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        named(self, "preparationPage", "Preparation")
        self.setTitle("Preparation")
        self.setSubTitle("How each clone is made unique before it joins the network.")
        self._touched: set[str] = set()

        self.prep_fields = PreparationFields(self)
        self.sysprep, self.rename_join = self.prep_fields.sysprep, self.prep_fields.rename_join
        self.method_group, self.edits = self.prep_fields.method_group, self.prep_fields.edits
        self.prep_fields.set_method(state.method)
        for field, edit in self.edits.items():
            edit.setText(getattr(state, field))
        self.prep_fields.edited.connect(self._edited)
        self.note = QLabel("The join password is kept in the system keyring, never in the farm file.", self)
        self.note.setObjectName("joinPasswordNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5f5f5f;")
        self.message = message_label("preparationPageMessage", "Preparation page message", self)

        layout = QVBoxLayout(self)
        layout.addWidget(self.prep_fields)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.method_group.buttonToggled.connect(self._method_changed)

    def _method_changed(self, _button, _checked: bool) -> None:
        self.state.method = self.prep_fields.method()
        self._validate()

    def _edited(self, field: str, text: str) -> None:
        self._touched.add(field)
        setattr(self.state, field, text)
        self._validate()

    def initializePage(self) -> None:
        self._validate()

    def problems(self) -> dict[str, str]:
        return self.state.preparation_problems()

    def _validate(self) -> None:
        problems = self.problems()
        # touched fields speak at once; the rest when Next is tried (validatePage)
        shown = [f"{LABELS[f]}: {text}" for f, text in problems.items() if f in self._touched]
        if shown:
            show_message(self.message, "\n".join(shown))
        elif problems:
            # nothing typed wrong yet, but Next is disabled: say what is still needed, calmly
            field, text = next(iter(problems.items()))
            show_message(self.message, f"Still needed — {LABELS[field]}: {text}", error=False)
        else:
            show_message(self.message, "")
        for field, edit in self.edits.items():
            bad = field in problems and field in self._touched
            edit.setStyleSheet("QLineEdit { border: 1px solid #b3261e; }" if bad else "")
            edit.setToolTip(problems.get(field, ""))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.problems()

    def nextId(self) -> int:
        wizard = self.wizard()
        return wizard.after_preparation() if wizard is not None else -1
