"""The log pane: the selected task's lines, appended in batches, bounded in length."""
from __future__ import annotations

from collections import deque
from datetime import datetime, timezone
from functools import lru_cache

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit

from console.domain.tasks import LogLine

_LEVEL = {"debug": "DEBUG", "info": "INFO ", "warning": "WARN ", "error": "ERROR"}


def _local_stamp(at: str) -> str:
    """'2024-05-01T12:03:07.120+00:00' -> '14:03:07.120' in local time; the text as is if unreadable."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone()
    return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


@lru_cache(maxsize=4096)
def _cached_stamp(at: str) -> str:
    # a chatty task writes many lines in the same millisecond; converting time zones per line was
    # a third of the cost of a line in the pane
    return _local_stamp(at)


def format_line(line: LogLine) -> str:
    """'14:03:07.120  INFO   text' in local time (the journal keeps UTC)."""
    level = getattr(line.level, "value", str(line.level))
    return f"{_cached_stamp(line.at)}  {_LEVEL.get(level, level.upper()[:5]):5}  {line.text}"


class LogPane(QPlainTextEdit):
    """Shows one task at a time. Live lines wait in a buffer and go in at most ~30 times a second.

    A line costs nearly nothing until its batch goes in: the buffer keeps the LogLine (formatted at
    the flush) and only the last ``max_lines`` of it, since older ones would scroll out at once.

    Once the pane is full, each new line pushes the oldest out, and Qt removes a block from the top
    of a document at ~25 us each: at 20,000 lines a second that alone would take half the UI
    thread. So a flood (a batch of ``FLOOD_LINES`` or more) is shown by rebuilding the text from the
    last ``max_lines`` lines (~15 ms for 5,000, whatever the batch), and the next batches wait
    ``flood_interval_ms`` instead of ``flush_interval_ms``.
    """

    FLOOD_LINES = 300

    def __init__(self, parent=None, max_lines: int = 5000, flush_interval_ms: int = 33,
                 flood_interval_ms: int = 250) -> None:
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
        self._buffer: deque[LogLine] = deque(maxlen=max_lines)
        self._shown: deque[str] = deque(maxlen=max_lines)   # the pane's lines, to rebuild from
        self._flush_interval_ms = flush_interval_ms
        self._flood_interval_ms = flood_interval_ms
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
        self._timer.setInterval(self._flush_interval_ms)
        self.clear()
        lines = lines[-self._max_lines:]
        self._last_seq = lines[-1].seq if lines else -1
        self._shown.clear()
        self._shown.extend(format_line(line) for line in lines)
        if lines:
            self.setPlainText("\n".join(self._shown))
            self.moveCursor(self.textCursor().MoveOperation.End)
            self.ensureCursorVisible()

    def append_line(self, task_id: int, line: LogLine) -> None:
        if task_id != self._task_id or line.seq <= self._last_seq:
            return          # another task, or a line already shown by show_task
        self._last_seq = line.seq
        self._buffer.append(line)       # bounded: the oldest fall out
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._buffer:
            return
        batch = [format_line(line) for line in self._buffer]
        self._buffer.clear()
        self._shown.extend(batch)
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        flood = len(batch) >= self.FLOOD_LINES
        if flood and self.document().blockCount() + len(batch) > self._max_lines:
            value = bar.value()
            self.setPlainText("\n".join(self._shown))   # cheaper than trimming the top line by line
            if not at_end:
                bar.setValue(value)
        else:
            self.appendPlainText("\n".join(batch))      # one call per batch: one layout pass
        self.flush_count += 1
        if at_end:
            bar.setValue(bar.maximum())
        self._timer.setInterval(self._flood_interval_ms if flood else self._flush_interval_ms)

    def text_lines(self) -> list[str]:
        return self.toPlainText().split("\n") if self.document().characterCount() > 1 else []
