"""Prism Element REST v2.0 response bodies, drawn from the model with the field set and casing of a real
cluster's answers (``power_state`` "on"/"off", ``progress_status`` "Succeeded", times in usecs).
No published v2.0 spec exists: the shapes follow real bodies (``cluster/``, ``vms/``) and public
captures of the others (``tasks/``, ``snapshots/``, ``hosts/``, ``storage_containers/``)."""
from __future__ import annotations

import random
import time

from .model import Cluster, Container, Host, Network, Snapshot, Task, Vm

_STATS_KEYS = (
    "hypervisor_avg_io_latency_usecs", "num_read_iops", "hypervisor_write_io_bandwidth_kBps",
    "timespan_usecs", "controller_num_read_iops", "read_io_ppm", "controller_num_iops",
    "total_read_io_time_usecs", "controller_total_read_io_time_usecs",
    "replication_transmitted_bandwidth_kBps", "hypervisor_num_io", "controller_total_transformed_usage_bytes",
    "hypervisor_cpu_usage_ppm", "controller_num_write_io", "avg_read_io_latency_usecs",
    "content_cache_logical_ssd_usage_bytes", "controller_total_io_time_usecs",
    "controller_total_read_io_size_kbytes", "controller_num_seq_io", "controller_read_io_ppm",
    "content_cache_num_lookups", "controller_total_io_size_kbytes", "content_cache_hit_ppm",
    "controller_num_io", "hypervisor_avg_read_io_latency_usecs", "content_cache_num_dedup_ref_count_pph",
    "num_write_iops", "controller_num_random_io", "num_iops", "replication_received_bandwidth_kBps",
    "hypervisor_num_read_io", "hypervisor_total_read_io_time_usecs", "controller_avg_io_latency_usecs",
    "hypervisor_hyperv_cpu_usage_ppm", "num_io", "controller_num_read_io", "hypervisor_num_write_io",
    "controller_seq_io_ppm", "controller_read_io_bandwidth_kBps", "controller_io_bandwidth_kBps",
    "hypervisor_hyperv_memory_usage_ppm", "hypervisor_timespan_usecs", "hypervisor_num_write_iops",
    "replication_num_transmitted_bytes", "total_read_io_size_kbytes", "hypervisor_total_io_size_kbytes",
    "avg_io_latency_usecs", "hypervisor_num_read_iops", "content_cache_saved_ssd_usage_bytes",
    "controller_write_io_bandwidth_kBps", "controller_write_io_ppm", "hypervisor_avg_write_io_latency_usecs",
    "hypervisor_total_read_io_size_kbytes", "read_io_bandwidth_kBps", "hypervisor_esx_memory_usage_ppm",
    "hypervisor_memory_usage_ppm", "hypervisor_num_iops", "hypervisor_io_bandwidth_kBps",
    "controller_num_write_iops", "total_io_time_usecs", "hypervisor_kvm_cpu_usage_ppm",
    "content_cache_physical_ssd_usage_bytes", "controller_random_io_ppm", "controller_avg_read_io_size_kbytes",
    "total_transformed_usage_bytes", "avg_write_io_latency_usecs", "num_read_io", "write_io_bandwidth_kBps",
    "hypervisor_read_io_bandwidth_kBps", "random_io_ppm", "content_cache_num_hits",
    "total_untransformed_usage_bytes", "hypervisor_total_io_time_usecs", "num_random_io",
    "hypervisor_kvm_memory_usage_ppm", "controller_avg_write_io_size_kbytes",
    "controller_avg_read_io_latency_usecs", "num_write_io", "hypervisor_esx_cpu_usage_ppm",
    "total_io_size_kbytes", "io_bandwidth_kBps", "content_cache_physical_memory_usage_bytes",
    "replication_num_received_bytes", "controller_timespan_usecs", "num_seq_io",
    "content_cache_saved_memory_usage_bytes", "seq_io_ppm", "write_io_ppm",
    "controller_avg_write_io_latency_usecs", "content_cache_logical_memory_usage_bytes",
)
#: counters a hypervisor other than AHV would fill: Prism reports -1 for them
_NOT_APPLICABLE = ("hyperv", "esx", "transformed_usage", "untransformed", "seq_io", "random_io")


def stats(seed: str) -> dict:
    """A plausible, stable ``stats`` block (Prism sends every counter as a string)."""
    rng = random.Random(seed)
    out = {}
    for key in _STATS_KEYS:
        if any(part in key for part in _NOT_APPLICABLE):
            out[key] = "-1"
        elif key.endswith("timespan_usecs"):
            out[key] = "30000000"
        elif key.endswith("_ppm"):
            out[key] = str(rng.randrange(10_000, 600_000))
        elif "latency" in key:
            out[key] = str(rng.randrange(200, 2_500))
        else:
            out[key] = str(rng.randrange(0, 50_000))
    return out


def _usage_stats(capacity: int, used: int) -> dict:
    free = capacity - used
    out = {
        "storage.reserved_free_bytes": "0", "storage.reserved_usage_bytes": "0",
        "storage.reserved_capacity_bytes": "0", "storage.usage_bytes": str(used),
        "storage.capacity_bytes": str(capacity), "storage.free_bytes": str(free),
        "storage.logical_usage_bytes": str(int(used * 1.1)),
        "storage_tier.ssd.usage_bytes": str(used), "storage_tier.ssd.capacity_bytes": str(capacity),
        "storage_tier.ssd.free_bytes": str(free), "storage_tier.ssd.pinned_usage_bytes": "0",
        "storage_tier.ssd.pinned_bytes": "0",
        "storage_tier.das-sata.usage_bytes": "0", "storage_tier.das-sata.capacity_bytes": "0",
        "storage_tier.das-sata.free_bytes": "0", "storage_tier.das-sata.pinned_usage_bytes": "0",
    }
    for part in ("overall", "compression", "dedup", "erasure_coding", "clone", "thin_provision", ""):
        prefix = f"data_reduction.{part}." if part else "data_reduction."
        out[prefix + "saving_ratio_ppm"] = "-1"
        out[prefix + "saved_bytes"] = "-1"
        if part in ("compression", "dedup", "erasure_coding", ""):
            out[prefix + "pre_reduction_bytes"] = "-1"
            out[prefix + "post_reduction_bytes"] = "-1"
    return out


def cluster_used(cluster: Cluster) -> tuple[int, int]:
    capacity = sum(c.capacity_bytes for c in cluster.containers) // 2 or 1
    used = sum(cluster.container_used_bytes(c) for c in cluster.containers)
    return capacity, min(used, capacity)


def cluster(c: Cluster, version: tuple[str, str] | None = None) -> dict:
    """``GET cluster/``; ``version`` overrides (version, full_version) for the fault "old-version"."""
    short, full = version or (c.version, c.full_version)
    capacity, used = cluster_used(c)
    net = c.external_ip.rsplit(".", 1)[0]
    return {
        "id": f"{c.uuid}::{c.incarnation_id}", "uuid": c.uuid, "cluster_incarnation_id": c.incarnation_id,
        "cluster_uuid": c.uuid, "name": c.name, "cluster_external_ipaddress": c.external_ip,
        "cluster_external_data_services_ipaddress": None, "cluster_masquerading_ipaddress": None,
        "cluster_masquerading_port": None, "timezone": "UTC", "support_verbosity_type": "BASIC_COREDUMP",
        "operation_mode": "Normal", "encrypted": False, "storage_type": "all_flash",
        "cluster_functions": ["MULTICLUSTER"] if c.is_prism_central else ["NDFS"],
        "is_lts": True, "num_nodes": len(c.hosts) or 1,
        "block_serials": sorted({h.block_serial for h in c.hosts}) or ["null"],
        "version": short, "full_version": full, "target_version": short,
        "external_subnet": f"{net}.0/255.255.255.0", "internal_subnet": "192.168.5.0/255.255.255.128",
        "ncc_version": "ncc-4.6.6", "enable_lock_down": False, "enable_password_remote_login_to_cluster": True,
        "fingerprint_content_cache_percentage": 100, "ssd_pinning_percentage_limit": 25,
        "enable_shadow_clones": True, "global_nfs_white_list": [],
        "name_servers": ["10.42.0.2", "10.42.0.3"], "ntp_servers": ["0.pool.ntp.org", "1.pool.ntp.org"],
        "service_centers": [], "http_proxies": [],
        "rackable_units": [{
            "id": 8 + i, "rackable_unit_uuid": h.uuid[:-12] + "0000" + h.uuid[-8:],
            "model": "UseLayout", "model_name": h.block_model, "location": None, "serial": h.block_serial,
            "positions": [str(h.position)], "nodes": [i + 2], "node_uuids": [h.uuid],
        } for i, h in enumerate(c.hosts)],
        "public_keys": [], "smtp_server": None, "hypervisor_types": ["kKvm"],
        "cluster_redundancy_state": {
            "current_redundancy_factor": 2, "desired_redundancy_factor": 2,
            "redundancy_status": {"kCassandraPrepareDone": True, "kZookeeperPrepareDone": True}},
        "multicluster": not c.is_prism_central, "cloudcluster": False, "has_self_encrypting_drive": False,
        "is_upgrade_in_progress": False,
        "security_compliance_config": {
            "schedule": "DAILY", "enable_aide": False, "enable_core": False,
            "enable_high_strength_password": False, "enable_banner": False, "enable_snmpv3_only": False},
        "hypervisor_security_compliance_config": {
            "schedule": "DAILY", "enable_aide": False, "enable_core": False,
            "enable_high_strength_password": False, "enable_banner": False},
        "hypervisor_lldp_config": {"enable_lldp_tx": True},
        "cluster_arch": "X86_64", "iscsi_config": None, "domain": None,
        "nos_cluster_and_hosts_domain_joined": False, "all_hyperv_nodes_in_failover_cluster": False,
        "credential": None, "stats": stats(c.uuid), "usage_stats": _usage_stats(capacity, used),
        "enforce_rackable_unit_aware_placement": False, "disable_degraded_node_monitoring": False,
        "common_criteria_mode": False, "enable_on_disk_dedup": None, "management_servers": None,
        "fault_tolerance_domain_type": "NODE",
    }


def host(h: Host, c: Cluster) -> dict:
    cap = h.memory_bytes
    return {
        "service_vmid": f"{c.uuid}::{h.position + 4}", "uuid": h.uuid, "disk_hardware_configs": {},
        "name": h.name, "service_vmexternal_ip": h.cvm_ip, "service_vmnat_ip": None,
        "service_vmnat_port": None, "oplog_disk_pct": 3.4, "oplog_disk_size": 72_381_169_664,
        "hypervisor_key": h.hypervisor_ip, "hypervisor_address": h.hypervisor_ip,
        "hypervisor_username": "root", "controller_vm_backplane_ip": h.cvm_ip,
        "controller_vm_rdma_backplane_ips": None, "management_server_name": h.hypervisor_ip,
        "ipmi_address": h.ipmi_ip, "ipmi_username": "ADMIN", "monitored": True,
        "position": {"ordinal": h.position, "name": "", "physical_position": None},
        "serial": h.serial, "block_serial": h.block_serial, "block_model": "UseLayout",
        "block_model_name": h.block_model, "block_location": None, "host_maintenance_mode_reason": None,
        "hypervisor_state": "kAcropolisNormal", "acropolis_connection_state": "kConnected",
        "metadata_store_status": "kNormalMode", "metadata_store_status_message": "Metadata store enabled on the node",
        "state": "NORMAL", "removal_status": [],
        "vzone_name": "", "cpu_model": h.cpu_model, "num_cpu_cores": h.cores,
        "num_cpu_threads": h.cores * 2, "num_cpu_sockets": h.sockets,
        "cpu_frequency_in_hz": h.cpu_hz, "cpu_capacity_in_hz": h.cpu_hz * h.cores,
        "memory_capacity_in_bytes": cap, "hypervisor_full_name": h.hypervisor_full_name,
        "hypervisor_type": "kKvm", "num_vms": c.vms_on(h.uuid), "boot_time_in_usecs": 1_700_000_000_000_000,
        "is_degraded": False, "is_secure_booted": False, "is_hardware_virtualized": False,
        "failover_cluster_fqdn": None, "failover_cluster_node_state": None,
        "reboot_pending": False, "default_vm_location": None, "default_vm_storage_container_id": None,
        "default_vm_storage_container_uuid": None, "default_vhd_location": None,
        "default_vhd_storage_container_id": None, "default_vhd_storage_container_uuid": None,
        "bios_version": "PU21.000", "bios_model": "0824", "bmc_version": "07.10",
        "bmc_model": "0824", "hba_firmwares_list": None, "cluster_uuid": c.uuid,
        "stats": stats(h.uuid), "usage_stats": _usage_stats(*cluster_used(c)),
        "has_csr": False, "host_nic_ids": [f"{h.uuid}::eth{i}" for i in range(4)], "host_gpus": None,
        "gpu_driver_version": None, "host_type": "HYPER_CONVERGED", "key_management_device_to_certificate_status": {},
        "host_in_maintenance_mode": None,
    }


def container(ctr: Container, c: Cluster) -> dict:
    used = c.container_used_bytes(ctr)
    usage = _usage_stats(ctr.capacity_bytes, used)
    usage["storage.user_unreserved_free_bytes"] = str(ctr.capacity_bytes - used)
    usage["storage.user_capacity_bytes"] = str(ctr.capacity_bytes)
    return {
        "id": f"{c.uuid}::{ctr.id_number}", "storage_container_uuid": ctr.uuid, "name": ctr.name,
        "cluster_uuid": c.uuid, "marked_for_removal": False, "max_capacity": ctr.capacity_bytes,
        "total_explicit_reserved_capacity": 0, "total_implicit_reserved_capacity": 0,
        "advertised_capacity": None, "replication_factor": ctr.replication_factor,
        "oplog_replication_factor": ctr.replication_factor, "nfs_whitelist": [],
        "nfs_whitelist_inherited": True, "erasure_code": "off", "prefer_higher_ecfault_domain": None,
        "erasure_code_delay_secs": None, "finger_print_on_write": "off", "on_disk_dedup": "OFF",
        "compression_enabled": ctr.compression, "compression_delay_in_secs": 0 if ctr.compression else None,
        "is_nutanix_managed": ctr.name in ("NutanixManagementShare", "SelfServiceContainer"),
        "enable_software_encryption": False, "encrypted": None, "vstore_name_list": [ctr.name],
        "mapped_remote_containers": None, "usage_stats": usage,
    }


def network(n: Network) -> dict:
    body = {"logical_timestamp": 3, "vlan_id": n.vlan_id, "uuid": n.uuid, "name": n.name,
            "vswitch_name": "br0", "network_type": "kBridged", "ip_config": {
                "dhcp_options": {}, "network_address": "", "prefix_length": 0, "default_gateway": "",
                "pool": []}}
    if n.subnet:
        addr, prefix = n.subnet.split("/")
        body["ip_config"] = {"dhcp_options": {"domain_name_servers": "10.42.0.2,10.42.0.3"},
                             "network_address": addr, "prefix_length": int(prefix),
                             "default_gateway": addr.rsplit(".", 2)[0] + ".0.1",
                             "pool": [{"range": f"{addr.rsplit('.', 2)[0]}.1.10 {addr.rsplit('.', 2)[0]}.250.250"}]}
    return body


def vm(v: Vm, c: Cluster, disks: bool = False, nics: bool = False) -> dict:
    body = {
        "allow_live_migrate": not v.agent_vm, "gpus_assigned": False, "boot": {"uefi_boot": v.uefi},
        "description": v.description, "ha_priority": 0, "host_uuid": v.host_uuid,
        "memory_mb": v.memory_mb, "name": v.name, "num_cores_per_vcpu": v.num_cores_per_vcpu,
        "num_vcpus": v.num_vcpus, "power_state": v.power_state, "timezone": "UTC", "uuid": v.uuid,
        "vm_features": {"AGENT_VM": v.agent_vm, "VGA_CONSOLE": True},
        "vm_logical_timestamp": v.logical_timestamp, "machine_type": "pc",
    }
    if disks:
        body["vm_disk_info"] = [{
            "is_cdrom": d.is_cdrom, "is_empty": False, "flash_mode_enabled": False,
            "is_scsi_passthrough": True, "is_hot_remove_enabled": True, "is_thin_provisioned": False,
            "shared": False, "source_disk_address": None,
            "storage_container_uuid": d.container_uuid, "size": d.size_bytes,
            "data_source_url": f"/{_ctr_name(c, d.container_uuid)}/.acropolis/vmdisk/{d.uuid}",
            "disk_address": {"device_bus": d.bus, "device_index": d.index, "device_uuid": d.device_uuid,
                             "disk_label": f"{d.bus}.{d.index}", "vmdisk_uuid": d.uuid,
                             "ndfs_filepath": f"/{_ctr_name(c, d.container_uuid)}/.acropolis/vmdisk/{d.uuid}",
                             "is_cdrom": d.is_cdrom},
        } for d in v.disks]
    if nics:
        body["vm_nics"] = [{
            "mac_address": n.mac, "network_uuid": n.network_uuid, "nic_uuid": n.uuid, "model": n.model,
            "vlan_mode": "Access", "is_connected": n.connected,
            **({"ip_address": n.ip, "ip_addresses": [n.ip]} if n.ip else {}),
        } for n in v.nics]
    return body


def _ctr_name(c: Cluster, ctr_uuid: str) -> str:
    ctr = c.container(ctr_uuid)
    return ctr.name if ctr else "default-container"


def snapshot(s: Snapshot, c: Cluster) -> dict:
    spec = s.vm_spec
    return {
        "uuid": s.uuid, "snapshot_name": s.name, "vm_uuid": s.vm_uuid, "created_time": s.created_usecs,
        "logical_timestamp": s.logical_timestamp, "deleted": False, "group_uuid": s.uuid[:-12] + "000000000000",
        "vm_create_spec": {
            "name": spec["name"], "memory_mb": spec["memory_mb"], "num_vcpus": spec["num_vcpus"],
            "num_cores_per_vcpu": spec["num_cores_per_vcpu"], "boot": {"uefi_boot": spec["uefi"]},
            "vm_disks": [{"is_cdrom": d["is_cdrom"], "is_empty": False, "vm_disk_clone": {
                "disk_address": {"vmdisk_uuid": d["uuid"], "device_bus": d["bus"], "device_index": d["index"]},
                "minimum_size": d["size_bytes"], "storage_container_uuid": d["container_uuid"]}}
                for d in spec["disks"]],
            "vm_nics": [{"mac_address": n["mac"], "network_uuid": n["network_uuid"], "model": n["model"]}
                        for n in spec["nics"]],
        },
    }


_OPERATIONS = {"clone": "kVmClone", "restore": "kVmClone", "power": "kVmChangePowerState",
               "snapshot": "kSnapshotCreate", "delete": "kVmDelete", "delete_snapshot": "kSnapshotDelete",
               "update": "kVmUpdate"}


def task(t: Task, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    status, pct = t.state_at(now)
    op = _OPERATIONS.get(t.operation, t.operation)
    usecs = lambda s: int(s * 1_000_000)
    body = {
        "uuid": t.uuid, "meta_request": {"method_name": op}, "operation_type": op,
        "message": t.error if status == "Failed" else "",
        "create_time_usecs": usecs(t.created), "last_updated_time_usecs": usecs(min(now, t.completed or now)),
        "entity_list": [{"entity_id": u, "entity_type": t.entity_type, "entity_name": None}
                        for u in t.entity_uuids],
        "percentage_complete": pct, "progress_status": status, "subtask_uuid_list": [],
        "cluster_uuid": t.cluster_uuid,
        "meta_response": {"error_code": 0},
    }
    if status != "Queued":
        body["start_time_usecs"] = usecs(t.started)
    if status in ("Succeeded", "Failed"):
        body["complete_time_usecs"] = usecs(t.completed or now)
    if status == "Failed":
        body["meta_response"] = {"error_code": 1 if not t.error_code else _error_number(t.error_code),
                                 "error_detail": t.error}
    return body


def _error_number(code: str) -> int:
    return {"kNotFound": 7, "kInvalidState": 13, "kCloneFailed": 3, "kAborted": 19}.get(code, 1)


def list_body(entities: list[dict], total: int | None = None, start: int = 0) -> dict:
    total = len(entities) if total is None else total
    return {"metadata": {"grand_total_entities": total, "total_entities": total, "count": len(entities),
                         "start_index": start + 1 if entities else 0,
                         "end_index": start + len(entities)},
            "entities": entities}


def error(status: int, message: str, reason: str = "") -> dict:
    """A v2.0 error body, as PrismGateway answers a refused request."""
    return {"message": message, "error_code": {"code": 1000 + status, "help_url": "http://my.nutanix.com"},
            "detailed_message": reason or None}
