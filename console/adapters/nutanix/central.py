"""PrismCentralAdapter: every cluster a Prism Central manages, through the REST API v3.

Lists are paged (``length`` 500, ``offset`` until ``metadata.total_matches``): the first page says how
many there are, the other pages are fetched a few at a time. Power changes go through the VM's intent
spec (GET, change ``power_state``, PUT with the same ``spec_version``), as the v3 API intends.
"""
from __future__ import annotations

import asyncio
import copy
from typing import Any, Callable

from console.adapters.base import NullReporter, Reporter
from console.domain.errors import ConflictError, NotFoundError, ProtocolError
from console.domain.inventory import VM, Host, HostFacts, HostStatus, Inventory, PowerAction, ProviderKind, Snapshot
from console.domain.tasks import LogLevel

from . import convert
from .adapter import PrismAdapter
from .checks import checked_action, checked_uuid

V3 = "/api/nutanix/v3"
PAGE = 500                      # the most a v3 list returns at once on every Prism Central version
PAGES_AT_ONCE = 4               # parallel page requests after the first
#: metadata fields Prism fills in itself (readOnly in the spec): not sent back in a PUT
_SERVER_METADATA = ("creation_time", "last_update_time", "entity_version", "name")
#: power_state_mechanism.mechanism for the console's "off" actions (x-ntnx-enum ACPI, GUEST, HARD)
MECHANISM = {PowerAction.SHUTDOWN: "ACPI", PowerAction.STOP: "HARD"}


class PrismCentralAdapter(PrismAdapter):
    """``ConnectionSettings.kind`` nutanix-pc."""

    kind = ProviderKind.NUTANIX_PC
    endpoint_kind = "nutanix-pc"
    api = "v3"

    # ------------------------------------------------------------------ lists
    async def list_all(self, kind: str, what: str, entity: Callable[[dict], Any] | None = None) -> list:
        """Every entity of a v3 list, paged; a list of 1,200 VMs comes whole. ``entity`` converts each
        as it is decoded (see decoding.py)."""
        first = await self._page(kind, what, 0, PAGE, entity)
        entities = list(first.get("entities") or [])
        total = (first.get("metadata") or {}).get("total_matches")
        if total is None:                    # no count: page until a short page
            while len(entities) and len(entities) % PAGE == 0:
                more = (await self._page(kind, what, len(entities), PAGE, entity)).get("entities") or []
                if not more:
                    break
                entities.extend(more)
            return entities
        total = int(total)
        step = len(entities) or PAGE         # a Prism that caps pages lower than asked: follow its size
        if len(entities) >= total or not entities:
            return entities
        offsets = list(range(len(entities), total, step))
        gate = asyncio.Semaphore(PAGES_AT_ONCE)

        async def page(offset: int) -> list[dict]:
            async with gate:
                return list((await self._page(kind, what, offset, step, entity)).get("entities") or [])

        for chunk in await asyncio.gather(*(page(o) for o in offsets)):
            entities.extend(chunk)
        return entities

    async def _page(self, kind: str, what: str, offset: int, length: int,
                    entity: Callable[[dict], Any] | None = None) -> dict:
        body = await self.http.request("POST", f"{V3}/{kind}s/list", what=what, idempotent=True,
                                       json={"kind": kind, "offset": offset, "length": length},
                                       entity=entity)
        if not isinstance(body, dict):
            raise ProtocolError(f"{self.where} answered {what} without a list.", details=str(body)[:1000])
        return body

    async def version_and_hosts(self) -> tuple[str, list[HostFacts]]:
        clusters, hosts = await asyncio.gather(self.list_all("cluster", "the cluster list"),
                                               self.list_all("host", "the host list"))
        version = self._checked_version(clusters)
        managed = [convert.v3_cluster_name(c) for c in clusters if not convert.v3_is_prism_central(c)]
        return (f"Prism Central {version}; clusters: {', '.join(managed) or 'none'}",
                [convert.v3_host_facts(h) for h in hosts])

    def _checked_version(self, clusters: list[dict]) -> str:
        central = next((c for c in clusters if convert.v3_is_prism_central(c)), None)
        version = convert.v3_cluster_version(central) if central else ""
        self.require_version(version, "Prism Central")
        return version or "(version not reported)"

    async def inventory(self, reporter: Reporter = NullReporter()) -> Inventory:
        reporter.progress(0.05, f"Reading {self.where}")
        clusters, hosts, vms = await asyncio.gather(self.list_all("cluster", "the cluster list"),
                                                    self.list_all("host", "the host list"),
                                                    self.list_all("vm", "the VM list", convert.v3_vm))
        self._checked_version(clusters)
        reporter.progress(0.8, f"{len(vms)} VMs on {len(hosts)} hosts")
        result = inventory_of(hosts, vms)
        managed = [convert.v3_cluster_name(c) for c in clusters if not convert.v3_is_prism_central(c)]
        reporter.log(LogLevel.INFO, f"{self.where}: clusters {', '.join(managed)}; {len(hosts)} host(s), "
                     f"{len(vms)} VM(s)")
        reporter.progress(1.0, "Done")
        return result

    # ------------------------------------------------------------------ one VM
    def vm_path(self, vm_id: str) -> str:
        return f"{V3}/vms/{vm_id}"

    async def _entity(self, vm_id: str) -> dict:
        try:
            body = await self.http.request("GET", self.vm_path(vm_id), what=f"the VM {vm_id}")
        except NotFoundError as exc:
            raise self.vm_gone(vm_id, exc) from None
        if not isinstance(body, dict) or not body.get("metadata"):
            raise ProtocolError(f"{self.where} answered the VM query without a VM.", details=str(body)[:1000])
        return body

    async def existing_vm(self, vm_id: str) -> VM:
        return convert.v3_vm(await self._entity(vm_id))

    async def find_vm(self, vm_id: str) -> VM | None:
        response = await self.http.send("GET", self.vm_path(vm_id), what=f"the VM {vm_id}", accept=(404,))
        return None if response.status_code == 404 else convert.v3_vm(response.json())

    # ------------------------------------------------------------------ power
    async def power(self, vm_id: str, action: PowerAction, reporter: Reporter = NullReporter()) -> VM:
        vm_id, action = checked_uuid(vm_id), checked_action(action)
        entity = await self._entity(vm_id)
        vm = convert.v3_vm(entity)
        if self.nothing_to_do(vm, action, reporter):
            return vm
        reporter.progress(0.1, f"{action.label} VM '{vm.name}'")
        if action is PowerAction.RESTART:
            # power_state's x-ntnx-enum has only ON and OFF: a restart through the spec is an ACPI
            # shutdown, then on again, each its own Prism task
            await self._put_power(vm_id, entity, "OFF", "ACPI", reporter, f"shutdown of '{vm.name}'",
                                  0.1, 0.5)
            await self._put_power(vm_id, await self._entity(vm_id), "ON", None, reporter,
                                  f"start of '{vm.name}'", 0.5, 0.95)
        else:
            await self._put_power(vm_id, entity, "ON" if action is PowerAction.START else "OFF",
                                  MECHANISM.get(action), reporter, f"{action.label.lower()} of '{vm.name}'")
        return await self.powered(vm_id, reporter)

    async def _put_power(self, vm_id: str, entity: dict, power_state: str, mechanism: str | None,
                         reporter: Reporter, what: str, start: float = 0.1, end: float = 0.95) -> None:
        """PUT the VM's spec with the new power state; a 409 (someone changed the VM meanwhile) is
        answered by reading it again and retrying once."""
        for attempt in (1, 2):
            body = intent_with_power(entity, power_state, mechanism)
            try:
                answer = await self.http.request("PUT", self.vm_path(vm_id), what=f"the {what}", json=body)
                break
            except NotFoundError as exc:
                raise self.vm_gone(vm_id, exc) from None
            except ConflictError:
                if attempt == 2:
                    raise
                reporter.log(LogLevel.INFO, "The VM changed meanwhile; reading it again")
                entity = await self._entity(vm_id)
        await self.follow(self.task_uuid(answer, what), reporter, what, start, end)

    # ------------------------------------------------------------------ snapshots (recovery points)
    snapshot_name_limit = 64
    snapshot_entity_index = -1

    async def snapshot_exists(self, vm_id: str, snapshot_id: str) -> bool:
        found = await self.http.send("GET", f"{V3}/vm_recovery_points/{snapshot_id}", what="the recovery point",
                                     accept=(404,))
        return found.status_code != 404

    def snapshot_request(self, vm_id: str, name: str, planned: str) -> tuple[str, dict]:
        return f"{V3}/vms/{vm_id}/snapshot", {"name": name, "vm_recovery_point_uuid": planned}

    async def snapshots(self, vm_id: str, reporter: Reporter = NullReporter()) -> list[Snapshot]:
        """The VM's recovery points (v3 ``vm_recovery_points/list`` filtered by the VM), oldest first."""
        vm_id = checked_uuid(vm_id)
        await self._entity(vm_id)                     # NotFoundError when someone deleted the VM
        entities: list[dict] = []
        while True:                                   # paged like every v3 list
            page = await self.http.request(
                "POST", f"{V3}/vm_recovery_points/list", what="the recovery point list", idempotent=True,
                json={"kind": "vm_recovery_point", "offset": len(entities), "length": PAGE,
                      "filter": f"vm_uuid=={vm_id}"})
            more = list((page or {}).get("entities") or [])
            entities.extend(more)
            total = int(((page or {}).get("metadata") or {}).get("total_matches") or 0)
            if not more or len(entities) >= total:
                break
        # the filter is deprecated in the spec: check the parent VM of each answer too
        result = [convert.v3_snapshot(e) for e in entities if convert.v3_snapshot_vm(e) == vm_id]
        reporter.log(LogLevel.DEBUG, f"VM {vm_id}: {len(result)} recovery point(s)")
        return sorted(result, key=lambda s: s.created)

    # ------------------------------------------------------------------ clones
    def clone_request(self, vm_id: str, snapshot_id: str | None, planned: str, new_name: str) -> tuple[str, dict]:
        """Full clone (vms/{uuid}/clone) or thin clone from a recovery point
        (vm_recovery_points/{uuid}/restore), each with the client-chosen metadata.uuid."""
        if snapshot_id:
            return (f"{V3}/vm_recovery_points/{snapshot_id}/restore",
                    {"metadata": {"uuid": planned}, "vm_override_spec": {"name": new_name}})
        return f"{V3}/vms/{vm_id}/clone", {"metadata": {"uuid": planned}, "override_spec": {"name": new_name}}


def intent_with_power(entity: dict, power_state: str, mechanism: str | None) -> dict:
    """The PUT body: the VM's spec and metadata as read (spec_version included, so a concurrent change
    is a 409), with the new power state."""
    spec = copy.deepcopy(entity.get("spec") or {})
    resources = spec.setdefault("resources", {})
    resources["power_state"] = power_state
    if mechanism:
        resources["power_state_mechanism"] = {"mechanism": mechanism}
    metadata = {k: v for k, v in (entity.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    metadata.setdefault("kind", "vm")
    return {"api_version": str(entity.get("api_version") or "3.1"), "metadata": metadata, "spec": spec}


def inventory_of(hosts: list[dict], vms: list[VM]) -> Inventory:
    """Hosts of every managed cluster with the VMs they run; per cluster, the VMs running nowhere
    (powered off) under a host named "". The Prism Central pseudo-cluster has no hosts: it is skipped."""
    by_name: dict[tuple[str, str], Host] = {}
    host_names: dict[str, str] = {}
    for entity in hosts:
        cluster = convert.v3_host_cluster(entity)
        facts = convert.v3_host_facts(entity)
        host_names[str((entity.get("metadata") or {}).get("uuid") or "")] = facts.computer_name
        by_name[(cluster, facts.computer_name)] = Host(name=facts.computer_name, cluster=cluster,
                                                       status=HostStatus.CONNECTED, facts=facts)
    unplaced: dict[str, Host] = {}
    for vm in vms:
        vm.host = host_names.get(vm.host, vm.host)        # a host reference without its name
        host = by_name.get((vm.cluster, vm.host)) if vm.host else None
        if host is None:
            host = unplaced.setdefault(vm.cluster, Host(name="", cluster=vm.cluster, status=HostStatus.CONNECTED))
        host.vms.append(vm)
    return Inventory(provider_id=0, hosts=list(by_name.values()) + list(unplaced.values()))
