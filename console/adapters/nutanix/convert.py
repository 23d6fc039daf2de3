"""Prism bodies (v2.0 and v3) to the console's domain objects. Pure functions, no I/O.

Mind the casing: v2.0 ``power_state`` is "on"/"off", v3 is "ON"/"OFF".
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from console.domain.errors import ProtocolError
from console.domain.inventory import VM, HostFacts, PowerState, Snapshot, VirtualDisk

MiB = 1024 ** 2

_POWER = {"on": PowerState.RUNNING, "off": PowerState.OFF, "paused": PowerState.PAUSED,
          "suspended": PowerState.SAVED, "powering_on": PowerState.STARTING,
          "powering_off": PowerState.STOPPING, "shutting_down": PowerState.STOPPING,
          "pausing": PowerState.STOPPING, "suspending": PowerState.STOPPING,
          "resuming": PowerState.STARTING, "unknown": PowerState.UNKNOWN}


def power_state(value: Any) -> PowerState:
    return _POWER.get(str(value or "").lower(), PowerState.UNKNOWN)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def version_tuple(text: str) -> tuple[int, ...]:
    """(5, 20, 4, 6) from "5.20.4.6", "el7.3-release-euphrates-5.20.4.6-stable-..." or
    "pc.2022.6.0.6"; () when there is no number in it."""
    text = str(text or "")
    if text.lower().startswith("pc."):
        text = text[3:]
    match = re.search(r"(?<![\w.])(\d+(?:\.\d+)+)(?![\w])", text) or re.search(r"(\d+(?:\.\d+)+)", text)
    if not match:
        return ()
    return tuple(int(part) for part in match.group(1).split("."))


# ---------------------------------------------------------------------- Prism Element v2.0
def v2_host_facts(body: dict[str, Any]) -> HostFacts:
    threads = _int(body.get("num_cpu_threads")) or _int(body.get("num_cpu_cores"))
    return HostFacts(computer_name=str(body.get("name") or body.get("uuid") or ""),
                     os_caption="Nutanix AHV",
                     os_version=str(body.get("hypervisor_full_name") or ""),
                     hyperv_version=_hypervisor_version(body.get("hypervisor_full_name")),
                     logical_processors=threads,
                     memory_bytes=_int(body.get("memory_capacity_in_bytes")))


def _hypervisor_version(full_name: Any) -> str:
    """"Nutanix 20220304.342" -> "20220304.342" (the AHV version)."""
    text = str(full_name or "")
    return text.split()[-1] if text.split() else ""


def v2_vm(body: dict[str, Any], cluster: str, host_names: dict[str, str],
          container_names: dict[str, str], network_names: dict[str, str]) -> VM:
    if not body.get("uuid"):
        raise ProtocolError("Prism Element listed a virtual machine without a uuid.", details=str(body)[:500])
    disks = []
    for disk in body.get("vm_disk_info") or []:
        if disk.get("is_cdrom"):
            continue
        address = disk.get("disk_address") or {}
        where = f"{address.get('device_bus', 'scsi')}.{address.get('device_index', 0)}"
        container = container_names.get(str(disk.get("storage_container_uuid") or ""), "")
        path = address.get("ndfs_filepath") or (f"{container}/{where}" if container else where)
        disks.append(VirtualDisk(path=str(path), size_bytes=_int(disk.get("size"))))
    nics = [network_names.get(str(nic.get("network_uuid") or ""), str(nic.get("network_uuid") or ""))
            for nic in body.get("vm_nics") or []]
    state = power_state(body.get("power_state"))
    host_uuid = str(body.get("host_uuid") or "")
    return VM(id=str(body["uuid"]), name=str(body.get("name") or ""),
              host=host_names.get(host_uuid, "") if host_uuid else "",
              cluster=cluster, state=state,
              cpu_count=max(1, _int(body.get("num_vcpus")) * max(1, _int(body.get("num_cores_per_vcpu")))),
              memory_bytes=_int(body.get("memory_mb")) * MiB,
              generation=2 if body.get("boot", {}).get("uefi_boot", True) else 1,
              switch=nics[0] if nics else "", disks=disks, nics=nics,
              notes=str(body.get("description") or ""))


# ---------------------------------------------------------------------- Prism Central v3
def _ref_name(reference: Any) -> str:
    return str(reference.get("name") or "") if isinstance(reference, dict) else ""


def v3_is_prism_central(entity: dict[str, Any]) -> bool:
    """The pseudo-cluster Prism Central lists for itself."""
    config = ((entity.get("status") or {}).get("resources") or {}).get("config") or {}
    return "PRISM_CENTRAL" in (config.get("service_list") or [])


def v3_cluster_version(entity: dict[str, Any]) -> str:
    config = ((entity.get("status") or {}).get("resources") or {}).get("config") or {}
    build = config.get("build") or {}
    return str(build.get("version") or build.get("full_version") or "")


def v3_cluster_name(entity: dict[str, Any]) -> str:
    return str((entity.get("status") or {}).get("name") or (entity.get("spec") or {}).get("name") or "")


def v3_host_facts(entity: dict[str, Any]) -> HostFacts:
    status = entity.get("status") or {}
    resources = status.get("resources") or {}
    hypervisor = resources.get("hypervisor") or {}
    full_name = str(hypervisor.get("hypervisor_full_name") or "")
    return HostFacts(computer_name=str(status.get("name") or (entity.get("metadata") or {}).get("uuid") or ""),
                     os_caption="Nutanix AHV", os_version=full_name,
                     hyperv_version=_hypervisor_version(full_name),
                     logical_processors=_int(resources.get("num_cpu_cores")) * max(
                         1, _int(resources.get("num_threads_per_core")) or 1),
                     memory_bytes=_int(resources.get("memory_capacity_mib")) * MiB)


def v3_host_cluster(entity: dict[str, Any]) -> str:
    return _ref_name((entity.get("status") or {}).get("cluster_reference"))


def v3_vm(entity: dict[str, Any], host_names: dict[str, str] | None = None) -> VM:
    metadata = entity.get("metadata") or {}
    status = entity.get("status") or {}
    spec = entity.get("spec") or {}
    resources = status.get("resources") or spec.get("resources") or {}
    uuid = str(metadata.get("uuid") or "")
    if not uuid:
        raise ProtocolError("Prism Central listed a virtual machine without a uuid.", details=str(entity)[:500])
    disks = []
    for disk in resources.get("disk_list") or []:
        properties = disk.get("device_properties") or {}
        if properties.get("device_type", "DISK") != "DISK":
            continue
        address = properties.get("disk_address") or {}
        where = f"{str(address.get('adapter_type', 'SCSI')).lower()}.{address.get('device_index', 0)}"
        container = _ref_name((disk.get("storage_config") or {}).get("storage_container_reference"))
        size = _int(disk.get("disk_size_bytes")) or _int(disk.get("disk_size_mib")) * MiB
        disks.append(VirtualDisk(path=f"{container}/{where}" if container else where, size_bytes=size))
    nics = [_ref_name(nic.get("subnet_reference")) or str((nic.get("subnet_reference") or {}).get("uuid") or "")
            for nic in resources.get("nic_list") or []]
    host_ref = resources.get("host_reference") or {}
    host_uuid = str(host_ref.get("uuid") or "")
    host = _ref_name(host_ref) or (host_names or {}).get(host_uuid, host_uuid)
    boot = (resources.get("boot_config") or {}).get("boot_type", "")
    sockets, per_socket = _int(resources.get("num_sockets")), _int(resources.get("num_vcpus_per_socket"))
    return VM(id=uuid, name=str(status.get("name") or spec.get("name") or ""), host=host,
              cluster=_ref_name(status.get("cluster_reference") or spec.get("cluster_reference")),
              state=power_state(resources.get("power_state")),
              cpu_count=max(1, sockets * max(1, per_socket)),
              memory_bytes=_int(resources.get("memory_size_mib")) * MiB,
              generation=1 if boot == "LEGACY" else 2,
              switch=nics[0] if nics else "", disks=disks, nics=nics,
              notes=str(status.get("description") or spec.get("description") or ""))


# ---------------------------------------------------------------------- snapshots
def _iso_from_usecs(value: Any) -> str:
    usecs = _int(value)
    if not usecs:
        return ""
    return dt.datetime.fromtimestamp(usecs / 1e6, dt.timezone.utc).isoformat()


def v2_snapshot(body: dict[str, Any]) -> Snapshot:
    """v2.0 ``snapshots/`` entity: uuid, snapshot_name, vm_uuid, created_time (microseconds)."""
    return Snapshot(id=str(body.get("uuid") or ""), name=str(body.get("snapshot_name") or ""),
                    vm_id=str(body.get("vm_uuid") or "").lower(), created=_iso_from_usecs(body.get("created_time")))


def v3_snapshot_vm(entity: dict[str, Any]) -> str:
    """The uuid of the VM a v3 recovery point was taken of."""
    for part in ("status", "spec"):
        ref = ((entity.get(part) or {}).get("resources") or {}).get("parent_vm_reference") or {}
        if ref.get("uuid"):
            return str(ref["uuid"]).lower()
    return ""


def v3_snapshot(entity: dict[str, Any]) -> Snapshot:
    metadata = entity.get("metadata") or {}
    name = (entity.get("status") or {}).get("name") or (entity.get("spec") or {}).get("name") or ""
    created = str(metadata.get("creation_time") or "")
    if created:
        try:                                   # one form for both APIs: ISO-8601 in UTC
            created = dt.datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(
                dt.timezone.utc).isoformat()
        except ValueError:
            pass
    return Snapshot(id=str(metadata.get("uuid") or ""), name=str(name), vm_id=v3_snapshot_vm(entity),
                    created=created)
