"""The Pools branch of the inventory tree: one row per pool (label with its clone count), and the
clones of every pool, kept here for the pool view.

A mixin of InventoryModel (like TemplateTree): it needs the model's node_index, _append,
_remove_rows, _groups, dataChanged and nodeChanged. Pool rows are inserted, removed or marked
changed on the stable key ``pool:<id>``, never reset. Clone events come in bursts (every state change
of hundreds of clones being made): they are queued and applied together once per
``CLONE_COALESCE_MS``; ``clonesChanged(pool id, changed names, removed names)`` then tells the pool
view which rows to touch, so it never rebuilds its table.
"""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal

from console.domain.templates import Clone, CloneState, Pool
from console.ui import icons
from console.ui.inventory_nodes import Node, NodeKind

GROUP_POOLS = "pools"
CLONE_COALESCE_MS = 100


def pool_key(pool_id: int) -> str:
    return f"pool:{pool_id}"


def pool_key_path(pool_id: int) -> str:
    return f"{GROUP_POOLS}/{pool_key(pool_id)}"


def clone_counts(clones) -> dict[CloneState, int]:
    counts: dict[CloneState, int] = {}
    for clone in clones:
        counts[clone.state] = counts.get(clone.state, 0) + 1
    return counts


def describe_pool(node: Node, clones: dict[str, Clone], busy: str) -> str:
    """Label, sort key and tooltip of a pool row; returns its icon's name (updating, disabled, pool)."""
    pool: Pool = node.obj
    count = len(clones)
    extra = [] if pool.enabled else ["disabled"]
    if busy:
        extra.append(busy)
    node.label = f"{pool.name} ({', '.join([str(count), *extra])})"
    node.sort_key = pool.name.casefold()
    counts = clone_counts(clones.values())
    made = ", ".join(f"{n} {state.value}" for state, n in sorted(counts.items(), key=lambda kv: kv[0].value))
    lines = [pool.name, f"{count} clone{'s' if count != 1 else ''}" + (f": {made}" if made else ""),
             f"Method: {pool.method.value}, version v{pool.version}"
             + (f" (follows the tag '{pool.follow_tag}')" if pool.follow_tag else ""),
             f"Keeps {pool.keep_available} available, at most {pool.maximum}",
             "Enabled" if pool.enabled else "Disabled: no clones are made or deleted"]
    if busy:
        lines.append(busy.capitalize())
    if pool.description:
        lines.append(pool.description)
    node.tooltip = "\n".join(lines)
    if busy or counts.get(CloneState.UPDATING):
        return "pool-updating"
    return "pool" if pool.enabled else "pool-disabled"


class PoolTree:
    #: a flush applied clone changes: pool id, names changed or added, names removed
    clonesChanged = Signal(int, list, list)

    def _init_pools(self) -> None:
        self._pools: dict[int, Node] = {}
        self._clones: dict[int, dict[str, Clone]] = {}
        self._pool_icons: dict[int, str] = {}
        self._pool_busy: dict[int, str] = {}           # pool id -> "updating" / "rolling back"
        self._pending_clones: dict[tuple[int, str], Clone | None] = {}   # None: removed
        self._clones_timer = QTimer(self, singleShot=True, interval=CLONE_COALESCE_MS)
        self._clones_timer.timeout.connect(self.flush_clones)

    # ----- lookups ----------------------------------------------------------------------------
    def pool_node(self, pool_id: int) -> Node | None:
        return self._pools.get(pool_id)

    def pool(self, pool_id: int) -> Pool | None:
        node = self._pools.get(pool_id)
        return node.obj if node is not None else None

    def pools(self) -> list[Pool]:
        return [n.obj for n in self._groups[GROUP_POOLS].children]

    def clones(self, pool_id: int) -> list[Clone]:
        return list(self._clones.get(pool_id, {}).values())

    def clone(self, pool_id: int, name: str) -> Clone | None:
        return self._clones.get(pool_id, {}).get(name)

    def pool_busy(self, pool_id: int) -> str:
        return self._pool_busy.get(pool_id, "")

    def pool_icon(self, node: Node):
        """By state: updating (an update or rollback runs, or clones are being recreated), disabled,
        enabled (worked out when the row changed, not per paint)."""
        return icons.icon(self._pool_icons.get(node.obj.id, "pool"))

    # ----- updates from events ----------------------------------------------------------------
    def set_pools(self, pools: list[Pool], clones_of=None) -> None:
        """Add missing pools, update known ones, remove the rest (first fill at start-up).
        ``clones_of(pool_id)`` gives each pool's clones."""
        wanted = {p.id: p for p in pools}
        for pid in [pid for pid in self._pools if pid not in wanted]:
            self.remove_pool(pid)
        for pool in wanted.values():
            if clones_of is not None:
                self.set_clones(pool.id, clones_of(pool.id))
            self.add_pool(pool)

    def add_pool(self, pool: Pool) -> None:
        if pool.id in self._pools:
            self.update_pool(pool)
            return
        group = self._groups[GROUP_POOLS]
        node = Node(NodeKind.POOL, pool_key(pool.id), group, pool)
        self._clones.setdefault(pool.id, {})
        self._describe_pool(node)
        self._append(group, [node])
        self._pools[pool.id] = node
        self._describe_pools_group()

    def update_pool(self, pool: Pool) -> None:
        node = self._pools.get(pool.id)
        if node is None:
            self.add_pool(pool)
            return
        node.obj = pool
        self._pool_changed(node)

    def remove_pool(self, pool_id: int) -> None:
        node = self._pools.pop(pool_id, None)
        self._clones.pop(pool_id, None)
        self._pool_busy.pop(pool_id, None)
        self._pool_icons.pop(pool_id, None)
        for key in [k for k in self._pending_clones if k[0] == pool_id]:
            del self._pending_clones[key]
        if node is not None:
            self._remove_rows(node.parent, [node.row])
            self._describe_pools_group()

    def set_pool_busy(self, pool_id: int, busy: str) -> None:
        """"updating" / "rolling back" while such a task runs for the pool, "" after."""
        if self._pool_busy.get(pool_id, "") == busy:
            return
        if busy:
            self._pool_busy[pool_id] = busy
        else:
            self._pool_busy.pop(pool_id, None)
        node = self._pools.get(pool_id)
        if node is not None:
            self._pool_changed(node)

    def touch_pool(self, pool_id: int) -> None:
        """Describe a pool row again and tell the views (something shown about it changed)."""
        node = self._pools.get(pool_id)
        if node is not None:
            self._pool_changed(node)

    def set_clones(self, pool_id: int, clones: list[Clone]) -> None:
        """All of a pool's clones at once (first fill, or read again)."""
        old = self._clones.get(pool_id, {})
        new = {c.name: c for c in sorted(clones, key=lambda c: (c.created, c.name))}
        for key in [k for k in self._pending_clones if k[0] == pool_id]:
            del self._pending_clones[key]
        self._clones[pool_id] = new
        node = self._pools.get(pool_id)
        if node is not None:
            self._pool_changed(node)
        changed = [n for n, c in new.items() if old.get(n) != c]
        removed = [n for n in old if n not in new]
        if changed or removed:
            self.clonesChanged.emit(pool_id, changed, removed)

    def queue_clone(self, pool_id: int, clone: Clone) -> None:
        """A CloneChanged: applied with the others of the next CLONE_COALESCE_MS."""
        self._pending_clones[(pool_id, clone.name)] = clone
        self._start_clones_timer()

    def queue_clone_removed(self, pool_id: int, name: str) -> None:
        self._pending_clones[(pool_id, name)] = None
        self._start_clones_timer()

    def _start_clones_timer(self) -> None:
        if not self._clones_timer.isActive():
            self._clones_timer.start()

    def flush_clones(self) -> None:
        self._clones_timer.stop()
        pending, self._pending_clones = self._pending_clones, {}
        by_pool: dict[int, tuple[list[str], list[str]]] = {}
        for (pid, name), clone in pending.items():
            clones = self._clones.get(pid)
            if clones is None or pid not in self._pools:
                continue             # a pool removed meanwhile, or not known yet (its PoolAdded comes)
            changed, removed = by_pool.setdefault(pid, ([], []))
            if clone is None:
                if clones.pop(name, None) is not None:
                    removed.append(name)
            else:
                clones[name] = clone
                changed.append(name)
        for pid, (changed, removed) in by_pool.items():
            if changed or removed:
                self._pool_changed(self._pools[pid])
                self.clonesChanged.emit(pid, changed, removed)

    # ----- rows -------------------------------------------------------------------------------
    def _describe_pool(self, node: Node) -> None:
        pid = node.obj.id
        self._pool_icons[pid] = describe_pool(node, self._clones.get(pid, {}), self.pool_busy(pid))

    def _pool_changed(self, node: Node) -> None:
        self._describe_pool(node)
        idx = self.node_index(node)
        self.dataChanged.emit(idx, idx)
        self.nodeChanged.emit(node.key_path())

    def _describe_pools_group(self) -> None:
        group = self._groups[GROUP_POOLS]
        count = len(group.children)
        group.tooltip = (f"{count} pool{'s' if count != 1 else ''} of clones" if count else
                         "No pools yet: pools of clones made from a template appear here")
        idx = self.node_index(group)
        self.dataChanged.emit(idx, idx)
