"""Tasks on one VM: power, snapshot, clone, delete, and the retry of any of them.

Each task keeps what it was asked (``task.result["params"]``) and a request id
(``task.result["request_id"]``) in the journal from the moment it is queued. A retry runs the same
operation with the same parameters and the same request id, so a retried clone finds the VM the first
try created (the adapters derive the new VM's uuid from the request id) instead of making a second.
"""
from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable

from console.adapters.base import Capabilities, NullReporter
from console.domain.errors import (AuthenticationError, CertificateNotTrustedError, ConsoleError,
                                   NotFoundError, UnreachableError, ValidationError)
from console.domain.inventory import VM, Host, HostStatus, PowerAction, Provider, Snapshot
from console.domain.tasks import Task, TaskState

from .events import ProviderCertificateRejected, VMChanged, VMRemoved
from .provider_rules import capabilities_for, check_object_name, is_nutanix
from .tasks import TaskContext

#: the VM task kinds a retry can re-run
RETRYABLE = ("vm-power", "vm-snapshot", "vm-clone", "vm-delete")
_RETRY_STATES = (TaskState.FAILED, TaskState.CANCELLED, TaskState.INTERRUPTED)


def _task_name(kind: str, params: dict) -> str:
    vm = params.get("vm", "")
    if kind == "vm-power":
        return f"{PowerAction(params['action']).label} VM '{vm}'"
    if kind == "vm-snapshot":
        return f"Snapshot VM '{vm}'"
    if kind == "vm-clone":
        return f"Clone VM '{vm}' to '{params['new_name']}'"
    return f"Delete VM '{vm}'"


class VMOperations:
    """Mixed into ProviderService (which provides the farm, tasks, bus, adapters and inventories)."""

    # -- public API -----------------------------------------------------------------------------
    def capabilities(self, provider_id: int) -> Capabilities:
        provider = self.get(provider_id)
        adapter = self._adapters.get(provider.id)
        return adapter.capabilities if adapter is not None else capabilities_for(provider.kind)

    def power(self, provider_id: int, vm_id: str, action: PowerAction) -> Task:
        provider = self.get(provider_id)
        action = PowerAction(action)
        vm = self._vm(provider, vm_id)
        return self._submit_vm_task(provider, "vm-power", {**self._vm_params(vm), "action": action.value})

    def snapshot(self, provider_id: int, vm_id: str, name: str) -> Task:
        provider = self.get(provider_id)
        self._require(provider, "can_snapshot", "take snapshots")
        name = check_object_name(name, "snapshot", limit=64)
        vm = self._vm(provider, vm_id)
        return self._submit_vm_task(provider, "vm-snapshot", {**self._vm_params(vm), "name": name})

    def clone(self, provider_id: int, vm_id: str, new_name: str, snapshot_id: str | None = None) -> Task:
        provider = self.get(provider_id)
        self._require(provider, "can_clone_vm", "clone a VM on its own")
        if snapshot_id:
            self._require(provider, "can_link_clone", "clone from a snapshot")
        else:
            self._require(provider, "can_full_clone", "make full clones")
        new_name = check_object_name(new_name, "new VM")
        vm = self._vm(provider, vm_id)
        return self._submit_vm_task(provider, "vm-clone", {**self._vm_params(vm), "new_name": new_name,
                                                           "snapshot_id": (snapshot_id or "").strip() or None})

    def delete_vm(self, provider_id: int, vm_id: str) -> Task:
        provider = self.get(provider_id)
        self._require(provider, "can_clone_vm", "delete VMs")
        vm = self._vm(provider, vm_id)
        return self._submit_vm_task(provider, "vm-delete", self._vm_params(vm))

    async def snapshots(self, provider_id: int, vm_id: str) -> list[Snapshot]:
        provider = self.get(provider_id)
        self._require(provider, "can_snapshot", "take snapshots")
        adapter = self._adapter(provider)
        try:
            return await adapter.snapshots(vm_id, NullReporter())
        except CertificateNotTrustedError as exc:
            self._certificate_rejected(provider, exc)
            raise

    def retry(self, task_id: int) -> Task:
        """Run a failed, cancelled or interrupted VM task again with the same parameters and request id.
        A retry of the same task already queued or running is returned instead of starting another."""
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFoundError(f"There is no task {task_id}.", "List them with 'vdictl tasks list'.")
        if task.kind not in RETRYABLE:
            raise ValidationError(f"Task {task.id} ({task.name}) cannot be retried.",
                                  "Power, snapshot, clone and delete tasks can; run the others again.",
                                  field="task")
        if task.state not in _RETRY_STATES:
            raise ValidationError(f"Task {task.id} ({task.name}) is {task.state.value}: only a failed, "
                                  "cancelled or interrupted task can be retried.", field="task")
        params, request_id = task.result.get("params"), task.result.get("request_id")
        if not isinstance(params, dict) or not request_id:
            raise ValidationError(f"Task {task.id} ({task.name}) did not record its parameters, so it cannot "
                                  "be retried.", "Start the operation again.", field="task")
        if task.provider_id is None:
            raise ValidationError(f"Task {task.id} belongs to no provider.", field="task")
        provider = self.get(task.provider_id)
        for active in self._tasks.active():
            if active.provider_id == provider.id and active.result.get("request_id") == request_id:
                return active
        return self._submit_vm_task(provider, task.kind, params, request_id, retry_of=task.id)

    # -- the tasks ------------------------------------------------------------------------------
    @staticmethod
    def _vm_params(vm: VM) -> dict[str, Any]:
        # the concurrency key: the VM's host, or for a powered-off AHV VM its cluster
        return {"vm_id": vm.id, "vm": vm.name, "host": vm.host or vm.cluster}

    def _require(self, provider: Provider, flag: str, what: str) -> None:
        if not getattr(self.capabilities(provider.id), flag):
            raise ValidationError(f"{provider.kind.label} providers cannot {what}.",
                                  f"'{provider.name}' does not offer it.", field="kind")

    def _submit_vm_task(self, provider: Provider, kind: str, params: dict, request_id: str | None = None,
                        retry_of: int | None = None) -> Task:
        request_id = request_id or str(uuid.uuid4())
        operation = self._operation(kind, params, request_id)

        def asked() -> dict:
            """What the task was asked: its result from the start, and kept in its outcome."""
            return {"params": dict(params), "request_id": request_id,
                    **({"retry_of": retry_of} if retry_of is not None else {})}

        provider_id = provider.id

        async def work(ctx: TaskContext) -> dict:
            current = self.get(provider_id)          # settings may have changed since (a new pin)
            if retry_of is not None:
                ctx.info(f"Retry of task {retry_of}, same parameters and request id {request_id}")
            hosts = self._affected_hosts(current, params.get("host", ""))
            try:
                outcome = await operation(current, self._adapter(current), ctx)
            except CertificateNotTrustedError as exc:
                self._certificate_rejected(current, exc)
                raise
            except (UnreachableError, AuthenticationError) as exc:
                self._host_failed(current, hosts, exc)
                raise
            for host in hosts:
                self._set_status(current.id, host, HostStatus.CONNECTED)
            return {**asked(), **outcome}

        task = self._tasks.submit(_task_name(kind, params), f"{provider.name} / {params.get('vm', '')}", kind,
                                  work, provider_id=provider.id, host=params.get("host", ""))
        # in the journal before it runs, so a retry after a crash knows what was asked
        task.result = asked()
        self._farm.tasks.save(task)
        return task

    def _operation(self, kind: str, params: dict, request_id: str
                   ) -> Callable[[Provider, Any, TaskContext], Awaitable[dict]]:
        vm_id = params["vm_id"]

        async def power(provider: Provider, adapter: Any, ctx: TaskContext) -> dict:
            after = await adapter.power(vm_id, PowerAction(params["action"]), ctx)
            self._put_vm(provider.id, after)
            self._bus.publish(VMChanged(provider.id, after))
            return {"vm_id": after.id, "vm": after.name, "host": after.host, "state": after.state.value}

        async def snapshot(provider: Provider, adapter: Any, ctx: TaskContext) -> dict:
            snap_id = await adapter.snapshot(vm_id, params["name"], ctx, request_id=request_id)
            return {"vm_id": vm_id, "vm": params["vm"], "snapshot_id": snap_id, "snapshot": params["name"]}

        async def clone(provider: Provider, adapter: Any, ctx: TaskContext) -> dict:
            new = await adapter.clone(vm_id, params["new_name"], params.get("snapshot_id"), ctx,
                                      request_id=request_id)
            self._put_vm(provider.id, new)
            self._bus.publish(VMChanged(provider.id, new))
            return {"vm_id": new.id, "vm": new.name, "host": new.host, "cluster": new.cluster,
                    "state": new.state.value, "source_vm_id": vm_id}

        async def delete(provider: Provider, adapter: Any, ctx: TaskContext) -> dict:
            await adapter.delete(vm_id, ctx)
            self._remove_vm(provider.id, vm_id)
            self._bus.publish(VMRemoved(provider.id, vm_id))
            return {"vm_id": vm_id, "vm": params["vm"], "deleted": True}

        return {"vm-power": power, "vm-snapshot": snapshot, "vm-clone": clone, "vm-delete": delete}[kind]

    # -- the last inventory and host states -----------------------------------------------------
    def _vm(self, provider: Provider, vm_id: str) -> VM:
        inventory = self._inventories.get(provider.id)
        for host in inventory.hosts if inventory else []:
            for vm in host.vms:
                if vm.id == vm_id:
                    return vm
        raise NotFoundError(f"Virtual machine {vm_id} is not in the inventory of '{provider.name}'.",
                            "Refresh the provider and try again.")

    def _put_vm(self, provider_id: int, vm: VM) -> None:
        """Put a VM where it is now: in place when its host is unchanged, else under its new host (a
        started AHV VM moves from its cluster's "" host to the host it runs on), or new (a clone)."""
        inventory = self._inventories.get(provider_id)
        if inventory is None:
            return
        for host in inventory.hosts:
            for i, old in enumerate(host.vms):
                if old.id == vm.id:
                    if host.name == vm.host and host.cluster == vm.cluster:
                        host.vms[i] = vm
                        return
                    del host.vms[i]
                    break
        target = next((h for h in inventory.hosts if h.name == vm.host and h.cluster == vm.cluster), None)
        if target is None:
            target = Host(name=vm.host, cluster=vm.cluster, status=HostStatus.CONNECTED)
            inventory.hosts.append(target)
        target.vms.append(vm)

    def _remove_vm(self, provider_id: int, vm_id: str) -> None:
        inventory = self._inventories.get(provider_id)
        for host in inventory.hosts if inventory else []:
            host.vms[:] = [vm for vm in host.vms if vm.id != vm_id]

    def _affected_hosts(self, provider: Provider, host: str) -> list[str]:
        """A Hyper-V host failing fails its own tasks; a Prism failing concerns all its hosts."""
        return self._known_hosts(provider) if is_nutanix(provider.kind) else [host]

    def _certificate_rejected(self, provider: Provider, exc: CertificateNotTrustedError) -> None:
        self._host_failed(provider, self._known_hosts(provider), exc)
        self._retire_adapter(provider.id)
        self._bus.publish(ProviderCertificateRejected(provider.id, exc))

    def _host_failed(self, provider: Provider, hosts: list[str], exc: ConsoleError) -> None:
        status = HostStatus.AUTH_FAILED if isinstance(exc, AuthenticationError) else HostStatus.UNREACHABLE
        if status is HostStatus.AUTH_FAILED:
            self._retire_adapter(provider.id)
        inventory = self._inventories.get(provider.id)
        for name in hosts:
            for host in inventory.hosts if inventory else []:
                if host.name == name:
                    host.status, host.error = status, str(exc)
            self._set_status(provider.id, name, status, str(exc))
