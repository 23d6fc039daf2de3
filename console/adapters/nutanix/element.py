"""PrismElementAdapter: one AHV cluster through Prism Element's REST API v2.0."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from console.adapters.base import NullReporter, Reporter
from console.domain.errors import NotFoundError, ProtocolError
from console.domain.inventory import (VM, Host, HostFacts, HostStatus, Inventory, PowerAction, PowerState,
                                      ProviderKind, Snapshot)
from console.domain.tasks import LogLevel

from . import convert
from .adapter import PrismAdapter
from .checks import checked_action, checked_uuid

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

    def vm_path(self, vm_id: str) -> str:
        return f"{V2}/vms/{vm_id}"

    async def existing_vm(self, vm_id: str) -> VM:
        try:
            return await self._vm(vm_id)
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None

    async def find_vm(self, vm_id: str) -> VM | None:
        try:
            return await self._vm(vm_id)
        except NotFoundError:
            return None

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
        vm = await self.existing_vm(vm_id)
        if self.nothing_to_do(vm, action, reporter):
            return vm
        # a paused VM is resumed, not powered on (AHV refuses ON for it)
        transition = "RESUME" if action is PowerAction.START and vm.state is PowerState.PAUSED else TRANSITIONS[action]
        reporter.progress(0.1, f"{action.label} VM '{vm.name}'")
        try:
            body = await self.http.request("POST", f"{self.vm_path(vm_id)}/set_power_state",
                                           what=f"the power change of VM '{vm.name}'",
                                           json={"transition": transition})
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None
        await self.follow(self.task_uuid(body, "the power change"), reporter, f"{action.label.lower()} of '{vm.name}'")
        return await self.powered(vm_id, reporter)

    # ------------------------------------------------------------------ snapshots
    async def snapshot_exists(self, vm_id: str, snapshot_id: str) -> bool:
        return any(str(snap.get("uuid")) == snapshot_id
                   for snap in await self._entities("snapshots/", "the snapshot list", {"vm_uuid": vm_id}))

    def snapshot_request(self, vm_id: str, name: str, planned: str) -> tuple[str, dict]:
        return f"{V2}/snapshots/", {"snapshot_specs": [{"vm_uuid": vm_id, "snapshot_name": name, "uuid": planned}]}

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
    def clone_request(self, vm_id: str, snapshot_id: str | None, planned: str, new_name: str) -> tuple[str, dict]:
        source = f"{V2}/snapshots/{snapshot_id}" if snapshot_id else self.vm_path(vm_id)
        return f"{source}/clone", {"spec_list": [{"name": new_name, "uuid": planned}]}

    # ------------------------------------------------------------------ delete
    deleted_with = "its disks and snapshots"
    delete_params = {"delete_snapshots": "true"}
