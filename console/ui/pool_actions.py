"""The window's pool actions (New Pool, Edit, Scale, Update, Rollback, Delete pool, Clean up) and the
commands behind them and behind the pool view's buttons.

Every dialog is opened with open() (never exec(): NOTES.md, qasync) and its answer starts a service
call through the bridge; started tasks are selected in the tasks dock so their log streams. An update
or rollback running for a pool marks its tree row ("updating") and shows its progress in the view.
"""
from __future__ import annotations

import inspect
import logging

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from console.domain.templates import CloneState, Pool
from console.ui.inventory_nodes import Node, NodeKind
from console.ui.pool_nodes import GROUP_POOLS, pool_key_path
from console.ui.template_actions import _action
from console.ui.window_commands import WindowCommands

log = logging.getLogger(__name__)

def node_pool(node: Node | None) -> Pool | None:
    return node.obj if node is not None and node.kind is NodeKind.POOL else None


def busy_word(task) -> tuple[int | None, str]:
    """(pool id, "updating" / "rolling back") of a task recreating a pool's clones, else (None, "")."""
    params = (getattr(task, "result", None) or {}).get("params") or {}
    if getattr(task, "kind", "") != "pool-update" or not isinstance(params.get("pool_id"), int):
        return None, ""
    return params["pool_id"], "rolling back" if params.get("kind") == "rollback" else "updating"


class PoolActions:
    def __init__(self, window) -> None:
        self.window = window
        self.new_pool = _action(window, "actionNewPool", "New &Pool...", "pool",
                                "Make a pool of clones from a template (the selected one, if any)", "Ctrl+Shift+P")
        self.edit_pool = _action(window, "actionEditPool", "&Edit pool...", "pool", "Change the selected pool")
        self.scale_pool = _action(window, "actionScalePool", "&Scale...", "pool",
                                  "Change the selected pool's maximum and buffer")
        self.update_pool = _action(window, "actionUpdatePool", "&Update...", "pool-updating",
                                   "Recreate the selected pool's clones from another version, batch by batch")
        self.rollback_pool = _action(window, "actionRollbackPool", "&Rollback...", "pool-updating",
                                     "Recreate the selected pool's clones from its previous version")
        self.clean_up = _action(window, "actionCleanUpPool", "&Clean up half-made clones...", "delete",
                                "Remove the clones a crash or a cancel left half-made")
        # Del, like Delete provider and Delete template: only one of them is enabled at a time
        self.delete_pool = _action(window, "actionDeletePool", "&Delete pool...", "delete",
                                   "Delete the selected pool, every clone and its disks",
                                   QKeySequence(QKeySequence.StandardKey.Delete))

    def pool_actions(self) -> tuple[QAction, ...]:
        return (self.edit_pool, self.scale_pool, self.update_pool, self.rollback_pool, self.clean_up)

    def add_to_menu(self, menu: QMenu) -> None:
        menu.addAction(self.new_pool)
        for action in self.pool_actions():
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.delete_pool)

    def add_to_toolbar(self, toolbar) -> None:
        toolbar.addAction(self.new_pool)

    def update(self, node: Node | None, connected: bool, busy: str = "", incomplete: int = 0) -> None:
        pool = node_pool(node)
        self.new_pool.setEnabled(connected)
        for action in (self.edit_pool, self.scale_pool, self.delete_pool):
            action.setEnabled(connected and pool is not None)
        for action in (self.update_pool, self.rollback_pool):
            action.setEnabled(connected and pool is not None and not busy)
        self.clean_up.setEnabled(connected and incomplete > 0)

    def fill_context_menu(self, node: Node, menu: QMenu) -> bool:
        """Pool rows and the Pools group; False for other rows."""
        if node.kind is NodeKind.GROUP and node.key == GROUP_POOLS:
            menu.addAction(self.new_pool)
            return True
        if node.kind is not NodeKind.POOL:
            return False
        for action in self.pool_actions():
            if action is not self.clean_up or action.isEnabled():
                menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.delete_pool)
        return True


class PoolCommands(WindowCommands):
    def __init__(self, window, actions: PoolActions) -> None:
        super().__init__(window, actions)
        self._tasks: dict[int, tuple[int, str]] = {}   # running update/rollback task -> (pool id, word)
        self._task_text: dict[int, str] = {}            # pool id -> its running task's progress
        actions.new_pool.triggered.connect(lambda: self.new_pool())
        for action, command in ((actions.edit_pool, self.edit_pool), (actions.scale_pool, self.scale),
                                (actions.update_pool, self.update), (actions.rollback_pool, self.rollback),
                                (actions.clean_up, self.clean_up), (actions.delete_pool, self.delete_pool)):
            action.triggered.connect(lambda _c=False, cmd=command: self._on_selected(cmd))
        window.details.on_pool_view = self._connect_view
        window.template_commands.poolUpdateRequested.connect(self.update_pools_by_name)

    def attach(self, services, bridge) -> None:
        """Show the farm's pools and their clones, and follow their events."""
        model = self.model
        bridge.poolAdded.connect(model.add_pool)
        bridge.poolChanged.connect(model.update_pool)
        bridge.poolRemoved.connect(model.remove_pool)
        bridge.cloneChanged.connect(model.queue_clone)
        bridge.cloneRemoved.connect(model.queue_clone_removed)
        bridge.taskAdded.connect(self._task_changed)
        bridge.taskChanged.connect(self._task_changed)
        for signal in (bridge.poolAdded, bridge.poolChanged, bridge.poolRemoved):
            signal.connect(lambda *_: self._pools_changed())
        pools = getattr(services, "pools", None)
        if pools is not None:
            model.set_pools(pools.list(), pools.clones)
            for task in services.tasks.recent(500):
                self._task_changed(task)

    def _pools_changed(self) -> None:
        if "_template_view" in self.window.details.__dict__:
            self.window.details.template_view.forget_pools()      # "Used by pools" of the versions
        self.window._schedule_status()

    def _connect_view(self, view) -> None:
        view.history_of = self.history
        view.task_text_of = lambda pid: self._task_text.get(pid, "")
        view.newPoolRequested.connect(lambda: self.new_pool())
        view.editRequested.connect(self.edit_pool)
        view.scaleRequested.connect(self.scale)
        view.updateRequested.connect(self.update)
        view.rollbackRequested.connect(self.rollback)
        view.deleteRequested.connect(self.delete_pool)
        view.cleanUpRequested.connect(self.clean_up)
        view.recreateRequested.connect(self.recreate_clones)
        view.deleteClonesRequested.connect(self.delete_clones)
        view.powerRequested.connect(self.power_clones)

    # ----- helpers ----------------------------------------------------------------------------
    def selected(self) -> Pool | None:
        return node_pool(self.window.tree.selected_node())

    def incomplete(self, pool_id: int) -> int:
        return sum(1 for c in self.model.clones(pool_id) if c.state is CloneState.INCOMPLETE)

    def update_actions(self, node: Node | None, connected: bool) -> None:
        pool = node_pool(node)
        self.actions.update(node, connected, self.model.pool_busy(pool.id) if pool else "",
                            self.incomplete(pool.id) if pool else 0)

    def history(self, pool_id: int) -> list:
        pools = getattr(self.services, "pools", None)
        return list(pools.history(pool_id)) if pools is not None else []

    def _on_selected(self, command) -> None:
        pool = self.selected()
        if pool is not None:
            command(pool.id)

    def _start(self, fn, *args, what: str, busy: str = "", **kwargs):
        """Call a service; follow the task it returns (a coroutine runs on the loop)."""
        bridge = self.window.bridge
        if bridge is None:
            return None
        result = bridge.call(lambda: fn(*args, **kwargs), what=what)
        if inspect.isawaitable(result):
            return bridge.run(result, what, on_done=lambda r: self._started(r, args, busy))
        return self._started(result, args, busy)

    def _started(self, result, args, busy: str):
        task = result[1] if isinstance(result, tuple) else result
        if task is None or not hasattr(task, "state"):
            return result
        if busy and args and isinstance(args[0], int):
            self._tasks[task.id] = (args[0], busy)
            self._task_changed(task)
        self.window._follow_task(task)
        return task

    def _task_changed(self, task) -> None:
        tracked = self._tasks.get(task.id)
        if tracked is None:
            pool_id, word = busy_word(task)
            if pool_id is None or task.state.finished:
                return
            tracked = self._tasks[task.id] = (pool_id, word)
        pool_id, word = tracked
        if task.state.finished:
            del self._tasks[task.id]
            self._task_text.pop(pool_id, None)
            self.model.set_pool_busy(pool_id, "")
            return
        if task.state.value == "queued":
            text = f"{word.capitalize()} is queued: {task.progress_text or 'it starts at the time chosen'}."
        else:
            text = f"{word.capitalize()}: {task.progress_text or 'starting'} ({round(task.progress * 100)}%)"
        changed = self._task_text.get(pool_id) != text
        self._task_text[pool_id] = text
        if self.model.pool_busy(pool_id) != word:
            self.model.set_pool_busy(pool_id, word)
        elif changed:
            self.model.touch_pool(pool_id)          # the view shows the new text

    # ----- pools ------------------------------------------------------------------------------
    def new_pool(self, template_id: int | None = None):
        if self.window.bridge is None:
            return None
        if template_id is None:
            node = self.window.tree.selected_node()
            while node is not None and node.kind not in (NodeKind.TEMPLATE, NodeKind.ROOT):
                node = node.parent
            template_id = node.obj.id if node is not None and node.kind is NodeKind.TEMPLATE else None
        return self._editor(template_id=template_id)

    def edit_pool(self, pool_id: int):
        return self._editor(pool_id=pool_id) if self.window.bridge is not None else None

    def _editor(self, pool_id: int | None = None, template_id: int | None = None):
        try:
            from console.ui.pool_editor.dialog import open_pool_editor
        except ImportError as exc:
            log.error("the pool editor cannot be loaded: %s", exc)
            self.window.show_error("Pool", "The pool editor is not available in this build.",
                                   "The details are in the application log.")
            return None
        try:
            editor = open_pool_editor(self.window, self.window.bridge, pool_id=pool_id, template_id=template_id)
        except Exception as exc:  # noqa: BLE001 - a pool removed meanwhile, the farm closed: say so
            from console.ui.bridge import describe_error
            self.window.show_error("Pool", *describe_error(exc))
            return None
        editor.poolSaved.connect(lambda pid: self.window.tree.select_key(pool_key_path(pid)))
        if hasattr(editor, "taskStarted"):
            editor.taskStarted.connect(self.window._follow_task)
        self.last_dialog = editor
        return editor

    def scale(self, pool_id: int):
        pool = self.model.pool(pool_id)
        if pool is None or self.window.bridge is None:
            return None
        from console.ui.pool_dialogs import ScaleDialog
        dialog = ScaleDialog(pool, len(self.model.clones(pool_id)), self.window)

        def chosen(maximum: int, keep_available: int) -> None:
            saved = self.window.bridge.call(self.services.pools.scale, pool_id, maximum, keep_available,
                                            what="Scale pool")
            if isinstance(saved, Pool):
                self.model.update_pool(saved)
        dialog.scaleChosen.connect(chosen)
        self._open(dialog)
        return dialog

    def update(self, pool_id: int):
        return self.update_pools([pool_id])

    def update_pools(self, pool_ids: list[int], version: int | None = None):
        pools = [p for p in (self.model.pool(pid) for pid in pool_ids) if p is not None]
        if not pools or self.window.bridge is None:
            return None
        from console.ui.pool_dialogs import PoolUpdateDialog
        template = self.model.template(pools[0].template_id)
        count = sum(len(self.model.clones(p.id)) for p in pools)
        dialog = PoolUpdateDialog(pools, template, version, count, parent=self.window)

        def chosen(options: dict) -> None:
            for pool in pools:
                self._start(self.services.pools.update, pool.id, what=f"Update pool '{pool.name}'",
                            busy="updating", **options)
        dialog.updateChosen.connect(chosen)
        self._open(dialog)
        return dialog

    def update_pools_by_name(self, template_id: int, version: int, names: list):
        """The maintenance hand-off: "Update their clones now" for the pools using the template."""
        wanted = {str(n).casefold() for n in names}
        ids = [p.id for p in self.model.pools() if p.name.casefold() in wanted and p.template_id == template_id]
        dialog = self.update_pools(ids, version)
        what = f"Updating the clones of {', '.join(map(str, names))} to v{version} is done by the pools"
        self.window.statusBar().showMessage(
            f"{what}: choose the batch size, the time and the logoff policy in the update dialog." if dialog
            else f"{what}, and none of them is in this window's Pools branch.", 15000)
        return dialog

    def previous_version(self, pool: Pool) -> int | None:
        """The version before the current one in the pool's history (what a rollback goes back to)."""
        asked = getattr(getattr(self.services, "pools", None), "previous_version", None)
        if asked is not None:
            return asked(pool)
        for h in reversed(self.history(pool.id)):
            if h.version != pool.version:
                return h.version
        return None

    def rollback(self, pool_id: int):
        pool = self.model.pool(pool_id)
        if pool is None or self.window.bridge is None:
            return None
        previous = self.previous_version(pool)
        if previous is None:
            self.window.show_error("Rollback", f"The pool '{pool.name}' has no previous version to go back to.",
                                   "Its history holds only the version it was made with.")
            return None
        from console.ui.pool_dialogs import PoolUpdateDialog
        dialog = PoolUpdateDialog([pool], self.model.template(pool.template_id), None,
                                  len(self.model.clones(pool_id)), rollback_to=previous, parent=self.window)
        dialog.updateChosen.connect(lambda options: self._start(
            self.services.pools.rollback, pool_id, what=f"Roll back pool '{pool.name}'", busy="rolling back",
            **options))
        self._open(dialog)
        return dialog

    def delete_pool(self, pool_id: int):
        pool = self.model.pool(pool_id)
        if pool is None or self.window.bridge is None:
            return None
        clones = self.window.bridge.call(self.services.pools.clones, pool_id, what="Delete pool")
        if clones is None:
            return None
        count = len(clones)
        assigned = sum(1 for c in clones if c.state is CloneState.ASSIGNED)
        info = (f"Every clone VM and its disks are removed from the hosts ({count} clone"
                f"{'s' if count != 1 else ''}), then the pool and its history.")
        if assigned:
            info += f" {assigned} {'are' if assigned != 1 else 'is'} assigned to a user who loses the session."
        return self._confirm("confirmDeletePool", "Delete pool",
                             f"Delete the pool '{pool.name}' and its {count} clone{'s' if count != 1 else ''}?",
                             info, lambda: self._start(self.services.pools.delete, pool_id,
                                                       what=f"Delete pool '{pool.name}'"))

    def clean_up(self, pool_id: int):
        pool = self.model.pool(pool_id)
        if pool is None or self.window.bridge is None:
            return None
        half = [c.name for c in self.model.clones(pool_id) if c.state is CloneState.INCOMPLETE]
        shown = ", ".join(half[:8]) + (f" and {len(half) - 8} more" if len(half) > 8 else "")
        return self._confirm("confirmCleanUp", "Clean up half-made clones",
                             f"Remove {len(half)} half-made clone{'s' if len(half) != 1 else ''} of '{pool.name}'?",
                             f"{shown}: the console stopped or a cancel came while they were being made. Their "
                             "VMs, disks and folders are removed; the pool makes new clones if it needs them.",
                             lambda: self._start(self.services.pools.clean_up, pool_id,
                                                 what=f"Clean up pool '{pool.name}'"))

    # ----- clones -----------------------------------------------------------------------------
    def recreate_clones(self, pool_id: int, names: list):
        pool = self.model.pool(pool_id)
        if pool is None or not names or self.window.bridge is None:
            return None
        return self._confirm("confirmRecreateClones", "Recreate clones", f"Recreate {self._names(names)}?",
                             f"Each is deleted with its disks and made again from v{pool.version} with the same "
                             "name.", lambda: [self._start(self.services.pools.recreate_clone, pool_id, name,
                                                           what=f"Recreate clone '{name}'") for name in names])

    def delete_clones(self, pool_id: int, names: list):
        pool = self.model.pool(pool_id)
        if pool is None or not names or self.window.bridge is None:
            return None
        return self._confirm("confirmDeleteClones", "Delete clones", f"Delete {self._names(names)}?",
                             f"Their VMs and disks are removed. The pool makes new clones if it needs them to keep "
                             f"{pool.keep_available} available.",
                             lambda: [self._start(self.services.pools.delete_clone, pool_id, name,
                                                  what=f"Delete clone '{name}'") for name in names])

    def power_clones(self, pool_id: int, names: list, action):
        if self.window.bridge is None:
            return []
        return [self._start(self.services.pools.power_clone, pool_id, name, action,
                            what=f"{action.label} clone '{name}'") for name in names]

    @staticmethod
    def _names(names: list) -> str:
        if len(names) == 1:
            return f"the clone '{names[0]}'"
        return f"{len(names)} clones ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})"
