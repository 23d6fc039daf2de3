"""Render every icon in resources/icons at 16, 24 and 48 px into one PNG, to look at them together.

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/contact_sheet.py /tmp/icons.png
Each icon gets a row: its name, then the three sizes on a light and on a dark background
(a tree view may be either).
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 48)
ROW = 56
NAME_W = 170


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: contact_sheet.py OUTPUT.png", file=sys.stderr)
        return 2
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (keeps Qt alive)
    svgs = sorted(ICONS.glob("*.svg"))
    block = sum(SIZES) + 12 * len(SIZES)
    sheet = QImage(NAME_W + 2 * block + 20, ROW * len(svgs) + 10, QImage.Format.Format_ARGB32)
    sheet.fill(QColor("#FFFFFF"))
    painter = QPainter(sheet)
    painter.setFont(QFont("DejaVu Sans", 9))
    for row, svg in enumerate(svgs):
        top = 5 + row * ROW
        painter.setPen(QColor("#000000"))
        painter.drawText(QRectF(6, top, NAME_W, ROW), Qt.AlignmentFlag.AlignVCenter, svg.stem)
        renderer = QSvgRenderer(str(svg))
        for shade, left in ((QColor("#FFFFFF"), NAME_W), (QColor("#263238"), NAME_W + block + 10)):
            painter.fillRect(QRectF(left, top, block, ROW - 2), shade)
            x = left + 6
            for size in SIZES:
                # Render at the exact pixel size, as QIcon would, not a scaled 48 px image.
                renderer.render(painter, QRectF(x, top + (ROW - size) / 2, size, size))
                x += size + 12
    painter.end()
    if not sheet.save(argv[1]):
        print(f"could not write {argv[1]}", file=sys.stderr)
        return 1
    print(f"{len(svgs)} icons -> {argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
