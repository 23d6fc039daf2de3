"""A small bar chart of time-to-usable per clone, oldest first, with min / median / max.

Painted with QPainter (no chart library): one bar per clone that became usable, coloured by method,
a dashed line at the median, the figures above. An administrator sees the spread at a glance: a host
that is slower than the others shows as a run of tall bars. Hovering a bar names its clone.
"""
from __future__ import annotations

import math
import statistics

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from console.domain.templates import Clone, ProvisioningMethod
from console.ui.pool_tables import format_duration

METHOD_COLOURS = {ProvisioningMethod.FULL: "#6A1B9A", ProvisioningMethod.LINKED: "#1E88E5",
                  ProvisioningMethod.QUICK: "#43A047"}


def tick_text(value: float) -> str:
    """A grid line's value: "0", "20 s", "2.5 s", "2 min 00 s"."""
    if not value:
        return "0"
    if value < 60 and float(value).is_integer():
        return f"{int(value)} s"
    return format_duration(value)


class UsableChart(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("chartUsable")
        self.setAccessibleName("Time to usable per clone")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(170)
        self._bars: list[tuple[str, float, ProvisioningMethod]] = []
        self._waiting = 0
        self.stats: tuple[float, float, float] | None = None      # min, median, max (tests read it)

    def sizeHint(self) -> QSize:
        return QSize(480, 170)

    # ----- data ---------------------------------------------------------------------------------
    def set_clones(self, clones: list[Clone]) -> None:
        usable = sorted((c for c in clones if c.usable_seconds is not None), key=lambda c: (c.created, c.name))
        bars = [(c.name, float(c.usable_seconds), c.method) for c in usable]
        waiting = sum(1 for c in clones if c.usable_seconds is None and c.state.value in
                      ("provisioning", "updating"))
        if bars == self._bars and waiting == self._waiting:
            return
        self._bars, self._waiting = bars, waiting
        values = [b[1] for b in bars]
        self.stats = (min(values), statistics.median(values), max(values)) if values else None
        self.setAccessibleDescription(self.summary())
        self.update()

    def bar_names(self) -> list[str]:
        return [b[0] for b in self._bars]

    def summary(self) -> str:
        if self.stats is None:
            text = "No clone is usable yet."
        else:
            low, mid, high = self.stats
            n = len(self._bars)
            text = (f"{n} usable: min {format_duration(low)}, "
                    f"median {format_duration(mid)}, max {format_duration(high)}")
        if self._waiting:
            text += f" ({self._waiting} still being made)"
        return text

    # ----- painting -----------------------------------------------------------------------------
    def _plot_rect(self) -> QRectF:
        fm = self.fontMetrics()
        left = fm.horizontalAdvance("0 min 00 s") + 10
        top = fm.height() * 2 + 4 + fm.height()       # two text lines, then half a tick label of room
        return QRectF(left, top, max(10.0, self.width() - left - 12), max(10.0, self.height() - top - 8))

    def _ticks(self) -> tuple[float, list[float]]:
        """The top of the scale and the values of the grid lines: 1, 2 or 5 × 10^k apart, 3 to 5 of them."""
        high = self.stats[2] if self.stats else 1.0
        step = 10 ** math.floor(math.log10(max(high, 0.1) / 4))
        for factor in (1, 2, 5, 10):
            if high / (step * factor) <= 4:
                step *= factor
                break
        top = step * math.ceil(high * 1.05 / step)
        return top, [step * i for i in range(1, round(top / step) + 1)]

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        text_colour = palette.windowText().color()
        faint = QColor(text_colour)
        faint.setAlpha(45)
        painter.fillRect(self.rect(), palette.base())
        fm = self.fontMetrics()
        line_h = fm.height() + 2
        painter.setPen(text_colour)
        painter.drawText(QRectF(8, 4, self.width() - 16, line_h),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         "Time to usable per clone, oldest first \N{EM DASH} " + self.summary())
        self._paint_legend(painter, 8, 4 + line_h, line_h)
        plot = self._plot_rect()
        if not self._bars:
            painter.setPen(QPen(faint, 1))
            painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
            painter.end()
            return
        top, ticks = self._ticks()

        def y_of(value: float) -> float:
            return plot.bottom() - value / top * plot.height()
        label_rect = lambda y: QRectF(0, y - fm.height() / 2, plot.left() - 6, fm.height())
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for value in [0.0, *ticks]:
            y = y_of(value)
            painter.setPen(QPen(faint, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text_colour)
            painter.drawText(label_rect(y), right, tick_text(value))
        n = len(self._bars)
        slot = plot.width() / n
        width = max(1.0, min(slot * 0.7 if slot >= 4 else slot, 36.0))
        for i, (_name, value, method) in enumerate(self._bars):
            x = plot.left() + i * slot + (slot - width) / 2
            y = y_of(value)
            painter.fillRect(QRectF(x, y, width, plot.bottom() - y), QColor(METHOD_COLOURS.get(method, "#1E88E5")))
        _low, mid, _high = self.stats
        orange = QColor("#E65100")
        painter.setPen(QPen(orange, 1.5, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(plot.left(), y_of(mid)), QPointF(plot.right(), y_of(mid)))
        text = f"median {format_duration(mid)}"
        box = QRectF(plot.right() - fm.horizontalAdvance(text) - 8, y_of(mid) - fm.height() - 1,
                     fm.horizontalAdvance(text) + 6, fm.height())
        painter.fillRect(box, palette.base())
        painter.setPen(orange)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.end()

    def _paint_legend(self, painter: QPainter, x: float, y: float, h: float) -> None:
        methods = [m for m in METHOD_COLOURS if any(b[2] is m for b in self._bars)]
        fm = self.fontMetrics()
        for method in methods:
            painter.fillRect(QRectF(x, y + h / 2 - 5, 10, 10), QColor(METHOD_COLOURS[method]))
            label = f"{method.value.capitalize()} clones"
            painter.setPen(self.palette().windowText().color())
            painter.drawText(QRectF(x + 14, y, fm.horizontalAdvance(label) + 4, h),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
            x += 14 + fm.horizontalAdvance(label) + 16

    def bar_at(self, x: float) -> int:
        plot = self._plot_rect()
        if not self._bars or not plot.left() <= x <= plot.right():
            return -1
        return min(len(self._bars) - 1, int((x - plot.left()) / (plot.width() / len(self._bars))))

    def mouseMoveEvent(self, event) -> None:
        i = self.bar_at(event.position().x())
        if i < 0:
            QToolTip.hideText()
            return
        name, value, method = self._bars[i]
        QToolTip.showText(event.globalPosition().toPoint(),
                          f"{name}: usable after {format_duration(value)} ({method.value})", self)
