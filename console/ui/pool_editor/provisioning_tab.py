"""Provisioning: the template and its version (or a tag to follow), and the method — full, linked or
quick — each with one line on what it means and its estimate (time to usable, time to independent,
disk per clone) for the chosen version on the first chosen target. A method the provider cannot do
is disabled with the reason. An existing pool keeps its template; its version may change (that is an
update: Update… moves the clones)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
)

from console.domain.templates import STANDARD_TAGS, ProvisioningMethod
from console.ui.pool_editor.common import (
    NOTE_STYLE,
    EditorTab,
    named,
    note_label,
    stacked,
)
from console.ui.template_wizard.common import ERROR_COLOUR

TITLES = {ProvisioningMethod.FULL: "&Full clone", ProvisioningMethod.LINKED: "&Linked clone",
          ProvisioningMethod.QUICK: "&Quick clone"}
OBJECT_NAMES = {ProvisioningMethod.FULL: "methodFull", ProvisioningMethod.LINKED: "methodLinked",
                ProvisioningMethod.QUICK: "methodQuick"}
MEANINGS = {
    ProvisioningMethod.FULL: "An independent copy of the image: slow to create, no dependency on the template.",
    ProvisioningMethod.LINKED: "A differencing disk on the target's local copy of the version: instant, "
                               "depends on the version.",
    ProvisioningMethod.QUICK: "A differencing disk and a checkpoint, started at once (usable in seconds); "
                              "the base is copied and merged in the background (independent minutes later).",
}
NUTANIX_LINKED = "A clone of the version's snapshot: instant, depends on the version."
#: disk per clone a linked clone is given in the estimate (growth, not a copy)
LINKED_NOTE = " (growth with use)"


def duration(seconds: float) -> str:
    if seconds < 9.95:          # a fast (lab) host: tenths still tell the methods apart
        return f"~{max(0.1, round(seconds, 1)):g} s"
    if seconds < 90:
        return f"~{round(seconds)} s"
    if seconds < 90 * 60:
        return f"~{round(seconds / 60)} min"
    return f"~{seconds / 3600:.1f} h"


def size(num_bytes: float) -> str:
    if num_bytes >= 1e9:
        return f"~{num_bytes / 1e9:.1f} GB"
    return f"~{max(1, round(num_bytes / 1e6))} MB"


def estimate_text(method: ProvisioningMethod, estimate, version: int | None) -> str:
    if estimate is None:
        return "Estimate: choose a version and a target."
    independent = ("independent at once" if estimate.independent_seconds is not None
                   and estimate.independent_seconds <= estimate.usable_seconds
                   else f"independent in {duration(estimate.independent_seconds)}"
                   if estimate.independent_seconds is not None
                   else f"never independent (depends on v{version})" if version else "never independent")
    disk = size(estimate.disk_bytes_per_clone) + (LINKED_NOTE if method is ProvisioningMethod.LINKED else "")
    return f"Usable in {duration(estimate.usable_seconds)} · {independent} · disk per clone {disk}"


class ProvisioningTab(EditorTab):
    #: the template, its version or the tag changed: reasons, estimates and targets must be read again
    contextChanged = Signal()

    def __init__(self, state, bridge, parent=None) -> None:
        super().__init__(state, bridge, "provisioningTab", "Provisioning", parent)
        self._filling = False
        self.template_combo = named(QComboBox(self), "poolTemplate", "Template")
        self.version_combo = named(QComboBox(self), "poolVersion", "Version")
        self.tag_combo = named(QComboBox(self), "followTag", "Follow a tag",
                               "Make clones from the version carrying this tag")
        self.template_note = note_label("", "poolTemplateNote", self)
        self.version_note = note_label("", "versionNote", self)
        self.fields = {"template": self.template_combo, "version": self.version_combo,
                       "follow_tag": self.tag_combo}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(QLabel("&Template:", self, buddy=self.template_combo),
                    stacked(self, self.template_combo, self.template_note,
                            self.field_message("template", "poolTemplateMessage", "Template message")))
        form.addRow(QLabel("&Version:", self, buddy=self.version_combo),
                    stacked(self, self.version_combo,
                            self.field_message("version", "poolVersionMessage", "Version message")))
        form.addRow(QLabel("Follow ta&g:", self, buddy=self.tag_combo),
                    stacked(self, self.tag_combo, self.version_note,
                            self.field_message("follow_tag", "followTagMessage", "Follow tag message")))

        box = QGroupBox("Method", self)
        self.method_group = QButtonGroup(self)
        self.radios: dict[ProvisioningMethod, QRadioButton] = {}
        self.meanings: dict[ProvisioningMethod, QLabel] = {}
        self.estimates: dict[ProvisioningMethod, QLabel] = {}
        box_layout = QVBoxLayout(box)
        for method in ProvisioningMethod:
            name = OBJECT_NAMES[method]
            radio = named(QRadioButton(TITLES[method], box), name, TITLES[method].replace("&", ""))
            meaning = note_label(MEANINGS[method], f"{name}Meaning", box)
            meaning.setStyleSheet("")
            estimate = note_label("", f"{name}Estimate", box)
            estimate.setAccessibleName(f"{TITLES[method].replace('&', '')} estimate")
            for label in (meaning, estimate):
                label.setContentsMargins(24, 0, 0, 0)
            self.method_group.addButton(radio)
            self.radios[method], self.meanings[method], self.estimates[method] = radio, meaning, estimate
            box_layout.addWidget(radio)
            box_layout.addWidget(meaning)
            box_layout.addWidget(estimate)
            box_layout.addSpacing(6)
        box_layout.addWidget(self.field_message("method", "methodMessage", "Method message"))

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(box)
        layout.addStretch(1)

        self.template_combo.currentIndexChanged.connect(self._template_chosen)
        self.version_combo.currentIndexChanged.connect(self._version_chosen)
        self.tag_combo.currentIndexChanged.connect(self._tag_chosen)
        self.method_group.buttonToggled.connect(self._method_toggled)

    # ----- filling ------------------------------------------------------------------------------
    def reload(self) -> None:
        self._filling = True
        try:
            self._fill_templates()
            self._fill_versions()
            self._fill_tags()
            self._fill_methods()
        finally:
            self._filling = False

    def _fill_templates(self) -> None:
        state = self.state
        self.template_combo.clear()
        if state.editing:
            templates = [state.template] if state.template is not None else []
        else:
            templates = self.bridge.templates()
            self.template_combo.addItem("Choose a template…", None)
        for template in templates:
            where = "" if template.can_give_clones() else f" ({template.state.value})"
            self.template_combo.addItem(f"{template.name}{where}", template.id)
        current = state.template.id if state.template is not None else None
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(current)))
        self.template_combo.setEnabled(not state.editing)
        if state.editing:
            self.template_note.setText("A pool's template cannot change: create another pool for another "
                                       "template.")
        elif state.template is not None:
            where = self.bridge.provider_name(state.template.provider_id)
            kind = ("clones are made on its distribution targets" if state.template.distribution_enabled
                    else "clones are made there")
            self.template_note.setText(f"From VM '{state.template.source_vm_name or state.template.source_vm_id}' "
                                       f"on {where}; {kind}.")
        else:
            self.template_note.setText("")
        self.template_note.setVisible(bool(self.template_note.text()))

    def _fill_versions(self) -> None:
        state = self.state
        self.version_combo.clear()
        template = state.template
        for version in sorted(template.versions if template else [], key=lambda v: -v.number):
            tag = f" — {version.tag}" if version.tag else ""
            sized = f" · {size(version.size_bytes)}" if version.size_bytes else ""
            self.version_combo.addItem(f"v{version.number}{tag}{sized}", version.number)
        shown = state.resolved_version if state.follow_tag else state.version
        self.version_combo.setCurrentIndex(self.version_combo.findData(shown))
        self.version_combo.setEnabled(template is not None and not state.follow_tag)

    def _fill_tags(self) -> None:
        state = self.state
        self.tag_combo.clear()
        self.tag_combo.addItem("No: a fixed version", "")
        tags: dict[str, int | None] = {}
        for version in state.template.versions if state.template else []:
            if version.tag:
                tags[version.tag] = version.number
        for tag in STANDARD_TAGS:
            tags.setdefault(tag, None)
        if state.follow_tag and state.follow_tag not in tags:
            tags[state.follow_tag] = None
        for tag, number in tags.items():
            self.tag_combo.addItem(f"{tag} (now v{number})" if number else f"{tag} (no version has it)", tag)
        self.tag_combo.setCurrentIndex(max(0, self.tag_combo.findData(state.follow_tag)))
        self.tag_combo.setEnabled(state.template is not None)
        self.update_version_note()

    def update_version_note(self) -> None:
        state = self.state
        text = ""
        if state.follow_tag and state.resolved_version is not None:
            text = (f"Clones are made from the version tagged '{state.follow_tag}' "
                    f"(now v{state.resolved_version}).")
            if state.original is not None and state.resolved_version != state.original.version:
                text += f" The pool is at v{state.original.version}: use Update… to move the clones."
        elif state.editing and not state.version_changed:
            text = "Another version is an update of the clones: choose it with Update…, not here."
        self.version_note.setText(text)
        self.version_note.setVisible(bool(text))

    def _fill_methods(self) -> None:
        state = self.state
        nutanix = self.bridge.is_nutanix(state.template)
        self.meanings[ProvisioningMethod.LINKED].setText(NUTANIX_LINKED if nutanix
                                                         else MEANINGS[ProvisioningMethod.LINKED])
        for method, radio in self.radios.items():
            reason = state.method_reasons.get(method, "") if state.template is not None else ""
            radio.setEnabled(state.template is not None and not reason)
            radio.setToolTip(reason)
            radio.setChecked(method is state.method)
            label = self.estimates[method]
            if reason:
                label.setText(f"Not possible: {reason}")
                label.setStyleSheet(f"color: {ERROR_COLOUR};" if method is state.method else NOTE_STYLE)
            else:
                label.setText(estimate_text(method, state.estimates.get(method), state.resolved_version))
                label.setStyleSheet(NOTE_STYLE)

    # ----- edits --------------------------------------------------------------------------------
    def _template_chosen(self, _index: int) -> None:
        if self._filling:
            return
        template_id = self.template_combo.currentData()
        template = self.bridge.template(template_id) if template_id is not None else None
        if self.state.set_template(template) or template is None:
            self.touched.add("template")
            self.contextChanged.emit()

    def _version_chosen(self, _index: int) -> None:
        if self._filling or self.state.follow_tag:
            return
        self.state.version = self.version_combo.currentData()
        self.touched.add("version")
        self.contextChanged.emit()

    def _tag_chosen(self, _index: int) -> None:
        if self._filling:
            return
        tag = self.tag_combo.currentData() or ""
        if not tag and self.state.follow_tag:
            self.state.version = self.state.resolved_version or self.state.version
        self.state.follow_tag = tag
        self.touched.add("follow_tag")
        self.contextChanged.emit()

    def _method_toggled(self, button, checked: bool) -> None:
        if self._filling or not checked:
            return
        self.state.method = next(m for m, r in self.radios.items() if r is button)
        self._fill_methods()
        self.touch("method")

