"""Active Directory and preparation: the template's (shown, read-only) unless overridden for this pool.
The fields are the template wizard's (console/ui/template_wizard/preparation_fields.py), and so are their rules;
a pool's own join password goes to the keyring as ``pool:<id>:join``, never to the farm."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLineEdit, QVBoxLayout, QWidget

from console.ui.pool_editor.common import EditorTab, named, note_label, stacked
from console.ui.template_wizard.preparation_fields import FIELDS, PreparationFields

INHERITED = "The clones are prepared as the template says. Override it to use another domain, OU or account."


class PreparationTab(EditorTab):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(state, bridge, "preparationTab", "Active Directory and preparation", parent)
        self._filling = False
        self.override = named(QCheckBox("&Override the template's preparation for this pool", self),
                              "overridePreparation", "Override the template's preparation")
        self.inherited_note = note_label(INHERITED, "preparationInheritedNote", self)

        def row(key: str, edit: QLineEdit) -> QWidget:
            object_name, _label, accessible, _placeholder = FIELDS[key]
            self.fields[key] = edit
            return stacked(self, edit, self.field_message(key, f"{object_name}Message", f"{accessible} message"))

        self.prep_fields = PreparationFields(self, row)
        self.sysprep, self.rename_join = self.prep_fields.sysprep, self.prep_fields.rename_join
        self.method_group, self.edits = self.prep_fields.method_group, self.prep_fields.edits
        self.prep_fields.edited.connect(self._edited)
        self.password_note = note_label("", "joinPasswordNote", self)
        self.field_message("*", "preparationTabMessage", "Preparation message")

        layout = QVBoxLayout(self)
        layout.addWidget(self.override)
        layout.addWidget(self.inherited_note)
        layout.addWidget(self.prep_fields)
        layout.addWidget(self.password_note)
        layout.addWidget(self.messages["*"])
        layout.addStretch(1)
        self.override.toggled.connect(self._override_toggled)
        self.method_group.buttonToggled.connect(self._method_toggled)

    def reload(self) -> None:
        state = self.state
        self._filling = True
        try:
            self.override.setChecked(state.override_preparation)
            self.override.setEnabled(state.template is not None)
            self.prep_fields.set_method(state.prep_method)
            for key, edit in self.edits.items():
                if key == "join_password":
                    if edit.text() != state.join_password:
                        edit.setText(state.join_password)
                elif edit.text() != getattr(state, key):
                    edit.setText(getattr(state, key))
        finally:
            self._filling = False
        on = state.override_preparation
        for widget in (self.sysprep, self.rename_join, *self.edits.values()):
            widget.setEnabled(on)
        for key, edit in self.edits.items():
            # an inherited empty field says so: an example in grey would read as the template's value
            edit.setPlaceholderText(FIELDS[key][3] if on else "(none)")
        self.inherited_note.setVisible(not on)
        password = self.edits["join_password"]
        if not on:
            password.setPlaceholderText("the template's (kept in the keyring)" if state.join_account else "(none)")
            note = "The template's join password is used."
        elif state.stored_password:
            password.setPlaceholderText("unchanged (kept in the keyring); type to replace it")
            note = "The pool's join password is kept in the system keyring, never in the farm file."
        else:
            password.setPlaceholderText("")
            note = "The join password is kept in the system keyring, never in the farm file."
        self.password_note.setText(note)

    def _override_toggled(self, on: bool) -> None:
        if self._filling:
            return
        self.state.set_override(on)
        self.touched.clear()
        self.reload()
        self.changed.emit()

    def _method_toggled(self, _button, checked: bool) -> None:
        if self._filling or not checked:
            return
        self.state.prep_method = self.prep_fields.method()
        self.changed.emit()

    def _edited(self, key: str, text: str) -> None:
        setattr(self.state, key, text)
        self.touch(key)
