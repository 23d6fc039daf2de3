"""The simulated Prism world: clusters (with hosts, containers, networks, VMs, snapshots), the tasks
that change them, the endpoints' fault switches; persisted as JSON in ``<state>/prism/``.

Every read or change holds ``PrismWorld.lock``. A task's progress follows the clock (``Task.state_at``);
its effect lands when it ends, applied by ``advance()``, which every request and the lab's task thread
call first, so what a client reads is always up to date. Files, written atomically (temp + replace) by
``flush()``, which the task thread calls a few times a second for what changed, and ``stop`` at the end:

    <state>/prism/world.json              {"format": 1, "spec": {...}, "clusters": [...], "faults": {...}}
    <state>/prism/clusters/<NAME>.json    one cluster: hosts, containers, networks, VMs, snapshots
    <state>/prism/tasks.json              the latest tasks (a task still running at a stop fails)
"""
from __future__ import annotations

import copy
import json
import os
import threading
import time
import uuid
from pathlib import Path

from ..state_files import atomic_write, compact_json, read_json, saved_world
from . import build
from .build import PrismSpec
from .guests import GuestBoot
from .model import FAILED, QUEUED, RUNNING, SUCCEEDED, Cluster, Snapshot, Task, Vm

FORMAT = 1
KEEP_TASKS = 5000
#: seconds at speed 1 (divided by the lab's speed, x10 under the fault "slow")
DURATIONS = {"clone": 20.0, "restore": 20.0, "power": 5.0, "snapshot": 3.0, "delete": 2.0,
             "delete_snapshot": 1.0, "update": 1.0,
             "boot": 20.0}    # a guest powered on reports its NICs' IP addresses this long after
#: the operations that may power a VM on (their tasks carry the guest's boot time in params)
POWERING_ON = ("power", "update", "clone", "restore")
POWER_TRANSITIONS = ("ON", "OFF", "POWERCYCLE", "RESET", "PAUSE", "SUSPEND", "RESUME", "SAVE",
                     "ACPI_SHUTDOWN", "ACPI_REBOOT")


class PrismError(Exception):
    """A request Prism refuses at once: HTTP status, the v3 reason code and a sentence."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class _TaskFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def new_uuid() -> str:
    return str(uuid.uuid4())


def now_usecs() -> int:
    return int(time.time() * 1_000_000)


class PrismWorld(GuestBoot):
    def __init__(self, clusters: list[Cluster], spec: PrismSpec | None = None,
                 state_dir: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.clusters: dict[str, Cluster] = {c.name: c for c in clusters}
        self.spec = spec or PrismSpec()
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.tasks: dict[str, Task] = {}
        self.faults: dict[str, str | None] = {}
        self.task_added = threading.Event()     # wakes the lab's task thread
        self._dirty: set[str] = set()
        self._tasks_dirty = False
        self._meta_dirty = False
        self._save_lock = threading.Lock()
        self._init_guests()

    # ------------------------------------------------------------------ queries
    def cluster(self, name: str) -> Cluster:
        return self.clusters[name]

    def cluster_by_uuid(self, cluster_uuid: str) -> Cluster | None:
        return next((c for c in self.clusters.values() if c.uuid == cluster_uuid), None)

    @property
    def managed(self) -> list[Cluster]:
        """The clusters with hosts and VMs (not the Prism Central pseudo-cluster)."""
        return [c for c in self.clusters.values() if not c.is_prism_central]

    def find_vm(self, vm_uuid: str, clusters: list[Cluster] | None = None) -> tuple[Cluster, Vm] | None:
        for c in clusters if clusters is not None else self.managed:
            vm = c.vms.get(vm_uuid.lower())
            if vm is not None:
                return c, vm
        return None

    def find_snapshot(self, snap_uuid: str, clusters: list[Cluster] | None = None
                      ) -> tuple[Cluster, Snapshot] | None:
        for c in clusters if clusters is not None else self.managed:
            s = c.snapshots.get(snap_uuid.lower())
            if s is not None:
                return c, s
        return None

    def pending_tasks(self, entity_uuid: str | None = None) -> list[Task]:
        return [t for t in self.tasks.values() if t.status in (QUEUED, RUNNING)
                and (entity_uuid is None or entity_uuid in t.entity_uuids)]

    def uuid_taken(self, some_uuid: str) -> bool:
        u = some_uuid.lower()
        return (self.find_vm(u) is not None or self.find_snapshot(u) is not None
                or any(u in t.entity_uuids for t in self.pending_tasks()))

    # ------------------------------------------------------------------ tasks
    def start_task(self, cluster: Cluster, operation: str, entity_type: str, entity_uuids: list[str],
                   params: dict, seconds: float, fail_at: float | None = None, api: str = "v2") -> Task:
        with self.lock:
            task = Task(uuid=new_uuid(), cluster_uuid=cluster.uuid, operation=operation,
                        entity_type=entity_type, entity_uuids=list(entity_uuids), params=params,
                        created=time.time(), queued_seconds=min(0.5, seconds * 0.05),
                        run_seconds=max(0.001, seconds), fail_at=fail_at, api=api)
            self.tasks[task.uuid] = task
            self._tasks_dirty = True
        self.task_added.set()
        return task

    def next_due(self) -> float | None:
        with self.lock:
            pending = self.pending_tasks()
            return min([t.due for t in pending] + self._boot_times(), default=None)

    def advance(self, now: float | None = None) -> int:
        """Apply every task that has ended by ``now``, in the order they end. Returns how many."""
        now = time.time() if now is None else now
        with self.lock:
            due = sorted((t for t in self.pending_tasks() if t.due <= now), key=lambda t: t.due)
            for task in due:
                self._finish(task)
            self._boot_guests(now)
            return len(due)

    def _finish(self, task: Task) -> None:
        cluster = self.cluster_by_uuid(task.cluster_uuid)
        self._task_time, self._applying = task.due, task
        try:
            if cluster is None:
                raise _TaskFailed("kNotFound", "The cluster of this task no longer exists.")
            if task.fail_at is not None:
                self._partial(task, cluster)
                raise _TaskFailed("kCloneFailed" if task.operation in ("clone", "restore") else "kInternal",
                                  f"{task.operation.capitalize()} failed at {round(task.fail_at * 100)} %: "
                                  "the storage operation was aborted (simulated fault). "
                                  "The partially created VM was left on the cluster.")
            getattr(self, f"_do_{task.operation}")(task, cluster)
            task.status = SUCCEEDED
        except _TaskFailed as e:
            task.status, task.error, task.error_code = FAILED, e.message, e.code
        self._applying = None
        task.completed = task.due
        self._tasks_dirty = True
        if cluster is not None:
            self._dirty.add(cluster.name)

    # ---- effects
    def _vm(self, cluster: Cluster, vm_uuid: str) -> Vm:
        vm = cluster.vms.get(vm_uuid)
        if vm is None:
            raise _TaskFailed("kNotFound", f"VM {vm_uuid} does not exist (it was deleted).")
        return vm

    @staticmethod
    def _touch(vm: Vm) -> None:
        vm.logical_timestamp += 1
        vm.updated_usecs = now_usecs()

    def _place(self, cluster: Cluster, vm: Vm) -> None:
        if vm.host_uuid is None:
            host = cluster.host(vm.last_host_uuid) or min(cluster.hosts, key=lambda h: cluster.vms_on(h.uuid))
            vm.host_uuid = vm.last_host_uuid = host.uuid

    def _set_power(self, cluster: Cluster, vm: Vm, transition: str) -> None:
        state = vm.power_state
        if transition == "ON" and state == "on":
            return                                  # already running: nothing to do, as Prism says
        if transition in ("ON", "RESUME"):
            self._place(cluster, vm)
            if state == "off" or not any(n.ip for n in vm.nics):     # a resumed guest keeps its IPs
                self._start_guest(cluster, vm, float(self._boot_seconds))
            vm.power_state = "on"
        elif transition in ("OFF", "SAVE", "SUSPEND", "ACPI_SHUTDOWN"):
            if transition == "ACPI_SHUTDOWN" and state != "on":
                raise _TaskFailed("kInvalidState", f"ACPI shutdown needs a running VM; {vm.name} is {state}.")
            vm.power_state = "suspended" if transition == "SUSPEND" else "off"
            if vm.power_state == "off":
                vm.host_uuid = None
                self._stop_guest(vm)
        elif transition == "PAUSE":
            if state != "on":
                raise _TaskFailed("kInvalidState", f"Only a running VM can be paused; {vm.name} is {state}.")
            vm.power_state = "paused"
        elif transition in ("RESET", "POWERCYCLE", "ACPI_REBOOT") and state != "on":
            raise _TaskFailed("kInvalidState", f"{transition} needs a running VM; {vm.name} is {state}.")
        self._touch(vm)

    def _do_power(self, task: Task, cluster: Cluster) -> None:
        self._set_power(cluster, self._vm(cluster, task.params["vm_uuid"]), task.params["transition"])

    def _do_update(self, task: Task, cluster: Cluster) -> None:
        vm = self._vm(cluster, task.params["vm_uuid"])
        changes = task.params["changes"]
        for key in ("name", "num_vcpus", "num_cores_per_vcpu", "memory_mb", "description"):
            if key in changes:
                setattr(vm, key, changes[key])
        if "power_state" in changes and changes["power_state"] != vm.power_state:
            if changes["power_state"] == "on":
                transition = "ON"
            else:
                transition = "ACPI_SHUTDOWN" if changes.get("mechanism") in ("ACPI", "GUEST") else "OFF"
            self._set_power(cluster, vm, transition)
        self._touch(vm)

    def _source_spec(self, task: Task, cluster: Cluster) -> dict:
        src = task.params["source"]
        if "snapshot_uuid" in src:
            snap = cluster.snapshots.get(src["snapshot_uuid"])
            if snap is None:
                raise _TaskFailed("kNotFound", f"Snapshot {src['snapshot_uuid']} does not exist (it was deleted).")
            return copy.deepcopy(snap.vm_spec)
        return self._vm(cluster, src["vm_uuid"]).to_dict()

    def _new_vm(self, source: dict, spec: dict, note: str = "") -> Vm:
        vm = Vm.from_dict(copy.deepcopy(source))
        vm.uuid, vm.name = spec["uuid"], spec["name"]
        for key in ("num_vcpus", "num_cores_per_vcpu", "memory_mb"):
            if spec.get(key):
                setattr(vm, key, int(spec[key]))
        vm.power_state, vm.host_uuid = "off", None
        vm.description, vm.incomplete, vm.agent_vm = "", note, False
        vm.source_vm_uuid = source["uuid"]
        vm.created_usecs = vm.updated_usecs = now_usecs()
        vm.logical_timestamp, vm.spec_version = 1, 0
        for d in vm.disks:
            d.uuid, d.device_uuid = new_uuid(), new_uuid()
        vm.guest_boot_at = None
        for n in vm.nics:
            n.uuid, n.ip = new_uuid(), ""
            n.mac = "50:6b:8d:" + ":".join(os.urandom(3).hex()[i:i + 2] for i in (0, 2, 4))
        if spec.get("network_uuid"):
            for n in vm.nics:
                n.network_uuid = spec["network_uuid"]
        return vm

    def _do_clone(self, task: Task, cluster: Cluster) -> None:
        source = self._source_spec(task, cluster)
        for spec in task.params["specs"]:
            vm = self._new_vm(source, spec)
            cluster.vms[vm.uuid] = vm
            if spec.get("power_on"):
                self._set_power(cluster, vm, "ON")

    _do_restore = _do_clone

    def _partial(self, task: Task, cluster: Cluster) -> None:
        """A clone that fails part-way leaves its first VM behind, powered off, with only part of its
        disks: as a real storage failure would, it is the caller's to remove."""
        if task.operation not in ("clone", "restore"):
            return
        try:
            source = self._source_spec(task, cluster)
        except _TaskFailed:
            return
        spec = task.params["specs"][0]
        vm = self._new_vm(source, spec, note=f"Clone task {task.uuid} failed at "
                                             f"{round((task.fail_at or 0) * 100)} %; this VM is incomplete.")
        vm.disks = vm.disks[:max(0, len(vm.disks) - 1)] if len(vm.disks) > 1 else []
        vm.description = vm.incomplete
        cluster.vms[vm.uuid] = vm

    def _do_snapshot(self, task: Task, cluster: Cluster) -> None:
        for spec in task.params["specs"]:
            vm = self._vm(cluster, spec["vm_uuid"])
            snap = Snapshot(uuid=spec["uuid"], name=spec["name"], vm_uuid=vm.uuid,
                            created_usecs=now_usecs(), vm_spec=vm.to_dict())
            cluster.snapshots[snap.uuid] = snap

    def _do_delete(self, task: Task, cluster: Cluster) -> None:
        vm = self._vm(cluster, task.params["vm_uuid"])
        del cluster.vms[vm.uuid]
        for s in [s for s in cluster.snapshots.values() if s.vm_uuid == vm.uuid]:
            del cluster.snapshots[s.uuid]

    def _do_delete_snapshot(self, task: Task, cluster: Cluster) -> None:
        if cluster.snapshots.pop(task.params["snapshot_uuid"], None) is None:
            raise _TaskFailed("kNotFound", f"Snapshot {task.params['snapshot_uuid']} does not exist.")

    # ------------------------------------------------------------------ faults
    def set_fault(self, endpoint: str, fault: str | None) -> str | None:
        with self.lock:
            old = self.faults.get(endpoint)
            self.faults[endpoint] = fault
            self._meta_dirty = True
        return old

    def fault(self, endpoint: str) -> str | None:
        with self.lock:
            return self.faults.get(endpoint)

    # ------------------------------------------------------------------ persistence
    @property
    def _folder(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "prism"

    def mark_dirty(self, cluster: Cluster | None = None) -> None:
        with self.lock:
            if cluster is not None:
                self._dirty.add(cluster.name)
            self._tasks_dirty = True

    def flush(self) -> None:
        """Write what changed since the last flush (each file atomically)."""
        if self.state_dir is None:
            return
        with self._save_lock:
            with self.lock:
                names, self._dirty = self._dirty, set()
                texts = {n: compact_json(self.clusters[n].to_dict())
                         for n in names if n in self.clusters}
                tasks = None
                if self._tasks_dirty:
                    self._tasks_dirty = False
                    kept = sorted(self.tasks.values(), key=lambda t: t.created)[-KEEP_TASKS:]
                    tasks = compact_json([t.to_dict() for t in kept])
                meta = None
                if self._meta_dirty:
                    self._meta_dirty = False
                    meta = json.dumps(self._meta(), indent=1)
            for name, text in texts.items():
                atomic_write(self._folder / "clusters" / f"{name}.json", text)
            if tasks is not None:
                atomic_write(self._folder / "tasks.json", tasks)
            if meta is not None:
                atomic_write(self._folder / "world.json", meta)

    def _meta(self) -> dict:
        return {"format": FORMAT, "spec": self.spec.to_dict(), "clusters": list(self.clusters),
                "faults": {k: v for k, v in self.faults.items() if v}}

    def save_all(self) -> None:
        with self.lock:
            self._dirty = set(self.clusters)
            self._tasks_dirty = self._meta_dirty = True
        self.flush()

    @classmethod
    def load(cls, state_dir: Path) -> PrismWorld:
        folder = Path(state_dir) / "prism"
        meta = read_json(folder / "world.json")
        if meta.get("format") != FORMAT:
            raise ValueError(f"unsupported Prism lab state format {meta.get('format')!r}")
        clusters = [Cluster.from_dict(read_json(folder / "clusters" / f"{n}.json"))
                    for n in meta["clusters"]]
        world = cls(clusters, PrismSpec.from_dict(meta.get("spec")), state_dir)
        world.faults = dict(meta.get("faults") or {})
        for c in clusters:               # guests still booting when the lab stopped boot on
            for vm in c.vms.values():
                if vm.guest_boot_at is not None and vm.power_state == "on":
                    world._booting[vm.uuid] = (vm.guest_boot_at, c.name)
        try:
            tasks = read_json(folder / "tasks.json")
        except (OSError, ValueError):
            tasks = []
        for d in tasks:
            t = Task.from_dict(d)
            if t.status in (QUEUED, RUNNING):
                # Prism stopped under it: the task never completed, and says so
                t.status, t.error_code = FAILED, "kAborted"
                t.error = "The task was interrupted: the Prism service restarted before it completed."
                t.fail_at, t.completed = None, time.time()
                world._tasks_dirty = True
            world.tasks[t.uuid] = t
        return world

    @classmethod
    def load_or_create(cls, state_dir: Path | None, spec: PrismSpec | None = None) -> PrismWorld:
        """The saved world when there is one (built from ``spec`` when it is given); otherwise a new
        world from ``spec`` (default: the hand-made one), saved at once."""
        world = saved_world(cls.load, state_dir, spec)
        if world is not None:
            return world
        world = cls(build.build_clusters(spec), spec, state_dir)
        world.save_all()
        return world

