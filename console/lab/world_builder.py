"""The worlds a lab starts with: the hand-made 4-host world (``default_world``) and the large,
deterministic one generated for benchmarks (``generated_world``); ``build_world`` picks by spec.

VM ids in the hand-made world are uuid5 of host and name, so every new lab has the same ones; the
generated world draws them from its seeded random generator, so one spec always gives one world.
"""
from __future__ import annotations

import random
import time
import uuid

from .hyperv_model import GB, TB, Disk, GiB, SimHost, VirtualMachine, Volume
from .world import World, WorldSpec

_ID_NAMESPACE = uuid.UUID("5c3e9a52-7d0b-4f57-9a55-0a1b2c3d4e5f")
_PATH_FORBIDDEN = set('\\/:*?"<>|')


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
        if spec.template_ready:
            # every host joined, delegating to every other one: each passes every distribution check
            h = _domain_host(name, [p for p in names if p != name],
                             lp=rng.choice((32, 48, 64)), mem_gib=rng.choice((256, 384, 512, 768)))
        elif i % 10 == 0:
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
    if spec.template_ready and hosts:
        # added last and without random draws: the seeded VMs above are not shifted by it
        hosts[0].add_vm(_vm(hosts[0], "Win11-Gold", "Off", cpu=4, mem_gib=8, disk_gib=128, used_gib=24.6,
                            notes="Golden image for template benchmarks", now=now))
    return World(hosts, spec)


def build_world(spec: WorldSpec | None = None) -> World:
    spec = spec or WorldSpec()
    return default_world() if spec.is_default else generated_world(spec)
