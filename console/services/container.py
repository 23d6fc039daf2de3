"""Builds the services the GUI and vdictl stand on: store, secrets, task engine, providers, lab."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from console.secrets import SecretStore
from console.store import Farm, FarmLock

from .events import EventBus
from .pool_keeper import PoolKeeper
from .pools import PoolService
from .provider_rules import lab_adapter_factory
from .providers import AdapterFactory, ProviderService, default_adapter_factory
from .tasks import TaskEngine
from .templates import TemplateService

log = logging.getLogger(__name__)

APP_NAME = "vdi-console"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


def default_farm_path(lab: bool = False) -> Path:
    # simulated providers never mix with real ones
    return data_dir() / ("lab-farm.sqlite" if lab else "farm.sqlite")


def default_lab_state() -> Path:
    return data_dir() / "lab-state"


@dataclass
class Services:
    bus: EventBus
    store: Farm
    secrets: SecretStore
    tasks: TaskEngine
    providers: ProviderService
    farm_path: Path
    templates: TemplateService | None = None   # always set by build_services
    pools: PoolService | None = None           # always set by build_services
    lab: Any = None                       # console.lab.Lab when built with lab=True
    interrupted: list[int] = field(default_factory=list)   # journal tasks marked at start()
    #: run the pool keeper (buffers, unused clones). The GUI does; a vdictl command does not: the
    #: keeper would start provisioning in a process that ends with the command and cancels it.
    keep_pools: bool = True
    _lock: FarmLock | None = None
    _started: bool = False

    async def start(self) -> None:
        """Open the farm, mark tasks a dead console left running as interrupted (only when no other
        console process uses this farm), start the lab and register its hosts and Prism endpoints."""
        self.store.open()
        self._lock = FarmLock(self.farm_path)
        if self._lock.acquire():
            self.interrupted = self.store.tasks.mark_running_interrupted()
            # targets a killed console left distributing/adding/removing: FAILED "Interrupted..."
            self.templates.mark_interrupted()
            # clones a killed console left being made/updated/deleted: INCOMPLETE (clean_up removes them)
            self.pools.mark_interrupted()
        self._started = True
        self.providers.preload_adapters()     # adapter imports in a thread, not on the UI thread
        if self.lab is not None:
            hosts = await asyncio.to_thread(self.lab.start)
            self.providers.register_lab_hosts(hosts)
            self.providers.register_lab_prism(getattr(self.lab, "prism", []))
        if self.keep_pools:
            self.pools.keeper = self.pools.keeper or PoolKeeper(self.pools)
            self.pools.keeper.start()

    async def close(self) -> None:
        """Cancel running tasks (state cancelled), close adapters, stop the lab, close the farm."""
        if not self._started:
            return
        self._started = False
        try:
            if self.pools.keeper is not None:
                await self.pools.keeper.stop()
            await self.tasks.close()
            self.pools._watchers.close()
            await self.providers.close()
        finally:
            if self.lab is not None:
                await asyncio.to_thread(self.lab.stop)
            self.store.close()
            if self._lock is not None:
                self._lock.release()


def serve_lab(state_dir: Path | None = None, speed: float = 1.0) -> None:
    """``vdictl lab serve``: the lab alone, in the foreground, until Ctrl+C."""
    from console.lab import serve_forever
    serve_forever(Path(state_dir) if state_dir is not None else default_lab_state(), speed)


def build_services(farm_path: Path | None = None, lab: bool = False, lab_state: Path | None = None,
                   lab_speed: float = 1.0, lab_world: Any = None, secrets: SecretStore | None = None,
                   adapter_factory: AdapterFactory = default_adapter_factory,
                   keep_pools: bool = True) -> Services:
    """Wire everything; nothing touches the disk or network until ``await services.start()``."""
    path = Path(farm_path) if farm_path is not None else default_farm_path(lab)
    bus = EventBus()
    farm = Farm(path, connect=False)
    secret_store = secrets if secrets is not None else SecretStore()
    engine = TaskEngine(farm, bus)
    if lab and adapter_factory is default_adapter_factory:
        adapter_factory = lab_adapter_factory(lab_speed)    # lab Prism tasks run lab_speed times faster
    providers = ProviderService(farm, secret_store, engine, bus, adapter_factory)
    lab_object = None
    if lab:
        from console.lab import Lab     # only when asked: the lab is not part of a production run
        lab_object = Lab(Path(lab_state) if lab_state is not None else default_lab_state(),
                         speed=lab_speed, spec=lab_world)
    templates = TemplateService(farm, secret_store, engine, bus, providers)
    pools = PoolService(farm, secret_store, engine, bus, providers, templates, speed=lab_speed if lab else 1.0)
    if lab:
        pools.lab_figures = lab_host_figures(lab_speed)
    return Services(bus=bus, store=farm, secrets=secret_store, tasks=engine, providers=providers,
                    farm_path=path, templates=templates, pools=pools, lab=lab_object,
                    keep_pools=keep_pools)


def lab_host_figures(speed: float):
    """What a lab host does per second at ``speed`` (console/lab/pool_timings.py), for the pool
    editor's estimates on lab hosts."""
    from console.domain.pool_rules import HostFigures
    from console.lab.pool_timings import TIMINGS
    boot = TIMINGS["prepare"] + TIMINGS["start"] + TIMINGS["boot"] + TIMINGS["rename-join"]
    return HostFigures(local_copy_rate=TIMINGS["full-copy-rate"] * speed, boot_seconds=boot / speed,
                       linked_seconds=TIMINGS["linked-create"] / speed,
                       checkpoint_seconds=TIMINGS["quick-checkpoint"] / speed,
                       merge_rate=TIMINGS["merge-rate"] * speed)
