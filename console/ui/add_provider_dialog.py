"""Add Provider: a standalone Hyper-V host or a Nutanix Prism Element / Prism Central, checked as
you type, tested, then saved.

Validation runs on every keystroke (domain.addresses + providers.validate_new) and shows its
sentence under the field; OK stays disabled while anything is wrong. Test connection and OK run
service coroutines through the bridge; the dialog never awaits (it is opened with open()).
A certificate nobody vouches for opens the certificate dialog (trusting it pins its fingerprint and
runs the same step again); an address of the other Prism kind offers to switch the kind.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from console.domain.addresses import WINRM_HTTP_PORT, WINRM_HTTPS_PORT, parse_winrm_address
from console.domain.errors import ConsoleError, ValidationError
from console.domain.inventory import ConnectionSettings, ProviderKind, WinRMTransport
from console.ui.add_provider_steps import FIELDS as _FIELDS
from console.ui.add_provider_steps import ConnectionSteps
from console.ui.certificate_dialog import CertificateDialog
from console.ui.prism_address import PRISM_PORT, display_endpoint, is_nutanix, prism_url_port


def _message(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setStyleSheet("color: #b3261e;")
    label.setVisible(bool(text))
    return label


class AddProviderDialog(ConnectionSteps, QDialog):
    providerAdded = Signal(object)        # Provider, after it is saved

    def __init__(self, bridge, parent=None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.providers = bridge.services.providers
        self.setObjectName("addProviderDialog")
        self.setAccessibleName("Add provider")
        self.setWindowTitle("Add Provider")
        self.setMinimumWidth(520)
        self.added = None
        self._busy = False
        self._touched: set[str] = set()
        self._port_chosen = False         # the administrator typed a port: HTTPS no longer moves it
        self._name_chosen = False         # the administrator typed a name: the address no longer fills it
        self._programmatic = False
        self.errors: dict[str, str] = {}
        self.pinned_fingerprint = ""      # a certificate trusted in this dialog (pinned on Add)
        self.certificate_dialog: CertificateDialog | None = None
        self._switch_to: ProviderKind | None = None

        self.kind_combo = self._named(QComboBox(self), "kindCombo", "Provider kind")
        for kind in (ProviderKind.HYPERV, ProviderKind.NUTANIX_PE, ProviderKind.NUTANIX_PC):
            self.kind_combo.addItem(kind.label, kind.value)
        self.name_edit = self._named(QLineEdit(self), "nameEdit", "Name")
        self.name_edit.setPlaceholderText("How the console names it, e.g. hv01")
        self.address_edit = self._named(QLineEdit(self), "addressEdit", "Address")
        self.address_edit.setPlaceholderText("Host name, IP address or http(s)://host:port/wsman")
        self.port_spin = self._named(QSpinBox(self), "portSpin", "Port")
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(WINRM_HTTP_PORT)
        self.https_check = self._named(QCheckBox("Use HTTPS", self), "httpsCheck", "Use HTTPS")
        self.auth_combo = self._named(QComboBox(self), "authCombo", "Authentication")
        for transport, label in ((WinRMTransport.NTLM, "NTLM"), (WinRMTransport.KERBEROS, "Kerberos"),
                                 (WinRMTransport.BASIC, "Basic")):
            self.auth_combo.addItem(label, transport.value)   # Qt keeps str, not the enum
        self.user_edit = self._named(QLineEdit(self), "userEdit", "User")
        self.user_edit.setPlaceholderText(r"DOMAIN\user or user@domain")
        self.password_edit = self._named(QLineEdit(self), "passwordEdit", "Password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.insecure_check = self._named(QCheckBox("Allow Basic over HTTP (insecure)", self),
                                          "allowInsecureBasicCheck", "Allow Basic over HTTP (insecure)")
        self.insecure_warning = QLabel(
            "Basic authentication over HTTP sends the password in the clear to anyone on the network "
            "path. Prefer HTTPS; allow this only on a network you trust.", self)
        self.insecure_warning.setObjectName("insecureWarning")
        self.insecure_warning.setWordWrap(True)

        self.messages = {f: _message() for f in _FIELDS + ("form",)}
        for key, label in self.messages.items():
            label.setObjectName(f"{key}Message")

        self.form = form = QFormLayout()
        form.addRow("Kind:", self.kind_combo)
        form.addRow("Name:", self._with_message(self.name_edit, "name"))
        form.addRow("Address:", self._with_message(self.address_edit, "address"))
        form.addRow("Port:", self._with_message(self.port_spin, "port"))
        form.addRow("", self.https_check)
        form.addRow("Authentication:", self.auth_combo)
        form.addRow("User:", self._with_message(self.user_edit, "username"))
        form.addRow("Password:", self._with_message(self.password_edit, "password"))
        self.insecure_box = QWidget(self)
        box_layout = QVBoxLayout(self.insecure_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addWidget(self.insecure_check)
        box_layout.addWidget(self.insecure_warning)
        box_layout.addWidget(self.messages["basic"])
        form.addRow("", self.insecure_box)

        self.test_button = self._named(QPushButton("Test connection", self), "testConnectionButton",
                                       "Test connection")
        self.result_label = QLabel(self)
        self.result_label.setObjectName("testResult")
        self.result_label.setAccessibleName("Connection result")
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.hide()
        self.switch_button = self._named(QPushButton(self), "switchKindButton", "Switch kind")
        self.switch_button.hide()
        self.switch_button.clicked.connect(self.switch_kind)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._named(self.ok_button, "okButton", "Add provider").setText("Add")
        self._named(self.buttons.button(QDialogButtonBox.StandardButton.Cancel), "cancelButton", "Cancel")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(self.test_connection)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.messages["form"])
        layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.result_label)
        layout.addWidget(self.switch_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        for widget, field in ((self.name_edit, "name"), (self.address_edit, "address"),
                              (self.user_edit, "username"), (self.password_edit, "password")):
            widget.textEdited.connect(lambda _t, f=field: self._edited(f))
        self.port_spin.valueChanged.connect(self._port_changed)
        self.https_check.toggled.connect(self._https_toggled)
        self.auth_combo.currentIndexChanged.connect(lambda _i: self.validate())
        self.insecure_check.toggled.connect(lambda _c: self._edited("basic"))
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self._kind_changed()

    # ----- building blocks ------------------------------------------------------------------------
    @staticmethod
    def _named(widget, name: str, accessible: str):
        widget.setObjectName(name)
        widget.setAccessibleName(accessible)
        return widget

    def _with_message(self, widget, field: str) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        layout.addWidget(self.messages[field])
        return box

    # ----- reacting to input ----------------------------------------------------------------------
    def kind(self) -> ProviderKind:
        return ProviderKind(self.kind_combo.currentData())

    def set_kind(self, kind: ProviderKind) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind.value))

    def _kind_changed(self) -> None:
        """Prism is always HTTPS with Basic authentication on 9440: no scheme or auth choice."""
        nutanix = is_nutanix(self.kind())
        self.form.setRowVisible(self.https_check, not nutanix)
        self.form.setRowVisible(self.auth_combo, not nutanix)
        if nutanix:
            self.address_edit.setPlaceholderText("Prism name, IP address or https://host:9440")
            self.user_edit.setPlaceholderText("admin, or user@corp.example.com")
        else:
            self.address_edit.setPlaceholderText("Host name, IP address or http(s)://host:port/wsman")
            self.user_edit.setPlaceholderText(r"DOMAIN\user or user@domain")
        if not self._port_chosen:
            self._programmatic = True
            self.port_spin.setValue(self._default_port())
            self._programmatic = False
        self.switch_button.hide()
        self.validate()

    def _default_port(self) -> int:
        if is_nutanix(self.kind()):
            return PRISM_PORT
        return WINRM_HTTPS_PORT if self.https_check.isChecked() else WINRM_HTTP_PORT

    def _edited(self, field: str) -> None:
        self._touched.add(field)
        if field == "address":
            self.pinned_fingerprint = ""      # trusted for the address it was shown for only
        if field == "name":
            self._name_chosen = bool(self.name_edit.text())
        if field == "address" and not self._name_chosen:
            self._fill_name()
        self.validate()

    def _fill_name(self) -> None:
        try:
            host = parse_winrm_address(self.address_edit.text()).host
        except ValidationError:
            host = self.address_edit.text().strip()
        if is_nutanix(self.kind()):
            host = display_endpoint(self.address_edit.text(), 0).rsplit(":", 1)[0].strip("[]")
        self.name_edit.setText(host.split(".")[0] if host and not host[0].isdigit() else host)

    def _port_changed(self, _value: int) -> None:
        if not self._programmatic:
            self._port_chosen = True
            self._touched.add("port")
        self.validate()

    def _https_toggled(self, on: bool) -> None:
        if not self._port_chosen:
            self._programmatic = True
            self.port_spin.setValue(WINRM_HTTPS_PORT if on else WINRM_HTTP_PORT)
            self._programmatic = False
        self.validate()

    def settings(self) -> ConnectionSettings:
        if is_nutanix(self.kind()):
            return ConnectionSettings(kind=self.kind(), address=self.address_edit.text().strip(),
                                      port=self.port_spin.value(), use_https=True,
                                      transport=WinRMTransport.BASIC,
                                      username=self.user_edit.text().strip(),
                                      pinned_fingerprint=self.pinned_fingerprint)
        return ConnectionSettings(
            kind=ProviderKind(self.kind_combo.currentData()),
            address=self.address_edit.text().strip(),
            port=self.port_spin.value(),
            use_https=self.https_check.isChecked(),
            transport=WinRMTransport(self.auth_combo.currentData()),
            username=self.user_edit.text().strip(),
            allow_insecure_basic=self.insecure_check.isChecked() and self.insecure_box.isVisibleTo(self),
        )

    def validate(self) -> bool:
        """Check everything; show sentences under touched fields; enable OK only when all is well."""
        errors: dict[str, str] = {}
        if is_nutanix(self.kind()):
            self._validate_prism_fields()
            return self._validate_common(errors, needs_opt_in=False)
        text = self.address_edit.text().strip()
        is_url = "://" in text
        self.port_spin.setEnabled(not is_url)
        self.https_check.setEnabled(not is_url)
        if not is_url and not self._port_chosen and self.port_spin.value() not in (WINRM_HTTP_PORT,
                                                                                  WINRM_HTTPS_PORT):
            self.port_spin.blockSignals(True)     # a URL set it; the URL is gone
            self.port_spin.setValue(WINRM_HTTPS_PORT if self.https_check.isChecked() else WINRM_HTTP_PORT)
            self.port_spin.blockSignals(False)
        endpoint = None
        try:
            endpoint = parse_winrm_address(text, self.port_spin.value(), self.https_check.isChecked())
        except ValidationError as exc:
            # the spin box cannot leave 1..65535: a bad port here was typed in the address
            errors["address"] = f"{exc.message} {exc.hint}".strip()
        basic = WinRMTransport(self.auth_combo.currentData()) is WinRMTransport.BASIC
        needs_opt_in = bool(basic and endpoint is not None and endpoint.scheme == "http"
                            and not endpoint.is_loopback)
        self.insecure_box.setVisible(needs_opt_in)
        self.insecure_warning.setVisible(self.insecure_check.isChecked())
        if needs_opt_in and not self.insecure_check.isChecked():
            # said here too: the service reports only its first complaint (often an empty field)
            errors["basic"] = (f"Basic authentication over plain HTTP would send the password to "
                               f"{endpoint.host} readable by anyone on the network. Use HTTPS, or NTLM "
                               "or Kerberos, or explicitly allow Basic over HTTP for this provider.")
        if is_url and endpoint is not None:
            # show the scheme and port the URL decides (the fields are disabled meanwhile)
            for widget, setter, value in ((self.port_spin, self.port_spin.setValue, endpoint.port),
                                          (self.https_check, self.https_check.setChecked,
                                           endpoint.scheme == "https")):
                widget.blockSignals(True)
                setter(value)
                widget.blockSignals(False)
        return self._validate_common(errors, needs_opt_in)

    def _validate_prism_fields(self) -> None:
        """A URL decides the port (shown, disabled); without one the port field is used."""
        text = self.address_edit.text().strip()
        is_url = "://" in text
        self.port_spin.setEnabled(not is_url)
        self.insecure_box.setVisible(False)
        url_port = prism_url_port(text) if is_url else None
        wanted = url_port if url_port is not None else (None if self._port_chosen else PRISM_PORT)
        if wanted is not None and self.port_spin.value() != wanted:
            self.port_spin.blockSignals(True)
            self.port_spin.setValue(wanted)
            self.port_spin.blockSignals(False)

    def _validate_common(self, errors: dict[str, str], needs_opt_in: bool) -> bool:
        try:
            self.providers.validate_new(self.name_edit.text().strip(), self.settings())
        except ValidationError as exc:
            field = exc.field if exc.field in _FIELDS else "form"
            if field in ("allow_insecure_basic", "transport") or (needs_opt_in and field == "form"):
                field = "basic"
            errors.setdefault(field, f"{exc.message} {exc.hint}".strip())
        except ConsoleError as exc:
            errors["form"] = f"{exc.message} {exc.hint}".strip()
        if not self.user_edit.text().strip():
            errors.setdefault("username", "Enter the user name the console signs in with.")
        if not self.password_edit.text():
            errors.setdefault("password", "Enter the password.")
        self.errors = errors
        for field, label in self.messages.items():
            shown = errors.get(field, "") if (field in self._touched or field in ("form", "basic")
                                              or "submit" in self._touched) else ""
            label.setText(shown)
            label.setVisible(bool(shown))
        self._fit_height()
        self.ok_button.setEnabled(not errors and not self._busy)
        self.test_button.setEnabled(not errors and not self._busy)
        return not errors

    def _fit_height(self) -> None:
        """Grow (never shrink) so wrapped messages and results are not clipped."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        wanted = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else -1
        wanted = max(wanted, layout.totalSizeHint().height())
        if wanted > self.height():
            self.resize(self.width(), wanted)
