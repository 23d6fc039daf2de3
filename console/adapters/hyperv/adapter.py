"""HyperVAdapter: a standalone Hyper-V host through PowerShell over WinRM (pywinrm).

pywinrm blocks, so every call runs in a bounded thread pool via ``loop.run_in_executor``; the
reporter is only ever called from the coroutine, on the loop's thread.
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from console.adapters.base import Capabilities, CheckResult, NullReporter, Reporter
from console.domain.addresses import Endpoint
from console.domain.connection_rules import winrm_endpoint
from console.domain.errors import ValidationError
from console.domain.inventory import (ConnectionSettings, Host, HostFacts, HostStatus, Inventory,
                                      PowerAction, ProviderKind, VM, WinRMTransport)
from console.domain.tasks import LogLevel

from . import convert
from .scripts import MAX_COMMAND_CHARS
from .winrm_client import WinRMClient

#: Threads shared by every Hyper-V adapter that is not handed its own executor. pywinrm does its
#: requests/XML/base64 work in Python and holds the GIL while it does: every runnable worker delays
#: the UI thread's next turn. Measured with benchmarks/bench_inventory.py (200 hosts, 2 cores): with
#: 16 threads the longest UI stall was 0.7-1.4 s, with 8 0.4-1.0 s, with 4 0.23-0.30 s, and the fill
#: and refresh took no longer (the hosts, not the threads, are the bottleneck). The cost: at most 4
#: WinRM calls wait on the network at once, so a slow WAN host delays the queue behind it.
SHARED_WORKERS = 4
_shared_executor: ThreadPoolExecutor | None = None
_shared_guard = threading.Lock()


def shared_executor() -> ThreadPoolExecutor:
    global _shared_executor
    with _shared_guard:
        if _shared_executor is None:
            _shared_executor = ThreadPoolExecutor(max_workers=SHARED_WORKERS, thread_name_prefix="winrm")
        return _shared_executor


def _endpoint_for(settings: ConnectionSettings, password: str) -> Endpoint:
    if settings.kind not in (ProviderKind.HYPERV, ProviderKind.HYPERV_CLUSTER):
        raise ValidationError(f"A {settings.kind.label} provider cannot be reached through WinRM.",
                              "Choose the Nutanix connection for Prism addresses.", field="kind")
    endpoint = winrm_endpoint(settings)
    if WinRMTransport(settings.transport) is not WinRMTransport.KERBEROS and not password:
        raise ValidationError(f"Enter the password for {settings.username}.", field="password")
    return endpoint


class HyperVAdapter:
    """One standalone Hyper-V host (``ConnectionSettings.kind`` hyperv)."""

    def __init__(self, settings: ConnectionSettings, password: str, executor: Executor | None = None,
                 *, max_command_chars: int = MAX_COMMAND_CHARS) -> None:
        self.endpoint = _endpoint_for(settings, password)
        standalone = settings.kind is ProviderKind.HYPERV
        self.capabilities = Capabilities(can_power=True, can_distribute=standalone)
        self._executor = executor or shared_executor()
        self._client = WinRMClient(self.endpoint, settings.username, password,
                                   WinRMTransport(settings.transport).value, max_command_chars)
        self._computer_name = ""    # learned from the host; VMs carry it as their host

    @property
    def host(self) -> str:
        return self.endpoint.host

    async def run_script(self, name: str, params: dict[str, Any], operation: str) -> Any:
        """Run scripts/<name>.ps1 on the host (in the executor) and return its JSON result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._client.run_script, name, params, operation)

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
        # Closing sockets does not block; the shared executor outlives any one adapter.
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
