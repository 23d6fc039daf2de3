"""Small helpers the wizard's pages share: named widgets and the page's message label."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

ERROR_COLOUR = "#b3261e"
OK_COLOUR = "#1b6e20"
WARN_COLOUR = "#8a5a00"


def named(widget: QWidget, object_name: str, accessible: str, description: str = "") -> QWidget:
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible)
    if description:
        widget.setAccessibleDescription(description)
    return widget


def message_label(object_name: str, accessible: str, parent: QWidget | None = None) -> QLabel:
    """The page's explanation line: why Next is disabled, in a sentence (red for a problem)."""
    label = QLabel(parent)
    named(label, object_name, accessible)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def show_message(label: QLabel, text: str, error: bool = True) -> None:
    label.setText(text)
    label.setStyleSheet(f"color: {ERROR_COLOUR};" if error and text else "")
    label.setVisible(bool(text))


def stacked(parent: QWidget, *widgets: QWidget, spacing: int = 3) -> QWidget:
    """A field with its sentence right under it (one form row)."""
    box = QWidget(parent)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(spacing)
    for widget in widgets:
        layout.addWidget(widget)
    return box
