"""General: the template's name (checked as you type: valid for the hypervisor and unique in the
farm, the services' own validate_name) and a description."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWizardPage

from console.ui.template_wizard.common import message_label, named, show_message, stacked

DESCRIPTION_MAX = 1000


class GeneralPage(QWizardPage):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        named(self, "generalPage", "General")
        self.setTitle("General")
        self.setSubTitle("Name the template as pools and administrators will see it.")
        self._touched = False

        self.name_edit = named(QLineEdit(self), "templateName", "Template name")
        self.name_edit.setPlaceholderText("e.g. Win11 Office")
        self.name_edit.setMaxLength(200)     # the rules say why a long one is refused
        self.description_edit = named(QPlainTextEdit(self), "templateDescription", "Description")
        self.description_edit.setPlaceholderText("What this image holds, for whom (optional)")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setMaximumHeight(110)
        self.message = message_label("generalPageMessage", "General page message", self)
        self.note = QLabel(self)
        self.note.setObjectName("templateNameNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setStyleSheet("color: #5f5f5f;")

        form = QFormLayout()
        # each field with its sentence right under it (a wrapped label as a form row of its own gets
        # loose spacing)
        form.addRow(QLabel("&Name:", self, buddy=self.name_edit),
                    stacked(self, self.name_edit, self.message, spacing=4))
        form.addRow(QLabel("&Description:", self, buddy=self.description_edit),
                    stacked(self, self.description_edit, self.note, spacing=4))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

        self.name_edit.textEdited.connect(self._name_edited)
        self.description_edit.textChanged.connect(self._description_changed)

    def initializePage(self) -> None:
        # a name typed earlier may have been taken meanwhile (another console): check it again
        self._validate()

    def _name_edited(self, text: str) -> None:
        self._touched = True
        self.state.name = text
        self._validate()

    def _description_changed(self) -> None:
        text = self.description_edit.toPlainText()
        self.state.description = text
        self._validate()

    def problem(self) -> str:
        problem = self.state.name_problem(self.bridge.validate_name)
        if not problem and len(self.state.description) > DESCRIPTION_MAX:
            problem = f"The description has at most {DESCRIPTION_MAX} characters."
        return problem

    def _validate(self) -> None:
        problem = self.problem()
        # an untouched empty name is not an error yet: the placeholder says what to type
        shown = problem if (self._touched or self.state.name) else ""
        if len(self.state.description) > DESCRIPTION_MAX:
            shown = problem
        show_message(self.message, shown)
        name = self.state.name.strip()
        if name and not problem:
            point = "checkpoint" if self.state.is_hyperv else "snapshot"
            text = f"Version 1 will be the {point} 'VDI template {name} v1' of VM '{self.state.vm_name}'"
            if self.state.distribution_possible:
                text += f"; its local copy on each distribution target is the VM '{name} (v1)'"
            self.note.setText(text + ".")
        else:
            self.note.setText("The name becomes part of the checkpoint of each version and of the "
                              "local copies' VM names, so it follows Windows' folder-name rules "
                              "(at most 64 characters, none of \\ / : * ? \" < > |).")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.problem()
