"""The embedded lab: a simulated world of standalone Hyper-V hosts, each served over WinRM on its own port.

    lab = Lab(Path("state"), speed=50)
    for h in lab.start():              # non-blocking: serves in daemon threads
        print(h.name, h.url)           # http://127.0.0.1:PORT/wsman, Basic auth
    lab.set_fault("HV02", "offline")   # or "slow", "auth", "disk-full"; None clears
    for p in lab.prism:                # the Prism endpoints (console/lab/prism), started with the hosts
        print(p.kind, p.url, p.fingerprint)
    lab.set_fault("NTNX-PE-01", "clone-fails-60")   # Prism faults: console.lab.prism.FAULTS
    lab.take_clones("HV01", 3)         # simulated users log on to 3 ready pool clones (pool_guests)
    lab.stop()
"""
from __future__ import annotations

import base64
import binascii
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .fault_timers import FaultTimers
from .host_endpoint import HostEndpoint
from .hyperv_model import FAULTS
from .pool_guests import logged_on as _logged_on
from .pool_guests import release_clones as _release_clones
from .pool_guests import take_clones as _take_clones
from .prism import LabPrism, PrismLab, PrismSpec
from .reactor import Reactor
from .world import World, WorldSpec

#: the credentials every simulated host accepts (user names case-insensitively, as Windows does)
USERNAME = "lab\\admin"
PASSWORD = "Lab-Passw0rd!"
ACCEPTED_USERS = ("lab\\admin", "administrator")


@dataclass(frozen=True)
class LabHost:
    name: str
    url: str              # http://127.0.0.1:PORT/wsman
    username: str
    password: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def address(self) -> str:
        return self.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]


@dataclass
class _ArmedFault:
    fault: str | None
    after: float | None           # seconds after the operation starts; None: its middle
    script: str | None            # only an operation of this script (None: any)


class Lab:
    """The simulated hosts, each on its own port of ``host`` (``base_port + i`` when given, else
    ephemeral ports), and with ``prism`` the Prism Element and Prism Central endpoints (HTTPS, on
    ``base_port + 500 + i`` when given; ``prism_spec`` adds generated VMs for paging benchmarks)."""

    def __init__(self, state_dir: Path, speed: float = 1.0, spec: WorldSpec | None = None,
                 host: str = "127.0.0.1", base_port: int = 0, strict_encoding: bool = True,
                 prism: bool = True, prism_spec: PrismSpec | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.state_dir = Path(state_dir)
        self.speed = float(speed)
        self.bind_host = host
        self.base_port = int(base_port)
        #: encode stdout in the shell's code page (437 for pywinrm) unless the script switched
        #: [Console]::OutputEncoding to UTF-8, as Windows does; False: always UTF-8
        self.strict_encoding = strict_encoding
        self.spec = spec
        self._world: World | None = None
        self.hosts: list[LabHost] = []
        self._endpoints: dict[str, HostEndpoint] = {}
        self._reactor: Reactor | None = None
        self._armed: dict[str, list[_ArmedFault]] = {}
        self._fault_lock = threading.RLock()     # serialises fault changes, start and stop
        self._armed_lock = threading.RLock()     # armed faults and timers (taken by operations)
        self._timers = FaultTimers(self._armed_lock, lambda name, fault: self.set_fault(name, fault))
        self._running = False
        self.prism_lab: PrismLab | None = (
            PrismLab(self.state_dir, speed=speed, spec=prism_spec, host=host,
                     base_port=self.base_port + 500 if self.base_port else 0) if prism else None)

    @property
    def prism(self) -> list[LabPrism]:
        """The Prism endpoints being served (empty before start, or with ``prism=False``)."""
        return self.prism_lab.endpoints if self.prism_lab is not None and self.prism_lab.running else []

    # ------------------------------------------------------------------ lifecycle
    @property
    def world(self) -> World:
        """The simulated world (loaded from the state folder, or built and saved, on first use: the
        constructor touches neither disk nor network). Hold ``world.lock`` to read or change it."""
        if self._world is None:
            with self._fault_lock:
                if self._world is None:
                    self._world = World.load_or_create(self.state_dir, self.spec)
        return self._world

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> list[LabHost]:
        if self._running:
            return list(self.hosts)
        world = self.world
        self._reactor = Reactor()
        self._reactor.start()
        with world.lock:
            names = list(world.hosts)
            faults = {n: world.hosts[n].fault for n in names}
        try:
            for i, name in enumerate(names):
                port = self.base_port + i if self.base_port else 0
                ep = HostEndpoint(self, name, self.bind_host, port)
                self._endpoints[name] = ep
                if faults[name] == "offline":
                    ep.reserve_port()
                else:
                    ep.open()
            if self.prism_lab is not None:
                self.prism_lab.start()
        except BaseException:
            self._close_all()
            if self.prism_lab is not None:
                self.prism_lab.stop()
            raise
        self.hosts = [LabHost(n, f"http://{self._url_host()}:{self._endpoints[n].port}/wsman",
                              USERNAME, PASSWORD) for n in names]
        self._running = True
        return list(self.hosts)

    def stop(self) -> None:
        """Stop serving: operations in progress are abandoned (their VMs go back to where they were),
        connections dropped, the world saved."""
        with self._fault_lock:
            with self._armed_lock:
                self._timers.cancel_all()
                self._armed.clear()
            was_running, self._running = self._running, False
            self._close_all()
        if self.prism_lab is not None:
            self.prism_lab.stop()
        if was_running and self._world is not None:
            self._world.save_all()

    def _close_all(self) -> None:
        for ep in self._endpoints.values():
            ep.close()
        self._endpoints.clear()
        if self._reactor is not None:
            self._reactor.stop()
            self._reactor = None

    def __enter__(self) -> "Lab":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _url_host(self) -> str:
        return "127.0.0.1" if self.bind_host in ("", "0.0.0.0") else self.bind_host

    def host(self, name: str) -> LabHost:
        for h in self.hosts:
            if h.name.lower() == name.lower():
                return h
        raise KeyError(name)

    # ------------------------------------------------------------------ auth
    def authenticate(self, header: str | None) -> str | None:
        """The user name when the Basic credentials are right, else None."""
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        user, sep, password = text.partition(":")
        if not sep or user.lower() not in ACCEPTED_USERS or password != PASSWORD:
            return None
        return user

    # ------------------------------------------------------------------ faults
    def set_fault(self, host_name: str, fault: str | None, delay: float | None = None) -> None:
        """Set (or clear with None) a host's fault: "offline", "slow", "auth" or "disk-full".
        Persisted with the world. ``delay``: apply it that many seconds from now (in a timer thread).

        offline: the listener is closed (connections refused), operations running on the host are
        abandoned (their VMs go back to where they were) and open connections dropped without an
        answer; clearing it listens again on the same port.

        A Prism endpoint's name ("NTNX-PE-01", "NTNX-PC-01") sets that endpoint's fault instead
        (console.lab.prism.FAULTS)."""
        if self._is_prism(host_name):
            self.prism_lab.set_fault(host_name, fault, delay)       # type: ignore[union-attr]
            return
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {', '.join(FAULTS)} or None")
        if delay is not None and delay > 0:
            self._timers.start(delay, host_name, fault)
            return
        with self._fault_lock:
            with self.world.lock:
                host = self.world.host(host_name)
                old, host.fault = host.fault, fault
            self.world.save_host(host.name)
            ep = self._endpoints.get(host.name) if self._running else None
            if ep is None:
                return
            if fault == "offline" and old != "offline":
                ep.close()
            elif fault != "offline" and old == "offline":
                ep.open()

    def _is_prism(self, name: str) -> bool:
        return self.prism_lab is not None and name.lower() in (n.lower() for n in self.prism_lab.names)

    def fault(self, host_name: str) -> str | None:
        if self._is_prism(host_name):
            return self.prism_lab.fault(host_name)                  # type: ignore[union-attr]
        with self.world.lock:
            return self.world.host(host_name).fault

    def arm_fault(self, host_name: str, fault: str | None, after: float | None = None,
                  script: str | None = None) -> None:
        """Set ``fault`` in the middle of the next operation on the host: ``after`` seconds (real time)
        after it starts, or halfway through it when ``after`` is None. ``script`` limits the trigger to
        one script name (e.g. "Set-VMPowerState"). One-shot."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        name = self.world.host(host_name).name
        with self._armed_lock:
            self._armed.setdefault(name, []).append(_ArmedFault(fault, after, script))

    # ------------------------------------------------------------------ simulated users (pools)
    def take_clones(self, host_name: str | None, count: int, user_prefix: str = "user") -> list[str]:
        """Users log on to ``count`` running, ready, unused pool clones (of ``host_name``, or of any
        host): their guests then report ``logged_on_user`` ("CORP\\user001"). Returns the VM names
        (fewer when fewer are free). Persisted with the world."""
        return _take_clones(self.world, host_name, count, user_prefix)

    def release_clones(self, names: list[str]) -> list[str]:
        """The users of these clones (VM names) log off; returns the names that had one."""
        return _release_clones(self.world, names)

    def logged_on(self, host_name: str | None = None) -> dict[str, str]:
        """{clone VM name: user} of the clones with a user logged on now."""
        return _logged_on(self.world, host_name)

    def _operation_began(self, host_name: str, script: str, total_seconds: float) -> None:
        with self._armed_lock:
            armed = self._armed.get(host_name)
            if not armed:
                return
            for i, a in enumerate(armed):
                if a.script is None or a.script.lower() == (script or "").lower():
                    del armed[i]
                    delay = a.after if a.after is not None else total_seconds / 2
                    self._timers.start(max(0.0, delay), host_name, a.fault)
                    return


def serve_forever(state_dir: Path, speed: float = 1.0, spec: WorldSpec | None = None,
                  host: str = "127.0.0.1", base_port: int = 0, out: TextIO | None = None,
                  stop_event: threading.Event | None = None) -> None:
    """``vdictl lab serve``: start the lab, print one line per host (name, address, credentials), then
    block until Ctrl-C (or ``stop_event``) and stop cleanly."""
    out = out or sys.stdout
    lab = Lab(Path(state_dir), speed=speed, spec=spec, host=host, base_port=base_port)
    started = time.perf_counter()
    hosts = lab.start()
    try:
        for h in hosts:
            fault = lab.fault(h.name)
            extra = f"  fault={fault}" if fault else ""
            print(f"{h.name}\t{h.url}\tuser={h.username}\tpassword={h.password}{extra}", file=out)
        for p in lab.prism:
            fault = lab.fault(p.name)
            extra = f"  fault={fault}" if fault else ""
            print(f"{p.name}\t{p.url}\tkind={p.kind}\tuser={p.username}\tpassword={p.password}"
                  f"\tfingerprint={p.fingerprint}{extra}", file=out)
        print(f"# {len(hosts)} simulated Hyper-V hosts and {len(lab.prism)} Prism endpoints "
              f"(speed x{speed:g}) started in "
              f"{time.perf_counter() - started:.2f} s; state in {lab.state_dir}. Ctrl-C stops.", file=out)
        out.flush()
        waiter = stop_event or threading.Event()
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()
        print("# lab stopped", file=out)
        out.flush()
