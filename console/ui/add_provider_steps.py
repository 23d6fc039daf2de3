"""Add Provider's Test connection and Add: run through the bridge, then show what was found, or
offer the fix (trust a certificate and run the same step again; switch to the Prism kind the
address really is and test again). A mixin of AddProviderDialog, kept apart for size."""
from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from console.domain.errors import CertificateNotTrustedError, ValidationError, WrongEndpointError
from console.domain.inventory import ProviderKind
from console.ui.certificate_dialog import CertificateDialog
from console.ui.details import facts_rows, nutanix_host_rows
from console.ui.prism_address import display_endpoint

FIELDS = ("name", "address", "port", "username", "password", "basic")


class ConnectionSteps:
    # ----- test and add ---------------------------------------------------------------------------
    def _set_busy(self, busy: bool, what: str = "") -> None:
        self._busy = busy
        for widget in (self.kind_combo, self.name_edit, self.address_edit, self.port_spin, self.https_check,
                       self.auth_combo, self.user_edit, self.password_edit, self.insecure_check):
            widget.setReadOnly(busy) if isinstance(widget, QLineEdit) else widget.setEnabled(not busy)
        if busy:
            self._show_result(what, error=False)
        self.validate()

    def _show_result(self, text: str, error: bool) -> None:
        self.result_label.setText(text)
        self.result_label.setStyleSheet("color: #b3261e;" if error else "")
        self.result_label.setVisible(bool(text))
        self._fit_height()

    def _failed(self, message: str, hint: str, exc: BaseException, retry=None) -> None:
        self._set_busy(False)
        self._show_result(f"{message}\n{hint}".strip(), error=True)
        if isinstance(exc, ValidationError) and exc.field in FIELDS:
            self._touched.add(exc.field)
        if isinstance(exc, CertificateNotTrustedError) and retry is not None:
            self._ask_trust(exc, retry)
        elif isinstance(exc, WrongEndpointError) and exc.actual_kind in (ProviderKind.NUTANIX_PE.value,
                                                                         ProviderKind.NUTANIX_PC.value):
            # the one sentence says what the address is; the button is the fix
            self._show_result(message, error=True)
            self._switch_to = ProviderKind(exc.actual_kind)
            short = "Prism Central" if self._switch_to is ProviderKind.NUTANIX_PC else "Prism Element"
            self.switch_button.setText(f"Switch to {short}")
            self.switch_button.setAccessibleName(f"Switch to {short}")
            self.switch_button.show()
            self._fit_height()

    def _ask_trust(self, exc: CertificateNotTrustedError, retry) -> None:
        where = display_endpoint(self.address_edit.text(), self.port_spin.value())
        dialog = CertificateDialog(exc, where, self)
        self.certificate_dialog = dialog

        def trusted(fingerprint: str) -> None:
            self.pinned_fingerprint = fingerprint
            retry()
        dialog.trusted.connect(trusted)
        dialog.finished.connect(lambda _r: setattr(self, "certificate_dialog", None))
        fetch = getattr(self.providers, "fetch_certificate", None)
        if fetch is not None:          # the issuer is not in the error: read it, without trusting it
            self.bridge.run(fetch(self.settings()), "Read certificate", on_done=dialog.set_info,
                            on_error=dialog.info_failed)
        dialog.open()

    def switch_kind(self) -> None:
        """Change the kind to what the address really is, and test again."""
        if self._switch_to is None:
            return
        self.set_kind(self._switch_to)
        self._switch_to = None
        self.switch_button.hide()
        self.test_connection()

    def test_connection(self) -> None:
        if not self.validate():
            return
        self.switch_button.hide()
        self._set_busy(True, f"Testing the connection to {self.address_edit.text().strip()}...")
        coro = self.providers.test_connection(self.name_edit.text().strip(), self.settings(),
                                              self.password_edit.text())
        self.bridge.run(coro, "Test connection", on_done=self._tested,
                        on_error=lambda m, h, e: self._failed(m, h, e, retry=self.test_connection))

    def _tested(self, result) -> None:
        self._set_busy(False)
        kind = getattr(result, "endpoint_kind", "")
        if kind in (ProviderKind.NUTANIX_PE.value, ProviderKind.NUTANIX_PC.value):
            what = "Prism Central" if kind == ProviderKind.NUTANIX_PC.value else "Prism Element"
            lines = [f"Connected: this address is {what}."]
            if result.version:
                lines.append(f"Version: {result.version}")
            rows = nutanix_host_rows
        else:
            lines = [f"Connected: {result.version}" if result.version else "Connected."]
            rows = facts_rows
        for facts in result.hosts:
            lines.append("")
            lines.append(f"Host {facts.computer_name}")
            lines += [f"  {name}: {value}" for name, value in rows(facts) if value]
        self._show_result("\n".join(lines), error=False)

    def submit(self) -> None:
        self._touched.add("submit")
        if not self.validate():
            return
        self.switch_button.hide()
        self._set_busy(True, f"Connecting to {self.address_edit.text().strip()} and adding it...")
        coro = self.providers.add(self.name_edit.text().strip(), self.settings(), self.password_edit.text())
        self.bridge.run(coro, "Add provider", on_done=self._added,
                        on_error=lambda m, h, e: self._failed(m, h, e, retry=self.submit))

    def _added(self, provider) -> None:
        self._set_busy(False)
        self.added = provider
        self.providerAdded.emit(provider)
        self.accept()

