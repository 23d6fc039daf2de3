"""The pool editor: New Pool / Edit Pool, a dialog with six tabs over one PoolEditorState.

Every edit is checked at once (the state's rules, then the services' validate for what only they
know: a template in maintenance, names in the farm, the method on that provider); Save stays
disabled while anything is wrong and the line above it ("saveReason") says what and on which tab.
Changing the template, version or targets reads the method reasons, estimates, targets and names in
use again. Save calls pools.create / pools.edit exactly once. Opened with open(), never exec().
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QTabWidget,
    QVBoxLayout,
)

from console.domain.templates import ProvisioningMethod
from console.ui.pool_bridge import PoolBridge
from console.ui.pool_editor.general_tab import GeneralTab
from console.ui.pool_editor.naming_tab import NamingTab
from console.ui.pool_editor.preparation_tab import PreparationTab
from console.ui.pool_editor.provisioning_tab import ProvisioningTab
from console.ui.pool_editor.scale_tab import ScaleTab
from console.ui.pool_editor.state import FIELD_TABS, TABS, PoolEditorState
from console.ui.pool_editor.targets_tab import TargetsTab
from console.ui.template_wizard.common import ERROR_COLOUR, WARN_COLOUR, named

TAB_TITLES = {"general": "&General", "provisioning": "&Provisioning", "naming": "&Naming",
              "scale": "&Scale", "preparation": "&Active Directory and preparation", "targets": "&Targets"}


class PoolEditor(QDialog):
    #: the pool's id, after Save
    poolSaved = Signal(int)
    #: the provisioning task a new pool's Save started
    taskStarted = Signal(object)

    def __init__(self, services_bridge, parent=None, pool_id: int | None = None,
                 template_id: int | None = None) -> None:
        super().__init__(parent)
        named(self, "poolEditor", "Pool editor")
        self.services_bridge = services_bridge
        self.bridge = PoolBridge(services_bridge, self)
        self.state = PoolEditorState()
        self.pool_id: int | None = None          # after Save
        self.task = None
        self._saving = False
        self._closed = False
        self._problems: dict[str, dict[str, str]] = {}
        if pool_id is not None:
            pool = self.bridge.pool(pool_id)
            self.state.load_pool(pool, self.bridge.template(pool.template_id))
            self.state.stored_password = self.bridge.stored_password(pool_id)
            self.state.clone_count = self.bridge.clone_count(pool_id)
            self.setWindowTitle(f"Edit Pool '{pool.name}'")
        else:
            if template_id is not None:
                self.state.set_template(self.bridge.template(template_id))
            self.setWindowTitle("New Pool")

        self.tabs_widget = named(QTabWidget(self), "poolEditorTabs", "Pool settings")
        self.general = GeneralTab(self.state, self.bridge, self)
        self.provisioning = ProvisioningTab(self.state, self.bridge, self)
        self.naming = NamingTab(self.state, self.bridge, self)
        self.scale = ScaleTab(self.state, self.bridge, self)
        self.preparation = PreparationTab(self.state, self.bridge, self)
        self.targets = TargetsTab(self.state, self.bridge, self)
        self.tabs = {"general": self.general, "provisioning": self.provisioning, "naming": self.naming,
                     "scale": self.scale, "preparation": self.preparation, "targets": self.targets}
        for key, tab in self.tabs.items():
            self.tabs_widget.addTab(tab, TAB_TITLES[key])
            tab.changed.connect(self.revalidate)
        self.provisioning.contextChanged.connect(self.template_changed)
        self.targets.contextChanged.connect(self.targets_changed)

        self.save_reason = named(QLabel(self), "saveReason", "Why Save is disabled")
        self.save_reason.setWordWrap(True)
        self.save_reason.setTextFormat(Qt.TextFormat.PlainText)
        self.save_reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = named(QPushButton("&Save", self), "saveButton", "Save")
        self.save_button.setDefault(True)
        self.cancel_button = named(QPushButton("Cancel", self), "cancelButton", "Cancel")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs_widget, 1)
        layout.addWidget(self.save_reason)        # its own row: a long reason wraps, never clipped
        layout.addLayout(buttons)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        self.finished.connect(lambda _r: self._close())
        services_bridge.templateChanged.connect(self._template_updated)
        self.resize(760, 640)
        self.template_changed()

    # ----- context: template, version, targets --------------------------------------------------
    def template_changed(self) -> None:
        """The template, version or tag changed: its method reasons, targets, estimates, names."""
        state = self.state
        template = state.template
        if template is not None:
            state.method_reasons = self.bridge.method_reasons(template.id)
            state.set_targets(self.bridge.target_choices(template, state.resolved_version))
            if not state.editing and state.method_reasons.get(state.method):
                possible = [m for m in (ProvisioningMethod.LINKED, ProvisioningMethod.FULL,
                                        ProvisioningMethod.QUICK) if not state.method_reasons.get(m)]
                if possible:
                    state.method = possible[0]
        else:
            state.method_reasons, state.targets = {}, []
        self._read_targets_context()
        for tab in self.tabs.values():
            tab.reload()
        self.revalidate()

    def targets_changed(self) -> None:
        self._read_targets_context()
        self.provisioning.reload()
        self.revalidate()

    def _read_targets_context(self) -> None:
        state = self.state
        chosen = [t.provider_id for t in state.chosen_targets]
        if state.template is not None:
            state.estimates = self.bridge.estimates(state.template.id, state.resolved_version,
                                                    chosen[0] if chosen else None)
        else:
            state.estimates = {}
        state.existing_names = self.bridge.existing_names(chosen, state.pool_id)

    def _template_updated(self, template) -> None:
        """A newer copy of the chosen template (a version added or tagged, a target ready)."""
        if self.state.template is not None and template.id == self.state.template.id and not self._saving:
            self.state.template = template
            self.template_changed()

    # ----- verdicts -----------------------------------------------------------------------------
    def revalidate(self) -> None:
        state = self.state
        problems = state.problems(lambda name: self.bridge.name_taken(name, state.pool_id))
        reason = state.first_problem(problems)
        if not reason:
            field, text = self.bridge.validate(state.pool(), state.pool_id)
            if text:
                tab = FIELD_TABS.get(field)
                if tab is not None:
                    problems[tab][field] = text
                    reason = state.first_problem(problems)
                else:
                    reason = text
        self._problems = problems
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for index, (key, _label) in enumerate(TABS):
            self.tabs[key].show_problems(problems[key])
            self.tabs_widget.setTabIcon(index, warning if problems[key] else QIcon())
        self.provisioning.update_version_note()
        if reason:
            quiet = not self.general.touched and not state.name and not state.editing
            self.save_reason.setText(reason)
            self.save_reason.setStyleSheet(f"color: {WARN_COLOUR if quiet else ERROR_COLOUR};")
        else:
            self.save_reason.setText(self._ready_text())
            self.save_reason.setStyleSheet("color: #5f5f5f;")
        self.save_button.setEnabled(not reason and not self._saving)

    def _ready_text(self) -> str:
        state = self.state
        if state.editing:
            return "Save changes the pool; the buffer and maximum apply from now on."
        count = int(state.initial_count)
        where = ", ".join(t.name for t in state.chosen_targets)
        if not count:
            return f"Save creates the pool; clones are made on {where} as the buffer needs them."
        return f"Save creates the pool and makes {count} {state.method.value} clone(s) on {where} now."

    @property
    def problems(self) -> dict[str, dict[str, str]]:
        return self._problems

    def show_tab(self, key: str) -> None:
        self.tabs_widget.setCurrentWidget(self.tabs[key])

    # ----- Save ---------------------------------------------------------------------------------
    def save(self) -> None:
        self.revalidate()
        if not self.save_button.isEnabled() or self._saving:
            return
        self._saving = True
        self.save_button.setEnabled(False)
        password = self.state.join_password if self.state.override_preparation else ""
        self.bridge.save(self.state.pool(), password, self._saved, self._refused)

    def _saved(self, pool, task) -> None:
        self._saving = False
        self.pool_id, self.task = pool.id, task
        self.poolSaved.emit(pool.id)
        if task is not None:
            self.taskStarted.emit(task)
        self.accept()

    def _refused(self, message: str, hint: str, exc: BaseException) -> None:
        self._saving = False
        self.revalidate()
        field = getattr(exc, "field", "")
        tab = FIELD_TABS.get(field)
        where = f"{dict(TABS)[tab]}: " if tab else ""
        self.save_reason.setText(f"{where}{message} {hint}".strip())
        self.save_reason.setStyleSheet(f"color: {ERROR_COLOUR};")
        if tab:
            self.show_tab(tab)

    def _close(self) -> None:
        self.bridge.close()
        if not self._closed:
            self._closed = True
            self.services_bridge.templateChanged.disconnect(self._template_updated)


def open_pool_editor(parent, bridge, pool_id: int | None = None, template_id: int | None = None) -> PoolEditor:
    """Open the editor (window-modal, open(): never exec()); a new pool, or pool_id's."""
    editor = PoolEditor(bridge, parent, pool_id=pool_id, template_id=template_id)
    editor.finished.connect(lambda _r: editor.deleteLater())
    editor.open()
    return editor
