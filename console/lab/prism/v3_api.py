"""Prism v3 (``/api/nutanix/v3/``). Prism Central serves everything below for the clusters it manages;
Prism Element answers ``users/me`` only (with ``x-ntnx-env: pe``, which is how a client tells them apart).

Lists (``POST <kind>s/list``) page with ``offset``/``length``: default length 20, at most 500 a page,
``metadata.total_matches`` the whole count. Filters: ``;``-joined ``attr==value`` / ``attr!=value``
(FIQL), value percent-decoded, matched literally or as a regular expression on the whole value.
Power goes through the VM spec (``PUT vms/{uuid}`` with ``metadata.spec_version``: a stale version is
a 409). Snapshots are recovery points (``POST vms/{uuid}/snapshot``); a VM is cloned from one with
``POST vm_recovery_points/{uuid}/restore``. Asynchronous calls answer 202.
"""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from functools import partial

from . import v3_bodies as bodies
from .api_common import Call, Reply, need_int, need_name, need_object, need_uuid
from .model import Cluster, Vm
from .world import PrismError, new_uuid

DEFAULT_LENGTH = 20
MAX_LENGTH = 500


def handle(call: Call) -> Reply:
    ep, parts, method = call.endpoint, call.parts, call.method
    if parts == ["users", "me"] and method == "GET":
        return Reply(200, bodies.user(call.user))
    if ep.kind != "nutanix-pc":
        raise PrismError(404, "REQUEST_NOT_SUPPORTED", f"/{'/'.join(parts)} is not served by this Prism "
                                                       "Element; use the v2.0 API.")
    world = ep.world
    with world.lock:
        head, rest = (parts[0] if parts else ""), parts[1:]
        if rest == ["list"] and method == "POST":
            return _list(call, head)
        if head == "clusters" and len(rest) == 1 and method == "GET":
            c = world.cluster_by_uuid(rest[0].lower())
            if c is None:
                raise PrismError(404, "ENTITY_NOT_FOUND", f"Cluster {rest[0]} does not exist.")
            return Reply(200, {**bodies.cluster(c, ep.version_override(c)), "api_version": bodies.API_VERSION})
        if head == "hosts" and len(rest) == 1 and method == "GET":
            for c in world.managed:
                for h in c.hosts:
                    if h.uuid == rest[0].lower():
                        return Reply(200, {**bodies.host(h, c), "api_version": bodies.API_VERSION})
            raise PrismError(404, "ENTITY_NOT_FOUND", f"Host {rest[0]} does not exist.")
        if head == "vms" and rest:
            return _vm(call, rest)
        if head == "vm_recovery_points" and rest:
            return _recovery_point(call, rest)
        if head == "tasks" and len(rest) == 1 and method == "GET":
            task = world.tasks.get(rest[0].lower())
            if task is None:
                raise PrismError(404, "ENTITY_NOT_FOUND", f"Task {rest[0]} does not exist.")
            return Reply(200, bodies.task(task, world.cluster_by_uuid(task.cluster_uuid)))
    raise PrismError(404, "REQUEST_NOT_SUPPORTED", f"No {method} handler for /{'/'.join(parts)}.")


# ---------------------------------------------------------------------------------------- lists

_KINDS = {"vms": "vm", "clusters": "cluster", "hosts": "host", "vm_recovery_points": "vm_recovery_point"}


def _entities(call: Call, head: str) -> list[tuple[dict, Callable[[], dict]]]:
    """(attributes for filtering and sorting, a function that draws the body) of every entity of the
    kind: only the page asked for is drawn, so paging 5,000 VMs stays cheap."""
    ep, world = call.endpoint, call.endpoint.world
    out: list[tuple[dict, Callable[[], dict]]] = []
    if head == "clusters":
        for c in world.clusters.values():
            out.append(({"name": c.name, "uuid": c.uuid}, partial(bodies.cluster, c, ep.version_override(c))))
    elif head == "hosts":
        for c in world.managed:
            for h in c.hosts:
                out.append(({"name": h.name, "cluster_name": c.name, "cluster_uuid": c.uuid},
                            partial(bodies.host, h, c)))
    elif head == "vms":
        pending = _pending_by_vm(call)
        for c in world.managed:
            for v in c.vms.values():
                attrs = {"vm_name": v.name, "name": v.name, "power_state": bodies.V3_POWER[v.power_state],
                         "cluster_name": c.name, "cluster_uuid": c.uuid, "host_uuid": v.host_uuid or ""}
                changes, busy = pending.get(v.uuid, ({}, False))
                out.append((attrs, partial(bodies.vm, v, c, changes, busy)))
    elif head == "vm_recovery_points":
        for c in world.managed:
            for s in c.snapshots.values():
                out.append(({"name": s.name, "vm_uuid": s.vm_uuid, "cluster_name": c.name},
                            partial(bodies.recovery_point, s, c)))
    return out


def _matches(attrs: dict, expr: str) -> bool:
    for clause in expr.split(";"):
        m = re.fullmatch(r"([a-z_]+)(==|!=)(.*)", clause.strip())
        if not m:
            raise PrismError(400, "INVALID_ARGUMENT", f"Cannot read the filter clause {clause!r}: "
                                                      "expected attribute==value or attribute!=value.")
        key, op, value = m.group(1), m.group(2), urllib.parse.unquote(m.group(3))
        if key not in attrs:
            raise PrismError(400, "INVALID_ARGUMENT", f"Unknown filter attribute {key!r}; this list knows "
                                                      f"{', '.join(sorted(attrs))}.")
        actual = str(attrs[key])
        hit = actual == value
        if not hit:
            try:
                hit = re.fullmatch(value, actual) is not None
            except re.error:
                hit = False
        if hit != (op == "=="):
            return False
    return True


def _list(call: Call, head: str) -> Reply:
    kind = _KINDS.get(head)
    if kind is None:
        raise PrismError(404, "REQUEST_NOT_SUPPORTED", f"/{head}/list is not served by this lab.")
    body = need_object(call.body, f"{head}/list")
    if body.get("kind", kind) != kind:
        raise PrismError(400, "INVALID_ARGUMENT", f'kind must be "{kind}" for /{head}/list; got {body.get("kind")!r}.')
    offset = need_int(body.get("offset", 0), "offset")
    length = need_int(body.get("length", DEFAULT_LENGTH), "length", 1)
    length = min(length, MAX_LENGTH)
    items = _entities(call, head)
    expr = body.get("filter")
    if expr:
        if not isinstance(expr, str):
            raise PrismError(400, "INVALID_ARGUMENT", "filter must be a string.")
        items = [it for it in items if _matches(it[0], expr)]
    order = body.get("sort_order", "ASCENDING")
    if order not in ("ASCENDING", "DESCENDING"):
        raise PrismError(400, "INVALID_ARGUMENT", f'sort_order must be "ASCENDING" or "DESCENDING"; got {order!r}.')
    sort_attr = body.get("sort_attribute")
    if sort_attr:
        if items and sort_attr not in items[0][0]:
            raise PrismError(400, "INVALID_ARGUMENT", f"Cannot sort on {sort_attr!r}.")
        items.sort(key=lambda it: str(it[0][sort_attr]).lower(), reverse=order == "DESCENDING")
    page = [draw() for _, draw in items[offset:offset + length]]
    return Reply(200, bodies.list_body(kind, page, len(items), offset, body))


# ---------------------------------------------------------------------------------------- VMs

def _pending_by_vm(call: Call) -> dict[str, tuple[dict, bool]]:
    """Per VM with a running task: what a running update asked for (shown in spec) and True."""
    out: dict[str, tuple[dict, bool]] = {}
    for t in call.endpoint.world.pending_tasks():
        for u in t.entity_uuids:
            changes, _ = out.get(u, ({}, True))
            if t.operation == "update":
                changes = {**changes, **t.params["changes"]}
            out[u] = (changes, True)
    return out


def _vm_body(call: Call, v: Vm, c: Cluster) -> dict:
    changes, pending = _pending_by_vm(call).get(v.uuid, ({}, False))
    return bodies.vm(v, c, changes, pending)


def _find_vm(call: Call, vm_uuid: str) -> tuple[Cluster, Vm]:
    found = call.endpoint.world.find_vm(vm_uuid.lower())
    if found is None:
        raise PrismError(404, "ENTITY_NOT_FOUND", f"VM {vm_uuid} does not exist.")
    return found


def _vm(call: Call, rest: list[str]) -> Reply:
    ep, method = call.endpoint, call.method
    c, v = _find_vm(call, rest[0])
    if len(rest) == 1 and method == "GET":
        return Reply(200, {**_vm_body(call, v, c), "api_version": bodies.API_VERSION})
    if len(rest) == 1 and method == "PUT":
        return _update(call, c, v)
    if len(rest) == 1 and method == "DELETE":
        task = ep.start_task(c, "delete", "VM", [v.uuid], {"vm_uuid": v.uuid}, api="v3")
        return Reply(202, {"status": {"state": "DELETE_PENDING", "execution_context": {"task_uuid": task.uuid}},
                           "spec": "", "api_version": bodies.API_VERSION,
                           "metadata": {"kind": "vm", "uuid": v.uuid}})
    if len(rest) == 2 and rest[1] == "clone" and method == "POST":
        ep.refuse_clone_if_faulty()
        body = need_object(call.body, "clone")
        override = body.get("override_spec") or {}
        if not isinstance(override, dict):
            raise PrismError(400, "INVALID_ARGUMENT", "override_spec must be an object.")
        spec = _override(override, default_name=f"{v.name}-clone")
        spec["uuid"] = _new_entity_uuid(call, body)
        task = ep.start_task(c, "clone", "VM", [spec["uuid"]], {"source": {"vm_uuid": v.uuid}, "specs": [spec]},
                             api="v3")
        return Reply(202, {"task_uuid": task.uuid})
    if len(rest) == 2 and rest[1] == "snapshot" and method == "POST":
        body = need_object(call.body, "snapshot")
        name = need_name(body.get("name", f"{v.name}-rp"), "name", 64)
        rp_uuid = need_uuid(body["vm_recovery_point_uuid"], "vm_recovery_point_uuid") \
            if body.get("vm_recovery_point_uuid") else new_uuid()
        if ep.world.uuid_taken(rp_uuid):
            raise PrismError(409, "ENTITY_ALREADY_EXISTS", f"An entity with uuid {rp_uuid} already exists.")
        task = ep.start_task(c, "snapshot", "Snapshot", [rp_uuid],
                             {"specs": [{"uuid": rp_uuid, "vm_uuid": v.uuid, "name": name}]}, api="v3")
        return Reply(202, {"task_uuid": task.uuid})
    raise PrismError(404, "REQUEST_NOT_SUPPORTED", f"No {method} handler for /vms/{'/'.join(rest)}.")


def _new_entity_uuid(call: Call, body: dict) -> str:
    meta = body.get("metadata") or {}
    if not isinstance(meta, dict):
        raise PrismError(400, "INVALID_ARGUMENT", "metadata must be an object.")
    new = need_uuid(meta["uuid"], "metadata.uuid") if meta.get("uuid") else new_uuid()
    if call.endpoint.world.uuid_taken(new):
        raise PrismError(409, "ENTITY_ALREADY_EXISTS", f"An entity with uuid {new} already exists.")
    return new


def _override(o: dict, default_name: str) -> dict:
    spec = {"name": need_name(o.get("name", default_name), "override_spec.name")}
    if o.get("num_sockets") is not None:
        spec["num_vcpus"] = need_int(o["num_sockets"], "override_spec.num_sockets", 1, 240)
    if o.get("num_vcpus_per_socket") is not None:
        spec["num_cores_per_vcpu"] = need_int(o["num_vcpus_per_socket"], "override_spec.num_vcpus_per_socket", 1, 64)
    if o.get("memory_size_mib") is not None:
        spec["memory_mb"] = need_int(o["memory_size_mib"], "override_spec.memory_size_mib", 1, 4_194_304)
    nics = o.get("nic_list")
    if isinstance(nics, list) and nics and isinstance(nics[0], dict):
        subnet = (nics[0].get("subnet_reference") or {}).get("uuid")
        if subnet:
            spec["network_uuid"] = need_uuid(subnet, "override_spec.nic_list[0].subnet_reference.uuid")
    return spec


def _update(call: Call, c: Cluster, v: Vm) -> Reply:
    body = need_object(call.body, "a VM update")
    spec, meta = body.get("spec"), body.get("metadata")
    if not isinstance(spec, dict) or not isinstance(spec.get("resources"), dict):
        raise PrismError(400, "INVALID_ARGUMENT", "A VM update needs spec.resources (send back the spec from GET).")
    if not isinstance(meta, dict) or meta.get("kind") != "vm":
        raise PrismError(400, "INVALID_ARGUMENT", 'A VM update needs metadata with kind "vm" and spec_version.')
    version = need_int(meta.get("spec_version"), "metadata.spec_version")
    if version != v.spec_version:
        raise PrismError(409, "CONCURRENT_REQUESTS_NOT_ALLOWED",
                         f"Given input spec_version {version} does not match the current spec_version "
                         f"{v.spec_version} of VM {v.uuid}: read the VM again and resend.")
    res = spec["resources"]
    changes: dict = {}
    if "name" in spec:
        changes["name"] = need_name(spec["name"], "spec.name")
    if "description" in spec and isinstance(spec["description"], str):
        changes["description"] = spec["description"]
    for key, field, hi in (("num_sockets", "num_vcpus", 240), ("num_vcpus_per_socket", "num_cores_per_vcpu", 64),
                           ("memory_size_mib", "memory_mb", 4_194_304)):
        if key in res:
            changes[field] = need_int(res[key], f"spec.resources.{key}", 1, hi)
    if "power_state" in res:
        power = res["power_state"]
        if power not in ("ON", "OFF"):
            raise PrismError(400, "INVALID_ARGUMENT", f'spec.resources.power_state must be "ON" or "OFF"; got {power!r}.')
        changes["power_state"] = power.lower()
        mechanism = (res.get("power_state_mechanism") or {}).get("mechanism", "HARD")
        if mechanism not in ("HARD", "ACPI", "GUEST"):
            raise PrismError(400, "INVALID_ARGUMENT", f"power_state_mechanism.mechanism must be HARD, ACPI or GUEST; "
                                                      f"got {mechanism!r}.")
        changes["mechanism"] = mechanism
    changes = {k: val for k, val in changes.items() if k == "mechanism" or getattr(v, k) != val}
    if set(changes) == {"mechanism"}:
        changes = {}
    v.spec_version += 1
    ep = call.endpoint
    task = ep.start_task(c, "update", "VM", [v.uuid], {"vm_uuid": v.uuid, "changes": changes}, api="v3",
                         duration="power" if "power_state" in changes else "update")
    ep.world.mark_dirty(c)
    out = _vm_body(call, v, c)
    out["status"]["state"] = "PENDING"
    out["status"]["execution_context"] = {"task_uuid": task.uuid}
    out["api_version"] = bodies.API_VERSION
    return Reply(202, out)


# ---------------------------------------------------------------------------------------- recovery points

def _recovery_point(call: Call, rest: list[str]) -> Reply:
    ep, method = call.endpoint, call.method
    found = ep.world.find_snapshot(rest[0].lower())
    if found is None:
        raise PrismError(404, "ENTITY_NOT_FOUND", f"Recovery point {rest[0]} does not exist.")
    c, snap = found
    if len(rest) == 1 and method == "GET":
        return Reply(200, {**bodies.recovery_point(snap, c), "api_version": bodies.API_VERSION})
    if len(rest) == 1 and method == "DELETE":
        task = ep.start_task(c, "delete_snapshot", "Snapshot", [snap.uuid], {"snapshot_uuid": snap.uuid}, api="v3")
        return Reply(202, {"status": {"state": "DELETE_PENDING", "execution_context": {"task_uuid": task.uuid}},
                           "spec": "", "api_version": bodies.API_VERSION,
                           "metadata": {"kind": "vm_recovery_point", "uuid": snap.uuid}})
    if len(rest) == 2 and rest[1] == "restore" and method == "POST":
        ep.refuse_clone_if_faulty()
        body = need_object(call.body, "restore")
        override = body.get("vm_override_spec") or {}
        if not isinstance(override, dict):
            raise PrismError(400, "INVALID_ARGUMENT", "vm_override_spec must be an object.")
        spec = {"name": need_name(override.get("name", snap.vm_spec["name"]), "vm_override_spec.name")}
        spec["uuid"] = _new_entity_uuid(call, body)
        task = ep.start_task(c, "restore", "VM", [spec["uuid"]],
                             {"source": {"snapshot_uuid": snap.uuid}, "specs": [spec]}, api="v3")
        return Reply(202, {"task_uuid": task.uuid})
    raise PrismError(404, "REQUEST_NOT_SUPPORTED", f"No {method} handler for /vm_recovery_points/{'/'.join(rest)}.")
