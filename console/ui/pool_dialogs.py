"""The pool dialogs: Update (or Roll back) the clones of one or more pools, and Scale a pool.

Each is opened with open() and answers through a signal; the services check every answer again.
The update dialog gives the keyword arguments of ``pools.update`` / ``pools.rollback`` (version or
tag, batch size, stop on error, when, logoff policy and grace), so the caller passes them on as they are.
"""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from console.domain.errors import ValidationError
from console.domain.pool_rules import check_scale
from console.domain.templates import Pool, Template
from console.ui.template_dialogs import _buttons
from console.ui.vm_dialogs import _message_label, _plain


def _named(widget, name: str, accessible: str):
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


def _spin(parent, name: str, accessible: str, low: int, high: int, value: int, suffix: str = "") -> QSpinBox:
    spin = _named(QSpinBox(parent), name, accessible)
    spin.setRange(low, high)
    spin.setValue(value)
    if suffix:
        spin.setSuffix(suffix)
    return spin


def _radio(text: str, name: str, accessible: str, parent, group: QButtonGroup) -> QRadioButton:
    radio = _named(QRadioButton(text, parent), name, accessible)
    group.addButton(radio)
    return radio


class PoolUpdateDialog(QDialog):
    """Which version, batch size, stop on first error, now or at a time, logoff policy.

    ``rollback_to``: the rollback flow (the version is the previous one in the history, not chosen).
    """

    #: the keyword arguments for pools.update / pools.rollback
    updateChosen = Signal(dict)

    def __init__(self, pools: list[Pool], template: Template | None, version: int | None = None,
                 clone_count: int = 0, rollback_to: int | None = None, parent=None) -> None:
        super().__init__(parent)
        self.pools, self.template, self.rollback_to = list(pools), template, rollback_to
        rolling_back = rollback_to is not None
        title = "Roll back pool" if rolling_back else ("Update pools" if len(pools) > 1 else "Update pool")
        _named(self, "poolUpdateDialog", title)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        names = ", ".join(f"'{p.name}' (v{p.version})" for p in pools)
        count = f"{clone_count} clone{'s' if clone_count != 1 else ''}" if clone_count else "their clones"
        if rolling_back:
            intro = (f"Recreate the clones of {names} from v{rollback_to}, the version before the current "
                     f"one in the pool's history. {count.capitalize()} are deleted and made again with the "
                     "same names, batch by batch.")
        else:
            intro = (f"Recreate the clones of {'the pools ' if len(pools) > 1 else ''}{names} from another "
                     f"version. {count.capitalize()} are deleted and made again with the same names, a batch at "
                     "a time; the clones outside the running batch stay available meanwhile.")
        layout = QVBoxLayout(self)
        layout.addWidget(_plain(intro, self))

        versions = sorted(template.versions, key=lambda v: -v.number) if template is not None else []
        self.version_group = QButtonGroup(self)
        self.version_radio = _radio("Version:", "versionRadio", "Update to a version", self, self.version_group)
        self.version_combo = _named(QComboBox(self), "updateVersion", "Version")
        for v in versions:
            self.version_combo.addItem(f"v{v.number}" + (f"  [{v.tag}]" if v.tag else "")
                                       + (f"  {v.notes}" if v.notes else ""), v.number)
        self.tag_radio = _radio("The version tagged:", "tagRadio", "Update to a tag's version", self,
                                self.version_group)
        self.tag_combo = _named(QComboBox(self), "updateTag", "Tag")
        for v in versions:
            if v.tag:
                self.tag_combo.addItem(f"{v.tag} (now v{v.number})", v.tag)
        follow = pools[0].follow_tag if len(pools) == 1 else ""
        wanted = version if version is not None else (versions[0].number if versions else None)
        if follow and self.tag_combo.findData(follow) >= 0 and version is None:
            self.tag_radio.setChecked(True)
            self.tag_combo.setCurrentIndex(self.tag_combo.findData(follow))
        else:
            self.version_radio.setChecked(True)
        if wanted is not None and self.version_combo.findData(wanted) >= 0:
            self.version_combo.setCurrentIndex(self.version_combo.findData(wanted))
        self.tag_radio.setEnabled(self.tag_combo.count() > 0)
        box = QGroupBox("Version", self)
        grid = QGridLayout(box)
        grid.addWidget(self.version_radio, 0, 0)
        grid.addWidget(self.version_combo, 0, 1)
        grid.addWidget(self.tag_radio, 1, 0)
        grid.addWidget(self.tag_combo, 1, 1)
        grid.setColumnStretch(1, 1)
        box.setVisible(not rolling_back)
        layout.addWidget(box)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.batch_size = _spin(self, "batchSize", "Batch size", 1, 500, 1, " clone(s) at a time")
        self.stop_on_error = _named(QCheckBox("Stop on the first error (the remaining clones keep the old "
                                              "version)", self), "stopOnError", "Stop on the first error")
        form.addRow("Batch size:", self.batch_size)
        form.addRow("", self.stop_on_error)
        layout.addLayout(form)

        when = QGroupBox("When", self)
        self.when_group = QButtonGroup(self)
        self.start_now = _radio("Start now", "startNow", "Start now", when, self.when_group)
        self.start_at = _radio("Start at:", "startAt", "Start at a time", when, self.when_group)
        self.at_time = _named(QDateTimeEdit(QDateTime.currentDateTime().addSecs(3600), when), "startAtTime",
                              "Start time")
        self.at_time.setCalendarPopup(True)
        self.at_time.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.start_now.setChecked(True)
        row = QHBoxLayout(when)
        row.addWidget(self.start_now)
        row.addWidget(self.start_at)
        row.addWidget(self.at_time, 1)
        layout.addWidget(when)

        logoff = QGroupBox("Users logged on to a clone", self)
        self.logoff_group = QButtonGroup(self)
        self.logoff_force = _radio("Log them off at once", "logoffForce", "Log users off at once", logoff,
                                   self.logoff_group)
        self.logoff_wait = _radio("Wait for them to log off, at most:", "logoffWait",
                                  "Wait for users to log off", logoff, self.logoff_group)
        self.grace = _spin(logoff, "graceMinutes", "Grace minutes", 1, 24 * 60, 30, " minutes")
        self.logoff_wait.setChecked(True)
        grid = QGridLayout(logoff)
        grid.addWidget(self.logoff_force, 0, 0, 1, 2)
        grid.addWidget(self.logoff_wait, 1, 0)
        grid.addWidget(self.grace, 1, 1)
        grid.setColumnStretch(2, 1)
        grid.addWidget(_plain("After the grace time they are logged off.", logoff), 2, 0, 1, 2)
        layout.addWidget(logoff)

        self.message = _message_label(self, "updateMessage")
        layout.addWidget(self.message)
        self.buttons, self.ok_button = _buttons(self, "Roll back" if rolling_back else "Start update",
                                                "startUpdateButton")
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._chosen)
        for signal in (self.version_group.buttonToggled, self.when_group.buttonToggled,
                       self.logoff_group.buttonToggled):
            signal.connect(lambda *_: self.validate())
        self.version_combo.currentIndexChanged.connect(lambda _i: self.validate())
        self.tag_combo.currentIndexChanged.connect(lambda _i: self.validate())
        self.at_time.dateTimeChanged.connect(lambda _t: self.validate())
        self.validate()

    def options(self) -> dict:
        """The keyword arguments of pools.update (rollback: without version and tag)."""
        at = None
        if self.start_at.isChecked():
            at = datetime.fromtimestamp(self.at_time.dateTime().toSecsSinceEpoch(), tz=UTC)
        out = {"batch_size": self.batch_size.value(), "stop_on_error": self.stop_on_error.isChecked(),
               "at": at, "logoff": "wait" if self.logoff_wait.isChecked() else "force",
               "grace_minutes": self.grace.value()}
        if self.rollback_to is None:
            if self.tag_radio.isChecked():
                out["tag"] = self.tag_combo.currentData()
            else:
                out["version"] = self.version_combo.currentData()
        return out

    def problem(self) -> tuple[str, bool]:
        """(sentence, blocking): what is wrong or worth knowing about the answers."""
        if self.start_at.isChecked() and self.at_time.dateTime() <= QDateTime.currentDateTime():
            return "The start time is in the past: choose a later time, or start now.", True
        if self.rollback_to is not None:
            return "", False
        if self.tag_radio.isChecked() and self.tag_combo.currentData() is None:
            return "No version of the template has a tag.", True
        version = self.version_combo.currentData()
        if self.version_radio.isChecked() and version is None:
            return "The template has no version to update to.", True
        number = version if self.version_radio.isChecked() else self._tag_version()
        if all(p.version == number for p in self.pools):
            who = "The pools are" if len(self.pools) > 1 else "The pool is"
            return f"{who} already at v{number}: only clones of another version, and failed ones, are made again.", False
        return "", False

    def _tag_version(self) -> int | None:
        tag = self.tag_combo.currentData()
        v = next((v for v in (self.template.versions if self.template else []) if v.tag == tag), None)
        return v.number if v is not None else None

    def validate(self) -> bool:
        self.version_combo.setEnabled(self.version_radio.isChecked())
        self.tag_combo.setEnabled(self.tag_radio.isChecked())
        self.at_time.setEnabled(self.start_at.isChecked())
        self.grace.setEnabled(self.logoff_wait.isChecked())
        text, blocking = self.problem()
        self.message.setText(text)
        self.message.setStyleSheet("color: #b3261e;" if blocking else "")
        self.message.setVisible(bool(text))
        self.ok_button.setEnabled(not blocking)
        return not blocking

    def _chosen(self) -> None:
        if self.validate():
            self.updateChosen.emit(self.options())
            self.accept()


class ScaleDialog(QDialog):
    """The maximum and the buffer kept available (the keeper makes or deletes clones to match)."""

    scaleChosen = Signal(int, int)       # maximum, keep available

    def __init__(self, pool: Pool, clone_count: int = 0, parent=None) -> None:
        super().__init__(parent)
        self.pool = pool
        _named(self, "poolScaleDialog", "Scale pool")
        self.setWindowTitle("Scale pool")
        self.setMinimumWidth(440)
        self.maximum = _spin(self, "scaleMaximum", "Maximum", 1, 5000, pool.maximum, " clones")
        self.keep_available = _spin(self, "scaleKeepAvailable", "Keep available", 0, 5000, pool.keep_available,
                                    " clones")
        layout = QVBoxLayout(self)
        layout.addWidget(_plain(f"The pool '{pool.name}' has {clone_count} clone{'s' if clone_count != 1 else ''}."
                                " It keeps this many unassigned clones ready for users, and never makes more "
                                "than the maximum.", self))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Keep available:", self.keep_available)
        form.addRow("Maximum:", self.maximum)
        layout.addLayout(form)
        self.note = _plain("", self)
        self.note.setObjectName("scaleNote")
        self.message = _message_label(self, "scaleMessage")
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        self.buttons, self.ok_button = _buttons(self, "Scale", "scaleOkButton")
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._chosen)
        self.clone_count = clone_count
        self.maximum.valueChanged.connect(lambda _v: self.validate())
        self.keep_available.valueChanged.connect(lambda _v: self.validate())
        self.validate()

    def validate(self) -> bool:
        p = self.pool
        try:
            check_scale(min(p.initial_count, self.maximum.value()), self.keep_available.value(),
                        self.maximum.value(), p.delete_unused_after_minutes, p.per_host_cap,
                        len(p.target_provider_ids))
            problem = ""
        except ValidationError as exc:
            problem = " ".join(filter(None, [exc.message, exc.hint]))
        self.message.setText(problem)
        self.message.setVisible(bool(problem))
        extra = self.clone_count - self.maximum.value()
        self.note.setText(f"The pool has {extra} clone{'s' if extra != 1 else ''} more than the new maximum: no new "
                          "clone is made until it is below it." if extra > 0 else "")
        self.note.setVisible(extra > 0)
        self.ok_button.setEnabled(not problem)
        return not problem

    def _chosen(self) -> None:
        if self.validate():
            self.scaleChosen.emit(self.maximum.value(), self.keep_available.value())
            self.accept()
