"""What the details pane says about Nutanix things: clusters, AHV hosts, and VMs on them. Pure
functions from domain objects to (label, value) rows; no Qt here."""
from __future__ import annotations

from console.domain.inventory import Host, HostFacts, HostStatus, PowerState, VM
from console.ui.table_models import format_bytes

_STATUS = {HostStatus.CONNECTED: "Connected", HostStatus.UNREACHABLE: "Unreachable",
           HostStatus.AUTH_FAILED: "Authentication failed", HostStatus.UNKNOWN: "Not refreshed yet"}


def hypervisor_text(facts: HostFacts) -> str:
    """'Nutanix AHV 20220304.342' (the caption and the version Prism reports)."""
    version = facts.hyperv_version or facts.os_version
    return " ".join(filter(None, [facts.os_caption or "AHV", version]))


def nutanix_host_rows(facts: HostFacts) -> list[tuple[str, str]]:
    """An AHV host's facts (Test connection shows these too)."""
    return [("Hypervisor", hypervisor_text(facts)),
            ("CPUs", f"{facts.logical_processors} logical processors" if facts.logical_processors else ""),
            ("Memory", format_bytes(facts.memory_bytes))]


def nutanix_host_summary(host: Host, vm_count: int) -> list[tuple[str, str]]:
    status = _STATUS[host.status] + (f": {host.error}" if host.error else "")
    rows = [("Host", host.name), ("Cluster", host.cluster), ("Status", status)]
    if host.facts is not None:
        rows += nutanix_host_rows(host.facts)
    return rows + [("Virtual machines", str(vm_count))]


def cluster_summary(name: str, hosts: list[Host], vms: list[VM]) -> list[tuple[str, str]]:
    """Name, the AHV version(s) its hosts run, host and VM counts."""
    versions = sorted({hypervisor_text(h.facts) for h in hosts if h.facts is not None})
    running = sum(1 for vm in vms if vm.state is PowerState.RUNNING)
    memory = sum(h.facts.memory_bytes for h in hosts if h.facts is not None)
    cpus = sum(h.facts.logical_processors for h in hosts if h.facts is not None)
    return [("Cluster", name),
            ("Version", ", ".join(versions) if versions else "Not reported"),
            ("Hosts", str(len(hosts))),
            ("Virtual machines", f"{len(vms)} ({running} running, {len(vms) - running} not running)"),
            ("Logical processors", str(cpus) if cpus else ""),
            ("Memory", format_bytes(memory) if memory else "")]


def disks_text(vm: VM) -> str:
    if not vm.disks:
        return "None"
    return "; ".join(f"{d.path} ({format_bytes(d.size_bytes)})" for d in vm.disks)


def nutanix_vm_rows(vm: VM) -> list[tuple[str, str]]:
    return [
        ("Name", vm.name), ("Power state", vm.state.value),
        ("vCPU", str(vm.cpu_count)), ("Memory", format_bytes(vm.memory_bytes)),
        ("Disks", disks_text(vm)),
        ("NICs", ", ".join(vm.nics) if vm.nics else "None"),
        ("Host", vm.host or "None (not running on a host)"),
        ("Cluster", vm.cluster),
        ("UUID", vm.id),
        ("Description", vm.notes or "None"),
    ]
