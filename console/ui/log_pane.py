"""The log pane: the selected task's lines, appended in batches, bounded in length."""
from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit

from console.domain.tasks import LogLine

_LEVEL = {"debug": "DEBUG", "info": "INFO ", "warning": "WARN ", "error": "ERROR"}


def format_line(line: LogLine) -> str:
    """'14:03:07.120  INFO   text' in local time (the journal keeps UTC)."""
    stamp = line.at
    try:
        moment = datetime.fromisoformat(line.at)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        local = moment.astimezone()
        stamp = local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    except ValueError:
        pass
    level = getattr(line.level, "value", str(line.level))
    return f"{stamp}  {_LEVEL.get(level, level.upper()[:5]):5}  {line.text}"


class LogPane(QPlainTextEdit):
    """Shows one task at a time. Live lines wait in a buffer and go in at most ~30 times a second."""

    def __init__(self, parent=None, max_lines: int = 5000, flush_interval_ms: int = 33) -> None:
        super().__init__(parent)
        self.setObjectName("logPane")
        self.setAccessibleName("Task log")
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Select a task to see its log.")
        self._max_lines = max_lines
        self._task_id: int | None = None
        self._buffer: list[str] = []
        self._last_seq = -1
        self.flush_count = 0       # batches appended (tests read it)
        self._timer = QTimer(self, singleShot=True, interval=flush_interval_ms)
        self._timer.timeout.connect(self.flush)

    @property
    def task_id(self) -> int | None:
        return self._task_id

    def show_task(self, task_id: int | None, lines: list[LogLine]) -> None:
        """Replace the pane's content with this task's lines so far."""
        self._timer.stop()
        self._buffer.clear()
        self._task_id = task_id
        self.clear()
        lines = lines[-self._max_lines:]
        self._last_seq = lines[-1].seq if lines else -1
        if lines:
            self.setPlainText("\n".join(format_line(line) for line in lines))
            self.moveCursor(self.textCursor().MoveOperation.End)
            self.ensureCursorVisible()

    def append_line(self, task_id: int, line: LogLine) -> None:
        if task_id != self._task_id or line.seq <= self._last_seq:
            return          # another task, or a line already shown by show_task
        self._last_seq = line.seq
        self._buffer.append(format_line(line))
        if len(self._buffer) > self._max_lines:
            del self._buffer[:-self._max_lines]
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._buffer:
            return
        text = "\n".join(self._buffer)
        self._buffer.clear()
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.appendPlainText(text)      # one call per batch: one layout pass
        self.flush_count += 1
        if at_end:
            bar.setValue(bar.maximum())

    def text_lines(self) -> list[str]:
        return self.toPlainText().split("\n") if self.document().characterCount() > 1 else []
