"""Pool clone operations of a standalone Hyper-V host (issue #5): make a clone (full, linked, quick),
hand its guest agent its identity, start it, read many guests at once, make a quick clone independent,
remove it, list what exists of a pool, log its user off.

A mixin that ``HyperVAdapter`` inherits (like templates.py): it uses the adapter's ``run_script``,
``host``, ``_host_name``, ``_learn_name``, ``_vm`` and ``_copy_poll_interval``. The scripts and their
JSON are in scripts/CONTRACT.md ("Pool scripts (issue #5)"). The join password travels only in the
parameter document of Set-PoolClonePreparation: never in a log line, a progress text or an error.
"""
from __future__ import annotations

from typing import Any

from console.adapters.base import CloneSpec, GuestState, NullReporter, Reporter
from console.domain.errors import ConsoleError, ValidationError
from console.domain.inventory import VM
from console.domain.tasks import LogLevel

from . import copy_polling as cp
from . import pool_convert as pc
from . import template_convert as tc
from .templates import checked_guid

METHODS = ("full", "linked", "quick")
PREPARATIONS = ("sysprep", "rename-join")
#: the checkpoint a quick clone runs on until it is independent
QUICK_CHECKPOINT = "VDI quick clone"


def _scrubbed(exc: ConsoleError, secret: str) -> ConsoleError:
    """The same error with ``secret`` blanked out of every text it carries (an error a host returns may
    quote what it was given)."""
    if secret:
        for attr in ("message", "hint", "details"):
            value = getattr(exc, attr, None)
            if isinstance(value, str) and secret in value:
                setattr(exc, attr, value.replace(secret, "********"))
        exc.args = tuple(a.replace(secret, "********") if isinstance(a, str) else a for a in exc.args)
    return exc


class PoolOperations:
    """The pool half of HyperVAdapter (see the module docstring)."""

    host: str
    _copy_poll_interval: float

    async def run_script(self, name: str, params: dict[str, Any], operation: str) -> Any:  # pragma: no cover
        raise NotImplementedError

    # _learn_name, _vm and _host_name come from TemplateOperations (before this mixin in the MRO).
    _host_name: str

    async def _learn_name(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def _vm(self, doc: Any) -> VM:  # pragma: no cover
        raise NotImplementedError

    # --------------------------------------------------------------------------- make and start

    async def create_clone(self, spec: CloneSpec, reporter: Reporter = NullReporter()) -> VM:
        """New-PoolClone: the clone, Off. Idempotent by ``spec.request_id`` (the VM in that folder with
        that request id is returned); the name taken by another VM → ConflictError."""
        method = str(getattr(spec.method, "value", spec.method))
        if method not in METHODS:
            raise ValidationError(f"'{method}' is not a provisioning method.", "Use full, linked or quick.",
                                  field="method")
        if not spec.base_disks:
            raise ValidationError(f"Clone '{spec.name}' has no base disk.",
                                  "The template version has no disk on this host: distribute it first.",
                                  field="base_disks")
        await self._learn_name()
        reporter.progress(0.1, f"Creating {method} clone '{spec.name}' on {self._host_name}")
        params = {"name": spec.name, "method": method, "base_disks": list(spec.base_disks),
                  "folder": spec.folder, "switch": spec.switch, "cpu_count": int(spec.cpu_count),
                  "memory_bytes": int(spec.memory_bytes), "generation": int(spec.generation),
                  "request_id": spec.request_id}
        doc = await self.run_script("New-PoolClone", params, f"the creation of clone '{spec.name}'")
        vm = self._vm(doc.get("vm") if isinstance(doc, dict) else None)   # ProtocolError if missing
        reporter.log(LogLevel.INFO, f"Created {method} clone '{vm.name}' ({vm.id}) in {spec.folder} on "
                     f"{self._host_name}")
        reporter.progress(1.0, "Done")
        return vm

    async def prepare_clone(self, vm_id: str, computer_name: str, preparation: Any, join_password: str = "",
                            reporter: Reporter = NullReporter()) -> None:
        """Set-PoolClonePreparation: the guest agent's identity and domain join, as KVP items.
        ``preparation`` is a domain Preparation (method, domain, organizational_unit, join_account,
        local_administrator, owner, organization)."""
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        method = str(getattr(preparation.method, "value", preparation.method))
        if method not in PREPARATIONS:
            raise ValidationError(f"'{method}' is not an image preparation.", "Use sysprep or rename-join.",
                                  field="method")
        params = {"vm_id": vm_id, "computer_name": computer_name, "domain": preparation.domain,
                  "organizational_unit": preparation.organizational_unit,
                  "join_account": preparation.join_account, "join_password": join_password or "",
                  "method": method, "local_administrator": preparation.local_administrator,
                  "owner": preparation.owner, "organization": preparation.organization}
        try:
            doc = await self.run_script("Set-PoolClonePreparation", params,
                                        f"the preparation of clone '{computer_name}'")
        except ConsoleError as exc:
            raise _scrubbed(exc, join_password) from None
        pc.flag(doc, "queued", self.host)
        where = f" joining {preparation.domain}" if preparation.domain else " in a workgroup"
        reporter.log(LogLevel.INFO, f"Handed clone '{computer_name}' its identity ({method},{where}) on "
                     f"{self._host_name}")

    async def start_clone(self, vm_id: str, reporter: Reporter = NullReporter()) -> VM:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        await self._learn_name()
        vm = self._vm(await self.run_script("Start-PoolClone", {"vm_id": vm_id}, "the start of the clone"))
        reporter.log(LogLevel.INFO, f"Clone '{vm.name}' is {vm.state.value} on {self._host_name}")
        return vm

    # --------------------------------------------------------------------------- guests

    async def guest_states(self, vm_ids: list[str], reporter: Reporter = NullReporter()) -> dict[str, GuestState]:
        """Get-PoolCloneGuests: one call for many clones of this host. Keys are the ids as given;
        unknown ids are absent."""
        ids = [checked_guid(v, "virtual machine", "vm_ids") for v in vm_ids]
        if not ids:
            return {}
        found = pc.guest_states(await self.run_script("Get-PoolCloneGuests", {"vm_ids": ids},
                                                      "the guest state query"), self.host)
        result = {}
        for vm_id in ids:
            state = found.get(vm_id.lower())
            if state is not None:
                state.vm_id = vm_id
                result[vm_id] = state
        reporter.log(LogLevel.DEBUG, f"{self.host}: {sum(s.ready for s in result.values())} of {len(ids)} "
                     "clone(s) ready")
        return result

    async def logoff(self, vm_id: str, reporter: Reporter = NullReporter()) -> None:
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        done = pc.flag(await self.run_script("Invoke-PoolCloneLogoff", {"vm_id": vm_id}, "the logoff"),
                       "logged_off", self.host)
        reporter.log(LogLevel.INFO, f"Asked the guest of VM {vm_id} to log its user off" if done
                     else f"Nobody is logged on to VM {vm_id}: nothing to log off")

    # --------------------------------------------------------------------------- quick clones

    async def make_independent(self, vm_id: str, copy_id: str, reporter: Reporter = NullReporter()) -> VM:
        """Quick clone: copy the base disk(s) into the clone folder (polled every copy_poll_interval),
        then re-parent onto the copy and merge the checkpoint. A cancellation stops the copy and
        removes the partial files; the clone keeps running on the template's base meanwhile."""
        vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        await self._learn_name()
        poll = {"vm_id": vm_id, "copy_id": copy_id}
        status = tc.copy_status(await self.run_script("Start-QuickCloneCopy", poll,
                                                      "the start of the quick clone's copy"), self.host)
        reporter.log(LogLevel.INFO, f"Copying the base disk of VM {vm_id} on {self._host_name} "
                     f"({tc.gigabytes(status.bytes_total)} GB)")
        await cp.stopped_on_failure(
            cp.follow_copy(self.run_script, self.host, self._host_name, self._copy_poll_interval, status, poll,
                           reporter, script="Get-QuickCloneCopy", share=0.9,
                           failed=lambda error: pc.own_copy_error(error, vm_id, self._host_name),
                           missing_hint="Make the clone independent again (a retry starts a new copy)."),
            lambda: self._stop_own_copy(poll, reporter))
        reporter.progress(0.95, "Merging the checkpoint")
        vm = self._vm(await self.run_script("Complete-QuickClone", {"vm_id": vm_id},
                                            "the merge of the quick clone's checkpoint"))
        reporter.log(LogLevel.INFO, f"Clone '{vm.name}' is independent of the template's disk")
        reporter.progress(1.0, "Done")
        return vm

    async def _stop_own_copy(self, poll: dict[str, Any], reporter: Reporter) -> None:
        """Stop-QuickCloneCopy, best effort (Remove-PoolClone stops a copy too)."""
        try:
            stopped = pc.flag(await self.run_script("Stop-QuickCloneCopy", poll, "stopping the quick clone's copy"),
                              "stopped", self.host)
            reporter.log(LogLevel.INFO, f"Stopped the copy of VM {poll['vm_id']}'s base disk" if stopped
                         else f"Removed the partial copy of VM {poll['vm_id']}'s base disk")
        except ConsoleError as exc:
            reporter.log(LogLevel.WARNING, f"The copy of VM {poll['vm_id']}'s base disk on {self._host_name} "
                         f"could not be stopped: {exc.message}")

    # --------------------------------------------------------------------------- removal and listing

    async def remove_clone(self, vm_id: str, folder: str, reporter: Reporter = NullReporter()) -> None:
        """Remove-PoolClone: the VM (turned off) and its folder; gone already is success."""
        if vm_id:
            vm_id = checked_guid(vm_id, "virtual machine", "vm_id")
        await self._learn_name()
        gone = pc.flag(await self.run_script("Remove-PoolClone", {"vm_id": vm_id, "folder": folder},
                                             "the removal of the clone"), "removed", self.host)
        reporter.log(LogLevel.INFO, f"Removed the clone in {folder} on {self._host_name}" if gone
                     else f"The clone in {folder} on {self._host_name} was already gone")

    async def pool_clones(self, pool_folder: str, reporter: Reporter = NullReporter()) -> list[dict]:
        """Get-PoolClones: ``[{"vm_id", "name", "folder", "request_id"}]`` under the pool folder (a
        folder without a VM has vm_id "")."""
        found = pc.pool_clones(await self.run_script("Get-PoolClones", {"pool_folder": pool_folder},
                                                     "the pool clone listing"), self.host)
        reporter.log(LogLevel.DEBUG, f"{self.host}: {len(found)} clone(s) in {pool_folder}")
        return found
