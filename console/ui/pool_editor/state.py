"""What the pool editor holds: one plain object, no Qt.

The tabs write into it and read its verdicts (field -> sentence) back; Save is enabled only when
every tab has none and the services' own validate agrees. The rules are console/domain/pool_rules.py
(names, naming pattern, scale) and the template wizard's preparation rules, so they are tested here
without a window. ``pool()`` turns it into the Pool the services are called with once, at Save.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.domain import pool_rules
from console.domain.errors import ConsoleError
from console.domain.templates import (
    ImagePreparation,
    Pool,
    Preparation,
    ProvisioningMethod,
    Template,
    TemplateState,
)
from console.ui.template_wizard.state import WizardState, sentence, typed_preparation

DESCRIPTION_MAX = 1000
#: the tabs in their order, with the words the Save reason uses for each
TABS = (("general", "General"), ("provisioning", "Provisioning"), ("naming", "Naming"),
        ("scale", "Scale"), ("preparation", "Preparation"), ("targets", "Targets"))
#: a rule's field (ValidationError.field) -> the tab it is typed on
FIELD_TABS = {"name": "general", "description": "general", "template": "provisioning",
              "template_id": "provisioning", "version": "provisioning", "follow_tag": "provisioning",
              "method": "provisioning", "naming_pattern": "naming", "pattern": "naming",
              "initial_count": "scale", "keep_available": "scale", "maximum": "scale",
              "delete_unused_after_minutes": "scale", "per_host_cap": "targets",
              "target_provider_ids": "targets", "targets": "targets", "domain": "preparation",
              "organizational_unit": "preparation", "join_account": "preparation",
              "join_password": "preparation", "local_administrator": "preparation", "owner": "preparation",
              "organization": "preparation"}
PREPARATION_FIELDS = ("domain", "organizational_unit", "join_account", "local_administrator", "owner",
                      "organization")


@dataclass
class TargetChoice:
    """One of the template's targets: may it take clones (reason "" = yes), and is it chosen."""

    provider_id: int
    name: str
    reason: str = ""
    checked: bool = True


@dataclass
class PoolEditorState:
    pool_id: int | None = None
    original: Pool | None = None           # the pool being edited (None: a new pool)
    # ----- General
    name: str = ""
    description: str = ""
    enabled: bool = True
    # ----- Provisioning
    template: Template | None = None
    version: int | None = None
    follow_tag: str = ""
    method: ProvisioningMethod = ProvisioningMethod.LINKED
    method_reasons: dict[ProvisioningMethod, str] = field(default_factory=dict)
    estimates: dict[ProvisioningMethod, Any] = field(default_factory=dict)
    # ----- Naming
    naming_pattern: str = "VDI-%ID:3%"
    existing_names: set[str] = field(default_factory=set)
    # ----- Scale
    initial_count: int = 1
    keep_available: int = 0
    maximum: int = 10
    delete_unused_after_minutes: int = 0
    # ----- Preparation
    override_preparation: bool = False
    prep_method: ImagePreparation = ImagePreparation.SYSPREP
    domain: str = ""
    organizational_unit: str = ""
    join_account: str = ""
    join_password: str = field(default="", repr=False)
    local_administrator: str = "Administrator"
    owner: str = ""
    organization: str = ""
    stored_password: bool = False          # the pool has a join password in the keyring already
    clone_count: int = 0                   # an edited pool's clones (its method cannot change then)
    # ----- Targets
    targets: list[TargetChoice] = field(default_factory=list)
    per_host_cap: int = 0

    # ----- loading ------------------------------------------------------------------------------
    @property
    def editing(self) -> bool:
        return self.pool_id is not None

    def load_pool(self, pool: Pool, template: Template | None) -> None:
        """Fill every field from an existing pool (its template fixed from now on)."""
        self.pool_id, self.original = pool.id, pool
        self.name, self.description = pool.name, getattr(pool, "description", "")
        self.enabled = getattr(pool, "enabled", True)
        self.template = template
        self.version, self.follow_tag = pool.version, getattr(pool, "follow_tag", "")
        self.method = pool.method
        self.naming_pattern = pool.naming_pattern
        self.initial_count, self.keep_available = pool.initial_count, pool.keep_available
        self.maximum = pool.maximum
        self.delete_unused_after_minutes = getattr(pool, "delete_unused_after_minutes", 0)
        self.per_host_cap = getattr(pool, "per_host_cap", 0)
        override = getattr(pool, "preparation_override", None)
        self.override_preparation = override is not None
        self._copy_preparation(override if override is not None else self.template_preparation)

    def set_template(self, template: Template | None) -> bool:
        """Choose the template (a new pool only): its latest version, its preparation. True if changed."""
        if self.editing and self.template is not None:
            return False
        if template is None:
            changed = self.template is not None
            self.template, self.version, self.follow_tag = None, None, ""
            return changed
        if self.template is not None and self.template.id == template.id:
            self.template = template          # a newer copy (a version or target changed)
            return False
        self.template = template
        latest = template.latest_version
        self.version = latest.number if latest else None
        self.follow_tag = ""
        if not self.override_preparation:
            self._copy_preparation(self.template_preparation)
        return True

    @property
    def template_preparation(self) -> Preparation:
        return self.template.preparation if self.template is not None else Preparation()

    def _copy_preparation(self, prep: Preparation) -> None:
        self.prep_method = prep.method
        for key in PREPARATION_FIELDS:
            setattr(self, key, getattr(prep, key))

    def set_override(self, on: bool) -> None:
        """Overriding starts from the template's values; turning it off goes back to them."""
        self.override_preparation = on
        if not on:
            self._copy_preparation(self.template_preparation)
            self.join_password = ""

    def set_targets(self, choices: list[TargetChoice]) -> None:
        """The template's targets for the chosen version; a target keeps its check mark when still
        possible. A new pool (or a pool without a list) starts with every possible target checked."""
        before = {t.provider_id: t.checked for t in self.targets}
        chosen = set(getattr(self.original, "target_provider_ids", None) or [])
        for choice in choices:
            if choice.provider_id in before:
                choice.checked = before[choice.provider_id]
            elif self.original is not None and chosen:
                choice.checked = choice.provider_id in chosen
            else:
                choice.checked = not choice.reason
        self.targets = choices

    # ----- what is chosen -----------------------------------------------------------------------
    @property
    def chosen_targets(self) -> list[TargetChoice]:
        return [t for t in self.targets if t.checked]

    @property
    def resolved_version(self) -> int | None:
        """The version clones are made from: the tag's version when following a tag."""
        if not self.follow_tag:
            return self.version
        if self.template is None:
            return None
        tagged = [v for v in self.template.versions if v.tag.casefold() == self.follow_tag.casefold()]
        return tagged[0].number if tagged else None

    @property
    def version_changed(self) -> bool:
        """An edit that picks another fixed version: that is a rolling update, not an edit."""
        return (self.original is not None and not self.follow_tag
                and self.version not in (None, self.original.version))

    @property
    def saved_version(self) -> int:
        """The version the pool is saved with: an existing pool keeps its own (Update… moves it)."""
        if self.original is not None and (self.follow_tag or self.version_changed):
            return self.original.version
        return self.resolved_version or 0

    def preparation(self) -> Preparation:
        return typed_preparation(self.prep_method, self)

    # ----- verdicts (field -> sentence) ---------------------------------------------------------
    def general_problems(self, name_taken: Callable[[str], str] | None = None) -> dict[str, str]:
        problems: dict[str, str] = {}
        try:
            name = pool_rules.check_pool_name(self.name)
        except ConsoleError as exc:
            problems["name"] = sentence(exc)
        else:
            taken = name_taken(name) if name_taken is not None else ""
            if taken:
                problems["name"] = taken
        if len(self.description) > DESCRIPTION_MAX:
            problems["description"] = f"The description has at most {DESCRIPTION_MAX} characters."
        return problems

    def provisioning_problems(self) -> dict[str, str]:
        template = self.template
        if template is None:
            return {"template": "Choose the template the pool's clones are made from."}
        problems: dict[str, str] = {}
        if template.state is TemplateState.MAINTENANCE:
            problems["template"] = (f"Template '{template.name}' is in maintenance: it cannot give new "
                                    "clones until maintenance ends.")
        elif not template.can_give_clones():
            problems["template"] = f"Template '{template.name}' is {template.state.value}: it cannot give clones."
        if self.follow_tag:
            if self.resolved_version is None:
                problems["follow_tag"] = (f"No version of template '{template.name}' is tagged "
                                          f"'{self.follow_tag}'. Tag a version, or choose a fixed version.")
        elif self.version is None or template.version(self.version) is None:
            problems["version"] = (f"Template '{template.name}' has no version {self.version}: choose another."
                                   if self.version is not None else "Choose the version clones are made from.")
        if self.version_changed:
            problems["version"] = (f"The pool is at v{self.original.version}: moving it to v{self.version} is "
                                   "an update, not an edit. Use Update… to move the clones (choose "
                                   f"v{self.original.version} here to save other changes).")
        reason = self.method_reasons.get(self.method, "")
        if reason:
            problems["method"] = reason
        elif self.original is not None and self.clone_count and self.method != self.original.method:
            problems["method"] = (f"The method of a pool with clones cannot change ({self.clone_count} "
                                  f"{self.original.method.value} clone(s)): delete its clones first, or make "
                                  "a new pool.")
        return problems

    def naming_problems(self) -> dict[str, str]:
        try:
            pool_rules.check_naming(self.naming_pattern, max(int(self.maximum), 1), self.existing_names)
        except ConsoleError as exc:
            return {"naming_pattern": sentence(exc)}
        return {}

    def scale_problems(self) -> dict[str, str]:
        """Scale rules; a per-host cap problem belongs to the Targets tab (field per_host_cap)."""
        try:
            pool_rules.check_scale(self.initial_count, self.keep_available, self.maximum,
                                   self.delete_unused_after_minutes, self.per_host_cap,
                                   len(self.chosen_targets))
        except ConsoleError as exc:
            return {getattr(exc, "field", "") or "maximum": sentence(exc)}
        return {}

    def preparation_problems(self) -> dict[str, str]:
        """Only an override is checked: the template's own preparation was checked when it was made."""
        if not self.override_preparation:
            return {}
        wizard = WizardState(method=self.prep_method, domain=self.domain,
                             organizational_unit=self.organizational_unit, join_account=self.join_account,
                             join_password=self.join_password or ("x" if self.stored_password else ""),
                             local_administrator=self.local_administrator, owner=self.owner,
                             organization=self.organization)
        return wizard.preparation_problems()

    def target_problems(self) -> dict[str, str]:
        if self.template is None:
            return {}
        if not self.targets:
            return {"targets": f"Template '{self.template.name}' has no target that can take clones."}
        chosen = self.chosen_targets
        if not chosen:
            return {"targets": "Choose at least one target that takes clones."}
        bad = next((t for t in chosen if t.reason), None)
        if bad is not None:
            return {"targets": f"{bad.name} cannot take clones: {bad.reason}"}
        return {}

    def problems(self, name_taken: Callable[[str], str] | None = None) -> dict[str, dict[str, str]]:
        """tab -> {field: sentence}, in tab order; a rule's field lands on the tab it is typed on."""
        found = {tab: {} for tab, _label in TABS}
        for verdicts in (self.general_problems(name_taken), self.provisioning_problems(),
                         self.naming_problems(), self.scale_problems(), self.preparation_problems(),
                         self.target_problems()):
            for key, text in verdicts.items():
                found[FIELD_TABS.get(key, "general")].setdefault(key, text)
        return found

    # ----- Save ---------------------------------------------------------------------------------
    def pool(self) -> Pool:
        """The Pool the services are called with (an edit keeps the fields this editor does not show)."""
        template = self.template
        prep = self.preparation() if self.override_preparation else self.template_preparation
        values = {
            "name": self.name.strip(), "template_id": template.id if template else -1,
            "version": self.saved_version, "method": self.method,
            "naming_pattern": self.naming_pattern.strip(), "initial_count": int(self.initial_count),
            "keep_available": int(self.keep_available), "maximum": int(self.maximum),
            "domain": prep.domain, "organizational_unit": prep.organizational_unit,
            "join_account": prep.join_account, "preparation": prep.method,
            "target_provider_ids": [t.provider_id for t in self.chosen_targets],
            "description": self.description.strip(), "enabled": self.enabled, "follow_tag": self.follow_tag,
            "delete_unused_after_minutes": int(self.delete_unused_after_minutes),
            "per_host_cap": int(self.per_host_cap),
            "preparation_override": self.preparation() if self.override_preparation else None,
        }
        if self.original is not None:
            return dataclasses.replace(self.original, **values)
        return Pool(id=None, **values)

    def first_problem(self, problems: dict[str, dict[str, str]]) -> str:
        """The Save reason: the first problem in tab order, with the tab it is on."""
        for tab, label in TABS:
            for text in problems.get(tab, {}).values():
                return f"{label}: {text}"
        return ""
