"""Templates, versions, distribution targets, pools and clones, and the rules between them.

The state rules live here so every layer agrees on them. A template is a source VM plus versions (each
an immutable checkpoint/snapshot); with distribution enabled (standalone Hyper-V only) each version is
exported once and copied to every distribution target, where it is imported as a local copy.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


#: how many copies of a template version may run at a time (the wizard, vdictl and the services agree)
MAX_CONCURRENT_DISTRIBUTION = 16


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
    ASSIGNED = "assigned"     # a user took it (logged on)
    INCOMPLETE = "incomplete"  # half-made: a crash or a cancel left it; clean-up removes it


#: the tags offered in the UI; an administrator may type another one
STANDARD_TAGS = ("production", "pre-production")


@dataclass
class TemplateVersion:
    template_id: int
    number: int
    created: str
    notes: str = ""
    tag: str = ""            # production, pre-production, or the administrator's own
    snapshot_id: str = ""    # the hypervisor's checkpoint/snapshot id of this version
    size_bytes: int = 0      # disk bytes of the image (what a copy or a full clone moves)


@dataclass
class DistributionTarget:
    template_id: int
    provider_id: int
    state: TargetState = TargetState.NOT_AVAILABLE
    progress: TargetProgress = TargetProgress.ADDING
    version: int | None = None       # the version this target holds a ready copy of
    last_error: str = ""
    fraction: float = 0.0            # progress of the running copy, 0..1
    vm_id: str = ""                  # the imported local copy's VM id on the target
    folder: str = ""                 # where the local copy lives on the target
    updated: str = ""                # ISO-8601 UTC of the last change
    #: copies of older versions the target keeps because pools need them (linked clones' parent
    #: disks, a rollback): {version: {"folder": ..., "vm_id": ...}}; see ``copy_of``
    kept: dict[int, dict] = field(default_factory=dict)

    def copy_of(self, number: int) -> dict | None:
        """Where this target holds a copy of version ``number``: {"folder", "vm_id"} of its latest
        copy or of a kept one; None when it holds none."""
        if self.version == number and self.folder:
            return {"folder": self.folder, "vm_id": self.vm_id}
        kept = self.kept.get(number)
        return dict(kept) if kept and kept.get("folder") else None


@dataclass
class Preparation:
    """How clones of the template are made unique (the pool may override it)."""

    method: ImagePreparation = ImagePreparation.SYSPREP
    domain: str = ""                 # FQDN, e.g. corp.example.com; "" = stay in a workgroup
    organizational_unit: str = ""    # distinguished name, e.g. OU=VDI,DC=corp,DC=example,DC=com
    join_account: str = ""           # CORP\svc-join or svc-join@corp.example.com; password in secrets
    local_administrator: str = "Administrator"
    owner: str = ""
    organization: str = ""

    def to_dict(self) -> dict:
        return {"method": self.method.value, "domain": self.domain,
                "organizational_unit": self.organizational_unit, "join_account": self.join_account,
                "local_administrator": self.local_administrator, "owner": self.owner,
                "organization": self.organization}

    @classmethod
    def from_dict(cls, d: dict) -> "Preparation":
        return cls(method=ImagePreparation(d.get("method", "sysprep")), domain=d.get("domain", ""),
                   organizational_unit=d.get("organizational_unit", ""),
                   join_account=d.get("join_account", ""),
                   local_administrator=d.get("local_administrator", "Administrator"),
                   owner=d.get("owner", ""), organization=d.get("organization", ""))


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
    source_vm_name: str = ""
    source_host: str = ""                # the host the source VM is on (Hyper-V: the provider's host)
    preparation: Preparation = field(default_factory=Preparation)
    maintenance_from: int | None = None  # while in maintenance: the version it started from
    created: str = ""

    def can_give_clones(self) -> bool:
        return self.state is TemplateState.READY

    @property
    def latest_version(self) -> TemplateVersion | None:
        return max(self.versions, key=lambda v: v.number) if self.versions else None

    def version(self, number: int) -> TemplateVersion | None:
        return next((v for v in self.versions if v.number == number), None)

    def target(self, provider_id: int) -> DistributionTarget | None:
        return next((t for t in self.targets if t.provider_id == provider_id), None)


@dataclass
class TemplatePlan:
    """What the Create Template wizard (or vdictl) collected; the backend is called once with it."""

    provider_id: int
    vm_id: str
    name: str
    description: str = ""
    shutdown_consent: bool = False       # a running source may be shut down
    preparation: Preparation = field(default_factory=Preparation)
    join_password: str = field(default="", repr=False)   # to the keyring (template:<id>:join) only
    distribution_enabled: bool = False
    target_provider_ids: list[int] = field(default_factory=list)
    concurrent_distribution: int = 2


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
    description: str = ""
    enabled: bool = True
    follow_tag: str = ""                     # "" = fixed version; else follows this tag's version
    delete_unused_after_minutes: int = 0     # 0 = never delete unused clones beyond the buffer
    per_host_cap: int = 0                    # 0 = no cap; else at most this many clones per host
    preparation_override: Preparation | None = None   # None = the template's preparation
    created: str = ""


@dataclass
class Clone:
    pool_id: int
    name: str
    provider_id: int
    vm_id: str = ""
    version: int = 0
    state: CloneState = CloneState.PROVISIONING
    host: str = ""
    method: ProvisioningMethod = ProvisioningMethod.LINKED
    created: str = ""
    usable_seconds: float | None = None       # from the start of the create to the guest ready
    independent_seconds: float | None = None  # None = never (linked) or not yet (quick merging)
    assigned_user: str = ""
    error: str = ""
    request_id: str = ""
    folder: str = ""


def previous_version(current: int, history: list[int]) -> int | None:
    """The version a pool may roll back to: the last one in its history (oldest first) that is not
    its current version; None when it never had another."""
    for number in reversed(history):
        if number != current:
            return number
    return None


@dataclass
class PoolVersionChange:
    """One line of a pool's version history."""

    pool_id: int
    version: int
    changed: str                  # ISO-8601 UTC
    kind: str = "create"          # "create" | "update" | "rollback"
    task_id: int | None = None
