"""The preparation fields the Create Template wizard's Preparation page and the pool editor's
Preparation tab both show: the method (Sysprep, or a quick rename and domain join) and the domain,
organizational unit, join account and password, local administrator, owner and organization, with
the same objectNames on both (tests and accessibility find them by name)."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QFormLayout, QGroupBox, QLineEdit, QRadioButton, QVBoxLayout,
                               QWidget)

from console.domain.templates import ImagePreparation
from console.ui.template_wizard.common import named

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


class PreparationFields(QWidget):
    """The method radios (``sysprep``, ``rename_join`` in ``method_group``) and a line edit per FIELDS
    entry (``edits``). ``row(field, edit)`` is what a field's form row shows (default: the edit)."""

    #: field, text as typed
    edited = Signal(str, str)

    def __init__(self, parent: QWidget | None = None,
                 row: Callable[[str, QLineEdit], QWidget] | None = None) -> None:
        super().__init__(parent)
        box = QGroupBox("Method", self)
        self.sysprep = named(QRadioButton("&Sysprep: generalize each clone (new SID; slower, for any image)", box),
                             "preparationSysprep", "Sysprep")
        self.rename_join = named(QRadioButton("&Rename and join the domain: quick, for images prepared for it",
                                              box), "preparationRenameJoin", "Rename and join")
        self.method_group = QButtonGroup(self)
        box_layout = QVBoxLayout(box)
        for radio in (self.sysprep, self.rename_join):
            self.method_group.addButton(radio)
            box_layout.addWidget(radio)

        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for field, (object_name, label, accessible, placeholder) in FIELDS.items():
            edit = named(QLineEdit(self), object_name, accessible)
            edit.setPlaceholderText(placeholder)
            if field == "join_password":
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setAccessibleDescription("Kept in the keyring, never in the farm file")
            edit.textEdited.connect(lambda text, f=field: self.edited.emit(f, text))
            self.edits[field] = edit
            form.addRow(label, row(field, edit) if row is not None else edit)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addLayout(form)

    def method(self) -> ImagePreparation:
        return ImagePreparation.RENAME_AND_JOIN if self.rename_join.isChecked() else ImagePreparation.SYSPREP

    def set_method(self, method: ImagePreparation) -> None:
        self.sysprep.setChecked(method is ImagePreparation.SYSPREP)
        self.rename_join.setChecked(method is ImagePreparation.RENAME_AND_JOIN)
