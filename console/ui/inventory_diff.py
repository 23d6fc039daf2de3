"""The inventory tree's diff machinery: rows inserted, removed or marked changed on stable keys
(host name, VM id), never a reset, so the view keeps its expanded nodes and its selection.

A mixin of InventoryModel (like ClusterTree and SlicedFill): it needs the Qt model's
beginInsertRows/endInsertRows, beginRemoveRows/endRemoveRows, createIndex and dataChanged, and the
model's node_index, _node_changed and _append_vms.
"""
from __future__ import annotations

from console.domain.inventory import Host, VM
from console.ui.inventory_nodes import (Node, NodeKind, describe_host, describe_vm, host_key,
                                        host_without_vms, row_ranges, vm_key)


class TreeDiff:
    def _host_container(self, prov: Node, host_name: str) -> Node:
        row = prov.index_of.get(host_key(host_name))
        if row is not None:
            return prov.children[row]
        return self._insert_host(prov, Host(name=host_name))

    def _insert_host(self, prov: Node, host: Host) -> Node:
        node = Node(NodeKind.HOST, host_key(host.name), prov, host_without_vms(host))
        describe_host(node)
        self._append(prov, [node])
        return node

    def _sync_hosts(self, prov: Node, hosts: list[Host]) -> None:
        wanted = {host_key(h.name): h for h in hosts}
        gone = [row for row, child in enumerate(prov.children) if child.key not in wanted]
        self._remove_rows(prov, gone)
        self._sync_host_nodes(prov, prov, wanted)

    def _sync_host_nodes(self, prov: Node, parent: Node, wanted: dict[str, Host]) -> None:
        """Each wanted host (keyed by host_key) gets its row under parent, inserted or updated in
        place, and its VMs diffed; removing the rows no longer wanted is the caller's business."""
        for key, host in wanted.items():
            row = parent.index_of.get(key)
            if row is None:
                host_node = self._insert_host(parent, host)
            else:
                host_node = parent.children[row]
                bare = host_without_vms(host)
                if bare != host_node.obj:
                    host_node.obj = bare
                    self._node_changed(host_node)
            self._sync_vms(prov, host_node, host.vms)

    def _sync_vms(self, prov: Node, container: Node, vms: list[VM]) -> None:
        wanted: dict[str, VM] = {}
        for vm in vms:
            wanted[vm_key(vm.id)] = vm
        # a cluster holds hosts as well as the VMs running nowhere: only VM rows are diffed here
        gone = [row for row, child in enumerate(container.children)
                if child.kind is NodeKind.VM and child.key not in wanted]
        self._remove_rows(container, gone)
        first = last = -1
        for row, child in enumerate(container.children):
            if child.kind is not NodeKind.VM:
                continue
            vm = wanted[child.key]
            if vm != child.obj:
                child.obj = vm
                describe_vm(child)
                if first < 0:
                    first = row
                last = row
        if first >= 0:
            # one signal for the span, not one per run of changed rows: a refresh changes most VMs
            # (uptime), scattered, and each signal costs the proxy and the view a pass of their own
            self.dataChanged.emit(self.createIndex(first, 0, container.children[first]),
                                  self.createIndex(last, 0, container.children[last]))
        self._append_vms(prov, container, [vm for key, vm in wanted.items() if key not in container.index_of])

    def _make_vm(self, prov: Node, container: Node, vm: VM) -> Node:
        node = Node(NodeKind.VM, vm_key(vm.id), container, vm)
        describe_vm(node)
        return node

    def _append(self, parent: Node, nodes: list[Node]) -> None:
        if not nodes:
            return
        first = len(parent.children)
        self.beginInsertRows(self.node_index(parent), first, first + len(nodes) - 1)
        parent.children.extend(nodes)
        parent.reindex(first)
        prov = parent.provider_node()
        for node in nodes:
            if node.kind is NodeKind.VM and prov is not None:
                prov.vms_by_id[node.obj.id] = node
        self.endInsertRows()

    def _remove_rows(self, parent: Node, rows: list[int]) -> None:
        """Remove rows in contiguous ranges, from the bottom so earlier rows keep their numbers."""
        if not rows:
            return
        prov = parent.provider_node()
        parent_index = self.node_index(parent)
        for start, end in reversed(row_ranges(sorted(rows))):
            self.beginRemoveRows(parent_index, start, end)
            for node in parent.children[start:end + 1]:
                del parent.index_of[node.key]
                self._forget(prov, node)
            del parent.children[start:end + 1]
            parent.reindex(start)
            self.endRemoveRows()

    def _forget(self, prov: Node | None, node: Node) -> None:
        if prov is None:
            return
        if node.kind is NodeKind.VM:
            if prov.vms_by_id.get(node.obj.id) is node:
                del prov.vms_by_id[node.obj.id]
        for child in node.children:
            self._forget(prov, child)
