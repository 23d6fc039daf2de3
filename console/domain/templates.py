"""Templates, versions, distribution targets, pools and clones: the objects later issues fill in.

The state rules live here so every layer agrees on them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TemplateState(str, enum.Enum):
    CREATING = "creating"
    READY = "ready"
    MAINTENANCE = "maintenance"
    DELETING = "deleting"


_TEMPLATE_TRANSITIONS = {
    TemplateState.CREATING: {TemplateState.READY, TemplateState.DELETING},
    TemplateState.READY: {TemplateState.MAINTENANCE, TemplateState.DELETING},
    TemplateState.MAINTENANCE: {TemplateState.READY},
    TemplateState.DELETING: set(),
}


def template_can_transition(old: TemplateState, new: TemplateState) -> bool:
    return new in _TEMPLATE_TRANSITIONS[old]


class TargetState(str, enum.Enum):
    READY = "ready"
    NOT_AVAILABLE = "not-available"
    NEEDS_UPDATE = "needs-update"


class TargetProgress(str, enum.Enum):
    DISTRIBUTING = "distributing"
    OK = "ok"
    ADDING = "adding"
    REMOVING = "removing"
    FAILED = "failed"


class ProvisioningMethod(str, enum.Enum):
    FULL = "full"
    LINKED = "linked"
    QUICK = "quick"     # differencing disk at once, independent in the background


class ImagePreparation(str, enum.Enum):
    SYSPREP = "sysprep"
    RENAME_AND_JOIN = "rename-join"


class CloneState(str, enum.Enum):
    PROVISIONING = "provisioning"
    READY = "ready"
    MERGING = "merging"       # quick clone becoming independent
    UPDATING = "updating"
    FAILED = "failed"
    DELETING = "deleting"


@dataclass
class TemplateVersion:
    template_id: int
    number: int
    created: str
    notes: str = ""
    tag: str = ""            # production, pre-production, or the administrator's own


@dataclass
class DistributionTarget:
    template_id: int
    provider_id: int
    state: TargetState = TargetState.NOT_AVAILABLE
    progress: TargetProgress = TargetProgress.ADDING
    version: int | None = None
    last_error: str = ""


@dataclass
class Template:
    id: int | None
    name: str
    provider_id: int
    source_vm_id: str
    description: str = ""
    state: TemplateState = TemplateState.CREATING
    distribution_enabled: bool = False   # fixed at creation
    concurrent_distribution: int = 2
    versions: list[TemplateVersion] = field(default_factory=list)
    targets: list[DistributionTarget] = field(default_factory=list)

    def can_give_clones(self) -> bool:
        return self.state is TemplateState.READY


@dataclass
class Pool:
    id: int | None
    name: str
    template_id: int
    version: int
    method: ProvisioningMethod = ProvisioningMethod.LINKED
    naming_pattern: str = "VDI-%ID:3%"
    initial_count: int = 1
    keep_available: int = 0
    maximum: int = 10
    domain: str = ""
    organizational_unit: str = ""
    join_account: str = ""
    preparation: ImagePreparation = ImagePreparation.RENAME_AND_JOIN
    target_provider_ids: list[int] = field(default_factory=list)


@dataclass
class Clone:
    pool_id: int
    name: str
    provider_id: int
    vm_id: str = ""
    version: int = 0
    state: CloneState = CloneState.PROVISIONING
