"""General: the pool's name (unique in the farm, checked as you type), a description, enabled."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from console.ui.pool_editor.common import EditorTab, named, note_label, stacked


class GeneralTab(EditorTab):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(state, bridge, "generalTab", "General", parent)
        self.name_edit = named(QLineEdit(state.name, self), "poolName", "Pool name")
        self.name_edit.setPlaceholderText("e.g. Sales desktops")
        self.name_edit.setMaxLength(200)          # the rules say why a long one is refused
        self.description_edit = named(QPlainTextEdit(state.description, self), "poolDescription", "Description")
        self.description_edit.setPlaceholderText("Who uses these desktops, what for (optional)")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setMaximumHeight(110)
        self.enabled_box = named(QCheckBox("&Enabled: keep the buffer of ready clones", self), "poolEnabled",
                                 "Enabled", "A disabled pool keeps its clones but makes or deletes none")
        self.enabled_box.setChecked(state.enabled)
        self.enabled_note = note_label("A disabled pool keeps its clones; it makes no new ones and deletes "
                                       "no unused ones until it is enabled again.", "poolEnabledNote", self)
        self.fields = {"name": self.name_edit, "description": self.description_edit}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(QLabel("&Name:", self, buddy=self.name_edit),
                    stacked(self, self.name_edit, self.field_message("name", "poolNameMessage", "Name message")))
        form.addRow(QLabel("&Description:", self, buddy=self.description_edit),
                    stacked(self, self.description_edit,
                            self.field_message("description", "poolDescriptionMessage", "Description message")))
        form.addRow("", stacked(self, self.enabled_box, self.enabled_note))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

        self.name_edit.textEdited.connect(self._name_edited)
        self.description_edit.textChanged.connect(self._description_changed)
        self.enabled_box.toggled.connect(self._enabled_toggled)

    def _name_edited(self, text: str) -> None:
        self.state.name = text
        self.touch("name")

    def _description_changed(self) -> None:
        self.state.description = self.description_edit.toPlainText()
        self.touch("description")

    def _enabled_toggled(self, on: bool) -> None:
        self.state.enabled = on
        self.changed.emit()

    def shown(self, key: str, text: str) -> str:
        # an untouched empty name of a new pool is not an error yet: the placeholder says what to type
        if key == "name" and "name" not in self.touched and not self.state.name:
            return ""
        return text
