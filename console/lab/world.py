"""The simulated world: standalone Hyper-V hosts and their VMs, persisted as JSON in a state folder.

Plain Python, no I/O except the state folder. Every read or change goes through ``World.lock`` (an
``RLock``); after a change the caller saves the host it changed (``World.save_host``), which writes that
host's file atomically (temp file + ``os.replace``). Files:

    <state>/world.json          {"format": 1, "spec": {...} | null, "hosts": ["HV01", ...]}
    <state>/hosts/<HOST>.json   one host: facts, fault switch (and its history), VMs with their
                                checkpoints, template exports and copies (``template_model``)

One file per host keeps a change cheap in a 200-host benchmark world (a power action rewrites ~50 KB,
not the whole world).

The hosts and VMs themselves are in ``hyperv_model``; the worlds a lab starts with are built by
``world_builder``.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from .hyperv_model import SimHost, VirtualMachine
from .state_files import atomic_write, compact_json, read_json, saved_world

FORMAT = 1


@dataclass(frozen=True)
class WorldSpec:
    """Which world to build. ``WorldSpec()`` is the hand-made 4-host world; any other value builds a
    generated world (``WorldSpec(hosts=200, vms_per_host=100, seed=1)`` for benchmarks).
    ``template_ready``: every generated host is domain-joined, with Kerberos live migration and
    constrained delegation to every other host, so that each one passes every template distribution
    check; the first host also holds an Off "Win11-Gold" VM to make templates from."""

    hosts: int = 4
    vms_per_host: int | None = None
    seed: int = 0
    template_ready: bool = False

    @property
    def is_default(self) -> bool:
        return self == WorldSpec()

    def to_dict(self) -> dict:
        d = {"hosts": self.hosts, "vms_per_host": self.vms_per_host, "seed": self.seed}
        if self.template_ready:
            d["template_ready"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> "WorldSpec":
        if not d:
            return cls()
        return cls(hosts=int(d.get("hosts", 4)), vms_per_host=d.get("vms_per_host"),
                   seed=int(d.get("seed", 0)), template_ready=bool(d.get("template_ready", False)))



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
                text = compact_json(host.to_dict())
            atomic_write(self._hosts_dir / f"{host.name}.json", text)

    def save_all(self) -> None:
        if self.state_dir is None:
            return
        self._hosts_dir.mkdir(parents=True, exist_ok=True)
        for name in list(self.hosts):
            self.save_host(name)
        with self.lock:
            doc = {"format": FORMAT, "spec": self.spec.to_dict(), "hosts": list(self.hosts)}
        atomic_write(self.state_dir / "world.json", json.dumps(doc, indent=1))

    @classmethod
    def load(cls, state_dir: Path) -> "World":
        """Load a saved world; raises (OSError, ValueError, KeyError) when absent or unreadable."""
        state_dir = Path(state_dir)
        doc = read_json(state_dir / "world.json")
        if doc.get("format") != FORMAT:
            raise ValueError(f"unsupported lab state format {doc.get('format')!r}")
        hosts = []
        for name in doc["hosts"]:
            hosts.append(SimHost.from_dict(read_json(state_dir / "hosts" / f"{name}.json")))
        return cls(hosts, WorldSpec.from_dict(doc.get("spec")), state_dir)

    @classmethod
    def load_or_create(cls, state_dir: Path | None, spec: WorldSpec | None = None) -> "World":
        """The saved world when there is one (and, if ``spec`` is given, it was built from the same
        spec); otherwise a new world from ``spec`` (default: the 4-host world), saved at once."""
        world = saved_world(cls.load, state_dir, spec)
        if world is not None:
            return world
        # imported here: the builders construct World, so world_builder imports this module
        from .world_builder import build_world
        world = build_world(spec or WorldSpec())
        world.state_dir = Path(state_dir) if state_dir is not None else None
        world.save_all()
        return world

