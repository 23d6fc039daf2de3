"""Small dialogs for a template: Set tag, Enter maintenance (which version), Leave maintenance (new
version or discard, and the turn-off consent), and Add target (a target's prerequisite check shown
before it is added). Each is opened with open() and answers through a signal; the services check
every answer again."""
from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDialog,
                               QDialogButtonBox, QFormLayout, QLabel, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QRadioButton, QVBoxLayout)

from console.domain.prerequisites import CheckStatus, PrerequisiteResult
from console.domain.templates import STANDARD_TAGS, Template
from console.ui.template_tables import PrerequisiteTableModel
from console.ui.vm_dialogs import _message_label, _plain

TAG_LIMIT = 32
_TAG_CHARS = re.compile(r"^[A-Za-z0-9._-]*$")
ROLE_ID = Qt.ItemDataRole.UserRole + 1


def tag_problem(text: str) -> str:
    tag = text.strip()
    if len(tag) > TAG_LIMIT:
        return f"The tag is {len(tag)} characters long; at most {TAG_LIMIT} are accepted."
    if not _TAG_CHARS.match(tag):
        return "A tag may hold letters, digits, '-', '_' and '.' only."
    return ""


def confirm_box(parent, name: str, title: str, text: str, info: str, on_yes):
    """A Yes/No question (No by default); Yes calls on_yes. The caller opens it."""
    from PySide6.QtWidgets import QMessageBox
    box = QMessageBox(QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setObjectName(name)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setInformativeText(info)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.buttonClicked.connect(
        lambda button: on_yes() if box.standardButton(button) == QMessageBox.StandardButton.Yes else None)
    return box


def pool_update_offer(parent, template_name: str, version: int, pools: list[str], on_now):
    """After a new version: "Update their clones now" (calls on_now) or "Later". The caller opens it."""
    from PySide6.QtWidgets import QMessageBox
    box = QMessageBox(QMessageBox.Icon.Information, "New version ready",
                      f"Version {version} of '{template_name}' is ready. These pools use the template: "
                      f"{', '.join(pools)}.", QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("poolUpdateOffer")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setInformativeText("Their clones keep the version they were made from until they are updated.")
    now = box.addButton("Update their clones now", QMessageBox.ButtonRole.AcceptRole)
    now.setObjectName("updateClonesNowButton")
    later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    later.setObjectName("updateClonesLaterButton")
    box.setDefaultButton(later)
    box.buttonClicked.connect(lambda button: on_now() if button is now else None)
    return box


def _buttons(dialog: QDialog, ok_text: str, ok_name: str) -> tuple[QDialogButtonBox, object]:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    ok = box.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    ok.setObjectName(ok_name)
    ok.setAccessibleName(ok_text.replace("&", "").rstrip("."))
    box.rejected.connect(dialog.reject)
    return box, ok


class SetTagDialog(QDialog):
    tagChosen = Signal(str)       # "" clears the tag

    def __init__(self, template: Template, number: int, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("setTagDialog")
        self.setAccessibleName("Set tag")
        self.setWindowTitle("Set tag")
        self.setMinimumWidth(420)
        version = template.version(number)
        self.combo = QComboBox(self)
        self.combo.setObjectName("tagCombo")
        self.combo.setAccessibleName("Tag")
        self.combo.setEditable(True)
        self.combo.addItems(["", *STANDARD_TAGS])
        self.combo.setCurrentText(version.tag if version is not None else "")
        holder = next((v for v in template.versions if v.tag and v.number != number), None)
        self.message = _message_label(self, "tagMessage")
        self.buttons, self.ok_button = _buttons(self, "Set tag", "setTagOkButton")
        self.buttons.accepted.connect(self._chosen)
        self.combo.editTextChanged.connect(lambda _t: self.validate())
        layout = QVBoxLayout(self)
        layout.addWidget(_plain(f"Tag version {number} of the template '{template.name}'. A tag is on one "
                                "version at a time: setting it here moves it from the version that has it. "
                                "Leave it empty to clear the tag.", self))
        if holder is not None:
            layout.addWidget(_plain(f"v{holder.number} is tagged '{holder.tag}' now.", self))
        form = QFormLayout()
        form.addRow("Tag:", self.combo)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.validate()

    def validate(self) -> bool:
        problem = tag_problem(self.combo.currentText())
        self.message.setText(problem)
        self.message.setVisible(bool(problem))
        self.ok_button.setEnabled(not problem)
        return not problem

    def _chosen(self) -> None:
        if self.validate():
            self.tagChosen.emit(self.combo.currentText().strip())
            self.accept()


class EnterMaintenanceDialog(QDialog):
    """Which version the template VM starts from (default: the latest)."""

    versionChosen = Signal(int)

    def __init__(self, template: Template, can_revert: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("enterMaintenanceDialog")
        self.setAccessibleName("Enter maintenance")
        self.setWindowTitle("Enter maintenance")
        self.setMinimumWidth(460)
        self.versions = QListWidget(self)
        self.versions.setObjectName("maintenanceVersionList")
        self.versions.setAccessibleName("Version to start from")
        latest = template.latest_version
        for v in sorted(template.versions, key=lambda x: -x.number):
            text = f"v{v.number}  {v.created.replace('T', ' ')[:16]}"
            if v.tag:
                text += f"  [{v.tag}]"
            if v.notes:
                text += f"  {v.notes}"
            item = QListWidgetItem(text, self.versions)
            item.setData(ROLE_ID, v.number)
            if not can_revert and v is not latest:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            if v is latest:
                self.versions.setCurrentItem(item)
        self.buttons, self.ok_button = _buttons(self, "Enter maintenance", "enterMaintenanceOkButton")
        self.buttons.accepted.connect(self._chosen)
        layout = QVBoxLayout(self)
        layout.addWidget(_plain(f"The template '{template.name}' gives no new clones while it is in "
                                "maintenance; clones already made keep running. Its VM "
                                f"'{template.source_vm_name or template.source_vm_id}' is reverted to the "
                                "version chosen here and started, so you can update it.", self))
        if not can_revert:
            layout.addWidget(_plain("This VM is on Nutanix: the console cannot revert it, so its current "
                                    "disks are used (they hold the latest version).", self))
        layout.addWidget(QLabel("Start from version:", self))
        layout.addWidget(self.versions)
        layout.addWidget(self.buttons)

    def chosen_version(self) -> int | None:
        item = self.versions.currentItem()
        return item.data(ROLE_ID) if item is not None else None

    def _chosen(self) -> None:
        number = self.chosen_version()
        if number is not None:
            self.versionChosen.emit(number)
            self.accept()


class LeaveMaintenanceDialog(QDialog):
    """New version (with notes) or discard the changes; turning the VM off only with consent."""

    leaveChosen = Signal(bool, str, bool)      # new version, notes, force off

    def __init__(self, template: Template, can_discard: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("leaveMaintenanceDialog")
        self.setAccessibleName("Leave maintenance")
        self.setWindowTitle("Leave maintenance")
        self.setMinimumWidth(500)
        latest = template.latest_version
        next_number = (latest.number + 1) if latest is not None else 1
        self.new_version_radio = QRadioButton(f"Create version {next_number} from the VM as it is now", self)
        self.new_version_radio.setObjectName("newVersionRadio")
        self.new_version_radio.setAccessibleName("Create a new version")
        self.discard_radio = QRadioButton("Discard the changes (revert the VM to "
                                          f"v{template.maintenance_from or (latest.number if latest else 1)})",
                                          self)
        self.discard_radio.setObjectName("discardRadio")
        self.discard_radio.setAccessibleName("Discard the changes")
        self.discard_radio.setEnabled(can_discard)
        group = QButtonGroup(self)
        group.addButton(self.new_version_radio)
        group.addButton(self.discard_radio)
        self.new_version_radio.setChecked(True)
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("maintenanceNotes")
        self.notes.setAccessibleName("Notes for the new version")
        self.notes.setPlaceholderText("What changed in this version (updates installed, software added...)")
        self.notes.setFixedHeight(self.fontMetrics().height() * 4 + 12)
        self.force_off = QCheckBox("Turn the VM off if it does not shut down within 5 minutes", self)
        self.force_off.setObjectName("forceOffCheck")
        self.force_off.setAccessibleName("Turn the VM off if it does not shut down within 5 minutes")
        self.buttons, self.ok_button = _buttons(self, "Leave maintenance", "leaveMaintenanceOkButton")
        self.buttons.accepted.connect(self._chosen)
        self.new_version_radio.toggled.connect(self.notes.setEnabled)

        layout = QVBoxLayout(self)
        layout.addWidget(_plain(f"The guest of '{template.source_vm_name or template.source_vm_id}' is shut "
                                "down first. Then:", self))
        layout.addWidget(self.new_version_radio)
        layout.addWidget(self.notes)
        if template.distribution_enabled and template.targets:
            layout.addWidget(_plain(f"Every distribution target ({len(template.targets)}) then needs the "
                                    "new version: it is copied to them at once.", self))
        layout.addWidget(self.discard_radio)
        if not can_discard:
            layout.addWidget(_plain("A Nutanix VM cannot be reverted by this console: its changes can only "
                                    "become a new version.", self))
        layout.addWidget(self.force_off)
        layout.addWidget(self.buttons)

    def _chosen(self) -> None:
        new_version = self.new_version_radio.isChecked()
        self.leaveChosen.emit(new_version, self.notes.toPlainText().strip() if new_version else "",
                              self.force_off.isChecked())
        self.accept()


class AddTargetDialog(QDialog):
    """Pick a provider; its prerequisite check runs (``checkRequested``) and its rows are shown;
    Add is possible once the check passed (warnings do not block)."""

    checkRequested = Signal(int)      # provider id
    targetChosen = Signal(int)        # provider id

    def __init__(self, template: Template, choices: list, parent=None) -> None:
        """choices: (Provider, reason) pairs, reason "" when the provider can be a target."""
        super().__init__(parent)
        self.template = template
        self.setObjectName("addTargetDialog")
        self.setAccessibleName("Add distribution target")
        self.setWindowTitle("Add distribution target")
        self.resize(860, 520)
        self._checked: dict[int, list[PrerequisiteResult]] = {}
        self._names: dict[int, str] = {}
        self.providers = QListWidget(self)
        self.providers.setObjectName("availableTargets")
        self.providers.setAccessibleName("Available providers")
        self.providers.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        taken = {t.provider_id for t in template.targets}
        for provider, reason in choices:
            if provider.id in taken:
                continue
            self._names[provider.id] = provider.name
            text = provider.name if not reason else f"{provider.name}: {reason}"
            item = QListWidgetItem(text, self.providers)
            item.setData(ROLE_ID, provider.id)
            if reason:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(reason)
        self.model = PrerequisiteTableModel(self)
        from console.ui.details import _table
        self.table, _ = _table("targetPrerequisiteTable", "Prerequisites", self.model, self)
        self.table.setSortingEnabled(False)
        for column, width in enumerate((230, 150, 150, 80)):
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.setWordWrap(True)
        self.status = _plain("Choose a provider: its prerequisites are checked before it is added.", self)
        self.status.setObjectName("addTargetMessage")
        self.buttons, self.ok_button = _buttons(self, "Add target", "addTargetOkButton")
        self.ok_button.setEnabled(False)
        self.recheck_button = self.buttons.addButton("Check &again", QDialogButtonBox.ButtonRole.ActionRole)
        self.recheck_button.setObjectName("recheckTargetButton")
        self.recheck_button.setAccessibleName("Check the chosen provider again")
        self.recheck_button.setEnabled(False)
        self.recheck_button.clicked.connect(self.recheck)
        self.buttons.accepted.connect(self._chosen)
        self.providers.currentItemChanged.connect(lambda item, _prev: self._picked(item))

        layout = QVBoxLayout(self)
        layout.addWidget(_plain(f"Add a host to the distribution of '{template.name}': the latest version is "
                                "copied to it and imported there as a local copy.", self))
        layout.addWidget(self.providers, 1)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        if not self._names:
            self.status.setText("Every provider is a target already, or none can be one.")

    def selected_provider(self) -> int | None:
        item = self.providers.currentItem()
        return item.data(ROLE_ID) if item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled else None

    def select_provider(self, provider_id: int) -> None:
        for row in range(self.providers.count()):
            if self.providers.item(row).data(ROLE_ID) == provider_id:
                self.providers.setCurrentRow(row)
                return

    def _picked(self, item) -> None:
        pid = self.selected_provider()
        self.ok_button.setEnabled(False)
        self.recheck_button.setEnabled(False)
        if pid is None:
            self.model.set_items([])
            return
        if pid in self._checked:
            self._show(pid)
            return
        self.model.set_items([])
        self.status.setText(f"Checking {self._names[pid]}...")
        self.checkRequested.emit(pid)

    def set_results(self, provider_id: int, results: list[PrerequisiteResult]) -> None:
        self._checked[provider_id] = list(results)
        if self.selected_provider() == provider_id:
            self._show(provider_id)

    def check_failed(self, provider_id: int, message: str) -> None:
        if self.selected_provider() == provider_id:
            self.status.setText(f"The check of {self._names.get(provider_id, provider_id)} did not run: {message}")
            self.recheck_button.setEnabled(True)

    def _show(self, provider_id: int) -> None:
        results = self._checked[provider_id]
        self.model.set_items(results)
        self.table.resizeRowsToContents()
        failed = [r for r in results if r.status is CheckStatus.FAILED]
        warnings = [r for r in results if r.status is CheckStatus.WARNING]
        name = self._names[provider_id]
        if failed:
            self.status.setText(f"{name} fails {len(failed)} prerequisite{'s' if len(failed) != 1 else ''}: "
                                "fix the host as shown and check again, or choose another provider.")
        elif warnings:
            self.status.setText(f"{name} can be a target; {len(warnings)} item"
                                f"{'s' if len(warnings) != 1 else ''} could not be verified.")
        else:
            self.status.setText(f"{name} meets every prerequisite.")
        self.ok_button.setEnabled(not failed)
        self.recheck_button.setEnabled(True)

    def recheck(self) -> None:
        pid = self.selected_provider()
        if pid is not None:
            self._checked.pop(pid, None)
            self._picked(self.providers.currentItem())

    def _chosen(self) -> None:
        pid = self.selected_provider()
        results = self._checked.get(pid) if pid is not None else None
        if results is not None and not any(r.status is CheckStatus.FAILED for r in results):
            self.targetChosen.emit(pid)
            self.accept()
