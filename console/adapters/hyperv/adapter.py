"""HyperVAdapter: a standalone Hyper-V host through PowerShell over WinRM (pywinrm).

pywinrm blocks and does its XML/base64/requests work in Python, holding the GIL: every call runs in
a shared pool of worker PROCESSES (``loop.run_in_executor``), so the UI process does only asyncio and
Qt work. The reporter is only ever called from the coroutine, on the loop's thread.
"""
from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import sys
import threading
import uuid
import weakref
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from console.adapters.base import Capabilities, CheckResult, NullReporter, Reporter
from console.domain.addresses import Endpoint
from console.domain.connection_rules import winrm_endpoint
from console.domain.errors import ConsoleError, ValidationError
from console.domain.inventory import (ConnectionSettings, Host, HostFacts, HostStatus, Inventory,
                                      PowerAction, ProviderKind, VM, WinRMTransport)
from console.domain.tasks import LogLevel

from . import convert
from .scripts import MAX_COMMAND_CHARS
from .pools import PoolOperations
from .templates import TemplateOperations
from .worker import (ClientSpec, call_command, call_script, call_upload, call_uploads, rebuild_error,
                     worker_init)

#: Worker processes shared by every Hyper-V adapter that is not handed its own executor. With
#: threads, pywinrm's Python work held the GIL and the UI thread's longest stall during a 200-host
#: refresh was 0.23-0.48 s with 4 threads (0.7-1.4 s with 16). In processes it costs the UI nothing
#: but the pickling of plain data, so more calls may wait on the network at once.
SHARED_WORKERS = 8
#: Never 'fork': forking a process that runs Qt and threads copies locks held by other threads.
#: 'forkserver' (POSIX) starts one clean server that imports pywinrm once and forks each worker from
#: it; 'spawn' (Windows, frozen builds) starts each worker as a new interpreter, which re-imports the
#: entry script (the whole console) in every worker: ~2 s before the first refresh on 2 cores.
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
    and not getattr(sys, "frozen", False) else "spawn"
WORKER_PRELOAD = ["console.adapters.hyperv.worker", "winrm", "requests"]
#: Niceness of the worker processes: when the machine is busy the UI process wins the CPU. Without it
#: (2 cores, 8 workers and the lab) the refresh's longest stall was 0.29 s; with it, ~0.1 s.
WORKER_NICENESS = 10
_shared_executor: ProcessPoolExecutor | None = None
_shared_guard = threading.Lock()


def shared_executor() -> Executor:
    """The shared process pool, created on first use (after the window's first paint)."""
    global _shared_executor
    with _shared_guard:
        if _shared_executor is None:
            context = multiprocessing.get_context(START_METHOD)
            if START_METHOD == "forkserver":
                context.set_forkserver_preload(WORKER_PRELOAD)
            _shared_executor = ProcessPoolExecutor(
                max_workers=SHARED_WORKERS, mp_context=context,
                # worker.py is light: a worker lowers its priority before it imports pywinrm
                initializer=worker_init, initargs=(WORKER_NICENESS,))
            _register_exit_once()
        return _shared_executor


def shutdown_shared_executor(wait: bool = False) -> None:
    """Stop the shared worker processes (at exit, or when the pool broke). Calls still running in a
    worker are abandoned: their sessions die with the process."""
    global _shared_executor
    with _shared_guard:
        executor, _shared_executor = _shared_executor, None
    if executor is None:
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    # Wait for the pool's manager thread to see the workers gone and close its wake-up pipe. Left
    # running, it can close that pipe while concurrent.futures' own exit hook writes to it, and the
    # interpreter prints "OSError: [Errno 9] Bad file descriptor" on the way out.
    if manager is not None and manager.is_alive():
        manager.join(5)
    if wait:
        for process in processes:
            process.join(5)


def _discard_broken(executor: Executor) -> None:
    global _shared_executor
    with _shared_guard:
        if _shared_executor is not executor:
            return
        _shared_executor = None
    executor.shutdown(wait=False, cancel_futures=True)


_exit_registered = False


def _register_exit_once() -> None:
    global _exit_registered
    if _exit_registered:
        return
    _exit_registered = True
    # threading's exit hooks run in reverse order of registration and before atexit's: registered
    # after concurrent.futures' own (which waits for the workers' calls), this one runs first.
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(shutdown_shared_executor)
    else:
        import atexit
        atexit.register(shutdown_shared_executor)


# One upload per host at a time (two uploads of the same script would append to the same temporary
# file), only around uploads: runs of uploaded scripts go in parallel. The locks live here, in the
# parent, per event loop.
_upload_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]]" = \
    weakref.WeakKeyDictionary()


def _upload_lock(endpoint: Endpoint) -> asyncio.Lock:
    locks = _upload_locks.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(f"{endpoint.host}:{endpoint.port}", asyncio.Lock())


# Which long scripts (by id: the SHA-256 of their text) each host has in the account's
# $env:TEMP, as far as this session knows: {id: generation of the upload}. Per event loop (the
# session) and per endpoint and account (each account has its own TEMP); shared by every adapter
# of that host, so a pool's clones upload each script once per host. A host that lost a file
# answers ObjectNotFound and gets it again (``HyperVAdapter.run_script``).
_uploaded: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int, str], dict[str, int]]]" = \
    weakref.WeakKeyDictionary()
_upload_generation = itertools.count(1)


def _uploaded_ids(endpoint: Endpoint, username: str) -> dict[str, int]:
    hosts = _uploaded.setdefault(asyncio.get_running_loop(), {})
    return hosts.setdefault((endpoint.host.lower(), endpoint.port, username.lower()), {})


#: Invoke-Uploaded runs of one call at most: the first, and one after re-sending a lost upload.
_MAX_UPLOAD_ATTEMPTS = 3


class _WorkerClient:
    """The parent's side of one host's WinRM client: the plain data a worker needs, and whether the
    adapter was closed. The sessions themselves are pooled in each worker process."""

    def __init__(self, spec: ClientSpec) -> None:
        self.spec = spec
        self.endpoint = spec.endpoint
        self.max_command_chars = spec.max_command_chars
        self.closed = False

    def check_open(self) -> None:
        if self.closed:
            raise ConsoleError(f"The connection to {self.endpoint.host} has been closed.")

    def close(self) -> None:
        self.closed = True


def _endpoint_for(settings: ConnectionSettings, password: str) -> Endpoint:
    if settings.kind not in (ProviderKind.HYPERV, ProviderKind.HYPERV_CLUSTER):
        raise ValidationError(f"A {settings.kind.label} provider cannot be reached through WinRM.",
                              "Choose the Nutanix connection for Prism addresses.", field="kind")
    endpoint = winrm_endpoint(settings)
    if WinRMTransport(settings.transport) is not WinRMTransport.KERBEROS and not password:
        raise ValidationError(f"Enter the password for {settings.username}.", field="password")
    return endpoint


class HyperVAdapter(TemplateOperations, PoolOperations):
    """One standalone Hyper-V host (``ConnectionSettings.kind`` hyperv). Its template operations
    (checkpoints, export, copy, import) are in templates.py, its pool clone operations in pools.py."""

    def __init__(self, settings: ConnectionSettings, password: str, executor: Executor | None = None,
                 *, max_command_chars: int = MAX_COMMAND_CHARS, copy_poll_interval: float = 2.0) -> None:
        self.endpoint = _endpoint_for(settings, password)
        standalone = settings.kind is ProviderKind.HYPERV
        self.capabilities = Capabilities(can_power=True, can_snapshot=True, can_distribute=standalone,
                                         can_full_clone=True, can_link_clone=True, can_quick_clone=True)
        #: seconds between two progress polls of a template copy (the lab passes less: it runs faster)
        self._copy_poll_interval = copy_poll_interval
        self._own_executor = executor     # None: the shared pool, created at the first call
        self._client = _WorkerClient(ClientSpec(self.endpoint, settings.username, password,
                                                WinRMTransport(settings.transport).value, max_command_chars))
        self._computer_name = ""    # learned from the host; VMs carry it as their host

    @property
    def host(self) -> str:
        return self.endpoint.host

    async def run_script(self, name: str, params: dict[str, Any], operation: str) -> Any:
        """Run scripts/<name>.ps1 on the host (in a worker process) and return its JSON result.

        A script too long for one command line is uploaded once per host without its parameters
        (under the host's upload lock) and then run with them in one command (Invoke-Uploaded), in
        parallel with other runs. A host that lost the upload gets it again, and the run is retried
        once; a copy the host refused as damaged is forgotten (the next run uploads it again)."""
        client = self._client
        client.check_open()
        uploaded = _uploaded_ids(self.endpoint, client.spec.username)
        lost = 0
        for _ in range(_MAX_UPLOAD_ATTEMPTS + 1):
            known = dict(uploaded)
            status, value = await self._call(call_script, client.spec, name, params, operation,
                                             frozenset(known))
            if status == "ok":
                return value
            if status == "error":
                raise rebuild_error(value)
            if status == "once":
                return await self._run_once(name, value, operation)
            if status in ("missing", "damaged"):
                upload_id, record = value
                if uploaded.get(upload_id) == known.get(upload_id):
                    uploaded.pop(upload_id, None)     # not if another call uploaded it since
                lost += 1
                if status == "damaged" or lost > 1:
                    raise rebuild_error(record)
            else:
                upload_id = value
            await self._upload(name, upload_id, uploaded, operation)
        raise ConsoleError(f"The script {name} could not be kept on {self.host}: other calls kept "
                           "replacing it.", "Retry the operation.")

    async def _upload(self, name: str, upload_id: str, uploaded: dict[str, int], operation: str) -> None:
        """Upload the long script ``name`` unless another call did while this one waited for the lock."""
        async with _upload_lock(self.endpoint):
            self._client.check_open()
            if upload_id in uploaded:
                return
            status, value = await self._call(call_upload, self._client.spec, name, operation)
            if status == "error":
                raise rebuild_error(value)
            uploaded[upload_id] = next(_upload_generation)

    async def _run_once(self, name: str, commands: list[str], operation: str) -> Any:
        """A one-off upload (parameters too long to hand to an uploaded script): pieces under the
        upload lock, then the run, which deletes the file before running it."""
        *pieces, run = commands
        async with _upload_lock(self.endpoint):
            self._client.check_open()
            status, value = await self._call(call_uploads, self._client.spec, pieces, operation)
        if status == "ok":
            self._client.check_open()
            status, value = await self._call(call_command, self._client.spec, name, run, operation)
        if status == "error":
            raise rebuild_error(value)
        return value

    async def _call(self, function: Any, *args: Any) -> tuple[str, Any]:
        loop = asyncio.get_running_loop()
        executor = self._own_executor or shared_executor()
        try:
            return await loop.run_in_executor(executor, function, *args)
        except BrokenProcessPool as exc:
            if executor is not self._own_executor:
                _discard_broken(executor)            # the next call starts a fresh pool
            raise ConsoleError(f"The WinRM worker process stopped during the call to {self.host}.",
                               "Retry the operation.", f"{type(exc).__name__}: {exc}") from None

    async def _facts(self) -> HostFacts:
        facts = convert.host_facts(await self.run_script("Get-HostFacts", {}, "the host facts query"),
                                   self.host)
        self._computer_name = facts.computer_name
        return facts

    def _connecting(self, reporter: Reporter) -> None:
        reporter.progress(0.1, f"Connecting to {self.host}")
        reporter.log(LogLevel.INFO, f"Connecting to {self.endpoint.url} as the configured account")

    async def check(self, reporter: Reporter = NullReporter()) -> CheckResult:
        self._connecting(reporter)
        facts = await self._facts()
        version = f"{facts.os_caption} {facts.os_version} / Hyper-V {facts.hyperv_version}"
        reporter.log(LogLevel.INFO, f"{facts.computer_name}: {version}; "
                     + (f"member of {facts.domain}" if facts.part_of_domain else f"workgroup {facts.domain}"))
        reporter.progress(1.0, "Done")
        return CheckResult(endpoint_kind="hyperv", version=version, hosts=[facts])

    async def facts(self, reporter: Reporter = NullReporter()) -> list[HostFacts]:
        self._connecting(reporter)
        facts = await self._facts()
        reporter.log(LogLevel.INFO, f"Read the facts of {facts.computer_name}")
        reporter.progress(1.0, "Done")
        return [facts]

    async def inventory(self, reporter: Reporter = NullReporter()) -> Inventory:
        self._connecting(reporter)
        facts, listing = await asyncio.gather(
            self._facts(), self.run_script("Get-Inventory", {}, "the inventory query"))
        name, vms = convert.inventory_vms(listing, self.host)
        reporter.log(LogLevel.INFO, f"{name}: {len(vms)} virtual machine(s)")
        reporter.progress(1.0, "Done")
        host = Host(name=facts.computer_name, status=HostStatus.CONNECTED, facts=facts, vms=vms)
        return Inventory(provider_id=0, hosts=[host])

    async def power(self, vm_id: str, action: PowerAction, reporter: Reporter = NullReporter()) -> VM:
        vm_id = _checked_vm_id(vm_id)
        try:
            action = PowerAction(action)
        except ValueError:
            raise ValidationError(f"'{action}' is not a power action.",
                                  "Use start, shutdown, stop or restart.", field="action") from None
        self._connecting(reporter)
        host_name = self._computer_name or self.host
        current = convert.vm(await self.run_script("Get-VM", {"vm_id": vm_id}, "the virtual machine query"),
                             host_name, self.host)
        reporter.log(LogLevel.INFO, f"VM '{current.name}' is {current.state.value}")
        reporter.progress(0.3, f"{action.label} VM '{current.name}'")
        reporter.log(LogLevel.INFO, f"{action.label} VM '{current.name}' on {self.host}")
        result = await self.run_script("Set-VMPowerState", {"vm_id": vm_id, "action": action.value},
                                       f"{_OPERATION[action]} of VM '{current.name}'")
        after, changed, note = convert.power_result(result, host_name, self.host)
        if changed:
            reporter.log(LogLevel.INFO, f"VM '{after.name}' is now {after.state.value}")
        else:
            reporter.log(LogLevel.INFO, f"Nothing to do for VM '{after.name}': "
                         f"{note or 'it is already in that state.'}")
        reporter.progress(1.0, "Done")
        return after

    async def close(self) -> None:
        # The sessions live in the worker processes (pooled per client there); the shared pool
        # outlives any one adapter.
        self._client.close()


_OPERATION = {PowerAction.START: "the start", PowerAction.SHUTDOWN: "the shutdown",
              PowerAction.STOP: "the turn-off", PowerAction.RESTART: "the restart"}


def _checked_vm_id(vm_id: str) -> str:
    text = str(vm_id).strip()
    try:
        uuid.UUID(text)
        return text        # as the host wrote it: the check is only that it is a GUID
    except ValueError:
        raise ValidationError(f"'{vm_id}' is not a Hyper-V virtual machine id.",
                              "A Hyper-V VM id is a GUID such as 8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f.",
                              field="vm_id") from None
