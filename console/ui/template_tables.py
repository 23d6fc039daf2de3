"""Table models of a template's details: its versions, its distribution targets, and the
prerequisite rows of a target's check. Rows are keyed (version number, provider id, check key) and
applied as diffs, so a refresh keeps the table's selection and scroll position."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt

from console.domain.prerequisites import CheckStatus, PrerequisiteResult
from console.domain.templates import DistributionTarget, TargetProgress, TargetState, TemplateVersion
from console.ui import icons
from console.ui.table_models import KeyedTableModel, format_bytes
from console.ui.tasks_model import PROGRESS_ROLE

__all__ = ["PROGRESS_ROLE", "PrerequisiteTableModel", "TargetRow", "TargetTableModel", "VersionRow",
           "VersionTableModel", "progress_text", "state_text"]

#: the administrator's words for a target's state and progress (the issue's)
STATE_TEXT = {TargetState.READY: "Ready", TargetState.NOT_AVAILABLE: "Not available",
              TargetState.NEEDS_UPDATE: "Needs update"}
PROGRESS_TEXT = {TargetProgress.DISTRIBUTING: "Distributing", TargetProgress.OK: "OK",
                 TargetProgress.ADDING: "Adding provider", TargetProgress.REMOVING: "Removing provider",
                 TargetProgress.FAILED: "Failed to distribute"}
CHECK_TEXT = {CheckStatus.PASSED: "Passed", CheckStatus.FAILED: "Failed", CheckStatus.WARNING: "Warning"}


def state_text(state: TargetState) -> str:
    return STATE_TEXT.get(state, str(state.value))


def progress_text(target: DistributionTarget) -> str:
    text = PROGRESS_TEXT.get(target.progress, str(target.progress.value))
    if target.progress is TargetProgress.DISTRIBUTING:
        return f"{text} {round(target.fraction * 100)}%"
    return text


def busy(target: DistributionTarget) -> bool:
    """A distribution, an add or a remove is running for this target."""
    return target.progress in (TargetProgress.DISTRIBUTING, TargetProgress.ADDING, TargetProgress.REMOVING)


@dataclass(frozen=True)
class VersionRow:
    version: TemplateVersion
    pools: tuple[str, ...] = ()
    latest: bool = False


class VersionTableModel(KeyedTableModel[VersionRow]):
    columns = ("Version", "Created (UTC)", "Notes", "Tag", "Size", "Used by pools")

    def key(self, item: VersionRow) -> str:
        return str(item.version.number)

    def cell(self, item: VersionRow, column: int) -> str:
        v = item.version
        number = f"v{v.number}" + (" (latest)" if item.latest else "")
        created = v.created.replace("T", " ")[:16]      # ISO-8601 UTC: minutes are enough here
        return [number, created, v.notes, v.tag, format_bytes(v.size_bytes) or "",
                ", ".join(item.pools) or "None"][column]

    def sort_value(self, item: VersionRow, column: int) -> Any:
        if column == 0:
            return item.version.number
        if column == 4:
            return item.version.size_bytes
        return self.cell(item, column).casefold()

    def decoration(self, item: VersionRow, column: int):
        return icons.icon("template-version") if column == 0 else None

    def tooltip(self, item: VersionRow, column: int) -> str | None:
        if column == 2 and item.version.notes:
            return item.version.notes
        if column == 1:
            return f"{item.version.created} (UTC)"
        return None


@dataclass(frozen=True)
class TargetRow:
    target: DistributionTarget
    provider_name: str
    latest: int | None = None        # the template's latest version number


class TargetTableModel(KeyedTableModel[TargetRow]):
    # Retry sits next to the progress it restarts; the last error stretches over the rest of the row
    columns = ("Provider", "State", "Progress", "", "Version held", "Last error")
    COL_PROGRESS, COL_RETRY, COL_VERSION, COL_ERROR = 2, 3, 4, 5

    def key(self, item: TargetRow) -> str:
        return str(item.target.provider_id)

    def cell(self, item: TargetRow, column: int) -> str:
        t = item.target
        held = "" if t.version is None else f"v{t.version}"
        if held and item.latest is not None and t.version != item.latest:
            held += f" (latest is v{item.latest})"
        return [item.provider_name, state_text(t.state), progress_text(t), "", held or "None",
                t.last_error][column]

    def sort_value(self, item: TargetRow, column: int) -> Any:
        if column == self.COL_VERSION:
            return -1 if item.target.version is None else item.target.version
        if column == self.COL_PROGRESS:
            return (item.target.progress.value, item.target.fraction)
        return self.cell(item, column).casefold()

    def decoration(self, item: TargetRow, column: int):
        if column == 0:
            return icons.icon("provider-hyperv")
        if column == 1:
            return icons.icon({TargetState.READY: "task-succeeded",
                               TargetState.NEEDS_UPDATE: "task-interrupted"}.get(item.target.state,
                                                                                  "task-cancelled"))
        if column == self.COL_PROGRESS and item.target.progress is TargetProgress.FAILED:
            return icons.icon("task-failed")
        return None

    def tooltip(self, item: TargetRow, column: int) -> str | None:
        if column == self.COL_ERROR and item.target.last_error:
            return item.target.last_error
        if column == 0 and item.target.folder:
            return f"Local copy: {item.target.folder}"
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == PROGRESS_ROLE and index.isValid() and index.column() == self.COL_PROGRESS:
            target = self._items[index.row()].target
            # the bar while a copy runs; the word otherwise (OK, Failed to distribute...)
            return target.fraction if target.progress is TargetProgress.DISTRIBUTING else None
        return super().data(index, role)

    def row_of(self, provider_id: int) -> int:
        return self._row_of.get(str(provider_id), -1)


class PrerequisiteTableModel(KeyedTableModel[PrerequisiteResult]):
    columns = ("Prerequisite", "Expected", "Found", "Result", "How to fix")

    def key(self, item: PrerequisiteResult) -> str:
        return item.key

    def cell(self, item: PrerequisiteResult, column: int) -> str:
        return [item.title, item.expected, item.found, CHECK_TEXT.get(item.status, item.status.value),
                item.fix][column]

    def sort_value(self, item: PrerequisiteResult, column: int) -> Any:
        return self._row_of.get(item.key, 0) if column == 0 else self.cell(item, column).casefold()

    def decoration(self, item: PrerequisiteResult, column: int):
        if column != 3:
            return None
        return icons.icon({CheckStatus.PASSED: "task-succeeded", CheckStatus.FAILED: "task-failed"}
                          .get(item.status, "task-interrupted"))

    def tooltip(self, item: PrerequisiteResult, column: int) -> str | None:
        text = self.cell(item, column)
        return text if column in (1, 2, 4) and text else None


class TemplateListModel(KeyedTableModel[Any]):
    """The Templates group's page: one row per template (rows are (Template, source provider name))."""

    columns = ("Name", "Source", "State", "Latest version", "Distribution")

    def key(self, item) -> str:
        return str(item[0].id)

    def cell(self, item, column: int) -> str:
        t, provider_name = item
        latest = t.latest_version
        source = t.source_vm_name or t.source_vm_id
        if provider_name:
            source = f"{source} on {provider_name}"
        if t.distribution_enabled:
            ready = sum(1 for x in t.targets if x.state is TargetState.READY
                        and latest is not None and x.version == latest.number)
            distribution = f"{ready} of {len(t.targets)} targets up to date"
        else:
            distribution = "Not enabled"
        return [t.name, source, t.state.value.capitalize(), f"v{latest.number}" if latest else "None",
                distribution][column]

    def decoration(self, item, column: int):
        if column != 0:
            return None
        return icons.icon("template-maintenance" if item[0].state.value == "maintenance" else "template")
