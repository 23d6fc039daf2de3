"""The Prism side of the lab: a Prism Element endpoint (cluster NTNX-PE-01) and a Prism Central endpoint
(managing NTNX-PE-01 and NTNX-PE-02), each HTTPS on its own port, over one persisted ``PrismWorld``.

    prism = PrismLab(Path("state"), speed=50)
    for p in prism.start():            # non-blocking: serves in daemon threads
        print(p.kind, p.name, p.url, p.fingerprint)
    prism.set_fault("NTNX-PE-01", "auth")     # see FAULTS; None clears
    prism.stop()

``Lab`` (console/lab/lab.py) starts one of these with the Hyper-V hosts; ``Lab.prism`` lists them.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..fault_timers import FaultTimers
from . import build
from .build import PrismSpec
from .certs import CertFiles, EndpointCertificate
from .endpoint import PrismEndpoint
from .world import PrismWorld

USERNAME = "admin"
PASSWORD = "Nutanix/4u-Lab"
#: offline: connection refused; slow: tasks take 10x longer; auth: 401 to everything;
#: clone-500: clone requests answer 500; clone-fails-60: clone tasks fail at 60 % leaving a partial VM;
#: cert-replaced: a new certificate (kept after the fault is cleared, as a real renewal would be);
#: cert-expired: a certificate whose validity ended yesterday; old-version: AOS 4.7 / an old Prism Central
FAULTS = ("offline", "slow", "auth", "clone-500", "clone-fails-60", "cert-replaced", "cert-expired",
          "old-version")
ENDPOINTS = (("nutanix-pe", build.PE01), ("nutanix-pc", build.PC))
FLUSH_INTERVAL = 0.25


@dataclass(frozen=True)
class LabPrism:
    kind: str              # "nutanix-pe" | "nutanix-pc"
    name: str              # "NTNX-PE-01" | "NTNX-PC-01"
    url: str               # https://127.0.0.1:PORT
    username: str
    password: str
    fingerprint: str       # SHA-256 of the DER certificate, "AA:BB:..."

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def address(self) -> str:
        return self.url.split("://", 1)[1].rsplit(":", 1)[0]


class PrismLab:
    def __init__(self, state_dir: Path, speed: float = 1.0, spec: PrismSpec | None = None,
                 host: str = "127.0.0.1", base_port: int = 0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.state_dir = Path(state_dir)
        self.speed = float(speed)
        self.spec = spec
        self.bind_host = host
        self.base_port = int(base_port)
        self.username, self.password = USERNAME, PASSWORD
        self._world: PrismWorld | None = None
        self._endpoints: dict[str, PrismEndpoint] = {}
        self._certs = {name: EndpointCertificate(self.state_dir / "prism" / "tls", name) for _, name in ENDPOINTS}
        self._served: dict[str, CertFiles] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._timers = FaultTimers(self._lock, lambda name, fault: self.set_fault(name, fault))
        self._running = False

    # ------------------------------------------------------------------ lifecycle
    @property
    def world(self) -> PrismWorld:
        if self._world is None:
            with self._lock:
                if self._world is None:
                    self._world = PrismWorld.load_or_create(self.state_dir, self.spec)
        return self._world

    @property
    def running(self) -> bool:
        return self._running

    @property
    def names(self) -> list[str]:
        return [name for _, name in ENDPOINTS]

    def start(self) -> list[LabPrism]:
        with self._lock:
            if self._running:
                return self.endpoints
            world = self.world
            try:
                for i, (kind, name) in enumerate(ENDPOINTS):
                    ep = PrismEndpoint(self, kind, name, self.bind_host, self.base_port + i if self.base_port else 0)
                    self._endpoints[name] = ep
                    self._load_certificate(name, world.fault(name))
                    if world.fault(name) == "offline":
                        ep.port = ep.port or _free_port(self.bind_host)
                    else:
                        ep.open()
            except BaseException:
                self._close_all()
                raise
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, name="lab-prism-tasks", daemon=True)
            self._ticker.start()
            self._running = True
            return self.endpoints

    def stop(self) -> None:
        """Stop serving; tasks still running are abandoned (they read as failed after a restart)."""
        with self._lock:
            self._timers.cancel_all()
            was_running, self._running = self._running, False
            self._stop.set()
            if self._world is not None:
                self._world.task_added.set()
            if self._ticker is not None:
                self._ticker.join(timeout=5)
                self._ticker = None
            self._close_all()
        if was_running and self._world is not None:
            self._world.advance()
            self._world.save_all()

    def _close_all(self) -> None:
        for ep in self._endpoints.values():
            ep.close()
        self._endpoints.clear()

    def _tick(self) -> None:
        """Apply tasks as they end and write what changed, a few times a second at most."""
        world = self.world
        last_flush = 0.0
        while not self._stop.is_set():
            world.advance()
            now = time.monotonic()
            if now - last_flush >= FLUSH_INTERVAL:
                world.flush()
                last_flush = now
            due = world.next_due()
            timeout = FLUSH_INTERVAL if due is None else max(0.0, min(FLUSH_INTERVAL, due - time.time()))
            if world.task_added.wait(timeout):
                world.task_added.clear()

    # ------------------------------------------------------------------ what the console sees
    @property
    def endpoints(self) -> list[LabPrism]:
        with self._lock:
            return [LabPrism(kind, name, f"https://{self._url_host()}:{self._endpoints[name].port}",
                             self.username, self.password, self._served[name].fingerprint)
                    for kind, name in ENDPOINTS if name in self._endpoints]

    def endpoint(self, name: str) -> LabPrism:
        for p in self.endpoints:
            if p.name.lower() == name.lower():
                return p
        raise KeyError(name)

    def cert_path(self, name: str) -> Path:
        """The PEM file of the certificate the endpoint serves now (a CA bundle for a verifying client)."""
        return self._served[self._name(name)].cert_path

    def cert_pem(self, name: str) -> str:
        return self._served[self._name(name)].pem

    def _url_host(self) -> str:
        return "127.0.0.1" if self.bind_host in ("", "0.0.0.0") else self.bind_host

    def _name(self, name: str) -> str:
        for n in self.names:
            if n.lower() == name.lower():
                return n
        raise KeyError(f"no Prism endpoint named {name!r}; the lab has {', '.join(self.names)}")

    # ------------------------------------------------------------------ faults
    def set_fault(self, name: str, fault: str | None, delay: float | None = None) -> None:
        """Set (or clear with None) an endpoint's fault (see FAULTS); persisted with the world.
        ``delay``: apply it that many seconds from now, from a timer thread."""
        name = self._name(name)
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown Prism fault {fault!r}; expected one of {', '.join(FAULTS)} or None")
        if delay is not None and delay > 0:
            self._timers.start(delay, name, fault)
            return
        with self._lock:
            old = self.world.set_fault(name, fault)
            self.world.flush()
            ep = self._endpoints.get(name) if self._running else None
            if fault == "cert-replaced":
                self._served[name] = self._certs[name].replace()
            if fault in ("cert-replaced", "cert-expired") or old == "cert-expired":
                self._load_certificate(name, fault)
            if ep is None:
                return
            if fault == "offline" and old != "offline":
                ep.close()
            elif fault != "offline" and old == "offline":
                ep.open()

    def fault(self, name: str) -> str | None:
        return self.world.fault(self._name(name))

    def _load_certificate(self, name: str, fault: str | None) -> None:
        cert = self._certs[name]
        files = cert.expired() if fault == "cert-expired" else cert.ensure()
        self._served[name] = files
        ep = self._endpoints.get(name)
        if ep is not None:
            ep.context = EndpointCertificate.server_context(files)


def _free_port(host: str) -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()
