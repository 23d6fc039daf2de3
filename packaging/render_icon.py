"""Render resources/icons/app.svg to a square PNG for packaging (.desktop icon, installers).

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icon.py [SIZE] [OUTPUT]
Defaults: 256 and resources/icons/app-256.png (the committed file). Uses PySide6's QtSvg, so no
other SVG tool is needed; run it again whenever app.svg changes.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(svg: Path, size: int) -> QImage:
    """Paint the SVG onto a transparent size x size image; refuse an SVG Qt cannot read."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG that Qt can read")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def main(argv: list[str]) -> int:
    size = int(argv[1]) if len(argv) > 1 else 256
    out = Path(argv[2]) if len(argv) > 2 else ICONS / f"app-{size}.png"
    if not 16 <= size <= 1024:
        print(f"size {size} is outside 16..1024", file=sys.stderr)
        return 2
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (QImage painting needs it)
    image = render(ICONS / "app.svg", size)
    if not image.save(str(out), "PNG"):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(f"{out} ({size}x{size})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
