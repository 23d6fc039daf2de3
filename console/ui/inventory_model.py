"""The inventory tree: Providers -> hosts -> VMs (Nutanix: Providers -> clusters -> hosts -> VMs),
Templates, Pools.

Updated incrementally by diffing on stable keys (provider id, host name, VM id): rows are inserted,
removed or marked changed, never reset after the first fill, so the view keeps its expanded nodes
and its selection. Each node knows its children's rows by key, so a diff costs O(rows it touches).
"""
from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from console.domain.inventory import Host, HostStatus, Inventory, Provider, VM
from console.ui import icons
from console.ui.inventory_clusters import ClusterTree, has_clusters
from console.ui.inventory_diff import TreeDiff
from console.ui.inventory_slices import SlicedFill
from console.ui.pool_nodes import PoolTree
from console.ui.template_nodes import TemplateTree, template_icon
from console.ui.inventory_nodes import (Node, NodeKind, describe_host, describe_vm, host_key,
                                        host_without_vms, is_standalone, status_suffix)

__all__ = ["InventoryModel", "Node", "NodeKind", "KEY_ROLE", "KIND_ROLE", "OBJECT_ROLE", "PROVIDER_ID_ROLE",
           "SORT_ROLE", "GROUP_PROVIDERS", "GROUP_TEMPLATES", "GROUP_POOLS", "is_standalone"]

KEY_ROLE = Qt.ItemDataRole.UserRole + 1        # stable key path, e.g. "providers/p:3/vm:<id>"
KIND_ROLE = Qt.ItemDataRole.UserRole + 2       # NodeKind
OBJECT_ROLE = Qt.ItemDataRole.UserRole + 3     # the domain object (Provider, Host, VM)
PROVIDER_ID_ROLE = Qt.ItemDataRole.UserRole + 4
SORT_ROLE = Qt.ItemDataRole.UserRole + 5

GROUP_PROVIDERS, GROUP_TEMPLATES, GROUP_POOLS = "providers", "templates", "pools"


class InventoryModel(PoolTree, TemplateTree, ClusterTree, SlicedFill, TreeDiff, QAbstractItemModel):
    """One column; the domain objects behind each row are in OBJECT_ROLE."""

    #: a provider node's status, label or host facts changed (details views listen)
    nodeChanged = Signal(str)   # key path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._root = Node(NodeKind.ROOT, "", None)
        self._providers: dict[int, Node] = {}
        self._provider_status: dict[int, tuple[HostStatus, str]] = {}   # Prism endpoints themselves
        self._init_fill()
        for key, label, tip in (
                (GROUP_PROVIDERS, "Providers", "Hypervisors this console manages"),
                (GROUP_TEMPLATES, "Templates", "No templates yet: templates made from a VM appear here"),
                (GROUP_POOLS, "Pools", "No pools yet: pools of clones made from a template appear here")):
            group = Node(NodeKind.GROUP, key, self._root)
            group.label, group.tooltip = label, tip
            group.sort_key = str(len(self._root.children))
            self._root.index_of[key] = len(self._root.children)
            self._root.children.append(group)
        self._groups = {n.key: n for n in self._root.children}
        self._init_templates()
        self._init_pools()

    @property
    def root(self) -> Node:
        return self._root

    # ----- Qt model interface -------------------------------------------------------------------
    def _node(self, index: QModelIndex | QPersistentModelIndex) -> Node:
        return index.internalPointer() if index.isValid() else self._root

    def index(self, row: int, column: int = 0, parent=QModelIndex()) -> QModelIndex:
        node = self._node(parent)
        if column != 0 or not 0 <= row < len(node.children):
            return QModelIndex()
        return self.createIndex(row, 0, node.children[row])

    def parent(self, index=None):  # noqa: D401 - Qt overload: parent() is QObject.parent
        if index is None:
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        node: Node = index.internalPointer()
        up = node.parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent=QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 1

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return "Name"
        return None

    def flags(self, index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        if role == Qt.ItemDataRole.DisplayRole:
            return node.label
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(node)
        if role == Qt.ItemDataRole.ToolTipRole:
            return node.tooltip
        if role == SORT_ROLE:
            return node.sort_key
        if role == KEY_ROLE:
            return node.key_path()
        if role == KIND_ROLE:
            return int(node.kind)
        if role == OBJECT_ROLE:
            return node.obj
        if role == PROVIDER_ID_ROLE:
            prov = node.provider_node()
            return prov.obj.id if prov is not None else None
        return None

    def _icon(self, node: Node):
        if node.kind in (NodeKind.TEMPLATE, NodeKind.VERSION):
            return template_icon(node)
        if node.kind is NodeKind.POOL:
            return self.pool_icon(node)
        if node.kind is NodeKind.VM:
            return icons.vm_icon(node.obj.state)
        if node.kind is NodeKind.HOST:
            return icons.host_icon(node.obj.status)
        if node.kind is NodeKind.CLUSTER:
            return icons.icon("cluster")
        if node.kind is NodeKind.PROVIDER:
            host = node.host
            status = host.status if host is not None else self.provider_status(node.obj.id)[0]
            if status in (HostStatus.UNREACHABLE, HostStatus.AUTH_FAILED):
                return icons.icon("host-unreachable")
            kind = node.obj.kind
            return icons.icon("provider-nutanix" if kind.value.startswith("nutanix") else "provider-hyperv")
        return icons.icon({GROUP_TEMPLATES: "folder-templates", GROUP_POOLS: "folder-pools"}
                          .get(node.key, "folder-providers"))

    # ----- lookups --------------------------------------------------------------------------------
    def node_index(self, node: Node) -> QModelIndex:
        if node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def group_index(self, key: str) -> QModelIndex:
        return self.node_index(self._groups[key])

    def node_at(self, index: QModelIndex) -> Node | None:
        return index.internalPointer() if index.isValid() else None

    def index_for_key_path(self, path: str) -> QModelIndex:
        """The row with this stable key path, or an invalid index if it is not (yet) there."""
        node = self._root
        for key in path.split("/") if path else []:
            row = node.index_of.get(key)
            if row is None:
                return QModelIndex()
            node = node.children[row]
        return self.node_index(node)

    def provider_node(self, provider_id: int) -> Node | None:
        return self._providers.get(provider_id)

    def providers(self) -> list[Provider]:
        return [n.obj for n in self._groups[GROUP_PROVIDERS].children]

    def provider_hosts(self, provider_id: int) -> list[Host]:
        """Hosts known for one provider (status, facts), without their VM lists."""
        node = self._providers.get(provider_id)
        if node is None:
            return []
        if node.host is not None:
            return [node.host]
        if has_clusters(node.obj):
            return self._clustered_hosts(node)
        return [c.obj for c in node.children if c.kind is NodeKind.HOST]

    def vms_of(self, node: Node) -> list[VM]:
        """The VMs directly under a host, cluster or standalone provider node."""
        return [c.obj for c in node.children if c.kind is NodeKind.VM]

    def status_counts(self) -> tuple[int, int]:
        """(providers whose hosts all answer, providers with a host that does not)."""
        connected = unreachable = 0
        for pid in self._providers:
            statuses = [h.status for h in self.provider_hosts(pid)]
            if any(s in (HostStatus.UNREACHABLE, HostStatus.AUTH_FAILED) for s in statuses):
                unreachable += 1
            elif statuses and all(s is HostStatus.CONNECTED for s in statuses):
                connected += 1
        return connected, unreachable

    # ----- updates from events --------------------------------------------------------------------
    def set_providers(self, providers: Iterable[Provider]) -> None:
        """Add missing providers, update known ones, remove the rest (first fill at start-up)."""
        wanted = {p.id: p for p in providers}
        for pid in [pid for pid in self._providers if pid not in wanted]:
            self.remove_provider(pid)
        for provider in wanted.values():
            self.add_provider(provider)

    def add_provider(self, provider: Provider) -> None:
        if provider.id in self._providers:
            self.update_provider(provider)
            return
        group = self._groups[GROUP_PROVIDERS]
        node = Node(NodeKind.PROVIDER, f"p:{provider.id}", group, provider)
        if is_standalone(provider):
            node.host = Host(name=provider.settings.address)
        self._describe_provider(node)
        row = len(group.children)
        self.beginInsertRows(self.node_index(group), row, row)
        group.children.append(node)
        group.index_of[node.key] = row
        self._providers[provider.id] = node
        self.endInsertRows()

    def update_provider(self, provider: Provider) -> None:
        self.finish_fill(provider.id)
        node = self._providers.get(provider.id)
        if node is None:
            self.add_provider(provider)
            return
        node.obj = provider
        self._node_changed(node)

    def remove_provider(self, provider_id: int) -> None:
        node = self._providers.pop(provider_id, None)
        self._provider_status.pop(provider_id, None)
        self._drop_fill(provider_id)
        if node is not None:
            self._remove_rows(node.parent, [node.row])

    def apply_inventory(self, inventory: Inventory) -> None:
        """All of it now (apply_inventory_in_slices spreads a big one over turns of the loop)."""
        self._drop_fill(inventory.provider_id)
        self._apply_now(inventory)

    def _apply_now(self, inventory: Inventory) -> None:
        node = self._providers.get(inventory.provider_id)
        if node is None:
            return           # a provider removed while its refresh ran
        if node.host is not None:
            # standalone: the provider row is the host; its VMs hang under it directly
            first = inventory.hosts[0] if inventory.hosts else None
            if first is not None:
                bare = host_without_vms(first)
                if bare != node.host:
                    node.host = bare
                    self._node_changed(node)
            vms = [vm for host in inventory.hosts for vm in host.vms]
            self._sync_vms(node, node, vms)
            return
        if has_clusters(node.obj):
            self._sync_clusters(node, inventory.hosts)
            return
        self._sync_hosts(node, inventory.hosts)

    def set_host_status(self, provider_id: int, host_name: str, status: HostStatus, error: str = "") -> None:
        self.finish_fill(provider_id)
        node = self._providers.get(provider_id)
        if node is None:
            return
        if node.host is not None:
            node.host.status, node.host.error = status, error
            if not node.host.name:
                node.host.name = host_name
            self._node_changed(node)
            return
        if has_clusters(node.obj):
            self._set_clustered_status(node, host_name, status, error)
            return
        row = node.index_of.get(host_key(host_name))
        if row is None:
            host_node = self._insert_host(node, Host(name=host_name, status=status, error=error))
        else:
            host_node = node.children[row]
            host_node.obj.status, host_node.obj.error = status, error
            self._node_changed(host_node)
        self._node_changed(node)

    def update_vm(self, provider_id: int, vm: VM) -> None:
        """One VM changed (power action): update its row, move it if it changed host, or insert it if
        it is new (a clone)."""
        self.finish_fill(provider_id)
        prov = self._providers.get(provider_id)
        if prov is None:
            return
        if prov.host is not None:
            container = prov
        elif has_clusters(prov.obj):
            container = self._clustered_container(prov, vm)
        else:
            container = self._host_container(prov, vm.host)
        existing = prov.vms_by_id.get(vm.id)
        if existing is not None and existing.parent is container:
            existing.obj = vm
            describe_vm(existing)
            idx = self.node_index(existing)
            self.dataChanged.emit(idx, idx)
            self.nodeChanged.emit(existing.key_path())
            return
        if existing is not None:
            self._remove_rows(existing.parent, [existing.row])
        self._append(container, [self._make_vm(prov, container, vm)])

    def _node_changed(self, node: Node) -> None:
        if node.kind is NodeKind.PROVIDER:
            self._describe_provider(node)
        elif node.kind is NodeKind.HOST:
            describe_host(node)
        idx = self.node_index(node)
        self.dataChanged.emit(idx, idx)
        self.nodeChanged.emit(node.key_path())

    # ----- labels and tooltips (computed once per change, not per paint) -------------------------
    def _describe_provider(self, node: Node) -> None:
        provider: Provider = node.obj
        status = node.host.status if node.host is not None else self.provider_status(provider.id)[0]
        node.label = provider.name + status_suffix(status)
        node.sort_key = provider.name.casefold()
        lines = [provider.name, provider.kind.label, f"Address: {provider.settings.address}"]
        if node.host is not None:
            lines.append(f"Status: {status.value}")
            if node.host.error:
                lines.append(node.host.error)
        elif has_clusters(provider) and status is not HostStatus.UNKNOWN:
            lines.append(f"Status: {status.value}")
            if self.provider_status(provider.id)[1]:
                lines.append(self.provider_status(provider.id)[1])
        node.tooltip = "\n".join(lines)
