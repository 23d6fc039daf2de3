"""Tasks table coalescing and the log pane's batching and bound."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from console.domain.tasks import LogLevel, LogLine, Task, TaskState
from console.ui.log_pane import LogPane, format_line
from console.ui.tasks_dock import TasksDock
from console.ui.tasks_model import (COL_DURATION, COL_PROGRESS, COL_STATE, COL_STATUS, PROGRESS_ROLE,
                                    TasksModel, format_duration)

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def task(tid: int, state=TaskState.RUNNING, progress=0.0, started_ago: float = 5.0) -> Task:
    return Task(tid, f"Start VM 'vm{tid}'", f"hv01 / vm{tid}", "vm-power", state=state, progress=progress,
                started=(NOW - timedelta(seconds=started_ago)).isoformat())


def line(tid: int, seq: int, text: str = "", level=LogLevel.INFO) -> LogLine:
    return LogLine(tid, seq, NOW.isoformat(timespec="milliseconds"), level, text or f"line {seq}")


def test_changes_are_coalesced_into_one_data_changed(qtbot):
    model = TasksModel(now=lambda: NOW)
    for tid in range(1, 4):
        model.add_task(task(tid))
    seen = []
    model.dataChanged.connect(lambda tl, br, roles=(): seen.append((tl.row(), br.row())))
    for step in range(1, 501):
        model.update_task(task(2, progress=step / 500))
    assert seen == [] and model.flush_count == 0            # nothing yet: waiting for the timer
    qtbot.waitUntil(lambda: model.flush_count == 1, timeout=2000)
    assert seen == [(1, 1)]
    assert model.index(1, COL_PROGRESS).data(PROGRESS_ROLE) == 1.0
    assert model.index(1, COL_PROGRESS).data() == "100%"


def test_state_icon_text_and_duration(qtbot):
    model = TasksModel(now=lambda: NOW)
    model.add_task(task(1, started_ago=65))
    done = dataclasses.replace(task(2, TaskState.FAILED, started_ago=10),
                               finished=(NOW - timedelta(seconds=7)).isoformat(), error="Host hv01 did not answer.")
    model.add_task(done)
    assert model.index(0, COL_STATE).data() == "Running"
    assert model.index(0, COL_DURATION).data() == "0:01:05"
    assert model.index(1, COL_DURATION).data() == "3.0 s"
    assert model.index(1, COL_STATE).data(Qt.ItemDataRole.ToolTipRole) == "Host hv01 did not answer."
    assert not model.index(1, COL_STATE).data(Qt.ItemDataRole.DecorationRole).isNull()
    assert model.running_count() == 1
    assert format_duration(3725) == "1:02:05"
    assert format_duration(0.43) == "0.4 s"
    assert format_duration(59.96) == "0:01:00"
    assert format_duration(61) == "0:01:01"


def test_rows_are_bounded_dropping_oldest_finished(qtbot):
    model = TasksModel(max_rows=3)
    model.add_task(task(1))                                   # running: kept
    model.add_task(task(2, TaskState.SUCCEEDED))
    model.add_task(task(3, TaskState.SUCCEEDED))
    model.add_task(task(4))
    assert [model.task_at(r).id for r in range(model.rowCount())] == [1, 3, 4]
    assert model.row_of(4) == 2


def test_progress_delegate_paints(qtbot):
    model = TasksModel()
    dock = TasksDock(model)
    qtbot.addWidget(dock)
    model.add_task(task(1, progress=0.42))
    dock.show()
    pixmap = dock.grab()           # paints through ProgressDelegate; must not raise
    assert not pixmap.isNull()


def test_log_pane_appends_in_batches(qtbot):
    pane = LogPane(flush_interval_ms=33)
    qtbot.addWidget(pane)
    pane.show_task(7, [line(7, 0, "first")])
    for seq in range(1, 1001):
        pane.append_line(7, line(7, seq))
        pane.append_line(8, line(8, seq))                     # another task: ignored
    assert pane.flush_count == 0
    qtbot.waitUntil(lambda: pane.flush_count >= 1, timeout=2000)
    assert pane.flush_count == 1
    lines = pane.text_lines()
    assert len(lines) == 1001
    assert lines[0].endswith("first") and lines[-1].endswith("line 1000")
    assert "INFO" in lines[1]


def test_log_pane_is_bounded_and_skips_lines_already_shown(qtbot):
    pane = LogPane(max_lines=100)
    qtbot.addWidget(pane)
    pane.show_task(1, [line(1, s) for s in range(250)])
    assert pane.document().blockCount() == 100
    pane.append_line(1, line(1, 249))                          # already shown by show_task
    pane.append_line(1, line(1, 250, "<b>not bold</b> & literal", LogLevel.ERROR))
    pane.flush()
    lines = pane.text_lines()
    assert len(lines) == 100
    assert lines[-2].endswith("line 249")
    assert lines[-1].endswith("<b>not bold</b> & literal") and "ERROR" in lines[-1]


def test_format_line_has_time_level_text():
    text = format_line(line(1, 0, "Copying disk", LogLevel.WARNING))
    stamp, _, rest = text.partition("  ")
    assert len(stamp) == len("12:00:00.000") and stamp[2] == ":"
    assert rest.startswith("WARN") and rest.endswith("Copying disk")


def test_queued_tasks_go_in_as_one_insert_next_turn(qtbot):
    model = TasksModel(max_rows=5)
    model.add_task(task(1, TaskState.SUCCEEDED))
    model.add_task(task(2, TaskState.SUCCEEDED))
    inserts = []
    model.rowsInserted.connect(lambda _p, first, last: inserts.append((first, last)))
    for tid in range(3, 7):
        model.queue_task(task(tid))
    model.update_task(task(4, progress=0.5))                  # queued, not shown yet: its row starts so
    assert model.rowCount() == 2 and inserts == []
    assert model.task(4).progress == 0.5 and model.running_count() == 4
    qtbot.waitUntil(lambda: inserts != [], timeout=2000)
    assert inserts == [(1, 4)]                                # task 1 made room; one insert for four rows
    assert [model.task_at(r).id for r in range(model.rowCount())] == [2, 3, 4, 5, 6]
    assert model.row_of(6) == 4 and model.task_at(2).progress == 0.5
    model.queue_task(task(7))
    model.flush()                                             # the synchronous path
    assert model.rowCount() == 5 and model.task_at(4).id == 7


def test_status_column_says_what_a_running_task_does_and_why_one_failed(qtbot):
    model = TasksModel(now=lambda: NOW)
    model.add_task(dataclasses.replace(task(1), progress_text="HV02 58% · HV03 importing · 1 waiting"))
    model.add_task(dataclasses.replace(task(2, TaskState.FAILED), error="Host hv01 did not answer.",
                                       progress_text="Connecting"))
    model.add_task(dataclasses.replace(task(3, TaskState.SUCCEEDED), progress_text="Done"))
    assert model.index(0, COL_STATUS).data() == "HV02 58% · HV03 importing · 1 waiting"
    assert model.index(1, COL_STATUS).data() == "Host hv01 did not answer."
    assert model.index(2, COL_STATUS).data() == ""
