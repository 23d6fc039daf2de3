"""Source: the provider, then a filterable list of its VMs; choosing one checks it in the background.

The check (services.templates.source_check) says whether the VM runs (then the console must be
allowed to shut it down: Next requires the consent), which integration services or guest agent are
missing, and whether the source can be distributed at all.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QProgressBar, QVBoxLayout, QWidget,
                               QWizardPage)

from console.ui.table_models import format_bytes
from console.ui.template_wizard.common import (ERROR_COLOUR, OK_COLOUR, WARN_COLOUR, message_label,
                                               named, show_message)

VM_ID_ROLE = Qt.ItemDataRole.UserRole


class SourcePage(QWizardPage):
    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        named(self, "sourcePage", "Source")
        self.setTitle("Source")
        self.setSubTitle("Choose the virtual machine the template is made from. Its disks become "
                         "version 1 of the template.")

        self.provider_combo = named(QComboBox(self), "sourceProvider", "Source provider")
        self.filter_edit = named(QLineEdit(self), "sourceVmFilter", "Filter virtual machines")
        self.filter_edit.setPlaceholderText("Type part of a VM name")
        self.filter_edit.setClearButtonEnabled(True)
        self.vm_list = named(QListWidget(self), "sourceVmList", "Virtual machines")
        self.vm_list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.vm_list.setMinimumHeight(150)
        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("sourceVmListEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()

        self.busy = named(QProgressBar(self), "sourceCheckBusy", "Checking the source VM")
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy_label = QLabel(self)
        self.busy_box = QWidget(self)
        busy_layout = QHBoxLayout(self.busy_box)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        busy_layout.addWidget(self.busy)
        busy_layout.addWidget(self.busy_label, 1)
        self.busy_box.hide()

        self.result_label = named(QLabel(self), "sourceCheckResult", "Source check result")
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.result_label.setWordWrap(True)
        self.result_label.hide()
        self.consent = named(QCheckBox(self), "shutdownConsent", "Allow the console to shut the VM down")
        self.consent.hide()
        self.message = message_label("sourcePageMessage", "Source page message", self)

        form = QFormLayout()
        form.addRow("&Provider:", self.provider_combo)
        form.addRow("&Filter:", self.filter_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.vm_list, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.busy_box)
        layout.addWidget(self.result_label)
        layout.addWidget(self.consent)
        layout.addWidget(self.message)

        for provider in bridge.providers():
            self.provider_combo.addItem(f"{provider.name} — {provider.kind.label}", provider.id)
        self.provider_combo.currentIndexChanged.connect(self._provider_changed)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.vm_list.itemSelectionChanged.connect(self._vm_selected)
        self.consent.toggled.connect(self._consent_toggled)
        bridge.sourceChecked.connect(self._checked)
        bridge.sourceCheckFailed.connect(self._check_failed)
        bridge.services_bridge.inventoryUpdated.connect(self._inventory_updated)
        bridge.services_bridge.providerAdded.connect(self._provider_added)
        self._fill_vms()

    # ----- choosing -----------------------------------------------------------------------------
    def preselect(self, provider_id: int | None, vm_id: str | None) -> None:
        if provider_id is not None:
            index = self.provider_combo.findData(provider_id)
            if index >= 0:
                self.provider_combo.setCurrentIndex(index)
        if vm_id:
            for row in range(self.vm_list.count()):
                if self.vm_list.item(row).data(VM_ID_ROLE) == vm_id:
                    self.vm_list.setCurrentRow(row)
                    break

    def _provider_added(self, provider) -> None:
        if self.provider_combo.findData(provider.id) < 0:
            self.provider_combo.addItem(f"{provider.name} — {provider.kind.label}", provider.id)

    def provider_id(self) -> int | None:
        return self.provider_combo.currentData()

    def _provider_changed(self) -> None:
        self.vm_list.clearSelection()
        self._fill_vms()
        self._vm_selected()

    def _inventory_updated(self, inventory) -> None:
        if getattr(inventory, "provider_id", None) == self.provider_id():
            self._fill_vms()      # the list as last read; the chosen VM stays chosen

    def _fill_vms(self) -> None:
        pid = self.provider_id()
        vms = self.bridge.vms(pid) if pid is not None else []
        keep = self.state.vm_id
        self.vm_list.blockSignals(True)
        self.vm_list.clear()
        for vm in vms:
            where = f" · {vm.host}" if vm.host else ""
            item = QListWidgetItem(f"{vm.name}    ({vm.state.value}{where})")
            item.setData(VM_ID_ROLE, vm.id)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{vm.name}, {vm.state.value}")
            item.setToolTip(vm.notes or vm.name)
            self.vm_list.addItem(item)
            if vm.id == keep and pid == self.state.provider_id:
                item.setSelected(True)
                self.vm_list.setCurrentItem(item)
        self.vm_list.blockSignals(False)
        if pid is None:
            self.empty_label.setText("No provider is registered yet: add a provider first.")
        else:
            self.empty_label.setText("This provider's inventory has not been read yet, or it holds no VM. "
                                     "Refresh it (F5) and come back.")
        self.empty_label.setVisible(not vms)
        self._apply_filter(self.filter_edit.text())

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.vm_list.count()):
            item = self.vm_list.item(row)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def _selected_vm(self):
        items = self.vm_list.selectedItems()
        if not items:
            return None
        vm_id = items[0].data(VM_ID_ROLE)
        return next((vm for vm in self.bridge.vms(self.provider_id()) if vm.id == vm_id), None)

    def _vm_selected(self) -> None:
        vm = self._selected_vm()
        pid = self.provider_id()
        provider = self.bridge.provider(pid) if pid is not None else None
        changed = self.state.select_source(pid, provider.name if provider else "",
                                           provider.kind if provider else None,
                                           vm.id if vm else "", vm.name if vm else "")
        if changed:
            self.consent.blockSignals(True)
            self.consent.setChecked(False)
            self.consent.blockSignals(False)
            if vm is not None:
                self.bridge.check_source(pid, vm.id)
        self._render()

    def _consent_toggled(self, on: bool) -> None:
        self.state.shutdown_consent = on
        self._render()

    # ----- the check's answer -------------------------------------------------------------------
    def _checked(self, provider_id: int, vm_id: str, check) -> None:
        if self.state.source_checked(provider_id, vm_id, check=check):
            self._render()

    def _check_failed(self, provider_id: int, vm_id: str, sentence: str) -> None:
        if self.state.source_checked(provider_id, vm_id, error=sentence):
            self._render()

    def _render(self) -> None:
        s = self.state
        self.busy_box.setVisible(s.checking_source)
        self.busy_label.setText(f"Checking VM '{s.vm_name}'..." if s.checking_source else "")
        check = s.check
        lines: list[str] = []
        if check is not None:
            lines.append(_line("", _facts(check)))
            problems = list(check.problems)
            if check.running:
                # the services' own sentence when it gives one (it leads the problems), else ours
                own = next((p for p in problems if "shut it down" in p), "")
                if own:
                    problems.remove(own)
                lines.append(_line(ERROR_COLOUR, own or (
                    f"VM '{s.vm_name}' is {check.vm.state.value.lower()}. Allow the console to shut it "
                    "down, or shut it down yourself.")))
            for problem in problems:
                lines.append(_line(WARN_COLOUR, "⚠ " + problem))
            if check.missing_services and not problems:
                lines.append(_line(WARN_COLOUR, "Missing: " + ", ".join(check.missing_services) + "."))
            if not check.missing_services and not getattr(check, "services_checked", True):
                lines.append(_line(OK_COLOUR, "✓ The integration services are enabled. Whether the guest "
                                   "answers is checked only while the VM runs."))
            elif not check.missing_services:
                lines.append(_line(OK_COLOUR, "✓ The integration services are answering." if s.is_hyperv
                                  else "✓ The guest tools are answering."))
            if not check.distribution_possible and check.why_not_distribution:
                lines.append(_line("", check.why_not_distribution))
        self.result_label.setText("<br>".join(lines))
        self.result_label.setVisible(bool(lines))
        running = s.source_running
        self.consent.setText(f"Shut down VM '{s.vm_name}' when the template is created")
        self.consent.setVisible(running)
        show_message(self.message, s.check_error)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.state.source_problem()


def _facts(check) -> str:
    """One line about the chosen VM: what a template of it weighs and holds."""
    vm = check.vm
    used = sum(d.file_bytes for d in vm.disks)
    size = sum(d.size_bytes for d in vm.disks)
    parts = [f"{vm.name}: {vm.cpu_count} virtual processor{'s' if vm.cpu_count != 1 else ''}",
             f"{format_bytes(vm.memory_bytes)} memory" if vm.memory_bytes else "",
             f"{format_bytes(used)} on disk ({format_bytes(size)} provisioned)" if vm.disks else "",
             f"generation {vm.generation}" if vm.generation else "",
             f"configuration version {vm.version}" if vm.version else "",
             f"{len(check.snapshots)} existing checkpoint{'s' if len(check.snapshots) != 1 else ''}"]
    return " · ".join(p for p in parts if p) + "."


def _line(colour: str, text: str) -> str:
    from html import escape
    style = f' style="color:{colour}"' if colour else ""
    return f"<span{style}>{escape(text)}</span>"
