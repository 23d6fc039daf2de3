"""The tasks table: one row per task, updated in place, changes coalesced to ~30 repaints a second."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRect, Qt, QTimer
from PySide6.QtWidgets import QStyledItemDelegate

from console.domain.tasks import Task, TaskState
from console.ui import icons

TASK_ID_ROLE = Qt.ItemDataRole.UserRole + 1
TASK_ROLE = Qt.ItemDataRole.UserRole + 2
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 3   # 0..1, or None when no bar makes sense
SORT_ROLE = Qt.ItemDataRole.UserRole + 4

COLUMNS = ("Name", "Target", "State", "Progress", "Started", "Duration", "Status")
COL_NAME, COL_TARGET, COL_STATE, COL_PROGRESS, COL_STARTED, COL_DURATION, COL_STATUS = range(7)


def status_text(task: Task) -> str:
    """What the task is doing now (a distribution: each target's own progress), or why it failed."""
    if task.state is TaskState.FAILED:
        return task.error
    if task.state.finished:
        return ""
    return task.progress_text


def _parse(iso: str) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def format_started(iso: str, today: datetime | None = None) -> str:
    moment = _parse(iso)
    if moment is None:
        return ""
    local = moment.astimezone()
    today = (today or datetime.now().astimezone()).date()
    return local.strftime("%H:%M:%S") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if round(seconds, 1) < 60:       # most refreshes and checks: "0:00:00" would hide them all
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def task_duration(task: Task, now: datetime | None = None) -> float | None:
    started = _parse(task.started)
    if started is None:
        return None
    end = _parse(task.finished) if task.finished else (now or datetime.now(timezone.utc))
    if end is None:
        return None
    return max(0.0, (end - started).total_seconds())


class TasksModel(QAbstractTableModel):
    """Rows in the order tasks were added (newest last). Bounded: the oldest finished rows go."""

    def __init__(self, parent=None, flush_interval_ms: int = 33, max_rows: int = 2000,
                 now: Callable[[], datetime] | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[Task] = []
        self._row_of: dict[int, int] = {}
        self._pending: dict[int, Task] = {}
        self._incoming: dict[int, Task] = {}    # queued by queue_task, inserted together next loop turn
        self._max_rows = max_rows
        self._now = now or (lambda: datetime.now(timezone.utc))
        self.flush_count = 0        # how many coalesced dataChanged batches went out (tests read it)
        self._flush_timer = QTimer(self, singleShot=True, interval=flush_interval_ms)
        self._flush_timer.timeout.connect(self.flush)
        self._insert_timer = QTimer(self, singleShot=True, interval=0)
        self._insert_timer.timeout.connect(self.flush_inserts)
        self._tick_timer = QTimer(self, interval=1000)    # running durations tick once a second
        self._tick_timer.timeout.connect(self._tick)
        self._tick_timer.start()

    # ----- Qt interface ------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._tasks)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        task = self._tasks[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return task.name
            if col == COL_TARGET:
                return task.target
            if col == COL_STATE:
                return task.state.label
            if col == COL_PROGRESS:
                return f"{round(task.progress * 100)}%"
            if col == COL_STARTED:
                return format_started(task.started)
            if col == COL_DURATION:
                return format_duration(task_duration(task, self._now()))
            if col == COL_STATUS:
                return status_text(task)
        elif role == Qt.ItemDataRole.DecorationRole and col == COL_STATE:
            return icons.task_icon(task.state)
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_STATE and task.error:
                return task.error
            if col in (COL_PROGRESS, COL_STATUS) and status_text(task):
                return status_text(task)
            if col in (COL_NAME, COL_TARGET):
                return f"{task.name}\n{task.target}"
        elif role == PROGRESS_ROLE and col == COL_PROGRESS:
            if task.state is TaskState.SUCCEEDED:
                return 1.0
            return max(0.0, min(1.0, task.progress))
        elif role == SORT_ROLE:
            if col == COL_PROGRESS:
                return task.progress
            if col == COL_DURATION:
                return task_duration(task, self._now()) or 0.0
            if col == COL_STARTED:
                return task.started or task.created
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        elif role == TASK_ID_ROLE:
            return task.id
        elif role == TASK_ROLE:
            return task
        return None

    # ----- updates -------------------------------------------------------------------------------
    def set_tasks(self, tasks: list[Task]) -> None:
        """Initial fill (from the journal at start-up)."""
        self.beginResetModel()
        self._tasks = list(tasks)[-self._max_rows:]
        self._row_of = {t.id: row for row, t in enumerate(self._tasks)}
        self._pending.clear()
        for t in self._tasks:
            self._incoming.pop(t.id, None)
        self.endResetModel()

    def add_task(self, task: Task) -> None:
        """Insert the task's row now (anything queued before it goes in first, in order)."""
        if task.id in self._row_of:
            self.update_task(task)
            return
        self._incoming[task.id] = task
        self.flush_inserts()

    def queue_task(self, task: Task) -> None:
        """Add the task's row at the next loop turn, with every other task queued in this turn:
        one beginInsertRows/endInsertRows for a burst (F5 submits one refresh per provider)."""
        if task.id in self._row_of:
            self.update_task(task)
            return
        self._incoming[task.id] = task
        if not self._insert_timer.isActive():
            self._insert_timer.start()

    def flush_inserts(self) -> None:
        """Insert the queued rows now, in one batch."""
        self._insert_timer.stop()
        if not self._incoming:
            return
        new = list(self._incoming.values())
        self._incoming.clear()
        self._trim(len(new))
        first = len(self._tasks)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._tasks.extend(new)
        for row, t in enumerate(new, first):
            self._row_of[t.id] = row
        self.endInsertRows()

    def update_task(self, task: Task) -> None:
        """Remember the newest state; the views hear about it at the next flush."""
        if task.id in self._incoming:
            self._incoming[task.id] = task      # not shown yet: its row starts with this state
            return
        if task.id not in self._row_of:
            self.add_task(task)
            return
        self._pending[task.id] = task
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Show every queued change now: rows waiting to be inserted, then the coalesced updates."""
        self.flush_inserts()
        if not self._pending:
            return
        rows = []
        for task_id, task in self._pending.items():
            row = self._row_of.get(task_id)
            if row is not None:
                self._tasks[row] = task
                rows.append(row)
        self._pending.clear()
        if rows:
            self.flush_count += 1
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))

    def _tick(self) -> None:
        running = [row for row, t in enumerate(self._tasks) if t.state is TaskState.RUNNING]
        if running:
            self.dataChanged.emit(self.index(min(running), COL_DURATION),
                                  self.index(max(running), COL_DURATION))

    def _trim(self, adding: int = 1) -> None:
        """Keep at most max_rows after adding that many: drop the oldest finished tasks."""
        excess = len(self._tasks) + adding - self._max_rows
        if excess <= 0:
            return
        doomed = [row for row, task in enumerate(self._tasks) if task.state.finished][:excess]
        if not doomed:
            return
        # contiguous runs, removed from the bottom up so the rows above keep their numbers
        runs: list[list[int]] = []
        for row in doomed:
            if runs and runs[-1][1] == row - 1:
                runs[-1][1] = row
            else:
                runs.append([row, row])
        for first, last in reversed(runs):
            self.beginRemoveRows(QModelIndex(), first, last)
            for task in self._tasks[first:last + 1]:
                self._pending.pop(task.id, None)
            del self._tasks[first:last + 1]
            self._row_of = {t.id: r for r, t in enumerate(self._tasks)}
            self.endRemoveRows()

    # ----- lookups --------------------------------------------------------------------------------
    def task_at(self, row: int) -> Task:
        return self._tasks[row]

    def task(self, task_id: int) -> Task | None:
        """The newest state known (a change waiting for the next repaint included)."""
        pending = self._pending.get(task_id) or self._incoming.get(task_id)
        if pending is not None:
            return pending
        row = self._row_of.get(task_id)
        return self._tasks[row] if row is not None else None

    def row_of(self, task_id: int) -> int | None:
        return self._row_of.get(task_id)

    def running_count(self) -> int:
        return (sum(1 for t in self._tasks if self.task(t.id).state is TaskState.RUNNING)
                + sum(1 for t in self._incoming.values() if t.state is TaskState.RUNNING))


class ProgressDelegate(QStyledItemDelegate):
    """Paints PROGRESS_ROLE as a real progress bar (the platform's style)."""

    def paint(self, painter, option, index) -> None:
        value = index.data(PROGRESS_ROLE)
        if value is None:
            super().paint(painter, option, index)
            return
        # imported here: QStyle's enums cost ~10-20 ms, not worth paying before the first paint
        from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionProgressBar, QStyleOptionViewItem
        view_opt = QStyleOptionViewItem(option)
        self.initStyleOption(view_opt, index)
        view_opt.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, view_opt, painter, widget)
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(3, 3, -3, -3))
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.direction = option.direction
        bar.fontMetrics = option.fontMetrics
        bar.palette = option.palette
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = round(float(value) * 100)
        bar.text = f"{bar.progress}%"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)
