"""PrismElementAdapter: one AHV cluster through Prism Element's REST API v2.0."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from console.adapters.base import NullReporter, Reporter
from console.domain.errors import ConflictError, ConsoleError, InvalidStateError, NotFoundError, ProtocolError
from console.domain.inventory import (VM, Host, HostFacts, HostStatus, Inventory, PowerAction, PowerState,
                                      ProviderKind, Snapshot)
from console.domain.tasks import LogLevel

from . import convert
from .adapter import PrismAdapter, add_undo, checked_action, checked_name, checked_uuid, request_uuid, undo_done
from .errors import TaskFailedError

V2 = "/api/nutanix/v2.0"
_VM_DETAIL = {"include_vm_disk_config": "true", "include_vm_nic_config": "true"}
#: Prism v2.0 set_power_state transitions for the console's actions
TRANSITIONS = {PowerAction.START: "ON", PowerAction.STOP: "OFF",
               PowerAction.SHUTDOWN: "ACPI_SHUTDOWN", PowerAction.RESTART: "ACPI_REBOOT"}
V2_PAGE = 500


class PrismElementAdapter(PrismAdapter):
    """``ConnectionSettings.kind`` nutanix-pe. VMs, snapshots and tasks of the one cluster."""

    kind = ProviderKind.NUTANIX_PE
    endpoint_kind = "nutanix-pe"
    api = "v2"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cluster_name = ""
        self._names: dict[str, dict[str, str]] | None = None    # hosts, containers, networks by uuid

    # ------------------------------------------------------------------ reads
    async def _get(self, path: str, what: str, params: dict[str, str] | None = None,
                   entity: Callable[[dict], Any] | None = None) -> Any:
        return await self.http.request("GET", f"{V2}/{path}", what=what, params=params, entity=entity)

    async def _entities(self, path: str, what: str, params: dict[str, str] | None = None,
                        entity: Callable[[dict], Any] | None = None) -> list:
        """A v2.0 collection, paged with offset/length when Prism says there is more than it sent;
        ``entity`` converts each as it is decoded (see decoding.py)."""
        body = await self._get(path, what, params, entity)
        entities = list((body or {}).get("entities") or [])
        total = int(((body or {}).get("metadata") or {}).get("grand_total_entities") or len(entities))
        while len(entities) < total:
            page = await self._get(path, what, {**(params or {}), "offset": str(len(entities)),
                                                "length": str(V2_PAGE)}, entity)
            more = (page or {}).get("entities") or []
            if not more:
                break
            entities.extend(more)
        return entities

    async def _cluster(self) -> dict:
        try:
            body = await self._get("cluster/", "the cluster details")
        except NotFoundError as exc:
            raise ProtocolError(f"{self.where} does not answer like a Prism Element "
                                "(/api/nutanix/v2.0/cluster/ is not there).",
                                "Check the address: it should be the Prism Element web console of the "
                                "cluster, port 9440.", details=exc.details) from None
        if not isinstance(body, dict) or not body.get("name"):
            raise ProtocolError(f"{self.where} answered the cluster query without a cluster.",
                                "Check that the address is a Prism Element web console.", details=str(body)[:1000])
        self._cluster_name = str(body["name"])
        return body

    def _checked_version(self, cluster: dict) -> str:
        version = str(cluster.get("version") or "") or str(cluster.get("full_version") or "")
        self.require_version(version, f"The AOS of cluster {cluster.get('name')}")
        return version

    async def version_and_hosts(self) -> tuple[str, list[HostFacts]]:
        cluster = await self._cluster()
        version = self._checked_version(cluster)
        hosts = await self._entities("hosts/", "the host list")
        return f"AOS {version} (cluster {cluster['name']})", [convert.v2_host_facts(h) for h in hosts]

    async def _load_names(self, hosts: list[dict] | None = None) -> dict[str, dict[str, str]]:
        async def by_uuid(path: str, what: str, key: str) -> dict[str, str]:
            try:
                entities = await self._entities(path, what)
            except NotFoundError:            # older AOS without that collection: show uuids
                return {}
            return {str(e.get(key) or e.get("uuid")): str(e.get("name") or "") for e in entities}

        host_task = (asyncio.sleep(0, {str(h.get("uuid")): str(h.get("name")) for h in hosts}) if hosts is not None
                     else by_uuid("hosts/", "the host list", "uuid"))
        hosts_map, containers, networks = await asyncio.gather(
            host_task, by_uuid("storage_containers/", "the storage containers", "storage_container_uuid"),
            by_uuid("networks/", "the networks", "uuid"))
        self._names = {"hosts": hosts_map, "containers": containers, "networks": networks}
        return self._names

    async def _vm(self, vm_id: str) -> VM:
        body = await self._get(f"vms/{vm_id}", f"the VM {vm_id}", _VM_DETAIL)
        if self._names is None or not self._cluster_name:
            await asyncio.gather(self._load_names(), self._cluster() if not self._cluster_name else asyncio.sleep(0))
        names = self._names or {}
        return convert.v2_vm(body, self._cluster_name, names.get("hosts", {}), names.get("containers", {}),
                             names.get("networks", {}))

    async def _existing_vm(self, vm_id: str) -> VM:
        try:
            return await self._vm(vm_id)
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None

    async def inventory(self, reporter: Reporter = NullReporter()) -> Inventory:
        reporter.progress(0.1, f"Reading {self.where}")
        cluster, hosts = await asyncio.gather(self._cluster(), self._entities("hosts/", "the host list"))
        self._checked_version(cluster)
        names = await self._load_names(hosts)
        name = str(cluster["name"])
        vms: list[VM] = await self._entities("vms/", "the VM list", _VM_DETAIL, lambda body: convert.v2_vm(
            body, name, names["hosts"], names["containers"], names["networks"]))
        reporter.progress(0.8, f"{len(vms)} VMs on {len(hosts)} hosts")
        by_host = {str(h.get("name")): Host(name=str(h.get("name")), cluster=name, status=HostStatus.CONNECTED,
                                           facts=convert.v2_host_facts(h)) for h in hosts}
        unplaced = Host(name="", cluster=name, status=HostStatus.CONNECTED)   # VMs not running anywhere
        for vm in vms:
            by_host.get(vm.host, unplaced).vms.append(vm)
        result = list(by_host.values()) + ([unplaced] if unplaced.vms else [])
        reporter.log(LogLevel.INFO, f"Cluster {name}: {len(hosts)} host(s), {len(vms)} VM(s)")
        reporter.progress(1.0, "Done")
        return Inventory(provider_id=0, hosts=result)

    # ------------------------------------------------------------------ power
    async def power(self, vm_id: str, action: PowerAction, reporter: Reporter = NullReporter()) -> VM:
        vm_id, action = checked_uuid(vm_id), checked_action(action)
        vm = await self._existing_vm(vm_id)
        reporter.log(LogLevel.INFO, f"VM '{vm.name}' on {vm.cluster} is {vm.state.value}")
        if action is PowerAction.START and vm.state is PowerState.RUNNING or (
                action in (PowerAction.STOP, PowerAction.SHUTDOWN) and vm.state is PowerState.OFF):
            reporter.log(LogLevel.INFO, f"Nothing to do for VM '{vm.name}': it is already {vm.state.value}.")
            reporter.progress(1.0, "Done")
            return vm
        if action in (PowerAction.SHUTDOWN, PowerAction.RESTART) and vm.state is not PowerState.RUNNING:
            raise InvalidStateError(f"VM '{vm.name}' is {vm.state.value}: only a running VM can be "
                                    f"{'shut down' if action is PowerAction.SHUTDOWN else 'restarted'} "
                                    "through its guest.", "Start it, or turn it off.")
        # a paused VM is resumed, not powered on (AHV refuses ON for it)
        transition = "RESUME" if action is PowerAction.START and vm.state is PowerState.PAUSED else TRANSITIONS[action]
        reporter.progress(0.1, f"{action.label} VM '{vm.name}'")
        try:
            body = await self.http.request("POST", f"{V2}/vms/{vm_id}/set_power_state",
                                           what=f"the power change of VM '{vm.name}'",
                                           json={"transition": transition})
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None
        await self.follow(self.task_uuid(body, "the power change"), reporter, f"{action.label.lower()} of '{vm.name}'")
        after = await self._existing_vm(vm_id)
        reporter.log(LogLevel.INFO, f"VM '{after.name}' is now {after.state.value}")
        reporter.progress(1.0, "Done")
        return after

    # ------------------------------------------------------------------ snapshots
    async def snapshot(self, vm_id: str, name: str, reporter: Reporter = NullReporter(), *,
                       request_id: str = "") -> str:
        vm_id, name = checked_uuid(vm_id), checked_name(name, "snapshot")
        vm = await self._existing_vm(vm_id)
        planned = request_uuid("snapshot", vm_id, name, request_id)
        for snap in await self._entities("snapshots/", "the snapshot list", {"vm_uuid": vm_id}):
            if str(snap.get("uuid")) == planned:
                reporter.log(LogLevel.INFO, f"Snapshot '{name}' of VM '{vm.name}' exists already "
                             "(made by an earlier try).")
                reporter.progress(1.0, "Done")
                return planned
        reporter.progress(0.1, f"Snapshot of VM '{vm.name}'")
        try:
            body = await self.http.request("POST", f"{V2}/snapshots/", what=f"the snapshot of VM '{vm.name}'",
                                           json={"snapshot_specs": [{"vm_uuid": vm_id, "snapshot_name": name,
                                                                     "uuid": planned}]})
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None
        status = await self.follow(self.task_uuid(body, "the snapshot"), reporter, f"snapshot of '{vm.name}'")
        snap_id = planned if planned in status.entity_ids or not status.entity_ids else status.entity_ids[0]
        reporter.log(LogLevel.INFO, f"Snapshot '{name}' of VM '{vm.name}' is {snap_id}")
        reporter.progress(1.0, "Done")
        return snap_id

    async def snapshots(self, vm_id: str, reporter: Reporter = NullReporter()) -> list[Snapshot]:
        """The VM's snapshots (v2.0 ``snapshots/?vm_uuid=``), oldest first."""
        vm_id = checked_uuid(vm_id)
        try:
            await self._get(f"vms/{vm_id}", f"the VM {vm_id}")
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None
        found = await self._entities("snapshots/", "the snapshot list", {"vm_uuid": vm_id})
        result = [convert.v2_snapshot(s) for s in found if str(s.get("vm_uuid") or "").lower() == vm_id
                  and not s.get("deleted")]
        reporter.log(LogLevel.DEBUG, f"VM {vm_id}: {len(result)} snapshot(s)")
        return sorted(result, key=lambda s: s.created)

    # ------------------------------------------------------------------ clones
    async def clone(self, vm_id: str, new_name: str, snapshot_id: str | None = None,
                    reporter: Reporter = NullReporter(), *, request_id: str = "") -> VM:
        vm_id, new_name = checked_uuid(vm_id), checked_name(new_name)
        snapshot_id = checked_uuid(snapshot_id, "snapshot") if snapshot_id else None
        planned = request_uuid("clone", vm_id, snapshot_id or "", new_name, request_id)
        try:                                 # a retry: the first try chose the same uuid
            found = await self._vm(planned)
            reporter.log(LogLevel.INFO, f"VM '{found.name}' exists already (made by an earlier try of "
                         "this clone).")
            reporter.progress(1.0, "Done")
            return found
        except NotFoundError:
            pass
        source = await self._existing_vm(vm_id)
        method = "from snapshot" if snapshot_id else "full"
        spec = {"name": new_name, "uuid": planned}
        if snapshot_id:
            path, body = f"{V2}/snapshots/{snapshot_id}/clone", {"spec_list": [spec]}
        else:
            path, body = f"{V2}/vms/{vm_id}/clone", {"spec_list": [spec]}
        undo = add_undo(reporter, f"Delete the partial clone '{new_name}' on {source.cluster}", planned, new_name)
        reporter.progress(0.05, f"Cloning '{source.name}' to '{new_name}' ({method})")
        reporter.log(LogLevel.INFO, f"Clone ({method}) of VM '{source.name}' to '{new_name}', uuid {planned}")
        try:
            answer = await self.http.request("POST", path, what=f"the clone of VM '{source.name}'", json=body)
        except NotFoundError as exc:
            undo_done(reporter, undo)
            if snapshot_id:
                exc.message = f"The snapshot {snapshot_id} was deleted by someone else."
                exc.hint = "Take a new snapshot, or choose another one."
                raise
            raise self.vm_gone(vm_id, exc) from None
        except ConflictError as exc:          # the uuid is taken: another try of the same clone
            undo_done(reporter, undo)            # (that try's own task owns its cleanup)
            try:
                existing = await self._vm(planned)
            except NotFoundError:
                raise self.clone_running(exc, source.name, new_name) from None
            reporter.log(LogLevel.INFO, f"VM '{new_name}' exists already (made by another try of this clone).")
            reporter.progress(1.0, "Done")
            return existing
        except ConsoleError:
            await self._nothing_created(planned, reporter, undo)
            raise
        try:
            await self.follow(self.task_uuid(answer, "the clone"), reporter, f"clone of '{source.name}'")
        except TaskFailedError as failure:
            raise await self.remove_partial_clone(planned, new_name, failure, reporter, undo) from None
        undo_done(reporter, undo)
        clone = await self._vm(planned)
        reporter.log(LogLevel.INFO, f"VM '{clone.name}' created ({clone.id})")
        reporter.progress(1.0, "Done")
        return clone

    async def _nothing_created(self, planned: str, reporter: Reporter, undo: int | None) -> None:
        try:
            await self._get(f"vms/{planned}", "the new VM")
        except NotFoundError:
            undo_done(reporter, undo)        # the refused request made nothing
        except ConsoleError:
            pass

    # ------------------------------------------------------------------ delete
    async def delete(self, vm_id: str, reporter: Reporter = NullReporter()) -> None:
        vm_id = checked_uuid(vm_id)
        try:
            vm = await self._vm(vm_id)
        except NotFoundError:
            reporter.log(LogLevel.INFO, f"VM {vm_id} does not exist (already deleted): nothing to do.")
            reporter.progress(1.0, "Done")
            return
        await self.delete_vm(vm_id, vm.name, reporter)
        reporter.progress(1.0, "Done")

    async def delete_vm(self, vm_id: str, name: str, reporter: Reporter) -> bool:
        reporter.log(LogLevel.INFO, f"Deleting VM '{name}' ({vm_id}) with its disks and snapshots")
        try:
            body = await self.http.request("DELETE", f"{V2}/vms/{vm_id}", what=f"the deletion of VM '{name}'",
                                           params={"delete_snapshots": "true"})
        except NotFoundError:
            reporter.log(LogLevel.INFO, f"VM '{name}' ({vm_id}) is already gone.")
            return False
        await self.follow(self.task_uuid(body, "the deletion"), reporter, f"deletion of '{name}'")
        return True
