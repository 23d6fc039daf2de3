"""The simulated world: standalone Hyper-V hosts and their VMs, persisted as JSON in a state folder.

Plain Python, no I/O except the state folder. Every read or change goes through ``World.lock`` (an
``RLock``); after a change the caller saves the host it changed (``World.save_host``), which writes that
host's file atomically (temp file + ``os.replace``). Files:

    <state>/world.json          {"format": 1, "spec": {...} | null, "hosts": ["HV01", ...]}
    <state>/hosts/<HOST>.json   one host: facts, fault switch, VMs

One file per host keeps a change cheap in a 200-host benchmark world (a power action rewrites ~50 KB,
not the whole world).
"""
from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 1
FAULTS = ("offline", "slow", "auth", "disk-full")
STABLE_STATES = ("Running", "Off", "Saved", "Paused")
TRANSITIONAL_STATES = ("Starting", "Stopping")

GiB = 1024 ** 3
TB = 1000 ** 4
GB = 1000 ** 3

_ID_NAMESPACE = uuid.UUID("5c3e9a52-7d0b-4f57-9a55-0a1b2c3d4e5f")
_PATH_FORBIDDEN = set('\\/:*?"<>|')


@dataclass(frozen=True)
class WorldSpec:
    """Which world to build. ``WorldSpec()`` is the hand-made 4-host world; any other value builds a
    generated world (``WorldSpec(hosts=200, vms_per_host=100, seed=1)`` for benchmarks)."""

    hosts: int = 4
    vms_per_host: int | None = None
    seed: int = 0

    @property
    def is_default(self) -> bool:
        return self == WorldSpec()

    def to_dict(self) -> dict:
        return {"hosts": self.hosts, "vms_per_host": self.vms_per_host, "seed": self.seed}

    @classmethod
    def from_dict(cls, d: dict | None) -> "WorldSpec":
        if not d:
            return cls()
        return cls(hosts=int(d.get("hosts", 4)), vms_per_host=d.get("vms_per_host"),
                   seed=int(d.get("seed", 0)))


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
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "VirtualMachine":
        vm = cls(id=d["id"], name=d["name"], state=d["state"], cpu_count=int(d["cpu_count"]),
                 memory_bytes=int(d["memory_bytes"]), generation=int(d["generation"]),
                 version=d["version"], path=d["path"], switch=d["switch"],
                 integration_services=bool(d["integration_services"]), notes=d.get("notes", ""),
                 disks=[Disk.from_dict(x) for x in d.get("disks", [])],
                 started_at=d.get("started_at"), prev_state=d.get("prev_state"))
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

    def free_bytes(self, volume: Volume) -> int:
        if self.fault == "disk-full":
            return 0
        used = volume.other_used_bytes
        for vm in self.vms.values():
            for d in vm.disks:
                if self.volume_of(d.path) is volume:
                    used += d.file_bytes
        return max(0, volume.size_bytes - used)

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
                fault=d.get("fault"))
        for v in d.get("vms", []):
            h.add_vm(VirtualMachine.from_dict(v))
        return h


class World:
    """All simulated hosts. Hold ``lock`` to read or change anything; call ``save_host`` after a change."""

    def __init__(self, hosts: list[SimHost], spec: WorldSpec | None = None,
                 state_dir: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.hosts: dict[str, SimHost] = {h.name: h for h in hosts}
        self.spec = spec or WorldSpec()
        self.state_dir = Path(state_dir) if state_dir else None
        self._save_locks: dict[str, threading.Lock] = {h.name: threading.Lock() for h in hosts}

    # ---- queries
    def host(self, name: str) -> SimHost:
        with self.lock:
            for h in self.hosts.values():
                if h.name.lower() == name.lower():
                    return h
        raise KeyError(name)

    def find_vm(self, vm_id: str) -> tuple[SimHost, VirtualMachine] | None:
        with self.lock:
            for h in self.hosts.values():
                vm = h.vm_by_id(vm_id)
                if vm is not None:
                    return h, vm
        return None

    def find_vms_by_name(self, name: str) -> list[tuple[SimHost, VirtualMachine]]:
        with self.lock:
            return [(h, vm) for h in self.hosts.values() for vm in h.vm_by_name(name)]

    # ---- persistence
    @property
    def _hosts_dir(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "hosts"

    def save_host(self, name: str) -> None:
        """Write one host's file atomically. Writes of one host are serialised and each takes its
        snapshot under the world lock, so the last write always carries the latest state."""
        if self.state_dir is None:
            return
        host = self.host(name)
        with self._save_locks.setdefault(host.name, threading.Lock()):
            with self.lock:
                text = json.dumps(host.to_dict(), ensure_ascii=False, separators=(",", ":"))
            _atomic_write(self._hosts_dir / f"{host.name}.json", text)

    def save_all(self) -> None:
        if self.state_dir is None:
            return
        self._hosts_dir.mkdir(parents=True, exist_ok=True)
        for name in list(self.hosts):
            self.save_host(name)
        with self.lock:
            doc = {"format": FORMAT, "spec": self.spec.to_dict(), "hosts": list(self.hosts)}
        _atomic_write(self.state_dir / "world.json", json.dumps(doc, indent=1))

    @classmethod
    def load(cls, state_dir: Path) -> "World":
        """Load a saved world; raises (OSError, ValueError, KeyError) when absent or unreadable."""
        state_dir = Path(state_dir)
        doc = json.loads((state_dir / "world.json").read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"unsupported lab state format {doc.get('format')!r}")
        hosts = []
        for name in doc["hosts"]:
            d = json.loads((state_dir / "hosts" / f"{name}.json").read_text(encoding="utf-8"))
            hosts.append(SimHost.from_dict(d))
        return cls(hosts, WorldSpec.from_dict(doc.get("spec")), state_dir)

    @classmethod
    def load_or_create(cls, state_dir: Path | None, spec: WorldSpec | None = None) -> "World":
        """The saved world when there is one (and, if ``spec`` is given, it was built from the same
        spec); otherwise a new world from ``spec`` (default: the 4-host world), saved at once."""
        if state_dir is not None:
            try:
                world = cls.load(state_dir)
            except (OSError, ValueError, KeyError, TypeError):
                world = None
            if world is not None and (spec is None or world.spec == spec):
                return world
        world = build_world(spec or WorldSpec())
        world.state_dir = Path(state_dir) if state_dir is not None else None
        world.save_all()
        return world


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------- building

def stable_id(host: str, name: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{host}/{name}"))


def safe_file_name(name: str) -> str:
    """A VM name made usable as a file name (Windows refuses \\ / : * ? \" < > |)."""
    return "".join("_" if c in _PATH_FORBIDDEN or ord(c) < 32 else c for c in name).strip() or "vm"


def _vm(host: SimHost, name: str, state: str, *, cpu: int = 2, mem_gib: int = 4, gen: int = 2,
        version: str | None = None, agent: bool = True, disk_gib: int = 64, used_gib: float = 20.0,
        parent: str = "", notes: str = "", uptime: int = 0, vm_id: str | None = None,
        now: float | None = None) -> VirtualMachine:
    file_name = safe_file_name(name)
    folder = f"{host.vm_path}\\{file_name}"
    ext = "vhdx" if gen == 2 else "vhd"
    disk = Disk(path=f"{host.vhd_path}\\{file_name}.{ext}", size_bytes=disk_gib * GiB,
                file_bytes=int(used_gib * GiB), parent_path=parent)
    now = now if now is not None else time.time()
    return VirtualMachine(
        id=vm_id or stable_id(host.name, name), name=name, state=state, cpu_count=cpu,
        memory_bytes=mem_gib * GiB, generation=gen,
        version=version or ("10.0" if host.os_version.startswith("10.0.20348") else "9.0"),
        path=folder, switch=host.default_switch, integration_services=agent, notes=notes, disks=[disk],
        started_at=(now - uptime) if state in ("Running", "Paused") else None)


def _delegation(others: list[str], domain: str) -> list[str]:
    out = []
    for o in others:
        for svc in ("cifs", "Microsoft Virtual System Migration Service"):
            out.append(f"{svc}/{o}.{domain}")
            out.append(f"{svc}/{o}")
    return out


def _domain_host(name: str, others: list[str], *, lp: int = 32, mem_gib: int = 256) -> SimHost:
    return SimHost(
        name=name, domain="corp.example.com", part_of_domain=True,
        os_caption="Microsoft Windows Server 2022 Datacenter", os_version="10.0.20348",
        logical_processors=lp, memory_bytes=mem_gib * GiB, vm_path="D:\\Hyper-V",
        vhd_path="D:\\Hyper-V\\Virtual Hard Disks", lm_enabled=True, lm_authentication="Kerberos",
        lm_max_migrations=2, constrained_delegation=_delegation(others, "corp.example.com"),
        switches=[("vSwitch-LAN", "External")],
        volumes=[Volume("C:\\", 239 * GB, 61 * GB), Volume("D:\\", 2 * TB, 410 * GB)])


def _workgroup_host(name: str, *, lp: int = 16, mem_gib: int = 128) -> SimHost:
    return SimHost(
        name=name, domain="WORKGROUP", part_of_domain=False,
        os_caption="Microsoft Windows Server 2019 Standard", os_version="10.0.17763",
        logical_processors=lp, memory_bytes=mem_gib * GiB,
        vm_path="C:\\ProgramData\\Microsoft\\Windows\\Hyper-V",
        vhd_path="C:\\Users\\Public\\Documents\\Hyper-V\\Virtual Hard Disks",
        lm_enabled=False, lm_authentication="CredSSP", lm_max_migrations=2,
        constrained_delegation=None, switches=[("External Switch", "External")],
        volumes=[Volume("C:\\", 960 * GB, 148 * GB)])


HOSTILE_NAMES = (
    "Sales 'Q3'; Remove-VM * -Force",
    "$(Stop-Computer)",
    "back`tick",
    "Überwachung-Ärzte-東京",
)


def default_world(now: float | None = None) -> World:
    """The hand-made world: HV01-HV03 in corp.example.com, HV04 in a workgroup."""
    now = now if now is not None else time.time()
    names = ["HV01", "HV02", "HV03"]
    hv01, hv02, hv03 = (_domain_host(n, [o for o in names if o != n]) for n in names)
    hv02.logical_processors, hv02.memory_bytes = 48, 384 * GiB
    hv04 = _workgroup_host("HV04")
    hv04.os_caption = "Microsoft Windows Server 2019 Datacenter"

    gold = f"{hv01.vhd_path}\\Win11-Gold.vhdx"
    for vm in (
        _vm(hv01, "Win11-Gold", "Off", cpu=4, mem_gib=8, disk_gib=128, used_gib=24.6,
            notes="Golden image, 23H2, sealed 2024-05-02", now=now),
        _vm(hv01, "Win11-Pool-01", "Running", cpu=2, mem_gib=8, disk_gib=128, used_gib=3.1, parent=gold,
            uptime=3 * 86400 + 4120, now=now),
        _vm(hv01, "Win11-Pool-02", "Running", cpu=2, mem_gib=8, disk_gib=128, used_gib=2.7, parent=gold,
            uptime=86400 + 733, now=now),
        _vm(hv01, "Win10-Office", "Saved", cpu=2, mem_gib=6, disk_gib=80, used_gib=31.2, now=now),
        _vm(hv01, "RDSH-2022", "Running", cpu=8, mem_gib=32, disk_gib=127, used_gib=48.9,
            uptime=12 * 86400 + 51, now=now),
        _vm(hv01, "Appliance-Firewall", "Running", cpu=1, mem_gib=2, gen=1, disk_gib=16, used_gib=2.2,
            agent=False, notes="Vendor appliance, no integration services", uptime=40 * 86400, now=now),
    ):
        hv01.add_vm(vm)
    for vm in (
        _vm(hv02, "RDSH-2022-02", "Running", cpu=8, mem_gib=32, disk_gib=127, used_gib=51.0,
            uptime=12 * 86400 + 300, now=now),
        _vm(hv02, "Win10-Office-Gold", "Off", cpu=2, mem_gib=6, disk_gib=80, used_gib=28.4, now=now),
        _vm(hv02, "SQL-VDI-01", "Running", cpu=4, mem_gib=16, disk_gib=200, used_gib=96.5,
            uptime=30 * 86400 + 11, now=now),
        _vm(hv02, "FS-Profiles", "Running", cpu=2, mem_gib=8, disk_gib=500, used_gib=312.0,
            uptime=30 * 86400 + 40, now=now),
        _vm(hv02, "Win10-Kiosk", "Saved", cpu=2, mem_gib=4, disk_gib=64, used_gib=19.8, now=now),
        _vm(hv02, "Legacy-XP-Kiosk", "Off", cpu=1, mem_gib=1, gen=1, version="5.0", agent=False,
            disk_gib=32, used_gib=7.5, now=now),
    ):
        hv02.add_vm(vm)
    for vm in (
        _vm(hv03, HOSTILE_NAMES[0], "Off", cpu=2, mem_gib=4, used_gib=18.0, now=now),
        _vm(hv03, HOSTILE_NAMES[1], "Running", cpu=2, mem_gib=4, used_gib=21.5, uptime=7200, now=now),
        _vm(hv03, HOSTILE_NAMES[2], "Saved", cpu=2, mem_gib=4, used_gib=17.3, now=now),
        _vm(hv03, HOSTILE_NAMES[3], "Running", cpu=4, mem_gib=8, agent=False, used_gib=26.0,
            uptime=5 * 3600, now=now),
        _vm(hv03, "Win11-Test", "Off", cpu=2, mem_gib=4, used_gib=22.4, now=now),
    ):
        hv03.add_vm(vm)
    for vm in (
        _vm(hv04, "Lab-DC01", "Running", cpu=2, mem_gib=4, disk_gib=60, used_gib=14.1,
            uptime=64 * 86400, now=now),
        _vm(hv04, "Lab-Win11", "Running", cpu=2, mem_gib=8, used_gib=27.9, uptime=6 * 3600, now=now),
        _vm(hv04, "Lab-Linux", "Off", cpu=2, mem_gib=2, disk_gib=40, used_gib=6.4, agent=False, now=now),
        _vm(hv04, "Win10-Office-Test", "Saved", cpu=2, mem_gib=6, disk_gib=80, used_gib=29.0, now=now),
    ):
        hv04.add_vm(vm)
    return World([hv01, hv02, hv03, hv04], WorldSpec())


_GEN_BASES = ("VDI", "Win11", "Win10", "RDSH", "App", "Kiosk", "Dev", "Test")


def generated_world(spec: WorldSpec, now: float | None = None) -> World:
    """A large, deterministic world for benchmarks: ``spec.hosts`` hosts of ``spec.vms_per_host`` VMs."""
    now = now if now is not None else time.time()
    rng = random.Random(spec.seed)
    per_host = spec.vms_per_host if spec.vms_per_host is not None else 6
    width = max(2, len(str(spec.hosts)))
    names = [f"HV{i:0{width}d}" for i in range(1, spec.hosts + 1)]
    hosts: list[SimHost] = []
    for i, name in enumerate(names, start=1):
        if i % 10 == 0:
            h = _workgroup_host(name, lp=rng.choice((16, 24, 32)), mem_gib=rng.choice((128, 192, 256)))
        else:
            # delegation to two neighbours, as an administrator would configure per migration pair
            peers = [names[(i) % len(names)], names[(i + 1) % len(names)]]
            h = _domain_host(name, [p for p in peers if p != name],
                             lp=rng.choice((32, 48, 64)), mem_gib=rng.choice((256, 384, 512, 768)))
        for n in range(1, per_host + 1):
            base = _GEN_BASES[rng.randrange(len(_GEN_BASES))]
            vm_name = f"{base}-{name}-{n:03d}"
            roll = rng.random()
            state = "Running" if roll < 0.6 else ("Off" if roll < 0.9 else "Saved")
            vm_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            h.add_vm(_vm(h, vm_name, state, cpu=rng.choice((1, 2, 2, 4, 8)),
                         mem_gib=rng.choice((2, 4, 4, 8, 16)), agent=rng.random() < 0.85,
                         disk_gib=rng.choice((40, 64, 80, 127)), used_gib=round(rng.uniform(4, 40), 1),
                         uptime=rng.randrange(60, 40 * 86400), vm_id=vm_id, now=now))
        hosts.append(h)
    return World(hosts, spec)


def build_world(spec: WorldSpec | None = None) -> World:
    spec = spec or WorldSpec()
    return default_world() if spec.is_default else generated_world(spec)
