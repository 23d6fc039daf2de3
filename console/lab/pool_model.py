"""The lab's pool clones as plain data: what the guest agent of each clone was told (its identity, through
KVP), when it started, the users logged on, the background copy of a quick clone, and the files a
failed creation left behind.

No I/O and no locking of its own (the ``World`` lock guards it, as for hyperv_model), persisted with the
host (``SimHost.pools``). The guest's state is not stored but derived from the time since the VM started
and since its preparation was queued (``CloneRecord.guest_at``), so a lab or console that was killed and
restarted finds each guest booted, preparing or ready as a real one would be. The join password is
never kept: only whether one was given.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .copy_progress import COPY_RUNNING, CopyProgress

HEARTBEAT_OK, HEARTBEAT_NO_CONTACT = "OK", "No Contact"


@dataclass
class Preparation:
    """What Set-PoolClonePreparation handed the guest agent (the password only as ``has_password``)."""

    computer_name: str
    domain: str = ""
    organizational_unit: str = ""
    join_account: str = ""
    has_password: bool = False
    method: str = "rename-join"           # "sysprep" | "rename-join"
    local_administrator: str = ""
    owner: str = ""
    organization: str = ""

    def to_dict(self) -> dict:
        return {"computer_name": self.computer_name, "domain": self.domain,
                "organizational_unit": self.organizational_unit, "join_account": self.join_account,
                "has_password": self.has_password, "method": self.method,
                "local_administrator": self.local_administrator, "owner": self.owner,
                "organization": self.organization}

    @classmethod
    def from_dict(cls, d: dict) -> Preparation:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class QuickCopy(CopyProgress):
    """The detached copy of a quick clone's base disk(s) into its own folder (a local robocopy)."""

    copy_id: str
    bytes_total: int
    rate: float                   # bytes per second of wall-clock time (speed and faults applied)
    started_at: float
    state: str = COPY_RUNNING
    error: str = ""
    ended_at: float | None = None
    bytes_final: int = 0

    def to_dict(self) -> dict:
        return {"copy_id": self.copy_id, "bytes_total": self.bytes_total, "rate": self.rate,
                "started_at": self.started_at, "state": self.state, "error": self.error,
                "ended_at": self.ended_at, "bytes_final": self.bytes_final}

    @classmethod
    def from_dict(cls, d: dict) -> QuickCopy:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class GuestView:
    """The guest as Get-PoolCloneGuests reads it at one moment."""

    heartbeat: str
    computer_name: str
    domain: str
    ready: bool
    error: str


@dataclass
class CloneRecord:
    """One VM made by New-PoolClone (by VM id)."""

    vm_id: str
    name: str
    method: str                           # full | linked | quick
    folder: str
    request_id: str
    base_disks: list[str]
    base_bytes: int                       # the base disks' bytes (what a full or own copy takes)
    base_sizes: list[list[int]]           # per base disk: [size_bytes, file_bytes]
    created_at: float
    image_name: str = ""                  # the computer name the base image boots with
    preparation: Preparation | None = None
    queued_at: float | None = None        # when the preparation was handed over
    prep_seconds: float = 0.0             # the guest's preparation at the speed of that moment
    boot_seconds: float = 0.0             # the boot at the speed of the last start
    prepared_at: float | None = None      # the guest finished its preparation (seen once, kept)
    prep_error: str = ""                  # the guest agent's failure, once it happened (kept)
    fails_with: str = ""                  # the failure the queued preparation will meet (decided
                                          # when queued: the domain unreachable, no password)
    logged_on_user: str = ""
    copy: QuickCopy | None = None         # quick: the background copy of the base
    merged: bool = False                  # quick: re-parented onto the copy, checkpoint merged

    # ---- the guest, from the time
    def guest_at(self, now: float, state: str, started_at: float | None) -> GuestView:
        """What the guest reports at ``now`` for a VM in ``state`` started at ``started_at``."""
        prep = self.preparation
        done = self.prepared_at is not None and prep is not None
        finish = self.preparation_ends(started_at)
        finished = finish is not None and now >= finish
        if finished and self.fails_with:
            error = self.fails_with
        else:
            error = self.prep_error
        if (done or finished) and not error and prep is not None:
            name, domain = prep.computer_name, (prep.domain or "WORKGROUP")
        else:
            name, domain = self.image_name, "WORKGROUP"
        running = state == "Running" and started_at is not None
        if not running:
            return GuestView("", name, domain, False, error)
        if now < started_at + self.boot_seconds:
            return GuestView(HEARTBEAT_NO_CONTACT, name, domain, False, error)
        if prep is None or self.queued_at is None:
            # nothing to prepare (yet): the agent reports ready once the guest is up
            return GuestView(HEARTBEAT_OK, name, domain, prep is None, "")
        ready = (done or finished) and not error
        return GuestView(HEARTBEAT_OK, name, domain, ready, error)

    def preparation_ends(self, started_at: float | None) -> float | None:
        """When the queued preparation finishes in the running guest (None: not under way)."""
        if self.preparation is None or self.queued_at is None or started_at is None:
            return None
        if self.prepared_at is not None:
            return self.prepared_at
        return max(started_at + self.boot_seconds, self.queued_at) + self.prep_seconds

    # ---- persistence
    def to_dict(self) -> dict:
        # written out by hand: dataclasses.asdict deep-copies, and a host's file is rewritten on
        # every change (a 50-clone host saves thousands of times in a provisioning run)
        return {"vm_id": self.vm_id, "name": self.name, "method": self.method, "folder": self.folder,
                "request_id": self.request_id, "base_disks": list(self.base_disks),
                "base_bytes": self.base_bytes, "base_sizes": [list(x) for x in self.base_sizes],
                "created_at": self.created_at, "image_name": self.image_name,
                "preparation": self.preparation.to_dict() if self.preparation else None,
                "queued_at": self.queued_at, "prep_seconds": self.prep_seconds,
                "boot_seconds": self.boot_seconds, "prepared_at": self.prepared_at,
                "prep_error": self.prep_error, "fails_with": self.fails_with,
                "logged_on_user": self.logged_on_user,
                "copy": self.copy.to_dict() if self.copy else None, "merged": self.merged}

    @classmethod
    def from_dict(cls, d: dict) -> CloneRecord:
        d = dict(d)
        d["preparation"] = Preparation.from_dict(d["preparation"]) if d.get("preparation") else None
        d["copy"] = QuickCopy.from_dict(d["copy"]) if d.get("copy") else None
        d["base_disks"] = list(d.get("base_disks", []))
        d["base_sizes"] = [list(x) for x in d.get("base_sizes", [])]
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class HostPools:
    """The pool clones one host holds (by VM id) and the files of interrupted creations (by folder)."""

    clones: dict[str, CloneRecord] = field(default_factory=dict)
    leftovers: dict[str, int] = field(default_factory=dict)     # folder (lower case) -> bytes on disk
    leftover_paths: dict[str, str] = field(default_factory=dict)  # folder (lower case) -> as written
    #: creations under way (folder, lower case -> request id): not persisted, a lab stop abandons them
    creating: dict[str, str] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        return bool(self.clones or self.leftovers)

    def usage(self, now: float) -> list[tuple[str, int]]:
        """(path, bytes) of what is not a VM disk: running or finished quick copies not merged yet,
        and partial files of interrupted creations."""
        out = [(r.folder, r.copy.bytes_at(now)) for r in self.clones.values()
               if r.copy is not None and not r.merged]
        out += [(self.leftover_paths.get(k, k), b) for k, b in self.leftovers.items()]
        return out

    def folders(self) -> list[str]:
        return [r.folder for r in self.clones.values()] + list(self.leftover_paths.values())

    def add_leftover(self, folder: str, nbytes: int) -> None:
        key = folder.lower()
        self.leftovers[key] = max(0, int(nbytes))
        self.leftover_paths[key] = folder

    def drop_leftover(self, folder: str) -> bool:
        key = folder.lower()
        self.leftover_paths.pop(key, None)
        return self.leftovers.pop(key, None) is not None

    def to_dict(self) -> dict:
        return {"clones": [r.to_dict() for r in self.clones.values()],
                "leftovers": [[self.leftover_paths.get(k, k), b] for k, b in self.leftovers.items()]}

    @classmethod
    def from_dict(cls, d: dict | None) -> HostPools:
        pools = cls()
        for r in (d or {}).get("clones", []):
            rec = CloneRecord.from_dict(r)
            pools.clones[rec.vm_id] = rec
        for folder, nbytes in (d or {}).get("leftovers", []):
            pools.add_leftover(folder, nbytes)
        return pools
