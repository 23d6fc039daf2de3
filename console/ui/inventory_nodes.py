"""The rows of the inventory tree and the small helpers its diffs use. No Qt here."""
from __future__ import annotations

import enum
from typing import Any

from console.domain.inventory import VM, Host, HostStatus, Provider, ProviderKind


class NodeKind(enum.IntEnum):
    ROOT = 0
    GROUP = 1
    PROVIDER = 2
    HOST = 3
    VM = 4
    CLUSTER = 5       # a Nutanix cluster: between a Prism provider and its hosts
    TEMPLATE = 6      # under the Templates group (template_nodes.py)
    VERSION = 7       # a template's version, under its template
    POOL = 8          # under the Pools group (pool_nodes.py)


class Node:
    """One row of the tree. ``index_of`` maps each child's key to its row."""

    __slots__ = ("kind", "key", "parent", "children", "index_of", "obj", "host", "vms_by_id",
                 "label", "tooltip", "sort_key", "__weakref__")

    def __init__(self, kind: NodeKind, key: str, parent: "Node | None", obj: Any = None) -> None:
        self.kind = kind
        self.key = key
        self.parent = parent
        self.children: list[Node] = []
        self.index_of: dict[str, int] = {}
        self.obj = obj                       # Provider, Host, VM, or a cluster's name
        self.host: Host | None = None        # a standalone provider is its host
        self.vms_by_id: dict[str, Node] = {}  # provider nodes: every VM node under it
        self.label = ""
        self.tooltip = ""
        self.sort_key = ""

    @property
    def row(self) -> int:
        return self.parent.index_of[self.key] if self.parent is not None else 0

    def key_path(self) -> str:
        parts = []
        node: Node | None = self
        while node is not None and node.kind is not NodeKind.ROOT:
            parts.append(node.key)
            node = node.parent
        return "/".join(reversed(parts))

    def provider_node(self) -> "Node | None":
        node: Node | None = self
        while node is not None and node.kind is not NodeKind.PROVIDER:
            node = node.parent
        return node

    def reindex(self, start: int = 0) -> None:
        for row in range(start, len(self.children)):
            self.index_of[self.children[row].key] = row


def vm_key(vm_id: str) -> str:
    return f"vm:{vm_id}"


def host_key(name: str) -> str:
    return f"h:{name.lower()}"          # Windows host names are case-insensitive


def status_suffix(status: HostStatus) -> str:
    return {HostStatus.UNREACHABLE: " (unreachable)",
            HostStatus.AUTH_FAILED: " (authentication failed)"}.get(status, "")


def is_standalone(provider: Provider) -> bool:
    """A standalone Hyper-V provider is one host: the tree shows it as the host itself."""
    return provider.kind is ProviderKind.HYPERV


def host_without_vms(host: Host) -> Host:
    """Host rows keep status and facts; their VMs live in child rows only."""
    return Host(name=host.name, status=host.status, facts=host.facts, vms=[], error=host.error)


def row_ranges(rows: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> [(1, 3), (7, 8)] (rows sorted ascending)."""
    out: list[tuple[int, int]] = []
    for row in rows:
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


# ----- labels and tooltips (computed once per change, not per paint) -----------------------------
def describe_host(node: Node) -> None:
    host: Host = node.obj
    node.label = host.name + status_suffix(host.status)
    node.sort_key = host.name.casefold()
    node.tooltip = "\n".join(filter(None, [host.name, f"Status: {host.status.value}", host.error]))


def describe_vm(node: Node) -> None:
    vm: VM = node.obj
    node.label = vm.name
    node.sort_key = vm.name.casefold()
    where = vm.host or (f"cluster {vm.cluster}, not running on a host" if vm.cluster else "")
    node.tooltip = f"{vm.name}\n{vm.state.value} on {where}" if where else f"{vm.name}\n{vm.state.value}"
