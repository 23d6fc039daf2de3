"""The prerequisite table of one distribution target: check, expected, found, status, fix."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from console.domain.prerequisites import CheckStatus, PrerequisiteResult

COLUMNS = ("Check", "Expected", "Found", "Status", "Fix")
STATUS_TEXT = {CheckStatus.PASSED: "✓ Passed", CheckStatus.FAILED: "✗ Failed",
               CheckStatus.WARNING: "! Not verified"}
STATUS_COLOUR = {CheckStatus.PASSED: "#1b6e20", CheckStatus.FAILED: "#b3261e",
                 CheckStatus.WARNING: "#8a5a00"}


class PrerequisiteModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[PrerequisiteResult] = []
        self.placeholder = ""     # shown as the one row while there are no results

    def set_results(self, rows: list[PrerequisiteResult] | None, placeholder: str = "") -> None:
        self.beginResetModel()
        self.rows = list(rows or [])
        self.placeholder = placeholder if not self.rows else ""
        self.endResetModel()

    def rowCount(self, parent=None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self.rows) or (1 if self.placeholder else 0)

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if not self.rows:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole) and index.column() == 0:
                return self.placeholder
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.AccessibleTextRole):
            return (row.title, row.expected, row.found, STATUS_TEXT.get(row.status, row.status.value),
                    row.fix)[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return QBrush(QColor(STATUS_COLOUR.get(row.status, "#000000")))
        if role == Qt.ItemDataRole.UserRole:
            return row.key
        return None
