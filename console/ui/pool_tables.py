"""Table models of the pool view: the clones of a pool, the pools of the farm, a pool's version history,
and the General rows. Rows are keyed (clone name, pool id) so a change touches one row: the clone
table takes single rows (``put``/``drop``) from the tree model's coalesced clone events."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from console.domain.templates import (
    Clone,
    CloneState,
    Pool,
    PoolVersionChange,
    ProvisioningMethod,
)
from console.ui import icons
from console.ui.table_models import KeyedTableModel
from console.ui.tasks_model import format_started

#: the administrator's words for a clone's state
STATE_TEXT = {CloneState.PROVISIONING: "Provisioning", CloneState.READY: "Ready",
              CloneState.MERGING: "Ready, merging", CloneState.UPDATING: "Updating",
              CloneState.FAILED: "Failed", CloneState.DELETING: "Deleting",
              CloneState.ASSIGNED: "Assigned", CloneState.INCOMPLETE: "Incomplete (half-made)"}
METHOD_TEXT = {ProvisioningMethod.FULL: "Full", ProvisioningMethod.LINKED: "Linked",
               ProvisioningMethod.QUICK: "Quick"}
_STATE_ICON = {CloneState.READY: "vm-running", CloneState.MERGING: "vm-running",
               CloneState.ASSIGNED: "vm-running", CloneState.PROVISIONING: "vm-transition",
               CloneState.UPDATING: "vm-transition", CloneState.DELETING: "vm-transition",
               CloneState.FAILED: "task-failed", CloneState.INCOMPLETE: "task-interrupted"}
#: header counts, in this order (a state with none is left out, except the first three)
COUNTED = (("ready", (CloneState.READY, CloneState.MERGING)), ("assigned", (CloneState.ASSIGNED,)),
           ("provisioning", (CloneState.PROVISIONING,)), ("updating", (CloneState.UPDATING,)),
           ("deleting", (CloneState.DELETING,)), ("failed", (CloneState.FAILED,)),
           ("incomplete", (CloneState.INCOMPLETE,)))


def format_duration(seconds: float | None) -> str:
    """A clone's time to usable or to independent: "21.5 s", "4 min 05 s", "1 h 02 min"."""
    if seconds is None:
        return ""
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def state_text(state: CloneState) -> str:
    return STATE_TEXT.get(state, str(state.value))


def independent_text(clone: Clone) -> str:
    """Time to independent: a duration, or why there is none."""
    if clone.independent_seconds is not None:
        return format_duration(clone.independent_seconds)
    if clone.method is ProvisioningMethod.LINKED:
        return f"Never (depends on v{clone.version})"
    if clone.state is CloneState.MERGING:
        return "Merging now"
    return ""


def counts_text(clones: list[Clone]) -> tuple[str, dict[str, int]]:
    """"12 clones: 5 ready, 2 assigned, 3 provisioning, 1 failed, 1 incomplete" and the counts."""
    counts = {word: sum(1 for c in clones if c.state in states) for word, states in COUNTED}
    parts = [f"{n} {word}" for i, (word, n) in enumerate(counts.items()) if n or i < 3]
    total = len(clones)
    return f"{total} clone{'s' if total != 1 else ''}: {', '.join(parts)}", counts


class CloneTableModel(KeyedTableModel[Clone]):
    columns = ("Name", "Host", "State", "Version", "Method", "Created", "Time to usable",
               "Time to independent", "User")
    COL_STATE, COL_USABLE, COL_INDEPENDENT = 2, 6, 7

    def key(self, item: Clone) -> str:
        return item.name

    def cell(self, c: Clone, column: int) -> str:
        return [c.name, c.host, state_text(c.state), f"v{c.version}" if c.version else "",
                METHOD_TEXT.get(c.method, str(c.method.value)), format_started(c.created),
                format_duration(c.usable_seconds), independent_text(c), c.assigned_user][column]

    def sort_value(self, c: Clone, column: int) -> Any:
        if column == 0:
            return (len(c.name), c.name.casefold())        # VDI-9 before VDI-10
        if column == 3:
            return c.version
        if column == 5:
            return c.created
        if column == self.COL_USABLE:
            return -1.0 if c.usable_seconds is None else c.usable_seconds
        if column == self.COL_INDEPENDENT:
            return -1.0 if c.independent_seconds is None else c.independent_seconds
        return self.cell(c, column).casefold()

    def decoration(self, c: Clone, column: int):
        return icons.icon(_STATE_ICON.get(c.state, "vm-off")) if column == 0 else None

    def tooltip(self, c: Clone, column: int) -> str | None:
        if column == self.COL_STATE and c.error:
            return c.error
        if column == self.COL_STATE and c.state is CloneState.MERGING:
            return ("Usable now; its base disk is being copied and merged, so it soon stops depending on "
                    "the template's version")
        if column == 0:
            lines = [c.name, state_text(c.state)]
            if c.error:
                lines.append(c.error)
            if c.folder:
                lines.append(f"Folder: {c.folder}")
            if c.vm_id:
                lines.append(f"VM id: {c.vm_id}")
            return "\n".join(lines)
        if column == 5 and c.created:
            return f"{c.created} (UTC)"
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if (role == Qt.ItemDataRole.ForegroundRole and index.isValid()
                and index.column() == self.COL_STATE and self._items[index.row()].state in
                (CloneState.FAILED, CloneState.INCOMPLETE)):
            from PySide6.QtGui import QColor
            return QColor("#b3261e")
        return super().data(index, role)

    # ----- single rows (the pool view applies the tree model's coalesced clone events) ----------
    def put(self, clone: Clone) -> None:
        row = self._row_of.get(clone.name)
        if row is None:
            row = len(self._items)
            self.beginInsertRows(QModelIndex(), row, row)
            self._items.append(clone)
            self._row_of[clone.name] = row
            self.endInsertRows()
        elif self._items[row] != clone:
            self._items[row] = clone
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))

    def drop(self, name: str) -> None:
        row = self._row_of.get(name)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._items[row]
        self._row_of = {self.key(item): r for r, item in enumerate(self._items)}
        self.endRemoveRows()

    def row_of(self, name: str) -> int:
        return self._row_of.get(name, -1)


class PoolListModel(KeyedTableModel[Any]):
    """The Pools group's page: rows are (Pool, template name, clones)."""

    columns = ("Name", "Template", "Method", "Clones", "Available / maximum", "State")

    def key(self, item) -> str:
        return str(item[0].id)

    def cell(self, item, column: int) -> str:
        pool, template_name, clones = item
        ready = sum(1 for c in clones if c.state in (CloneState.READY, CloneState.MERGING))
        version = f"v{pool.version}" + (f" (tag {pool.follow_tag})" if pool.follow_tag else "")
        return [pool.name, f"{template_name} {version}", METHOD_TEXT.get(pool.method, pool.method.value),
                str(len(clones)), f"{ready} of {pool.keep_available} kept, at most {pool.maximum}",
                "Enabled" if pool.enabled else "Disabled"][column]

    def sort_value(self, item, column: int) -> Any:
        return len(item[2]) if column == 3 else self.cell(item, column).casefold()

    def decoration(self, item, column: int):
        return icons.icon("pool" if item[0].enabled else "pool-disabled") if column == 0 else None


HISTORY_KIND_TEXT = {"create": "Created", "update": "Rolling update", "rollback": "Rollback"}


class HistoryTableModel(KeyedTableModel[PoolVersionChange]):
    columns = ("Changed", "Version", "How", "Task")

    def key(self, item: PoolVersionChange) -> str:
        return f"{item.changed}/{item.version}/{item.kind}"

    def cell(self, h: PoolVersionChange, column: int) -> str:
        return [h.changed.replace("T", " ")[:19], f"v{h.version}", HISTORY_KIND_TEXT.get(h.kind, h.kind),
                f"#{h.task_id}" if h.task_id is not None else ""][column]

    def sort_value(self, h: PoolVersionChange, column: int) -> Any:
        return h.changed if column == 0 else (h.version if column == 1 else self.cell(h, column))


def general_rows(pool: Pool, template_name: str, provider_names: list[str]) -> list[tuple[str, str]]:
    p = pool.preparation_override
    if p is None:
        preparation = "The template's"
    else:
        preparation = ("Sysprep" if p.method.value == "sysprep" else "Rename and join") + (
            f", domain {p.domain}" if p.domain else ", workgroup")
    after = pool.delete_unused_after_minutes
    return [("Name", pool.name), ("Description", pool.description or "None"),
            ("State", "Enabled" if pool.enabled else "Disabled: no clones are made or deleted"),
            ("Template", template_name),
            ("Version", f"v{pool.version}" + (f", follows the tag '{pool.follow_tag}'" if pool.follow_tag else "")),
            ("Method", METHOD_TEXT.get(pool.method, pool.method.value)), ("Naming", pool.naming_pattern),
            ("Created at once", str(pool.initial_count)), ("Keep available", str(pool.keep_available)),
            ("Maximum", str(pool.maximum)),
            ("Delete unused after", f"{after} minutes" if after else "Never"),
            ("Targets", ", ".join(provider_names) or "The template's"),
            ("Clones per host", f"At most {pool.per_host_cap}" if pool.per_host_cap else "No cap"),
            ("Preparation", preparation),
            ("Created", pool.created.replace("T", " ")[:19] + " UTC" if pool.created else "")]
