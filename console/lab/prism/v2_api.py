"""Prism Element REST v2.0 (``/PrismGateway/services/rest/v2.0/`` and ``/api/nutanix/v2.0/``).

On the Prism Element endpoint it serves its one cluster. On Prism Central only ``cluster/`` answers
(with the Prism Central's own pseudo-cluster, ``cluster_functions: ["MULTICLUSTER"]``), as a real one
does: a client that mistakes Prism Central for Prism Element gets a plausible cluster, and then 404s.

Clone from a snapshot is ``POST snapshots/{uuid}/clone`` with the same ``spec_list`` as
``POST vms/{uuid}/clone`` (what the v2.0 API has; no published spec, so modelled on public clients).
Asynchronous calls answer 201 ``{"task_uuid": ...}``.
"""
from __future__ import annotations

import re
import urllib.parse

from . import v2_bodies as bodies
from .api_common import Call, Reply, need_int, need_name, need_object, need_uuid
from .model import Cluster
from .world import POWER_TRANSITIONS, PrismError, new_uuid


def handle(call: Call) -> Reply:
    ep = call.endpoint
    parts, method = call.parts, call.method
    if ep.kind == "nutanix-pc":
        if parts == ["cluster"] and method == "GET":
            return Reply(200, bodies.cluster(ep.pc_cluster(), ep.version_override(ep.pc_cluster())))
        raise PrismError(404, "ENTITY_NOT_FOUND", f"/{'/'.join(parts)} is not available on Prism Central; "
                                                  "use the v3 API (/api/nutanix/v3).")
    world = ep.world
    with world.lock:
        cluster = ep.pe_cluster()
        head = parts[0] if parts else ""
        rest = parts[1:]
        if head == "cluster" and not rest and method == "GET":
            return Reply(200, bodies.cluster(cluster, ep.version_override(cluster)))
        if head == "hosts" and method == "GET":
            return _get_list_or_one([bodies.host(h, cluster) for h in cluster.hosts], rest, "uuid", "host")
        if head == "storage_containers" and method == "GET":
            return _get_list_or_one([bodies.container(c, cluster) for c in cluster.containers], rest,
                                    "storage_container_uuid", "storage container")
        if head == "networks" and method == "GET":
            return _get_list_or_one([bodies.network(n) for n in cluster.networks], rest, "uuid", "network")
        if head == "vms":
            return _vms(call, cluster, rest)
        if head == "snapshots":
            return _snapshots(call, cluster, rest)
        if head == "tasks" and len(rest) == 1 and method == "GET":
            task = world.tasks.get(rest[0].lower())
            if task is None or task.cluster_uuid != cluster.uuid:
                raise PrismError(404, "ENTITY_NOT_FOUND", f"Task {rest[0]} does not exist.")
            return Reply(200, bodies.task(task))
    raise PrismError(404, "ENTITY_NOT_FOUND", f"No {method} handler for /{'/'.join(parts)}.")


def _get_list_or_one(entities: list[dict], rest: list[str], key: str, what: str) -> Reply:
    if not rest:
        return Reply(200, bodies.list_body(entities))
    if len(rest) == 1:
        for e in entities:
            if e[key] == rest[0].lower():
                return Reply(200, e)
        raise PrismError(404, "ENTITY_NOT_FOUND", f"The {what} {rest[0]} does not exist.")
    raise PrismError(404, "ENTITY_NOT_FOUND", f"Unknown {what} path.")


def _page(call: Call, items: list) -> tuple[list, int]:
    offset = call.arg("offset")
    length = call.arg("length")
    try:
        start = int(offset) if offset is not None else 0
        count = int(length) if length is not None else len(items)
    except ValueError:
        raise PrismError(400, "INVALID_ARGUMENT", "offset and length must be whole numbers.") from None
    if start < 0 or count < 0:
        raise PrismError(400, "INVALID_ARGUMENT", "offset and length cannot be negative.")
    return items[start:start + count], start


def _name_filter(call: Call, vms: list) -> list:
    expr = call.arg("filter")
    if not expr:
        return vms
    m = re.fullmatch(r"vm_name==(.*)", expr)
    if not m:
        raise PrismError(400, "INVALID_ARGUMENT", f"Unsupported filter {expr!r}; this lab understands vm_name==NAME.")
    name = urllib.parse.unquote(m.group(1))
    return [vm for vm in vms if vm.name == name]


def _vm_or_404(cluster: Cluster, vm_uuid: str):
    vm = cluster.vms.get(vm_uuid.lower())
    if vm is None:
        raise PrismError(404, "ENTITY_NOT_FOUND", f"VM {vm_uuid} does not exist.")
    return vm


def _vms(call: Call, cluster: Cluster, rest: list[str]) -> Reply:
    ep, method = call.endpoint, call.method
    disks, nics = call.flag("include_vm_disk_config"), call.flag("include_vm_nic_config")
    if not rest and method == "GET":
        vms = _name_filter(call, list(cluster.vms.values()))
        page, start = _page(call, vms)
        return Reply(200, bodies.list_body([bodies.vm(v, cluster, disks, nics) for v in page], len(vms), start))
    if len(rest) == 1 and method == "GET":
        return Reply(200, bodies.vm(_vm_or_404(cluster, rest[0]), cluster, disks, nics))
    if len(rest) == 1 and method == "DELETE":
        vm = _vm_or_404(cluster, rest[0])
        task = ep.start_task(cluster, "delete", "VM", [vm.uuid], {"vm_uuid": vm.uuid}, api="v2")
        return Reply(201, {"task_uuid": task.uuid})
    if len(rest) == 2 and method == "POST" and rest[1] == "set_power_state":
        vm = _vm_or_404(cluster, rest[0])
        body = need_object(call.body, "set_power_state")
        transition = body.get("transition")
        if transition not in POWER_TRANSITIONS:
            raise PrismError(400, "INVALID_ARGUMENT", f"transition must be one of {', '.join(POWER_TRANSITIONS)}; "
                                                      f"got {transition!r}.")
        task = ep.start_task(cluster, "power", "VM", [vm.uuid], {"vm_uuid": vm.uuid, "transition": transition},
                             api="v2")
        return Reply(201, {"task_uuid": task.uuid})
    if len(rest) == 2 and method == "POST" and rest[1] == "clone":
        vm = _vm_or_404(cluster, rest[0])
        return _clone(call, cluster, {"vm_uuid": vm.uuid})
    raise PrismError(404, "ENTITY_NOT_FOUND", f"No {method} handler for /vms/{'/'.join(rest)}.")


def _clone(call: Call, cluster: Cluster, source: dict) -> Reply:
    ep = call.endpoint
    ep.refuse_clone_if_faulty()
    body = need_object(call.body, "clone")
    spec_list = body.get("spec_list")
    if not isinstance(spec_list, list) or not spec_list:
        raise PrismError(400, "INVALID_ARGUMENT", 'A clone needs "spec_list": a list with at least one '
                                                  '{"name": ...}.')
    specs, seen = [], set()
    for i, s in enumerate(spec_list):
        if not isinstance(s, dict):
            raise PrismError(400, "INVALID_ARGUMENT", f"spec_list[{i}] must be an object.")
        spec = {"name": need_name(s.get("name"), f"spec_list[{i}].name")}
        spec["uuid"] = need_uuid(s["uuid"], f"spec_list[{i}].uuid") if s.get("uuid") else new_uuid()
        if spec["uuid"] in seen or ep.world.uuid_taken(spec["uuid"]):
            raise PrismError(409, "ENTITY_ALREADY_EXISTS", f"An entity with uuid {spec['uuid']} already exists.")
        seen.add(spec["uuid"])
        if s.get("num_vcpus") is not None:
            spec["num_vcpus"] = need_int(s["num_vcpus"], f"spec_list[{i}].num_vcpus", 1, 240)
        if s.get("num_cores_per_vcpu") is not None:
            spec["num_cores_per_vcpu"] = need_int(s["num_cores_per_vcpu"], f"spec_list[{i}].num_cores_per_vcpu", 1, 64)
        if s.get("memory_mb") is not None:
            spec["memory_mb"] = need_int(s["memory_mb"], f"spec_list[{i}].memory_mb", 1, 4_194_304)
        specs.append(spec)
    task = ep.start_task(cluster, "clone", "VM", [s["uuid"] for s in specs],
                         {"source": source, "specs": specs}, api="v2")
    return Reply(201, {"task_uuid": task.uuid})


def _snapshots(call: Call, cluster: Cluster, rest: list[str]) -> Reply:
    ep, method = call.endpoint, call.method
    if not rest and method == "GET":
        snaps = list(cluster.snapshots.values())
        vm_uuid = call.arg("vm_uuid")
        if vm_uuid:
            snaps = [s for s in snaps if s.vm_uuid == vm_uuid.lower()]
        return Reply(200, bodies.list_body([bodies.snapshot(s, cluster) for s in snaps]))
    if not rest and method == "POST":
        body = need_object(call.body, "snapshots")
        spec_list = body.get("snapshot_specs")
        if not isinstance(spec_list, list) or not spec_list:
            raise PrismError(400, "INVALID_ARGUMENT", 'A snapshot needs "snapshot_specs": a list of '
                                                      '{"vm_uuid": ..., "snapshot_name": ...}.')
        specs = []
        for i, s in enumerate(spec_list):
            if not isinstance(s, dict):
                raise PrismError(400, "INVALID_ARGUMENT", f"snapshot_specs[{i}] must be an object.")
            vm = _vm_or_404(cluster, need_uuid(s.get("vm_uuid"), f"snapshot_specs[{i}].vm_uuid"))
            snap_uuid = need_uuid(s["uuid"], f"snapshot_specs[{i}].uuid") if s.get("uuid") else new_uuid()
            if ep.world.uuid_taken(snap_uuid):
                raise PrismError(409, "ENTITY_ALREADY_EXISTS", f"An entity with uuid {snap_uuid} already exists.")
            specs.append({"uuid": snap_uuid, "vm_uuid": vm.uuid,
                          "name": need_name(s.get("snapshot_name"), f"snapshot_specs[{i}].snapshot_name")})
        task = ep.start_task(cluster, "snapshot", "Snapshot", [s["uuid"] for s in specs], {"specs": specs},
                             api="v2")
        return Reply(201, {"task_uuid": task.uuid})
    snap = cluster.snapshots.get(rest[0].lower()) if rest else None
    if snap is None:
        raise PrismError(404, "ENTITY_NOT_FOUND", f"Snapshot {rest[0] if rest else ''} does not exist.")
    if len(rest) == 1 and method == "GET":
        return Reply(200, bodies.snapshot(snap, cluster))
    if len(rest) == 1 and method == "DELETE":
        task = ep.start_task(cluster, "delete_snapshot", "Snapshot", [snap.uuid], {"snapshot_uuid": snap.uuid},
                             api="v2")
        return Reply(201, {"task_uuid": task.uuid})
    if len(rest) == 2 and rest[1] == "clone" and method == "POST":
        return _clone(call, cluster, {"snapshot_uuid": snap.uuid})
    raise PrismError(404, "ENTITY_NOT_FOUND", f"No {method} handler for /snapshots/{'/'.join(rest)}.")
