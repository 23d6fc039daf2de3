"""Targets: which of the template's distribution targets take clones (a target without a ready copy
of the chosen version is shown, unchecked and disabled, with the reason), and a cap of clones per
host (0 = no cap; the caps together must leave room for the maximum)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
)

from console.ui.pool_editor.common import EditorTab, named, note_label, stacked

ID_ROLE = Qt.ItemDataRole.UserRole
CAP_MAX = 99999


class TargetsTab(EditorTab):
    #: the chosen targets changed: estimates and names in use are read again
    contextChanged = Signal()

    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(state, bridge, "targetsTab", "Targets", parent)
        self._filling = False
        self.note = note_label("", "targetListNote", self)
        self.targets = named(QListWidget(self), "targetList", "Targets that take clones",
                             "Check the hosts that take clones of this pool")
        self.targets.setMinimumHeight(90)
        self.targets.setMaximumHeight(180)
        self.cap = named(QSpinBox(self), "perHostCap", "Clones per host at most", "0: no cap")
        self.cap.setRange(0, CAP_MAX)
        self.cap.setSpecialValueText("No cap")
        self.cap.setFixedWidth(140)
        self.cap.setValue(state.per_host_cap)
        self.fields = {"targets": self.targets, "per_host_cap": self.cap}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(QLabel("&Targets:", self, buddy=self.targets),
                    stacked(self, self.note, self.targets,
                            self.field_message("targets", "targetListMessage", "Targets message")))
        form.addRow(QLabel("Clones per &host at most:", self, buddy=self.cap),
                    stacked(self, self.cap, self.field_message("per_host_cap", "perHostCapMessage",
                                                                "Per-host cap message"),
                            note_label("Clones are spread over the targets, fewest first; a cap keeps a "
                                       "host from taking more than this many.", "perHostCapNote", self)))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        self.targets.itemChanged.connect(self._item_changed)
        self.cap.valueChanged.connect(self._cap_changed)

    def reload(self) -> None:
        state = self.state
        self._filling = True
        try:
            self.targets.clear()
            for choice in state.targets:
                text = choice.name if not choice.reason else f"{choice.name} — cannot take clones: {choice.reason}"
                item = QListWidgetItem(text, self.targets)
                item.setData(ID_ROLE, choice.provider_id)
                flags = Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
                if not choice.reason or choice.checked:        # a checked bad one can still be unchecked
                    flags |= Qt.ItemFlag.ItemIsEnabled
                item.setFlags(flags)
                item.setCheckState(Qt.CheckState.Checked if choice.checked else Qt.CheckState.Unchecked)
                item.setToolTip(choice.reason)
            if self.cap.value() != state.per_host_cap:
                self.cap.setValue(state.per_host_cap)
        finally:
            self._filling = False
        template = state.template
        if template is None:
            text = "Choose the template first (Provisioning)."
        elif template.distribution_enabled:
            text = f"Template '{template.name}' is distributed: its targets with a ready copy of the version."
        else:
            text = (f"Template '{template.name}' is not distributed: its clones are made on "
                    f"{self.bridge.provider_name(template.provider_id)}.")
        self.note.setText(text)

    def _item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        pid = item.data(ID_ROLE)
        for choice in self.state.targets:
            if choice.provider_id == pid:
                choice.checked = item.checkState() == Qt.CheckState.Checked
        self.touched.add("targets")
        self.contextChanged.emit()

    def _cap_changed(self, value: int) -> None:
        if self._filling:
            return
        self.state.per_host_cap = int(value)
        self.touch("per_host_cap")
