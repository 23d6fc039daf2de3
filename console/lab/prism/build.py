"""The Prism world as it is first built: cluster NTNX-PE-01 (Prism Element endpoint), NTNX-PE-02, and
the Prism Central pseudo-cluster NTNX-PC-01 that manages both. Three hosts, storage containers,
networks and a dozen VMs per cluster; ``PrismSpec`` adds generated VMs for paging tests and benchmarks.

Identifiers of the hand-made world are name-based UUIDs: stable across rebuilds, so a test or a
screenshot can name them.
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

from .model import Cluster, Container, Disk, GiB, Host, Network, Nic, Snapshot, TiB, Vm

_NS = uuid.UUID("9b0c1f5e-4c1d-4f0e-8a3e-5d1f0b7c2a61")

PE01, PE02, PC = "NTNX-PE-01", "NTNX-PE-02", "NTNX-PC-01"
#: the hostile name every world carries: quotes and non-ASCII letters
ODD_NAME = 'Ärzte "Büro" 東京'

PE_VERSION = ("5.20.4.6", "el7.3-release-euphrates-5.20.4.6-stable-6e3b4c1f2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f")
PE02_VERSION = ("6.5.2", "el8.5-release-fraser-6.5.2-stable-1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e")
PC_VERSION = ("pc.2022.6.0.6", "el7.3-release-fraser-2022.6-stable-pc-0.6-2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f6e3b4c1f")
#: what the fault "old-version" makes a cluster report
OLD_PE_VERSION = ("4.7", "el6-release-danube-4.7-stable-0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d")
OLD_PC_VERSION = ("5.5.0.6", "el7.3-release-euphrates-5.5.0.6-stable-9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c")


@dataclass(frozen=True)
class PrismSpec:
    """Which Prism world to build. ``PrismSpec()`` is the hand-made world; ``extra_vms_pe01=1200``
    (or 5000) adds that many generated VMs to NTNX-PE-01, ``extra_vms_pe02`` to NTNX-PE-02."""

    extra_vms_pe01: int = 0
    extra_vms_pe02: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.extra_vms_pe01 < 0 or self.extra_vms_pe02 < 0:
            raise ValueError("the number of generated VMs cannot be negative")

    def to_dict(self) -> dict:
        return {"extra_vms_pe01": self.extra_vms_pe01, "extra_vms_pe02": self.extra_vms_pe02,
                "seed": self.seed}

    @classmethod
    def from_dict(cls, d: dict | None) -> PrismSpec:
        d = d or {}
        return cls(int(d.get("extra_vms_pe01", 0)), int(d.get("extra_vms_pe02", 0)), int(d.get("seed", 0)))


def sid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _mac(rng: random.Random) -> str:
    return "50:6b:8d:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def _hosts(cluster: str, net: str) -> list[Host]:
    out = []
    block = f"{cluster[-2:]}FM7K110{cluster[-1]}"
    for i in range(1, 4):
        name = f"{cluster}-{chr(64 + i)}"                     # NTNX-PE-01-A, -B, -C
        out.append(Host(uuid=sid(cluster, "host", name), name=name,
                        hypervisor_ip=f"{net}.{10 + i}", cvm_ip=f"{net}.{30 + i}",
                        ipmi_ip=f"{net}.{50 + i}", serial=f"{cluster[-2:]}NX{i:02d}A7F{i}",
                        block_serial=block, position=i))
    return out


def _containers(cluster: str) -> list[Container]:
    return [
        Container(sid(cluster, "ctr", "default"), 8, f"default-container-{cluster[-2:]}4810", 40 * TiB, 2 * TiB),
        Container(sid(cluster, "ctr", "VDI"), 1204, "VDI-Gold", 20 * TiB, 512 * GiB),
        Container(sid(cluster, "ctr", "mgmt"), 10, "NutanixManagementShare", 40 * TiB, 30 * GiB,
                  compression=False),
        Container(sid(cluster, "ctr", "sss"), 9, "SelfServiceContainer", 40 * TiB, 4 * GiB),
    ]


def _networks(cluster: str) -> list[Network]:
    return [Network(sid(cluster, "net", "VM-Network"), "VM-Network", 0, "10.42.0.0/16"),
            Network(sid(cluster, "net", "VDI-VLAN120"), "VDI-VLAN120", 120, "10.120.0.0/16"),
            Network(sid(cluster, "net", "Servers-VLAN30"), "Servers-VLAN30", 30, "")]


def make_vm(cluster: Cluster, name: str, power: str, rng: random.Random, *, vcpus: int = 2,
            cores: int = 1, mem_gib: int = 4, disks_gib: tuple[int, ...] = (64,), net: int = 0,
            vm_uuid: str | None = None, host_index: int | None = None, description: str = "",
            now_usecs: int | None = None, agent: bool = False, uefi: bool = True) -> Vm:
    vm_uuid = vm_uuid or sid(cluster.name, "vm", name)
    ctr = cluster.containers[1 if name.startswith(("Win", "VDI", "RDSH")) else 0].uuid
    disks = [Disk(uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), size_bytes=g * GiB,
                  container_uuid=ctr, index=i,
                  device_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
             for i, g in enumerate(disks_gib)]
    network = cluster.networks[net]
    ip = f"10.{42 if net == 0 else 120}.{rng.randrange(1, 250)}.{rng.randrange(2, 250)}" if power == "on" else ""
    nics = [Nic(uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), mac=_mac(rng),
                network_uuid=network.uuid, ip=ip)]
    host = cluster.hosts[host_index if host_index is not None else rng.randrange(len(cluster.hosts))]
    now_usecs = now_usecs if now_usecs is not None else int(time.time() * 1e6)
    created = now_usecs - rng.randrange(86_400, 400 * 86_400) * 1_000_000
    return Vm(uuid=vm_uuid, name=name, power_state=power, num_vcpus=vcpus, num_cores_per_vcpu=cores,
              memory_mb=mem_gib * 1024, host_uuid=host.uuid if power in ("on", "paused") else None,
              last_host_uuid=host.uuid, description=description, disks=disks, nics=nics, uefi=uefi,
              agent_vm=agent, created_usecs=created, updated_usecs=created,
              logical_timestamp=rng.randrange(1, 9), spec_version=rng.randrange(0, 6))


def _cluster(name: str, net: str, version: tuple[str, str], incarnation: int) -> Cluster:
    return Cluster(uuid=sid(name, "cluster"), name=name, external_ip=f"{net}.5", version=version[0],
                   full_version=version[1], incarnation_id=incarnation, hosts=_hosts(name, net),
                   containers=_containers(name), networks=_networks(name))


def _pe01(now_usecs: int) -> Cluster:
    c = _cluster(PE01, "10.42.1", PE_VERSION, 1_617_811_204_337_841)
    rng = random.Random(101)
    for args, kw in (
        (("Win11-Gold", "off"), dict(vcpus=4, mem_gib=8, disks_gib=(128,), net=1,
                                     description="Golden image, 23H2, sealed 2024-05-02")),
        (("Win11-VDI-001", "on"), dict(mem_gib=8, disks_gib=(128,), net=1)),
        (("Win11-VDI-002", "on"), dict(mem_gib=8, disks_gib=(128,), net=1)),
        (("Win11-VDI-003", "off"), dict(mem_gib=8, disks_gib=(128,), net=1)),
        (("Win10-Office-Gold", "off"), dict(mem_gib=6, disks_gib=(80,), net=1)),
        (("RDSH-2022-01", "on"), dict(vcpus=4, cores=2, mem_gib=32, disks_gib=(127, 200))),
        ((ODD_NAME, "on"), dict(mem_gib=4, disks_gib=(60,))),
        (("FS-Profiles", "on"), dict(mem_gib=8, disks_gib=(60, 1024), net=2)),
        (("SQL-VDI-01", "on"), dict(vcpus=4, mem_gib=16, disks_gib=(100, 200, 50), net=2)),
        (("Ubuntu-Jump", "off"), dict(vcpus=1, mem_gib=2, disks_gib=(20,), uefi=False)),
        (("Win11-Test", "paused"), dict(mem_gib=4, disks_gib=(64,), net=1)),
        (("NTNX-PC-01-VM", "on"), dict(vcpus=6, mem_gib=26, disks_gib=(500,), agent=False,
                                        description="Prism Central appliance")),
    ):
        vm = make_vm(c, *args, rng, now_usecs=now_usecs, **kw)
        c.vms[vm.uuid] = vm
    gold = next(vm for vm in c.vms.values() if vm.name == "Win11-Gold")
    snap = Snapshot(uuid=sid(PE01, "snap", "Win11-Gold", "sealed"), name="Sealed 2024-05-02",
                    vm_uuid=gold.uuid, created_usecs=gold.created_usecs + 3_600_000_000,
                    vm_spec=gold.to_dict())
    c.snapshots[snap.uuid] = snap
    return c


def _pe02(now_usecs: int) -> Cluster:
    c = _cluster(PE02, "10.42.2", PE02_VERSION, 1_650_100_977_120_004)
    rng = random.Random(202)
    for args, kw in (
        (("RDSH-2019-Gold", "off"), dict(vcpus=4, mem_gib=16, disks_gib=(127,), net=1)),
        (("RDSH-2019-01", "on"), dict(vcpus=4, mem_gib=32, disks_gib=(127,), net=1)),
        (("RDSH-2019-02", "on"), dict(vcpus=4, mem_gib=32, disks_gib=(127,), net=1)),
        (("Kiosk-Win10-01", "on"), dict(vcpus=2, mem_gib=4, disks_gib=(64,), net=1)),
        (("Kiosk-Win10-02", "off"), dict(vcpus=2, mem_gib=4, disks_gib=(64,), net=1)),
        (("DC-02", "on"), dict(vcpus=2, mem_gib=8, disks_gib=(80,), net=2)),
        (("App-Citrix-Lic", "on"), dict(vcpus=2, mem_gib=4, disks_gib=(60,), net=2)),
        (("Backup-Proxy", "on"), dict(vcpus=4, mem_gib=8, disks_gib=(100, 2048), net=2)),
        (("Dev-Build-01", "off"), dict(vcpus=8, mem_gib=16, disks_gib=(200,))),
        (("Café-Kasse-Ünit 2", "on"), dict(vcpus=1, mem_gib=2, disks_gib=(40,))),
        (("Linux-Template", "off"), dict(vcpus=2, mem_gib=2, disks_gib=(32,), uefi=False)),
        (("Win11-Canary", "suspended"), dict(mem_gib=8, disks_gib=(128,), net=1)),
    ):
        vm = make_vm(c, *args, rng, now_usecs=now_usecs, **kw)
        c.vms[vm.uuid] = vm
    return c


def _pc() -> Cluster:
    return Cluster(uuid=sid(PC, "cluster"), name=PC, external_ip="10.42.0.9", version=PC_VERSION[0],
                   full_version=PC_VERSION[1], incarnation_id=1_617_900_000_000_001,
                   is_prism_central=True)


_GEN_BASES = ("VDI", "Win11", "Win10", "RDSH", "App", "Kiosk", "Dev", "Test")


def add_generated_vms(cluster: Cluster, count: int, seed: int, now_usecs: int) -> None:
    rng = random.Random(f"{seed}/{cluster.name}")
    for n in range(1, count + 1):
        base = _GEN_BASES[rng.randrange(len(_GEN_BASES))]
        roll = rng.random()
        power = "on" if roll < 0.6 else "off"
        vm = make_vm(cluster, f"{base}-{cluster.name[-2:]}-{n:05d}", power, rng,
                     vm_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                     vcpus=rng.choice((1, 2, 2, 4, 8)), mem_gib=rng.choice((2, 4, 4, 8, 16)),
                     disks_gib=(rng.choice((40, 64, 80, 128)),), net=rng.randrange(3), now_usecs=now_usecs)
        cluster.vms[vm.uuid] = vm


def build_clusters(spec: PrismSpec | None = None, now: float | None = None) -> list[Cluster]:
    spec = spec or PrismSpec()
    now_usecs = int((now if now is not None else time.time()) * 1e6)
    pe01, pe02 = _pe01(now_usecs), _pe02(now_usecs)
    if spec.extra_vms_pe01:
        add_generated_vms(pe01, spec.extra_vms_pe01, spec.seed, now_usecs)
    if spec.extra_vms_pe02:
        add_generated_vms(pe02, spec.extra_vms_pe02, spec.seed, now_usecs)
    return [pe01, pe02, _pc()]
