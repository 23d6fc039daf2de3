"""Scale: clones created at once, the buffer of ready unassigned clones kept, the maximum, and how
long an unused clone beyond the buffer lives. Each rule (console/domain/pool_rules.check_scale: the
buffer and the first batch at most the maximum, a maximum of 1 to 5000) speaks under its field."""
from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QSpinBox, QVBoxLayout

from console.ui.pool_editor.common import EditorTab, named, note_label, stacked

#: the spin boxes accept more than the rules so a wrong number is said, not silently clamped
SPIN_MAX = 99999
DELETE_MAX_MINUTES = 60 * 24 * 365

SPINS = {  # field -> (objectName, label, accessible name, note)
    "initial_count": ("initialCount", "&Created at once:", "Clones created at once",
                      "Made when the pool is saved (at most the maximum)."),
    "keep_available": ("keepAvailable", "&Keep available:", "Keep available (buffer)",
                       ("Ready clones nobody uses: when users take clones, new ones are made up to "
                        "this many, within the maximum.")),
    "maximum": ("maximum", "&Maximum:", "Maximum clones", "The pool never has more clones (1 to 5000)."),
    "delete_unused_after_minutes": ("deleteUnusedAfter", "&Delete unused after:", "Delete unused after",
                                    ("Unused clones beyond the buffer are deleted after this time "
                                     "(Never: they stay).")),
}


class ScaleTab(EditorTab):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(state, bridge, "scaleTab", "Scale", parent)
        self.spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        for key, (object_name, label, accessible, note) in SPINS.items():
            spin = named(QSpinBox(self), object_name, accessible, note)
            spin.setRange(0, DELETE_MAX_MINUTES if key == "delete_unused_after_minutes" else SPIN_MAX)
            if key == "delete_unused_after_minutes":
                spin.setSpecialValueText("Never")
                spin.setSuffix(" min")
                spin.setSingleStep(30)
            spin.setValue(int(getattr(state, key)))
            spin.setFixedWidth(140)
            spin.setKeyboardTracking(True)
            spin.valueChanged.connect(lambda value, k=key: self._changed(k, value))
            self.spins[key] = spin
            self.fields[key] = spin
            form.addRow(QLabel(label, self, buddy=spin),
                        stacked(self, spin, self.field_message(key, f"{object_name}Message", f"{accessible} message"),
                                note_label(note, f"{object_name}Note", self)))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

    def _changed(self, key: str, value: int) -> None:
        setattr(self.state, key, int(value))
        self.touch(key)

    def reload(self) -> None:
        for key, spin in self.spins.items():
            if spin.value() != int(getattr(self.state, key)):
                spin.blockSignals(True)
                spin.setValue(int(getattr(self.state, key)))
                spin.blockSignals(False)
