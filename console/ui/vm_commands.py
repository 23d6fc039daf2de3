"""The window's commands that open a dialog first: snapshot, clone and delete a VM, retry a task,
and trusting a provider's new certificate. Each dialog is opened with open() (never exec()) and its
answer starts a service call through the bridge; started tasks are selected so their log streams."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from console.ui.inventory_model import NodeKind

if TYPE_CHECKING:       # the dialogs are imported when first opened, not before the window's first paint
    from PySide6.QtWidgets import QMessageBox

    from console.domain.errors import CertificateNotTrustedError
    from console.ui.certificate_dialog import CertificateDialog

log = logging.getLogger(__name__)


class VMCommands:
    def __init__(self, window) -> None:
        self.window = window
        self._capabilities: dict[int, object] = {}
        self._certificate_prompts: dict[int, QMessageBox] = {}
        self.last_dialog = None            # the dialog opened last (tests drive it)

    # ----- what the selected provider can do ----------------------------------------------------
    def capabilities(self, provider_id: int):
        """The provider's Capabilities, cached until the provider changes; None when unknown."""
        if provider_id in self._capabilities:
            return self._capabilities[provider_id]
        services = self.window.services
        caps = None
        if services is not None and hasattr(services.providers, "capabilities"):
            try:
                caps = services.providers.capabilities(provider_id)
            except Exception as exc:   # no password yet, a provider just removed: nothing enabled
                log.debug("capabilities of provider %s: %s", provider_id, exc)
                return None
        self._capabilities[provider_id] = caps
        return caps

    def forget(self, provider_id: int) -> None:
        self._capabilities.pop(provider_id, None)

    def _selected_vm(self):
        node = self.window.tree.selected_node()
        if self.window.bridge is None or node is None or node.kind is not NodeKind.VM:
            return None, None
        return node.provider_node().obj, node.obj

    def _open(self, dialog) -> None:
        self.last_dialog = dialog
        self.window._keep_dialog(dialog)
        dialog.finished.connect(lambda _r: self.window._forget_dialog(dialog))
        dialog.open()

    # ----- snapshot, clone, delete ----------------------------------------------------------------
    def take_snapshot(self):
        provider, vm = self._selected_vm()
        if vm is None:
            return None
        from console.ui.vm_dialogs import SnapshotDialog
        dialog = SnapshotDialog(vm, self.window)
        dialog.snapshotRequested.connect(
            lambda name: self._start(self.window.services.providers.snapshot, provider.id, vm.id, name,
                                     what="Take snapshot"))
        self._open(dialog)
        return dialog

    def clone(self):
        provider, vm = self._selected_vm()
        if vm is None:
            return None
        from console.ui.vm_dialogs import CloneDialog
        caps = self.capabilities(provider.id)
        prov_node = self.window.inventory.provider_node(provider.id)
        taken = {n.obj.name for n in prov_node.vms_by_id.values()} if prov_node is not None else set()
        can_link = bool(getattr(caps, "can_link_clone", False))
        dialog = CloneDialog(vm, provider.name, taken, can_full=bool(getattr(caps, "can_full_clone", False)),
                             can_from_snapshot=can_link, parent=self.window)
        dialog.cloneRequested.connect(
            lambda name, snapshot_id: self._start(self.window.services.providers.clone, provider.id, vm.id,
                                                  name, snapshot_id, what="Clone VM"))
        if can_link:
            self.window.bridge.run(self.window.services.providers.snapshots(provider.id, vm.id),
                                   "Read snapshots", on_done=dialog.set_snapshots,
                                   on_error=dialog.snapshots_failed)
        else:
            dialog.set_snapshots([])
        self._open(dialog)
        return dialog

    def delete_vm(self):
        provider, vm = self._selected_vm()
        if vm is None:
            return None
        from PySide6.QtWidgets import QMessageBox

        from console.ui.vm_dialogs import confirm_delete_vm
        box = confirm_delete_vm(vm, provider.name, self.window)

        def answered(button) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self._start(self.window.services.providers.delete_vm, provider.id, vm.id, what="Delete VM")
        box.buttonClicked.connect(answered)
        self._open(box)
        return box

    def retry(self, task_id: int):
        if self.window.bridge is None:
            return None
        services = self.window.services
        task = services.tasks.get(task_id)
        if task is not None and task.kind.startswith("template-"):
            return self._start(services.templates.retry, task_id, what="Retry task")
        return self._start(services.providers.retry, task_id, what="Retry task")

    def _start(self, fn, *args, what: str):
        task = self.window.bridge.call(fn, *args, what=what)
        self.window._follow_task(task)
        return task

    # ----- a provider's certificate changed ---------------------------------------------------------
    def certificate_rejected(self, provider_id: int, error: CertificateNotTrustedError):
        """A non-modal prompt (one per provider) offering to review the new certificate."""
        window = self.window
        if provider_id in self._certificate_prompts or window.services is None:
            return None
        try:
            provider = window.services.providers.get(provider_id)
        except Exception:        # removed meanwhile
            return None
        from PySide6.QtWidgets import QMessageBox
        box = QMessageBox(QMessageBox.Icon.Warning, "Certificate changed" if error.pinned_fingerprint
                          else "Certificate not trusted", error.message, QMessageBox.StandardButton.NoButton,
                          window)
        box.setObjectName("certificateRejectedPrompt")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(f"The console does not talk to {provider.name} until you review the "
                               "certificate it now presents and trust it.")
        review = box.addButton("Review certificate...", QMessageBox.ButtonRole.AcceptRole)
        review.setObjectName("reviewCertificateButton")
        later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        later.setObjectName("certificateLaterButton")
        box.setDefaultButton(later)
        box.setWindowModality(Qt.WindowModality.NonModal)

        def answered(button) -> None:
            if button is review:
                self.review_certificate(provider, error)
        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _r: self._certificate_prompts.pop(provider_id, None))
        self._certificate_prompts[provider_id] = box
        self.last_dialog = box
        window._keep_dialog(box)
        box.finished.connect(lambda _r: window._forget_dialog(box))
        box.show()
        return box

    def review_certificate(self, provider, error: CertificateNotTrustedError) -> CertificateDialog:
        window = self.window
        from console.ui.certificate_dialog import CertificateDialog
        s = provider.settings
        dialog = CertificateDialog(error, f"{provider.name} ({s.address})", window)

        def trusted(fingerprint: str) -> None:
            def accepted(_provider=None) -> None:
                self.forget(provider.id)
                window.refresh(provider.id)
            try:
                result = window.services.providers.accept_certificate(provider.id, fingerprint)
            except Exception as exc:
                from console.ui.bridge import describe_error
                window.show_error("Trust certificate", *describe_error(exc))
                return
            if hasattr(result, "__await__"):
                window.bridge.run(result, "Trust certificate", on_done=accepted)
            else:
                accepted(result)
        dialog.trusted.connect(trusted)
        fetch = getattr(window.services.providers, "fetch_certificate", None)
        if fetch is not None:
            window.bridge.run(fetch(s), "Read certificate", on_done=dialog.set_info,
                              on_error=dialog.info_failed)
        self._open(dialog)
        return dialog
