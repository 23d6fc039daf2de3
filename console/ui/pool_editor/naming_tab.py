"""Naming: the clones' name pattern (``VDI-%ID:3%``; ``%ID:N:S%`` = N digits from S) with a live
preview of the first names and the last one the maximum reaches. It must start with a letter, give
names of at most 15 characters (NetBIOS), leave room for the maximum and not collide with a VM on the
pool's targets (console/domain/pool_rules.check_naming)."""
from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout

from console.domain import pool_rules
from console.domain.errors import ConsoleError
from console.domain.naming import NamingPattern
from console.ui.pool_editor.common import EditorTab, named, note_label, stacked

PREVIEW_COUNT = 5


def preview_text(pattern: str, maximum: int) -> str:
    """"VDI-001, VDI-002, … VDI-005 … up to VDI-500 (the maximum of 500)", or "" when it cannot say."""
    try:
        names = pool_rules.preview(pattern, min(PREVIEW_COUNT, max(1, maximum)))
    except ConsoleError:
        return ""
    if not names:
        return ""
    text = ", ".join(names)
    if maximum > len(names):
        try:
            last = NamingPattern.parse(pattern).name(maximum - 1)
        except ConsoleError:
            return text + f" … (no room for the maximum of {maximum})"
        text += f" … up to {last} (the maximum of {maximum})"
    return text


class NamingTab(EditorTab):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(state, bridge, "namingTab", "Naming", parent)
        self.pattern_edit = named(QLineEdit(state.naming_pattern, self), "namingPattern", "Naming pattern",
                                  "%ID:N:S% is the clone's number: N digits, starting at S")
        self.pattern_edit.setPlaceholderText("VDI-%ID:3%")
        self.pattern_edit.setMaxLength(64)
        self.preview = named(QLabel(self), "namingPreview", "Preview of the first names")
        self.preview.setWordWrap(True)
        self.help = note_label("%ID:N% is the clone's number with N digits, from 1; %ID:N:S% starts at S. "
                               "A computer name starts with a letter, has at most 15 characters, and only "
                               "letters, digits and hyphens.", "namingHelp", self)
        self.fields = {"naming_pattern": self.pattern_edit}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(QLabel("&Pattern:", self, buddy=self.pattern_edit),
                    stacked(self, self.pattern_edit,
                            self.field_message("naming_pattern", "namingPatternMessage", "Naming pattern message"),
                            self.help))
        form.addRow("Preview:", self.preview)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        self.pattern_edit.textEdited.connect(self._edited)

    def _edited(self, text: str) -> None:
        self.state.naming_pattern = text
        self.touch("naming_pattern")

    def show_problems(self, problems: dict[str, str]) -> None:
        super().show_problems(problems)
        text = preview_text(self.state.naming_pattern, int(self.state.maximum))
        self.preview.setText(text or "No names: the pattern is not valid yet.")
        self.preview.setEnabled(bool(text))
