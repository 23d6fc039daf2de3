"""The lab's template objects as plain data: VM checkpoints, exports of a checkpoint, copies of an
export to another host (a detached robocopy) and the files they leave on a host's volumes.

No I/O and no locking of its own (the ``World`` lock guards it, as for hyperv_model). A copy's progress
is not stored but computed from the wall-clock time since it started (``CopyJob.bytes_at``), so a lab or
console that was killed and restarted finds the copy done or further along, as a detached robocopy on
Windows would be. Failures (the target going offline, the disk filling) are decided by
``template_copies.settle`` from the hosts' fault history.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .copy_progress import COPY_RUNNING, CopyProgress


@dataclass
class VmImage:
    """What a checkpoint holds and an export carries: the VM's settings and disks at that moment."""

    vm_id: str
    name: str
    cpu_count: int
    memory_bytes: int
    generation: int
    version: str
    switch: str
    integration_services: bool
    notes: str = ""
    disks: list[dict] = field(default_factory=list)     # Disk.to_dict() documents

    @property
    def disk_bytes(self) -> int:
        return sum(int(d["file_bytes"]) for d in self.disks)

    @property
    def config_file(self) -> str:
        """Hyper-V names a VM's configuration after its id, in upper case."""
        return f"Virtual Machines\\{self.vm_id.upper()}.vmcx"

    def to_dict(self) -> dict:
        return {"vm_id": self.vm_id, "name": self.name, "cpu_count": self.cpu_count,
                "memory_bytes": self.memory_bytes, "generation": self.generation, "version": self.version,
                "switch": self.switch, "integration_services": self.integration_services,
                "notes": self.notes, "disks": [dict(d) for d in self.disks]}

    @classmethod
    def from_dict(cls, d: dict) -> VmImage:
        return cls(vm_id=d["vm_id"], name=d["name"], cpu_count=int(d["cpu_count"]),
                   memory_bytes=int(d["memory_bytes"]), generation=int(d["generation"]),
                   version=str(d["version"]), switch=d.get("switch", ""),
                   integration_services=bool(d.get("integration_services", True)),
                   notes=d.get("notes", ""), disks=[dict(x) for x in d.get("disks", [])])


@dataclass
class Checkpoint:
    """A Standard checkpoint of a VM (Checkpoint-VM)."""

    id: str                   # GUID, lower case
    name: str
    vm_id: str
    created: str              # ISO-8601 UTC, "2024-05-02T10:11:12Z"
    image: VmImage

    def to_contract(self) -> dict:
        return {"id": self.id, "name": self.name, "vm_id": self.vm_id, "created": self.created}

    def to_dict(self) -> dict:
        d = self.to_contract()
        d["image"] = self.image.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Checkpoint:
        return cls(d["id"], d["name"], d["vm_id"], d["created"], VmImage.from_dict(d["image"]))


@dataclass
class Export:
    """A folder written by Export-VMSnapshot; complete once its marker file (vdi-export.json) is there."""

    folder: str               # local path, "D:\\Hyper-V\\VDI-Export\\Gold-v1"
    vm_id: str
    checkpoint_id: str
    bytes_total: int
    bytes_written: int        # what is on the disk now (all of it once complete)
    complete: bool
    image: VmImage

    @property
    def config_file(self) -> str:
        return self.image.config_file

    def to_dict(self) -> dict:
        return {"folder": self.folder, "vm_id": self.vm_id, "checkpoint_id": self.checkpoint_id,
                "bytes_total": self.bytes_total, "bytes_written": self.bytes_written,
                "complete": self.complete, "image": self.image.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> Export:
        return cls(d["folder"], d["vm_id"], d["checkpoint_id"], int(d["bytes_total"]),
                   int(d["bytes_written"]), bool(d["complete"]), VmImage.from_dict(d["image"]))


@dataclass
class CopyJob(CopyProgress):
    """A detached copy of an export into ``<folder>\\_export`` on the host that holds it."""

    copy_id: str
    folder: str                   # the template copy's folder on this host
    source_host: str              # the host the export is on
    source_folder: str            # the export's local path there
    bytes_total: int
    rate: float                   # bytes per second of wall-clock time (lab speed and faults applied)
    started_at: float             # epoch seconds
    image: VmImage | None         # None: robocopy never reached the export
    state: str = COPY_RUNNING
    error: str = ""
    ended_at: float | None = None     # failed: when it stopped
    bytes_final: int = 0              # failed: what it had copied (the partial files stay)
    imported: bool = False            # Import-TemplateCopy moved the files and removed _export

    @property
    def staging_folder(self) -> str:
        return f"{self.folder}\\_export"

    def disk_bytes_at(self, now: float) -> int:
        """What the staging folder holds on the disk (nothing once imported)."""
        return 0 if self.imported else self.bytes_at(now)

    def to_dict(self) -> dict:
        return {"copy_id": self.copy_id, "folder": self.folder, "source_host": self.source_host,
                "source_folder": self.source_folder, "bytes_total": self.bytes_total, "rate": self.rate,
                "started_at": self.started_at, "image": self.image.to_dict() if self.image else None,
                "state": self.state,
                "error": self.error, "ended_at": self.ended_at, "bytes_final": self.bytes_final,
                "imported": self.imported}

    @classmethod
    def from_dict(cls, d: dict) -> CopyJob:
        return cls(copy_id=d["copy_id"], folder=d["folder"], source_host=d["source_host"],
                   source_folder=d["source_folder"], bytes_total=int(d["bytes_total"]),
                   rate=float(d["rate"]), started_at=float(d["started_at"]),
                   image=VmImage.from_dict(d["image"]) if d.get("image") else None,
                   state=d.get("state", COPY_RUNNING),
                   error=d.get("error", ""), ended_at=d.get("ended_at"),
                   bytes_final=int(d.get("bytes_final", 0)), imported=bool(d.get("imported", False)))


@dataclass
class HostFiles:
    """The template files one host holds besides VM disks: exports and copies (by copy id)."""

    exports: dict[str, Export] = field(default_factory=dict)      # by folder, lower case
    copies: dict[str, CopyJob] = field(default_factory=dict)      # by copy id

    def export(self, folder: str) -> Export | None:
        return self.exports.get(folder.lower())

    def put_export(self, e: Export) -> None:
        self.exports[e.folder.lower()] = e

    def copies_in(self, folder: str) -> list[CopyJob]:
        return [c for c in self.copies.values() if c.folder.lower() == folder.lower()]

    def usage(self, now: float, exclude: CopyJob | None = None) -> list[tuple[str, int]]:
        """(path, bytes on the disk) of every export and copy, for the volumes' free space."""
        out = [(e.folder, e.bytes_written) for e in self.exports.values()]
        out += [(c.folder, c.disk_bytes_at(now)) for c in self.copies.values() if c is not exclude]
        return out

    def folders(self) -> list[str]:
        return [e.folder for e in self.exports.values()] + [c.folder for c in self.copies.values()]

    def to_dict(self) -> dict:
        return {"exports": [e.to_dict() for e in self.exports.values()],
                "copies": [c.to_dict() for c in self.copies.values()]}

    @classmethod
    def from_dict(cls, d: dict | None) -> HostFiles:
        files = cls()
        for e in (d or {}).get("exports", []):
            files.put_export(Export.from_dict(e))
        for c in (d or {}).get("copies", []):
            job = CopyJob.from_dict(c)
            files.copies[job.copy_id] = job
        return files
