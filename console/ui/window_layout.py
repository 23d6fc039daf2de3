"""The main window's layout remembered between runs: geometry, dock and splitter sizes, the task
table's columns and the selected tree row, in the window's QSettings.

A mixin of MainWindow: it needs its settings, splitter, tasks_dock and tree.
"""
from __future__ import annotations


class LayoutMemory:
    def save_layout(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/mainSplitter", self.splitter.saveState())
        s.setValue("window/tasksSplitter", self.tasks_dock.splitter.saveState())
        s.setValue("window/tasksHeader", self.tasks_dock.view.horizontalHeader().saveState())
        s.setValue("window/selection", self.tree.selected_key() or self.tree.pending_key)
        s.sync()

    def restore_layout(self) -> None:
        """Geometry now; dock and splitter sizes once the window has its size (first show)."""
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        selection = self.settings.value("window/selection", "")
        if selection:
            self.tree.select_key(str(selection))
        self._state_restored = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_state_restored", True):
            self._state_restored = True
            self._restore_state()

    def _restore_state(self) -> None:
        s = self.settings
        for key, restore in (("window/state", self.restoreState),
                             ("window/mainSplitter", self.splitter.restoreState),
                             ("window/tasksSplitter", self.tasks_dock.splitter.restoreState),
                             ("window/tasksHeader", self.tasks_dock.view.horizontalHeader().restoreState)):
            value = s.value(key)
            if value is not None:
                restore(value)
