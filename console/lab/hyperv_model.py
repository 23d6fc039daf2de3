"""The simulated Hyper-V objects: standalone hosts, their volumes, and their VMs with their disks.

Plain data, no I/O and no locking of its own (the ``World`` lock guards it). Each object converts to
and from its JSON form (``to_dict``/``from_dict``, the state folder's files) and, where the adapter
sees it, to the document of console/adapters/hyperv/scripts/CONTRACT.md (``to_contract``, ``facts``).
Template checkpoints, exports and copies are in ``template_model``, pool clones' guests in
``pool_model``; a host keeps the history of its
fault switch (``fault_log``) so that a copy running meanwhile can tell when its host went away.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .pool_model import HostPools
from .template_model import Checkpoint, HostFiles

FAULTS = ("offline", "slow", "auth", "disk-full")
FAULT_LOG_MAX = 32        # fault changes kept per host (a copy only looks at those since it started)
STABLE_STATES = ("Running", "Off", "Saved", "Paused")
TRANSITIONAL_STATES = ("Starting", "Stopping")

GiB = 1024 ** 3
TB = 1000 ** 4
GB = 1000 ** 3


@dataclass
class Disk:
    path: str
    size_bytes: int
    file_bytes: int
    parent_path: str = ""

    def to_dict(self) -> dict:
        return {"path": self.path, "size_bytes": self.size_bytes, "file_bytes": self.file_bytes,
                "parent_path": self.parent_path}

    @classmethod
    def from_dict(cls, d: dict) -> "Disk":
        return cls(d["path"], int(d["size_bytes"]), int(d["file_bytes"]), d.get("parent_path", ""))


@dataclass
class VirtualMachine:
    id: str                           # VMId GUID, lower case
    name: str                         # shown and used literally, never evaluated
    state: str                        # Running, Off, Saved, Paused, Starting, Stopping
    cpu_count: int = 2
    memory_bytes: int = 4 * GiB
    generation: int = 2
    version: str = "10.0"
    path: str = ""
    switch: str = ""
    integration_services: bool = True     # heartbeat/shutdown services in the guest
    notes: str = ""
    disks: list[Disk] = field(default_factory=list)
    started_at: float | None = None       # epoch seconds of the last start (Running/Paused/Stopping)
    prev_state: str | None = None         # while Starting/Stopping: where an aborted operation returns
    checkpoints: list[Checkpoint] = field(default_factory=list)     # oldest first

    @property
    def guest_agent(self) -> bool:
        """What the Heartbeat integration service reports: OK only in a running guest that has it."""
        return self.integration_services and self.state == "Running"

    def uptime_seconds(self, now: float | None = None) -> int:
        if self.state in ("Running", "Paused", "Stopping") and self.started_at:
            return max(0, int((now or time.time()) - self.started_at))
        return 0

    def to_contract(self, now: float | None = None) -> dict:
        """The VM object of CONTRACT.md."""
        return {
            "id": self.id, "name": self.name, "state": self.state, "cpu_count": self.cpu_count,
            "memory_bytes": self.memory_bytes, "uptime_seconds": self.uptime_seconds(now),
            "generation": self.generation, "version": self.version, "path": self.path,
            "switch": self.switch, "guest_agent": self.guest_agent, "notes": self.notes,
            "disks": [d.to_dict() for d in self.disks],
        }

    def to_dict(self) -> dict:
        d = self.to_contract()
        del d["uptime_seconds"], d["guest_agent"]
        d["integration_services"] = self.integration_services
        d["started_at"] = self.started_at
        if self.prev_state:
            d["prev_state"] = self.prev_state
        if self.checkpoints:
            d["checkpoints"] = [c.to_dict() for c in self.checkpoints]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "VirtualMachine":
        vm = cls(id=d["id"], name=d["name"], state=d["state"], cpu_count=int(d["cpu_count"]),
                 memory_bytes=int(d["memory_bytes"]), generation=int(d["generation"]),
                 version=d["version"], path=d["path"], switch=d["switch"],
                 integration_services=bool(d["integration_services"]), notes=d.get("notes", ""),
                 disks=[Disk.from_dict(x) for x in d.get("disks", [])],
                 started_at=d.get("started_at"), prev_state=d.get("prev_state"),
                 checkpoints=[Checkpoint.from_dict(c) for c in d.get("checkpoints", [])])
        if vm.state in TRANSITIONAL_STATES:
            # The lab stopped in the middle of an operation: the operation never completed.
            vm.state = vm.prev_state or "Off"
            vm.prev_state = None
            if vm.state not in ("Running", "Paused"):
                vm.started_at = None
        return vm


@dataclass
class Volume:
    path: str                 # "D:\\"
    size_bytes: int
    other_used_bytes: int     # what is not a VM disk (OS, page file, ISOs...)

    def to_dict(self) -> dict:
        return {"path": self.path, "size_bytes": self.size_bytes, "other_used_bytes": self.other_used_bytes}

    @classmethod
    def from_dict(cls, d: dict) -> "Volume":
        return cls(d["path"], int(d["size_bytes"]), int(d["other_used_bytes"]))


@dataclass
class SimHost:
    name: str                               # NetBIOS computer name, e.g. "HV01"
    domain: str = "corp.example.com"        # "WORKGROUP" when not joined
    part_of_domain: bool = True
    os_caption: str = "Microsoft Windows Server 2022 Datacenter"
    os_version: str = "10.0.20348"
    logical_processors: int = 32
    memory_bytes: int = 256 * GiB
    vm_path: str = "D:\\Hyper-V"
    vhd_path: str = "D:\\Hyper-V\\Virtual Hard Disks"
    lm_enabled: bool = True
    lm_authentication: str = "Kerberos"
    lm_max_migrations: int = 2
    constrained_delegation: list[str] | None = None   # None: could not be read (no AD module)
    switches: list[tuple[str, str]] = field(default_factory=lambda: [("vSwitch-LAN", "External")])
    volumes: list[Volume] = field(default_factory=list)
    vms: dict[str, VirtualMachine] = field(default_factory=dict)    # by id, in creation order
    fault: str | None = None
    files: HostFiles = field(default_factory=HostFiles)             # template exports and copies
    fault_log: list[list] = field(default_factory=list)             # [[epoch seconds, fault], ...]
    pools: HostPools = field(default_factory=HostPools)             # pool clones' guests (pool_model)

    def __post_init__(self) -> None:
        if not self.fault_log:
            self.fault_log = [[0.0, self.fault]]       # as it has been "since forever"

    def __setattr__(self, name: str, value: object) -> None:
        if name == "fault" and "fault_log" in self.__dict__ and value != self.__dict__.get("fault"):
            self.fault_log.append([time.time(), value])
            del self.fault_log[:-FAULT_LOG_MAX]
        object.__setattr__(self, name, value)

    def fault_at(self, when: float) -> str | None:
        """The fault switch as it was at ``when`` (epoch seconds)."""
        current = None
        for t, fault in self.fault_log:
            if t > when:
                break
            current = fault
        return current

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.domain}" if self.part_of_domain else self.name

    @property
    def hyperv_version(self) -> str:
        """vmms.exe's product version: the OS build plus the patch level."""
        return self.os_version + {"10.0.20348": ".2849", "10.0.17763": ".6414"}.get(self.os_version, ".1")

    @property
    def default_switch(self) -> str:
        return self.switches[0][0] if self.switches else ""

    def vm_by_id(self, vm_id: str) -> VirtualMachine | None:
        return self.vms.get(vm_id.lower())

    def vm_by_name(self, name: str) -> list[VirtualMachine]:
        return [vm for vm in self.vms.values() if vm.name.lower() == name.lower()]

    def add_vm(self, vm: VirtualMachine) -> VirtualMachine:
        vm.id = vm.id.lower()
        self.vms[vm.id] = vm
        return vm

    def volume_of(self, path: str) -> Volume | None:
        best = None
        for v in self.volumes:
            if path.lower().startswith(v.path.lower()) and (best is None or len(v.path) > len(best.path)):
                best = v
        return best

    def used_bytes(self, volume: Volume, now: float | None = None, exclude: object = None) -> int:
        """Bytes in use on ``volume``: other files, VM disks, template exports and copies (``exclude``:
        one copy job left out, to see how much room it has)."""
        used = volume.other_used_bytes
        for vm in self.vms.values():
            for d in vm.disks:
                if self.volume_of(d.path) is volume:
                    used += d.file_bytes
        now = now if now is not None else time.time()
        for path, nbytes in self.files.usage(now, exclude):
            if self.volume_of(path) is volume:
                used += nbytes
        for path, nbytes in self.pools.usage(now):         # quick clones' own copies, partial files
            if self.volume_of(path) is volume:
                used += nbytes
        return used

    def free_bytes(self, volume: Volume, now: float | None = None) -> int:
        if self.fault == "disk-full":
            return 0
        return max(0, volume.size_bytes - self.used_bytes(volume, now))

    def facts(self) -> dict:
        """The Get-HostFacts document of CONTRACT.md."""
        return {
            "computer_name": self.name, "os_caption": self.os_caption, "os_version": self.os_version,
            "hyperv_version": self.hyperv_version, "domain": self.domain,
            "part_of_domain": self.part_of_domain, "logical_processors": self.logical_processors,
            "memory_bytes": self.memory_bytes, "vm_path": self.vm_path, "vhd_path": self.vhd_path,
            "live_migration": {"enabled": self.lm_enabled, "authentication": self.lm_authentication,
                               "max_migrations": self.lm_max_migrations,
                               "constrained_delegation": (list(self.constrained_delegation)
                                                          if self.constrained_delegation is not None
                                                          else None)},
            "switches": [{"name": n, "switch_type": t} for n, t in self.switches],
            "volumes": [{"path": v.path, "size_bytes": v.size_bytes, "free_bytes": self.free_bytes(v)}
                        for v in self.volumes],
        }

    def to_dict(self) -> dict:
        return {
            "name": self.name, "domain": self.domain, "part_of_domain": self.part_of_domain,
            "os_caption": self.os_caption, "os_version": self.os_version,
            "logical_processors": self.logical_processors, "memory_bytes": self.memory_bytes,
            "vm_path": self.vm_path, "vhd_path": self.vhd_path, "lm_enabled": self.lm_enabled,
            "lm_authentication": self.lm_authentication, "lm_max_migrations": self.lm_max_migrations,
            "constrained_delegation": self.constrained_delegation,
            "switches": [list(s) for s in self.switches],
            "volumes": [v.to_dict() for v in self.volumes],
            "fault": self.fault,
            "vms": [vm.to_dict() for vm in self.vms.values()],
            "files": self.files.to_dict(),
            "fault_log": [list(e) for e in self.fault_log],
            **({"pools": self.pools.to_dict()} if self.pools else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "SimHost":
        h = cls(name=d["name"], domain=d["domain"], part_of_domain=bool(d["part_of_domain"]),
                os_caption=d["os_caption"], os_version=d["os_version"],
                logical_processors=int(d["logical_processors"]), memory_bytes=int(d["memory_bytes"]),
                vm_path=d["vm_path"], vhd_path=d["vhd_path"], lm_enabled=bool(d["lm_enabled"]),
                lm_authentication=d["lm_authentication"], lm_max_migrations=int(d["lm_max_migrations"]),
                constrained_delegation=d.get("constrained_delegation"),
                switches=[(s[0], s[1]) for s in d.get("switches", [])],
                volumes=[Volume.from_dict(v) for v in d.get("volumes", [])],
                fault=d.get("fault"), files=HostFiles.from_dict(d.get("files")),
                fault_log=[list(e) for e in d.get("fault_log", [])],
                pools=HostPools.from_dict(d.get("pools")))
        for v in d.get("vms", []):
            h.add_vm(VirtualMachine.from_dict(v))
        return h
