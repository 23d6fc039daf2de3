"""The bottom dock: the tasks table above the selected task's log."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QHeaderView, QMenu, QSplitter,
                               QTableView)

from console.domain.tasks import TaskState
from console.ui.log_pane import LogPane, format_line
from console.ui.tasks_model import (COL_DURATION, COL_NAME, COL_PROGRESS, COL_TARGET, SORT_ROLE,
                                    TASK_ID_ROLE, ProgressDelegate, TasksModel)


#: tasks the services can run again with the same parameters and request id (providers.retry)
RETRY_STATES = (TaskState.FAILED, TaskState.CANCELLED, TaskState.INTERRUPTED)
RETRY_KINDS = ("vm-power", "vm-snapshot", "vm-clone", "vm-delete")


def retryable(task) -> bool:
    """VM tasks retry through the providers, template tasks (kind template-*) through the templates."""
    return task.state in RETRY_STATES and (task.kind in RETRY_KINDS or task.kind.startswith("template-"))


class TasksDock(QDockWidget):
    #: the administrator picked a task; the window answers with its log lines
    taskSelected = Signal(object)       # task id or None
    cancelRequested = Signal(int)
    retryRequested = Signal(int)
    copyLogRequested = Signal(int)

    def __init__(self, model: TasksModel, parent=None) -> None:
        super().__init__("Tasks", parent)
        self.setObjectName("tasksDock")
        self.setAccessibleName("Tasks")
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)

        self.view = QTableView(self)
        self.view.setObjectName("tasksTable")
        self.view.setAccessibleName("Tasks")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # newest last
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.view))
        header = self.view.horizontalHeader()
        header.setObjectName("tasksTableHeader")
        header.setAccessibleName("Task columns")
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.resizeSection(COL_NAME, 320)
        header.resizeSection(COL_TARGET, 200)
        header.resizeSection(COL_PROGRESS, 160)
        header.resizeSection(COL_DURATION, 90)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        model.rowsInserted.connect(self._follow_new_rows)

        self.log_pane = LogPane(self)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("tasksSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.log_pane)
        self.splitter.setSizes([200, 140])
        self.setWidget(self.splitter)

        self.cancel_action = QAction("Cancel task", self)
        self.cancel_action.setObjectName("actionCancelTask")
        self.cancel_action.triggered.connect(self._cancel_current)
        self.retry_action = QAction("Retry", self)
        self.retry_action.setObjectName("actionRetryTask")
        self.retry_action.setToolTip("Run this task again with the same parameters")
        self.retry_action.triggered.connect(self._retry_current)
        self.copy_log_action = QAction("Copy log", self)
        self.copy_log_action.setObjectName("actionCopyLog")
        self.copy_log_action.triggered.connect(self._copy_current)

    def current_task_id(self) -> int | None:
        idx = self.view.currentIndex()
        return idx.siblingAtColumn(0).data(TASK_ID_ROLE) if idx.isValid() else None

    def select_task(self, task_id: int) -> bool:
        row = self.model.row_of(task_id)
        if row is None:
            return False
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        self.view.setCurrentIndex(idx)
        self.view.scrollTo(idx)
        return True

    def _current_changed(self, current, _previous) -> None:
        self.taskSelected.emit(current.siblingAtColumn(0).data(TASK_ID_ROLE) if current.isValid() else None)

    def _follow_new_rows(self, _parent, _first, last) -> None:
        # keep the newest task in sight when the view was showing the bottom
        bar = self.view.verticalScrollBar()
        if bar.value() >= bar.maximum() - 2 * self.view.verticalHeader().defaultSectionSize():
            self.view.scrollToBottom()

    def _context_menu(self, pos) -> None:
        idx = self.view.indexAt(pos)
        if not idx.isValid():
            return
        self.view.setCurrentIndex(idx)
        task = self.model.task(idx.siblingAtColumn(0).data(TASK_ID_ROLE))
        if task is None:
            return
        self.cancel_action.setEnabled(task.state in (TaskState.QUEUED, TaskState.RUNNING))
        self.retry_action.setEnabled(retryable(task))
        menu = QMenu(self)
        menu.setObjectName("taskContextMenu")
        menu.addAction(self.cancel_action)
        menu.addAction(self.retry_action)
        menu.addAction(self.copy_log_action)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _cancel_current(self) -> None:
        task_id = self.current_task_id()
        if task_id is not None:
            self.cancelRequested.emit(task_id)

    def _retry_current(self) -> None:
        task_id = self.current_task_id()
        task = self.model.task(task_id) if task_id is not None else None
        if task is not None and retryable(task):
            self.retryRequested.emit(task_id)

    def _copy_current(self) -> None:
        task_id = self.current_task_id()
        if task_id is not None:
            self.copyLogRequested.emit(task_id)

    @staticmethod
    def copy_lines(lines) -> str:
        text = "\n".join(format_line(line) for line in lines)
        QGuiApplication.clipboard().setText(text)
        return text
