"""Prism v3 response bodies (status/spec/metadata, kinds, upper-case enums) shaped per the swagger of
Prism Central v3 (../shared/reference/nutanix/prism-central-v3.swagger.json)."""
from __future__ import annotations

import datetime as dt
import hashlib
import time

from .model import Cluster, Host, Snapshot, Task, Vm

API_VERSION = "3.1"
ADMIN_UUID = "00000000-0000-0000-0000-000000000000"
V3_POWER = {"on": "ON", "off": "OFF", "paused": "PAUSED", "suspended": "PAUSED"}
_V3_OPERATIONS = {"clone": "VM_CLONE", "restore": "VM_RESTORE", "power": "VM_UPDATE", "update": "VM_UPDATE",
                  "snapshot": "VM_SNAPSHOT", "delete": "VM_DELETE", "delete_snapshot": "VM_RECOVERY_POINT_DELETE"}


def rfc3339(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref(kind: str, uuid: str, name: str | None = None) -> dict:
    out = {"kind": kind, "uuid": uuid}
    if name is not None:
        out["name"] = name
    return out


def metadata(kind: str, uuid: str, created_usecs: int, updated_usecs: int, spec_version: int = 0,
             name: str | None = None) -> dict:
    out = {
        "last_update_time": rfc3339(updated_usecs / 1e6), "kind": kind, "uuid": uuid,
        "creation_time": rfc3339(created_usecs / 1e6), "spec_version": spec_version,
        "spec_hash": hashlib.sha1(f"{uuid}/{spec_version}".encode()).hexdigest() + "00000000000",
        "entity_version": str(spec_version + 1), "categories_mapping": {}, "categories": {},
        "use_categories_mapping": False, "owner_reference": ref("user", ADMIN_UUID, "admin"),
    }
    if name is not None:
        out["name"] = name
    return out


# ---------------------------------------------------------------------------------------- VMs

def _disks(v: Vm, c: Cluster, status: bool) -> list[dict]:
    out = []
    for d in v.disks:
        ctr = c.container(d.container_uuid)
        disk = {"uuid": d.uuid, "disk_size_bytes": d.size_bytes, "disk_size_mib": d.size_bytes // (1024 * 1024),
                "device_properties": {"device_type": "CDROM" if d.is_cdrom else "DISK",
                                      "disk_address": {"device_index": d.index, "adapter_type": d.bus.upper()}},
                "storage_config": {"storage_container_reference": {
                    "kind": "storage_container", "uuid": d.container_uuid,
                    "name": ctr.name if ctr else "", "url": f"/api/nutanix/v3/storage_containers/{d.container_uuid}"}}}
        if status:
            disk["is_migration_in_progress"] = False
        out.append(disk)
    return out


def _nics(v: Vm, c: Cluster, status: bool) -> list[dict]:
    out = []
    for n in v.nics:
        net = c.network(n.network_uuid)
        nic = {"nic_type": "NORMAL_NIC", "uuid": n.uuid, "vlan_mode": "ACCESS", "mac_address": n.mac,
               "subnet_reference": ref("subnet", n.network_uuid, net.name if net else ""),
               "is_connected": n.connected, "trunked_vlan_list": [], "secondary_ip_address_list": [],
               # IPAM hands out the address (ASSIGNED); elsewhere AHV learns it from the guest's traffic
               "ip_endpoint_list": ([{"ip": n.ip, "type": "ASSIGNED" if net is not None and net.subnet
                                      else "LEARNED"}] if (status and n.ip) else [])}
        out.append(nic)
    return out


def _resources(v: Vm, c: Cluster, status: bool, changes: dict) -> dict:
    get = lambda k: changes.get(k, getattr(v, k))
    power = v.power_state if status else changes.get("power_state", v.power_state)
    res = {
        "num_sockets": get("num_vcpus"), "num_vcpus_per_socket": get("num_cores_per_vcpu"),
        "num_threads_per_core": 1, "memory_size_mib": get("memory_mb"),
        "power_state": V3_POWER[power] if status else ("ON" if power in ("on", "paused") else "OFF"),
        "power_state_mechanism": {"mechanism": "HARD", "guest_transition_config": {
            "should_fail_on_script_failure": False, "enable_script_exec": False}},
        "vga_console_enabled": True, "machine_type": "PC", "hardware_clock_timezone": "UTC",
        "is_agent_vm": v.agent_vm, "disable_branding": False, "enable_cpu_passthrough": False,
        "is_vcpu_hard_pinned": False, "memory_overcommit_enabled": False,
        "boot_config": {"boot_type": "UEFI" if v.uefi else "LEGACY",
                        **({} if v.uefi else {"boot_device_order_list": ["CDROM", "DISK", "NETWORK"]})},
        "disk_list": _disks(v, c, status), "nic_list": _nics(v, c, status),
        "gpu_list": [], "serial_port_list": [],
    }
    if status:
        res["hypervisor_type"] = "AHV"
        res["protection_type"] = "UNPROTECTED"
        if v.host_uuid:
            host = c.host(v.host_uuid)
            res["host_reference"] = ref("host", v.host_uuid, host.name if host else None)
    return res


def vm(v: Vm, c: Cluster, changes: dict | None = None, pending: bool = False) -> dict:
    """A VM intent resource. ``changes``: what a running update asked for (shown in spec, not yet
    in status); ``pending``: a task is changing it."""
    changes = changes or {}
    cluster_ref = ref("cluster", c.uuid, c.name)
    status = {"state": "ERROR" if v.incomplete else ("PENDING" if pending else "COMPLETE"),
              "name": v.name, "description": v.description, "cluster_reference": cluster_ref,
              "resources": _resources(v, c, True, {}),
              "message_list": ([{"message": v.incomplete, "reason": "INTERNAL_ERROR", "details": {}}]
                               if v.incomplete else [])}
    spec = {"name": changes.get("name", v.name), "description": changes.get("description", v.description),
            "cluster_reference": cluster_ref, "resources": _resources(v, c, False, changes)}
    return {"status": status, "spec": spec,
            "metadata": metadata("vm", v.uuid, v.created_usecs, v.updated_usecs, v.spec_version)}


# ---------------------------------------------------------------------------------------- clusters

def cluster(c: Cluster, version: tuple[str, str] | None = None) -> dict:
    short, full = version or (c.version, c.full_version)
    commit = full.rsplit("-", 1)[-1]
    net = c.external_ip.rsplit(".", 1)[0]
    config = {
        "gpu_driver_version": "", "software_map": {
            "NOS": {"software_type": "NOS", "status": "INSTALLED", "version": short},
            "NCC": {"software_type": "NCC", "status": "INSTALLED", "version": "ncc-4.6.6"}},
        "encryption_status": "NOT_SUPPORTED",
        "service_list": ["PRISM_CENTRAL"] if c.is_prism_central else ["AOS"],
        "supported_information_verbosity": "BASIC_PLUS_CORE_DUMP", "redundancy_factor": 1 if c.is_prism_central else 2,
        "operation_mode": "NORMAL", "domain_awareness_level": "NODE", "enabled_feature_list": [],
        "is_available": True, "timezone": "UTC", "cluster_arch": "X86_64", "management_server_list": [],
        "build": {"commit_id": commit, "full_version": full, "commit_date": "2023-08-22T10:14:07Z",
                  "is_long_term_support": not c.is_prism_central, "version": short,
                  "short_commit_id": commit[:6], "build_type": "release"},
        "ca_certificate_list": [], "authorized_public_key_list": [],
    }
    network = {"external_ip": c.external_ip, "external_subnet": f"{net}.0/255.255.255.0",
               "internal_subnet": "192.168.5.0/255.255.255.128", "name_server_ip_list": ["10.42.0.2", "10.42.0.3"],
               "ntp_server_ip_list": ["0.pool.ntp.org", "1.pool.ntp.org"], "nfs_subnet_whitelist": [],
               "http_proxy_list": [], "http_proxy_whitelist": []}
    servers = ([{"ip": "127.0.0.1", "version": "", "type": "AHV"}] if c.is_prism_central else
               [{"ip": h.hypervisor_ip, "version": h.hypervisor_full_name.split()[-1], "type": "AHV"}
                for h in c.hosts])
    spec_config = {k: config[k] for k in ("software_map", "encryption_status", "redundancy_factor",
                                          "operation_mode", "domain_awareness_level", "enabled_feature_list",
                                          "timezone", "supported_information_verbosity")}
    created = c.incarnation_id
    return {
        "status": {"state": "COMPLETE", "name": c.name, "message_list": [], "resources": {
            "nodes": {"hypervisor_server_list": servers}, "config": config, "network": network,
            "runtime_status_list": []}},
        "spec": {"name": c.name, "resources": {"config": spec_config, "network": dict(network)}},
        "metadata": metadata("cluster", c.uuid, created, created, 0, c.name),
    }


def host(h: Host, c: Cluster) -> dict:
    resources = {
        "serial_number": h.serial, "ipmi": {"ip": h.ipmi_ip}, "host_type": "HYPER_CONVERGED",
        "cpu_model": h.cpu_model, "num_cpu_sockets": h.sockets, "num_cpu_cores": h.cores,
        "cpu_capacity_hz": h.cpu_hz * h.cores, "memory_capacity_mib": h.memory_bytes // (1024 * 1024),
        "monitoring_state": "MONITORED",
        "hypervisor": {"ip": h.hypervisor_ip, "hypervisor_full_name": h.hypervisor_full_name,
                       "num_vms": c.vms_on(h.uuid)},
        "controller_vm": {"ip": h.cvm_ip, "oplog_usage": {"oplog_disk_pct": 3.4,
                                                          "oplog_disk_size": 72_381_169_664}},
        "block": {"block_serial_number": h.block_serial, "block_model": h.block_model},
        "rackable_unit_reference": ref("rackable_unit", h.uuid[:-12] + "0000" + h.uuid[-8:]),
        "gpu_list": [], "host_nics_id_list": [f"{h.uuid}::eth{i}" for i in range(4)],
        "host_disks_reference_list": [],
    }
    return {"status": {"state": "COMPLETE", "name": h.name, "message_list": [], "resources": resources,
                       "cluster_reference": ref("cluster", c.uuid, c.name)},
            "spec": {"name": h.name, "resources": {}},
            "metadata": metadata("host", h.uuid, c.incarnation_id, c.incarnation_id, 0, h.name)}


def recovery_point(s: Snapshot, c: Cluster) -> dict:
    resources = {"parent_vm_reference": ref("vm", s.vm_uuid, s.vm_spec.get("name")),
                 "recovery_point_type": "CRASH_CONSISTENT",
                 "vm_recovery_point_location_agnostic_uuid": s.uuid,
                 "consistency_group_uuid": s.uuid[:-12] + "000000000000"}
    return {"status": {"state": "COMPLETE", "name": s.name, "message_list": [],
                       "cluster_reference": ref("cluster", c.uuid, c.name),
                       "availability_zone_reference": ref("availability_zone", ADMIN_UUID[:-1] + "1", "Local AZ"),
                       "resources": resources},
            "spec": {"name": s.name, "cluster_reference": ref("cluster", c.uuid, c.name),
                     "resources": {"parent_vm_reference": ref("vm", s.vm_uuid)}},
            "metadata": metadata("vm_recovery_point", s.uuid, s.created_usecs, s.created_usecs, 0, s.name)}


# ---------------------------------------------------------------------------------------- tasks, users

def task(t: Task, c: Cluster | None, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    status, pct = t.state_at(now)
    kind = "vm_recovery_point" if t.entity_type == "Snapshot" else "vm"
    usecs = lambda s: int(s * 1_000_000)
    body = {
        "uuid": t.uuid, "status": status.upper(), "percentage_complete": pct,
        "operation_type": _V3_OPERATIONS.get(t.operation, t.operation.upper()),
        "progress_message": {"Queued": "Task queued", "Running": f"{t.operation.capitalize()} in progress",
                             "Succeeded": "Task completed", "Failed": "Task failed"}[status],
        "entity_reference_list": [ref(kind, u) for u in t.entity_uuids],
        "creation_time": rfc3339(t.created), "creation_time_usecs": usecs(t.created),
        "last_update_time": rfc3339(min(now, t.completed or now)),
        "logical_timestamp": {"Queued": 1, "Running": 2}.get(status, 3),
        "subtask_reference_list": [], "api_version": API_VERSION,
        "error_detail": t.error if status == "Failed" else "",
        "error_code": t.error_code if status == "Failed" else "",
    }
    if c is not None:
        body["cluster_reference"] = ref("cluster", c.uuid, c.name)
    if status != "Queued":
        body["start_time"], body["start_time_usecs"] = rfc3339(t.started), usecs(t.started)
    if status in ("Succeeded", "Failed"):
        done = t.completed or now
        body["completion_time"], body["completion_time_usecs"] = rfc3339(done), usecs(done)
    return body


def user(name: str) -> dict:
    return {"status": {"state": "COMPLETE", "name": name, "message_list": [], "resources": {
                "display_name": name, "user_type": "LOCAL", "access_control_policy_reference_list": [],
                "projects_reference_list": [], "resource_usage_summary": {"resource_domain": {"resources": []}}}},
            "spec": {"resources": {}},
            "metadata": metadata("user", ADMIN_UUID, 1_600_000_000_000_000, 1_600_000_000_000_000, 0, name),
            "api_version": API_VERSION}


def list_body(kind: str, entities: list[dict], total: int, offset: int, request: dict) -> dict:
    meta = {"total_matches": total, "kind": kind, "length": len(entities), "offset": offset}
    for key in ("filter", "sort_attribute", "sort_order"):
        if request.get(key):
            meta[key] = request[key]
    return {"api_version": API_VERSION, "metadata": meta, "entities": entities}


def error(status: int, reason: str, message: str, kind: str | None = None) -> dict:
    body = {"api_version": API_VERSION, "code": status, "message_list": [{"message": message, "reason": reason}],
            "state": "ERROR"}
    if kind:
        body["kind"] = kind
    return body
