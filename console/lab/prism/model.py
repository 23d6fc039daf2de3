"""What a simulated Nutanix cluster holds: hosts, storage containers, networks, VMs (disks, NICs),
snapshots, and the tasks that change them. Plain data with JSON round trips; the wire bodies (v2.0
and v3) are drawn from these by ``v2_bodies`` and ``v3_bodies``.

Power states are kept in v2.0 casing ("on", "off", "paused", "suspended"); v3 upper-cases them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

MiB = 1024 ** 2
GiB = 1024 ** 3
TiB = 1024 ** 4


@dataclass
class Host:
    uuid: str
    name: str
    hypervisor_ip: str
    cvm_ip: str
    ipmi_ip: str
    serial: str
    block_serial: str
    block_model: str = "NX-3060-G7"
    cpu_model: str = "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"
    sockets: int = 2
    cores: int = 40
    cpu_hz: int = 2_100_000_000
    memory_bytes: int = 768 * GiB
    hypervisor_full_name: str = "Nutanix 20220304.342"
    position: int = 1

    @classmethod
    def from_dict(cls, d: dict) -> Host:
        return cls(**d)


@dataclass
class Container:
    uuid: str
    id_number: int
    name: str
    capacity_bytes: int
    other_used_bytes: int = 0             # not VM disks: images, CVM data
    replication_factor: int = 2
    compression: bool = True

    @classmethod
    def from_dict(cls, d: dict) -> Container:
        return cls(**d)


@dataclass
class Network:
    uuid: str
    name: str
    vlan_id: int
    subnet: str = ""                      # "10.20.0.0/16" when IPAM is configured

    @classmethod
    def from_dict(cls, d: dict) -> Network:
        return cls(**d)


@dataclass
class Disk:
    uuid: str                             # vmdisk_uuid
    size_bytes: int
    container_uuid: str
    index: int = 0
    bus: str = "scsi"                     # scsi, ide, sata, pci
    is_cdrom: bool = False
    device_uuid: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> Disk:
        return cls(**d)


@dataclass
class Nic:
    uuid: str
    mac: str
    network_uuid: str
    ip: str = ""
    model: str = ""                       # "" is virtio in v2.0 bodies
    connected: bool = True

    @classmethod
    def from_dict(cls, d: dict) -> Nic:
        return cls(**d)


@dataclass
class Vm:
    uuid: str
    name: str                             # used literally: quotes and non-ASCII letters are fine
    power_state: str                      # v2.0 casing: on, off, paused, suspended
    num_vcpus: int = 2                    # v2 num_vcpus = v3 num_sockets
    num_cores_per_vcpu: int = 1           # v3 num_vcpus_per_socket
    memory_mb: int = 4096
    host_uuid: str | None = None          # where it runs (None when off)
    last_host_uuid: str | None = None     # where it goes when powered on
    description: str = ""
    disks: list[Disk] = field(default_factory=list)
    nics: list[Nic] = field(default_factory=list)
    uefi: bool = True
    agent_vm: bool = False
    created_usecs: int = 0
    updated_usecs: int = 0
    logical_timestamp: int = 1            # v2 vm_logical_timestamp; bumped on every change
    spec_version: int = 0                 # v3 metadata.spec_version; bumped on every change
    source_vm_uuid: str | None = None     # clone: where it came from
    incomplete: str = ""                  # a clone that failed part-way: what went wrong
    guest_boot_at: float | None = None    # powered on, booting: when its NICs report IP addresses

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Vm:
        d = dict(d)
        d["disks"] = [Disk.from_dict(x) for x in d.get("disks", [])]
        d["nics"] = [Nic.from_dict(x) for x in d.get("nics", [])]
        return cls(**d)


@dataclass
class Snapshot:
    uuid: str
    name: str
    vm_uuid: str
    created_usecs: int
    vm_spec: dict                         # the VM as it was (Vm.to_dict), for clone and restore
    logical_timestamp: int = 1

    @classmethod
    def from_dict(cls, d: dict) -> Snapshot:
        return cls(**d)


@dataclass
class Cluster:
    uuid: str
    name: str
    external_ip: str
    version: str                          # "5.20.4.6"
    full_version: str                     # "el7.3-release-euphrates-5.20.4.6-stable-<commit>"
    incarnation_id: int
    is_prism_central: bool = False
    hosts: list[Host] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    vms: dict[str, Vm] = field(default_factory=dict)              # by uuid, in creation order
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # by uuid

    def to_dict(self) -> dict:
        return {
            "uuid": self.uuid, "name": self.name, "external_ip": self.external_ip,
            "version": self.version, "full_version": self.full_version,
            "incarnation_id": self.incarnation_id, "is_prism_central": self.is_prism_central,
            "hosts": [asdict(h) for h in self.hosts],
            "containers": [asdict(c) for c in self.containers],
            "networks": [asdict(n) for n in self.networks],
            "vms": [vm.to_dict() for vm in self.vms.values()],
            "snapshots": [asdict(s) for s in self.snapshots.values()],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Cluster:
        c = cls(uuid=d["uuid"], name=d["name"], external_ip=d["external_ip"], version=d["version"],
                full_version=d["full_version"], incarnation_id=int(d["incarnation_id"]),
                is_prism_central=bool(d.get("is_prism_central", False)),
                hosts=[Host.from_dict(h) for h in d.get("hosts", [])],
                containers=[Container.from_dict(x) for x in d.get("containers", [])],
                networks=[Network.from_dict(n) for n in d.get("networks", [])])
        for v in d.get("vms", []):
            vm = Vm.from_dict(v)
            c.vms[vm.uuid] = vm
        for s in d.get("snapshots", []):
            snap = Snapshot.from_dict(s)
            c.snapshots[snap.uuid] = snap
        return c

    # ---- queries
    def host(self, host_uuid: str | None) -> Host | None:
        return next((h for h in self.hosts if h.uuid == host_uuid), None)

    def container(self, container_uuid: str) -> Container | None:
        return next((c for c in self.containers if c.uuid == container_uuid), None)

    def network(self, network_uuid: str) -> Network | None:
        return next((n for n in self.networks if n.uuid == network_uuid), None)

    def container_used_bytes(self, container: Container) -> int:
        used = container.other_used_bytes
        for vm in self.vms.values():
            used += sum(d.size_bytes // 4 for d in vm.disks if d.container_uuid == container.uuid)
        return min(used, container.capacity_bytes)

    def vms_on(self, host_uuid: str) -> int:
        return sum(1 for vm in self.vms.values() if vm.host_uuid == host_uuid)


#: task states, in v2.0 casing (v3 upper-cases them)
QUEUED, RUNNING, SUCCEEDED, FAILED = "Queued", "Running", "Succeeded", "Failed"


@dataclass
class Task:
    uuid: str
    cluster_uuid: str
    operation: str                        # clone, restore, power, snapshot, delete, update, delete_snapshot
    entity_type: str                      # "VM" or "Snapshot": what entity_list names
    entity_uuids: list[str]               # created or changed entities, in order
    params: dict                          # what the operation does when it completes
    created: float                        # epoch seconds
    queued_seconds: float
    run_seconds: float
    fail_at: float | None = None          # fraction at which it fails part-way (fault clone-fails-60)
    status: str = QUEUED
    error: str = ""
    error_code: str = ""
    completed: float | None = None
    api: str = "v2"                       # which API created it (v2: PE, v3: PC); names its operation

    @property
    def started(self) -> float:
        return self.created + self.queued_seconds

    @property
    def due(self) -> float:
        """When it ends (succeeds, or fails part-way)."""
        return self.started + self.run_seconds * (self.fail_at if self.fail_at is not None else 1.0)

    def state_at(self, now: float) -> tuple[str, int]:
        """(status, percentage_complete) at ``now``: final states are stored, the rest follow the clock."""
        if self.status == SUCCEEDED:
            return SUCCEEDED, 100
        if self.status == FAILED:
            # failed part-way: where it stopped; failed at the end (entity gone...): 100
            return FAILED, round(self.fail_at * 100) if self.fail_at is not None else 100
        if now < self.started:
            return QUEUED, 0
        fraction = (now - self.started) / self.run_seconds if self.run_seconds > 0 else 1.0
        return RUNNING, max(1, min(99, int(fraction * 100)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Task:
        return cls(**d)
