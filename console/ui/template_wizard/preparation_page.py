"""Preparation: how clones of the template are made unique — Sysprep, or a quick rename and domain
join — and the domain, organizational unit, join account, local administrator, owner and
organization. Each field is checked as you type (console/domain/template_rules.py through
WizardState.preparation_problems); the join password goes to the keyring at Finish, never the farm."""
from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QFormLayout, QGroupBox, QLabel, QLineEdit, QRadioButton,
                               QVBoxLayout, QWizardPage)

from console.domain.templates import ImagePreparation
from console.ui.template_wizard.common import message_label, named, show_message

#: field -> (objectName, label, accessible name, placeholder)
FIELDS = {
    "domain": ("domainName", "&Domain:", "Domain", "corp.example.com"),
    "organizational_unit": ("organizationalUnit", "&Organizational unit:", "Organizational unit",
                            "OU=VDI,DC=corp,DC=example,DC=com (empty: the Computers container)"),
    "join_account": ("joinAccount", "&Join account:", "Join account", "CORP\\svc-join or svc-join@corp.example.com"),
    "join_password": ("joinPassword", "Join &password:", "Join password", ""),
    "local_administrator": ("localAdministrator", "&Local administrator:", "Local administrator",
                            "Administrator"),
    "owner": ("ownerName", "O&wner:", "Owner", "Registered owner (optional)"),
    "organization": ("organizationName", "Or&ganization:", "Organization",
                     "Registered organization (optional)"),
}
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

        box = QGroupBox("Method", self)
        self.sysprep = named(QRadioButton("&Sysprep: generalize each clone (new SID; slower, for any "
                                          "image)", box), "preparationSysprep", "Sysprep")
        self.rename_join = named(QRadioButton("&Rename and join the domain: quick, for images prepared "
                                              "for it", box), "preparationRenameJoin", "Rename and join")
        self.method_group = QButtonGroup(self)
        self.method_group.addButton(self.sysprep)
        self.method_group.addButton(self.rename_join)
        self.sysprep.setChecked(state.method is ImagePreparation.SYSPREP)
        self.rename_join.setChecked(state.method is ImagePreparation.RENAME_AND_JOIN)
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(self.sysprep)
        box_layout.addWidget(self.rename_join)

        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for field, (object_name, label, accessible, placeholder) in FIELDS.items():
            edit = named(QLineEdit(self), object_name, accessible)
            edit.setPlaceholderText(placeholder)
            edit.setText(getattr(state, field))
            if field == "join_password":
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setAccessibleDescription("Kept in the keyring, never in the farm file")
            edit.textEdited.connect(lambda text, f=field: self._edited(f, text))
            self.edits[field] = edit
            form.addRow(label, edit)
        self.note = QLabel("The join password is kept in the system keyring, never in the farm file.", self)
        self.note.setObjectName("joinPasswordNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5f5f5f;")
        self.message = message_label("preparationPageMessage", "Preparation page message", self)

        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.method_group.buttonToggled.connect(self._method_changed)

    def _method_changed(self, _button, _checked: bool) -> None:
        self.state.method = (ImagePreparation.RENAME_AND_JOIN if self.rename_join.isChecked()
                             else ImagePreparation.SYSPREP)
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
