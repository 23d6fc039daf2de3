"""Small dialogs for one VM: Take snapshot (a name), Clone (a name, full or from a snapshot), and
the confirmation of Delete VM. Each is opened with open() and answers through a signal; names are
checked as they are typed (the service checks them again)."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QMessageBox, QRadioButton, QVBoxLayout, QWidget)

from console.domain.inventory import PowerState, VM

#: the longest names the services accept (Prism's limits): VM names, snapshot names
NAME_LIMIT = 80
SNAPSHOT_NAME_LIMIT = 64


def name_problem(text: str, what: str, taken: set[str] | None = None, where: str = "",
                 limit: int = NAME_LIMIT) -> str:
    """'' when the name can be used, else the sentence saying why not."""
    name = text.strip()
    if not name:
        return f"Enter a name for the new {what}."
    if len(name) > limit:
        return f"The name is {len(name)} characters long; at most {limit} are accepted."
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "The name contains a control character (such as a tab); use letters, digits and punctuation."
    if taken and name.casefold() in taken:
        return f"A {what} named '{name}' already exists{f' on {where}' if where else ''}; choose another name."
    return ""


def _message_label(parent, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setStyleSheet("color: #b3261e;")
    label.hide()
    return label


def _plain(text: str, parent) -> QLabel:
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)   # VM names are data ('<b>x</b>' is a name)
    label.setWordWrap(True)
    return label


class SnapshotDialog(QDialog):
    snapshotRequested = Signal(str)     # snapshot name

    def __init__(self, vm: VM, parent=None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setObjectName("snapshotDialog")
        self.setAccessibleName("Take snapshot")
        self.setWindowTitle("Take snapshot")
        self.setMinimumWidth(440)
        self.name_edit = QLineEdit(f"{vm.name} {dt.datetime.now():%Y-%m-%d %H.%M}", self)
        self.name_edit.setObjectName("snapshotNameEdit")
        self.name_edit.setAccessibleName("Snapshot name")
        self.name_edit.selectAll()
        self.message = _message_label(self, "snapshotNameMessage")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Take snapshot")
        self.ok_button.setObjectName("snapshotOkButton")
        self.ok_button.setAccessibleName("Take snapshot")
        self.buttons.accepted.connect(self._take)
        self.buttons.rejected.connect(self.reject)
        self.name_edit.textChanged.connect(lambda _t: self.validate())

        layout = QVBoxLayout(self)
        layout.addWidget(_plain(f"Take a snapshot of the virtual machine '{vm.name}'.", self))
        form = QFormLayout()
        form.addRow("Snapshot name:", self.name_edit)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.validate()

    def validate(self) -> bool:
        problem = name_problem(self.name_edit.text(), "snapshot", limit=SNAPSHOT_NAME_LIMIT)
        self.message.setText(problem)
        self.message.setVisible(bool(problem))
        self.ok_button.setEnabled(not problem)
        return not problem

    def _take(self) -> None:
        if self.validate():
            self.snapshotRequested.emit(self.name_edit.text().strip())
            self.accept()


class CloneDialog(QDialog):
    """New name; a full clone, or a thin clone from one of the VM's snapshots (read when it opens)."""

    cloneRequested = Signal(str, object)     # new name, snapshot id or None (full clone)

    def __init__(self, vm: VM, provider_name: str, taken_names: set[str], can_full: bool = True,
                 can_from_snapshot: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.provider_name = provider_name
        self.taken = {n.casefold() for n in taken_names}
        self.can_full, self.can_from_snapshot = can_full, can_from_snapshot
        self._snapshots_loaded = False
        self.setObjectName("cloneDialog")
        self.setAccessibleName("Clone virtual machine")
        self.setWindowTitle("Clone virtual machine")
        self.setMinimumWidth(480)

        self.name_edit = QLineEdit(self._free_name(f"{vm.name}-clone"), self)
        self.name_edit.setObjectName("cloneNameEdit")
        self.name_edit.setAccessibleName("New virtual machine name")
        self.name_edit.selectAll()
        self.name_message = _message_label(self, "cloneNameMessage")
        self.full_radio = QRadioButton("Full clone (an independent copy of the disks)", self)
        self.full_radio.setObjectName("fullCloneRadio")
        self.full_radio.setAccessibleName("Full clone")
        self.snapshot_radio = QRadioButton("From a snapshot (thin: shares the snapshot's data)", self)
        self.snapshot_radio.setObjectName("snapshotCloneRadio")
        self.snapshot_radio.setAccessibleName("Clone from a snapshot")
        self.method = QButtonGroup(self)
        self.method.addButton(self.full_radio)
        self.method.addButton(self.snapshot_radio)
        self.snapshot_combo = QComboBox(self)
        self.snapshot_combo.setObjectName("snapshotCombo")
        self.snapshot_combo.setAccessibleName("Snapshot")
        self.snapshot_note = QLabel("Reading the snapshots...", self)
        self.snapshot_note.setObjectName("snapshotNote")
        self.snapshot_note.setWordWrap(True)
        self.snapshot_note.setTextFormat(Qt.TextFormat.PlainText)
        self.form_message = _message_label(self, "cloneMessage")

        self.full_radio.setEnabled(can_full)
        self.snapshot_radio.setEnabled(False)           # until the snapshots are read
        self.snapshot_combo.setEnabled(False)
        (self.full_radio if can_full else self.snapshot_radio).setChecked(True)
        if not can_from_snapshot:
            self.snapshot_note.setText(f"{provider_name} cannot clone from a snapshot.")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Clone")
        self.ok_button.setObjectName("cloneOkButton")
        self.ok_button.setAccessibleName("Clone")
        self.buttons.accepted.connect(self._clone)
        self.buttons.rejected.connect(self.reject)
        self.name_edit.textChanged.connect(lambda _t: self.validate())
        self.method.buttonToggled.connect(lambda *_: self.validate())
        self.snapshot_combo.currentIndexChanged.connect(lambda _i: self.validate())

        where = f"{vm.cluster} / {vm.host}" if vm.cluster and vm.host else (vm.cluster or vm.host)
        source = _plain(f"Clone the virtual machine '{vm.name}'" + (f" ({where})" if where else "") + ".",
                        self)
        if vm.state is PowerState.RUNNING:
            source.setText(source.text() + " It is running: a full clone copies its disks as they are "
                           "now (crash-consistent); a clone from a snapshot copies the snapshot.")
        form = QFormLayout()
        form.addRow("New name:", self.name_edit)
        form.addRow("", self.name_message)
        method_box = QWidget(self)
        box = QVBoxLayout(method_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.full_radio)
        box.addWidget(self.snapshot_radio)
        box.addWidget(self.snapshot_combo)
        box.addWidget(self.snapshot_note)
        form.addRow("Method:", method_box)
        layout = QVBoxLayout(self)
        layout.addWidget(source)
        layout.addLayout(form)
        layout.addWidget(self.form_message)
        layout.addWidget(self.buttons)
        self.validate()

    def _free_name(self, wanted: str) -> str:
        name, n = wanted, 2
        while name.casefold() in self.taken:
            name, n = f"{wanted}-{n}", n + 1
        return name

    # ----- snapshots, read by the window through providers.snapshots -----------------------------
    def set_snapshots(self, snapshots) -> None:
        self._snapshots_loaded = True
        self.snapshot_combo.clear()
        for snap in snapshots:
            when = f" ({snap.created[:16].replace('T', ' ')})" if snap.created else ""
            self.snapshot_combo.addItem(f"{snap.name}{when}", snap.id)
        has = self.snapshot_combo.count() > 0
        if not self.can_from_snapshot:
            self.snapshot_note.setText(f"{self.provider_name} cannot clone from a snapshot.")
        elif has:
            self.snapshot_note.setText(f"{self.snapshot_combo.count()} snapshot(s) of '{self.vm.name}'.")
        else:
            self.snapshot_note.setText(f"'{self.vm.name}' has no snapshots yet: take one first to clone "
                                       "from it.")
        self.snapshot_radio.setEnabled(has and self.can_from_snapshot)
        self.snapshot_combo.setVisible(has)
        self.validate()
        self._fit_height()

    def snapshots_failed(self, message: str, hint: str = "", *_rest) -> None:
        self._snapshots_loaded = True
        self.snapshot_note.setText(f"The snapshots could not be read: {message} {hint}".strip())
        self.snapshot_radio.setEnabled(False)
        self.snapshot_combo.hide()
        if self.can_full:
            self.full_radio.setChecked(True)
        self.validate()
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow (never shrink) so a wrapped note is not clipped."""
        layout = self.layout()
        layout.activate()
        wanted = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else -1
        wanted = max(wanted, layout.totalSizeHint().height())
        if wanted > self.height():
            self.resize(self.width(), wanted)

    # ----- answer ------------------------------------------------------------------------------------
    def snapshot_id(self) -> str | None:
        if not self.snapshot_radio.isChecked():
            return None
        return self.snapshot_combo.currentData()

    def validate(self) -> bool:
        self.snapshot_combo.setEnabled(self.snapshot_radio.isChecked() and self.snapshot_radio.isEnabled())
        problem = name_problem(self.name_edit.text(), "virtual machine", self.taken, self.provider_name)
        self.name_message.setText(problem)
        self.name_message.setVisible(bool(problem))
        form = ""
        if self.snapshot_radio.isChecked() and not self.snapshot_id():
            form = ("Choose the snapshot to clone from." if self._snapshots_loaded
                    else "Wait until the snapshots are read, or choose a full clone.")
        if not self.full_radio.isChecked() and not self.snapshot_radio.isChecked():
            form = "Choose a full clone or a snapshot to clone from."
        self.form_message.setText(form)
        self.form_message.setVisible(bool(form))
        ok = not problem and not form
        self.ok_button.setEnabled(ok)
        return ok

    def _clone(self) -> None:
        if self.validate():
            self.cloneRequested.emit(self.name_edit.text().strip(), self.snapshot_id())
            self.accept()


def confirm_delete_vm(vm: VM, provider_name: str, parent) -> QMessageBox:
    """A question naming the VM (and where it is); No is the default. The caller opens it."""
    where = f"cluster {vm.cluster}" if vm.cluster else provider_name
    box = QMessageBox(QMessageBox.Icon.Warning, "Delete virtual machine",
                      f"Delete the virtual machine '{vm.name}' from {where}?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setObjectName("confirmDeleteVm")
    box.setTextFormat(Qt.TextFormat.PlainText)
    running = " It is running: it stops at once, without shutting down its guest." \
        if vm.state is PowerState.RUNNING else ""
    box.setInformativeText(f"Its disks are deleted with it; this cannot be undone.{running}")
    box.button(QMessageBox.StandardButton.Yes).setText("Delete VM")
    box.button(QMessageBox.StandardButton.Yes).setObjectName("confirmDeleteVmYes")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box
