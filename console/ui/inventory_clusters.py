"""Nutanix providers in the inventory tree: provider -> clusters -> hosts -> VMs, and the VMs that
run nowhere (powered off: the services put them under a host named "") directly under their cluster.

A mixin of InventoryModel, diffing on the same stable keys (cluster name, host name, VM uuid) with
the model's own insert/remove/change machinery, so a refresh never resets the tree.
"""
from __future__ import annotations

from console.domain.inventory import Host, HostStatus, Provider, ProviderKind, VM
from console.ui.inventory_nodes import Node, NodeKind, host_key

UNNAMED_CLUSTER = "(cluster not reported)"


def has_clusters(provider: Provider) -> bool:
    """Nutanix providers show their clusters; a Hyper-V host is its own row."""
    return provider.kind in (ProviderKind.NUTANIX_PE, ProviderKind.NUTANIX_PC)


def cluster_key(name: str) -> str:
    return f"c:{name}"


class ClusterTree:
    """Needs the model's _append, _remove_rows, _insert_host, _sync_host_nodes, _sync_vms, _node_changed,
    node_index."""

    _provider_status: dict[int, tuple[HostStatus, str]]

    # ----- lookups ---------------------------------------------------------------------------------
    def provider_status(self, provider_id: int) -> tuple[HostStatus, str]:
        """How the Prism endpoint itself answered last (UNKNOWN before the first refresh)."""
        return self._provider_status.get(provider_id, (HostStatus.UNKNOWN, ""))

    def cluster_nodes(self, provider_id: int) -> list[Node]:
        prov = self._providers.get(provider_id)
        return [c for c in prov.children if c.kind is NodeKind.CLUSTER] if prov is not None else []

    def cluster_hosts(self, node: Node) -> list[Host]:
        return [c.obj for c in node.children if c.kind is NodeKind.HOST]

    def cluster_vms(self, node: Node) -> list[VM]:
        """Every VM of a cluster: those on its hosts and those running nowhere."""
        out: list[VM] = []
        for child in node.children:
            if child.kind is NodeKind.VM:
                out.append(child.obj)
            elif child.kind is NodeKind.HOST:
                out.extend(c.obj for c in child.children if c.kind is NodeKind.VM)
        return out

    def _clustered_hosts(self, prov: Node) -> list[Host]:
        hosts = [h for c in prov.children if c.kind is NodeKind.CLUSTER for h in self.cluster_hosts(c)]
        status, error = self.provider_status(prov.obj.id)
        if status is not HostStatus.UNKNOWN:
            # the endpoint itself counts: an unreachable Prism Central is an unreachable provider
            hosts.append(Host(name=prov.obj.name, status=status, error=error))
        return hosts

    # ----- updates ---------------------------------------------------------------------------------
    def _sync_clusters(self, prov: Node, hosts: list[Host]) -> None:
        by_cluster: dict[str, list[Host]] = {}
        for host in hosts:
            by_cluster.setdefault(host.cluster or UNNAMED_CLUSTER, []).append(host)
        wanted = {cluster_key(name) for name in by_cluster}
        self._remove_rows(prov, [row for row, child in enumerate(prov.children) if child.key not in wanted])
        for name, members in by_cluster.items():
            node = self._cluster_node(prov, name)
            self._sync_cluster(prov, node, members)
            before = (node.label, node.tooltip)
            self._describe_cluster(node)
            if (node.label, node.tooltip) != before:
                idx = self.node_index(node)
                self.dataChanged.emit(idx, idx)
        self._set_provider_status(prov, HostStatus.CONNECTED, "")     # the endpoint answered

    def _sync_cluster(self, prov: Node, node: Node, hosts: list[Host]) -> None:
        real = {host_key(h.name): h for h in hosts if h.name}
        unplaced = [vm for h in hosts if not h.name for vm in h.vms]
        self._remove_rows(node, [row for row, child in enumerate(node.children)
                                 if child.kind is NodeKind.HOST and child.key not in real])
        self._sync_host_nodes(prov, node, real)
        self._sync_vms(prov, node, unplaced)

    def _cluster_node(self, prov: Node, name: str) -> Node:
        row = prov.index_of.get(cluster_key(name))
        if row is not None:
            return prov.children[row]
        node = Node(NodeKind.CLUSTER, cluster_key(name), prov, name)
        self._describe_cluster(node)
        self._append(prov, [node])
        return node

    def _clustered_container(self, prov: Node, vm: VM) -> Node:
        """Where a VM belongs: its host in its cluster, or the cluster itself when it runs nowhere."""
        cluster = self._cluster_node(prov, vm.cluster or UNNAMED_CLUSTER)
        if not vm.host:
            return cluster
        row = cluster.index_of.get(host_key(vm.host))
        if row is not None:
            return cluster.children[row]
        return self._insert_host(cluster, Host(name=vm.host, cluster=vm.cluster, status=HostStatus.CONNECTED))

    def remove_vm(self, provider_id: int, vm_id: str) -> None:
        """A VM deleted (VMRemoved): its row goes, wherever it is."""
        self.finish_fill(provider_id)
        prov = self._providers.get(provider_id)
        node = prov.vms_by_id.get(vm_id) if prov is not None else None
        if node is not None and node.parent is not None:
            self._remove_rows(node.parent, [node.row])

    def _set_clustered_status(self, prov: Node, host_name: str, status: HostStatus, error: str) -> None:
        """A named host of one of the clusters, else the endpoint itself ("" or the provider's name)."""
        if host_name:
            for cluster in prov.children:
                row = cluster.index_of.get(host_key(host_name))
                if row is not None and cluster.children[row].kind is NodeKind.HOST:
                    host_node = cluster.children[row]
                    host_node.obj.status, host_node.obj.error = status, error
                    self._node_changed(host_node)
                    return
        self._set_provider_status(prov, status, error)

    def _set_provider_status(self, prov: Node, status: HostStatus, error: str) -> None:
        if self._provider_status.get(prov.obj.id) != (status, error):
            self._provider_status[prov.obj.id] = (status, error)
            self._node_changed(prov)

    # ----- labels ----------------------------------------------------------------------------------
    @staticmethod
    def _describe_cluster(node: Node) -> None:
        name: str = node.obj
        hosts = sum(1 for c in node.children if c.kind is NodeKind.HOST)
        node.label = name
        node.sort_key = name.casefold()
        node.tooltip = f"Cluster {name}\n{hosts} host{'s' if hosts != 1 else ''}"
