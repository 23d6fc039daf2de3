"""What the window's template and pool commands share (TemplateCommands, PoolCommands): the window's
services and inventory model, and dialogs opened with open() (never exec(): NOTES.md, qasync), kept
alive while they are shown and remembered as ``last_dialog`` (tests drive it).
"""
from __future__ import annotations

from PySide6.QtCore import QObject


class WindowCommands(QObject):
    def __init__(self, window, actions) -> None:
        super().__init__(window)
        self.window = window
        self.actions = actions
        self.last_dialog = None               # the dialog opened last (tests drive it)

    @property
    def services(self):
        return self.window.services

    @property
    def model(self):
        return self.window.inventory

    def _open(self, dialog) -> None:
        self.last_dialog = dialog
        self.window._keep_dialog(dialog)
        dialog.finished.connect(lambda _r: self.window._forget_dialog(dialog))
        dialog.open()

    def _confirm(self, name: str, title: str, text: str, info: str, on_yes) -> object:
        """A Yes/No box named ``name``; Yes calls ``on_yes``."""
        from console.ui.template_dialogs import confirm_box
        box = confirm_box(self.window, name, title, text, info, on_yes)
        self._open(box)
        return box
