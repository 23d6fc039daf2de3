"""Pool clone operations of a Nutanix provider (issue #5), a mixin of PrismAdapter.

Clones are made with the existing ``clone()`` (full, or thin from the version's snapshot). Nutanix
has no guest agent of the console's: a clone is *ready* when it is powered on and reports an IP
address (v2.0 ``vm_nics[].ip_address``, v3 ``status.resources.nic_list[].ip_endpoint_list[].ip``), and
guest customization (rename, domain join) is out of scope: ``prepare_clone`` only says so.
"""
from __future__ import annotations

import asyncio
from typing import Any

from console.adapters.base import GuestState, NullReporter, Reporter
from console.domain.errors import NotFoundError
from console.domain.inventory import VM, PowerAction
from console.domain.tasks import LogLevel

from .checks import checked_uuid

#: VM reads in flight at once for one guest_states call
GUEST_READS_AT_ONCE = 8
_V2_DETAIL = {"include_vm_nic_config": "true"}


def _v2_guest(body: dict) -> tuple[str, str, list[str]]:
    ips = []
    for nic in body.get("vm_nics") or []:
        ips += [str(a) for a in (nic.get("ip_addresses") or []) if a]
        if nic.get("ip_address"):
            ips.append(str(nic["ip_address"]))
    return str(body.get("power_state") or ""), str(body.get("name") or ""), ips


def _v3_guest(entity: dict) -> tuple[str, str, list[str]]:
    status = entity.get("status") or {}
    resources = status.get("resources") or {}
    ips = [str(e.get("ip")) for nic in resources.get("nic_list") or []
           for e in nic.get("ip_endpoint_list") or [] if e.get("ip")]
    return str(resources.get("power_state") or ""), str(status.get("name") or ""), ips


class PrismPoolOperations:
    """The pool half of PrismAdapter (see the module docstring)."""

    api: str
    where: str
    http: Any

    # power() and delete() are PrismElementAdapter's / PrismCentralAdapter's / PrismAdapter's (before
    # this mixin in the MRO).
    power: Any
    delete: Any

    async def _guest_body(self, vm_id: str) -> tuple[str, str, list[str]] | None:
        """(power state, name, IPs) of one VM; None when Prism has no such VM."""
        if self.api == "v2":
            path, params = f"/api/nutanix/v2.0/vms/{vm_id}", _V2_DETAIL
        else:
            path, params = f"/api/nutanix/v3/vms/{vm_id}", None
        try:
            body = await self.http.request("GET", path, what=f"the VM {vm_id}", params=params)
        except NotFoundError:
            return None
        if not isinstance(body, dict):
            return None
        return _v2_guest(body) if self.api == "v2" else _v3_guest(body)

    async def guest_states(self, vm_ids: list[str], reporter: Reporter = NullReporter()) -> dict[str, GuestState]:
        """Ready = powered on with an IP address. Keys are the ids as given; unknown ids are absent."""
        ids = [checked_uuid(v) for v in vm_ids]
        gate = asyncio.Semaphore(GUEST_READS_AT_ONCE)

        async def one(vm_id: str) -> tuple[str, tuple[str, str, list[str]] | None]:
            async with gate:
                return vm_id, await self._guest_body(vm_id)

        result: dict[str, GuestState] = {}
        for vm_id, found in await asyncio.gather(*(one(v) for v in ids)):
            if found is None:
                continue
            power, name, ips = found
            on = power.lower() == "on"
            result[vm_id] = GuestState(vm_id=vm_id, state="Running" if on else power.capitalize(),
                                       heartbeat="OK" if on and ips else "", computer_name=name,
                                       ready=on and bool(ips))
        reporter.log(LogLevel.DEBUG, f"{self.where}: {sum(s.ready for s in result.values())} of {len(ids)} "
                     "clone(s) on with an IP address")
        return result

    async def prepare_clone(self, vm_id: str, computer_name: str, preparation: Any, join_password: str = "",
                            reporter: Reporter = NullReporter()) -> None:
        """Nothing is sent: the console does not customize Nutanix guests (no rename, no domain join)."""
        reporter.log(LogLevel.INFO, f"Clone '{computer_name}': guest customization (rename, domain join) is not "
                     "done by the console on Nutanix; the clone keeps the image's own preparation.")

    async def start_clone(self, vm_id: str, reporter: Reporter = NullReporter()) -> VM:
        return await self.power(vm_id, PowerAction.START, reporter)

    async def remove_clone(self, vm_id: str, folder: str = "", reporter: Reporter = NullReporter()) -> None:
        """Delete the clone VM with its disks (``folder`` means nothing on Nutanix)."""
        await self.delete(vm_id, reporter)
