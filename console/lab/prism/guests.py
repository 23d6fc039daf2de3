"""The simulated guests of the Prism lab: a VM powered on reports its NICs' IP addresses once its guest
has booted (what the console waits for before a clone is usable). Mixed into PrismWorld, whose lock
guards it; split out of world.py to keep that file readable."""
from __future__ import annotations

from .model import Cluster, Vm


class GuestBoot:
    """``clusters`` and ``_dirty`` are PrismWorld's."""

    def _init_guests(self) -> None:
        self._booting: dict[str, tuple[float, str]] = {}   # VM uuid -> (when its IPs appear, cluster)
        self._task_time = 0.0                               # the end time of the task being applied
        self._applying = None                               # the Task being applied

    def _boot_times(self) -> list[float]:
        """When each booting guest reports its addresses (the lab's task thread wakes for them)."""
        return [at for at, _ in self._booting.values()]

    @property
    def _boot_seconds(self) -> float:
        task = self._applying
        return float(task.params.get("boot_seconds", 0.0)) if task is not None else 0.0

    def _start_guest(self, cluster: Cluster, vm: Vm, boot_seconds: float) -> None:
        for nic in vm.nics:
            nic.ip = ""
        vm.guest_boot_at = self._task_time + boot_seconds
        self._booting[vm.uuid] = (vm.guest_boot_at, cluster.name)
        if boot_seconds <= 0:
            self._guest_up(cluster, vm)

    def _stop_guest(self, vm: Vm) -> None:
        for nic in vm.nics:
            nic.ip = ""
        vm.guest_boot_at = None
        self._booting.pop(vm.uuid, None)

    def _guest_up(self, cluster: Cluster, vm: Vm) -> None:
        """The guest booted: each NIC reports an address of its network (IPAM's range, or DHCP's)."""
        self._booting.pop(vm.uuid, None)
        vm.guest_boot_at = None
        for i, nic in enumerate(vm.nics):
            net = cluster.network(nic.network_uuid)
            digits = int(nic.mac.replace(":", "")[-4:], 16) + i if nic.mac else i
            prefix = ".".join(net.subnet.split(".")[:2]) if net is not None and net.subnet else "10.30"
            nic.ip = f"{prefix}.{1 + digits // 250 % 250}.{2 + digits % 248}"
        self._dirty.add(cluster.name)

    def _boot_guests(self, now: float) -> None:
        for vm_uuid, (at, name) in sorted(self._booting.items(), key=lambda x: x[1][0]):
            if at > now:
                continue
            cluster = self.clusters.get(name)
            vm = cluster.vms.get(vm_uuid) if cluster is not None else None
            if vm is None or vm.power_state != "on" or vm.guest_boot_at != at:
                self._booting.pop(vm_uuid, None)
                continue
            self._guest_up(cluster, vm)
