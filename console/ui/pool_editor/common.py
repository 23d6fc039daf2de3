"""What the pool editor's tabs share: a tab with a message line under each field."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QWidget

from console.ui.template_wizard.common import message_label, named, show_message, stacked

NOTE_STYLE = "color: #5f5f5f;"

__all__ = ["EditorTab", "named", "note_label", "show_message", "stacked"]


def note_label(text: str, object_name: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName(object_name)
    label.setAccessibleName(object_name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(NOTE_STYLE)
    return label


class EditorTab(QWidget):
    """A tab: it writes into the state and says ``changed``; ``show_problems`` puts each field's
    sentence under the field (fields without a label of their own go to the tab's last line)."""

    changed = Signal()

    def __init__(self, state, bridge, object_name: str, accessible: str, parent=None) -> None:
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        named(self, object_name, accessible)
        self.messages: dict[str, QLabel] = {}
        self.fields: dict[str, QWidget] = {}
        self.touched: set[str] = set()

    def field_message(self, key: str, object_name: str, accessible: str) -> QLabel:
        label = message_label(object_name, accessible, self)
        self.messages[key] = label
        return label

    def touch(self, key: str) -> None:
        self.touched.add(key)
        self.changed.emit()

    def shown(self, key: str, text: str) -> str:
        """What a field says now (a tab may keep an untouched field quiet)."""
        return text

    def show_problems(self, problems: dict[str, str]) -> None:
        fallback = self.messages.get("*")
        rest = []
        for key, label in self.messages.items():
            if key == "*":
                continue
            show_message(label, self.shown(key, problems.get(key, "")))
        for key, text in problems.items():
            if key not in self.messages:
                rest.append(text)
        if fallback is not None:
            show_message(fallback, "\n".join(rest))
        for key, widget in self.fields.items():
            bad = bool(self.shown(key, problems.get(key, "")))
            widget.setProperty("invalid", bad)
            if isinstance(widget, (QLineEdit, QPlainTextEdit)):     # spin boxes keep their native look
                widget.setStyleSheet(f"#{widget.objectName()} {{ border: 1px solid #b3261e; }}" if bad else "")
            widget.setToolTip(problems.get(key, "") or widget.accessibleDescription())

        # a form row caches the height-for-width of a field whose wrapped message was just hidden: drop it
        for label in self.messages.values():
            label.parentWidget().updateGeometry()

    def reload(self) -> None:
        """Show the state again (the template, its version or its targets changed)."""
