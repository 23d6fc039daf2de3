"""The icon set: every SVG the console names is there, parses, renders, and keeps to one palette."""
from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"

ICON_NAMES = [
    "provider-hyperv", "provider-nutanix", "host", "host-unreachable",
    "vm-running", "vm-off", "vm-saved", "vm-paused", "vm-transition",
    "task-queued", "task-running", "task-succeeded", "task-failed", "task-cancelled",
    "task-interrupted", "folder-templates", "folder-pools", "folder-providers", "app",
    "add-provider", "refresh", "vm-start", "vm-shutdown", "vm-stop", "vm-restart", "delete",
]

# One palette for the whole set: slate, greys, green, red, amber, blue, folder yellow, white.
PALETTE = {
    "#37474F", "#546E7A", "#607D8B", "#90A4AE", "#ECEFF1", "#FFFFFF",
    "#2E7D32", "#C62828", "#F9A825", "#1565C0", "#90CAF9", "#FFD54F",
}

# A status icon must carry its status colour where the eye looks for it.
STATUS_COLOURS = {
    "vm-running": "#2E7D32", "vm-saved": "#1565C0", "vm-paused": "#F9A825",
    "host-unreachable": "#C62828", "add-provider": "#2E7D32",
    "task-succeeded": "#2E7D32", "task-failed": "#C62828", "task-running": "#1565C0",
    "task-interrupted": "#F9A825", "vm-stop": "#C62828", "vm-start": "#2E7D32",
}


@pytest.fixture
def gui_app(qapp):
    # pytest-qt's QApplication: a QGuiApplication made here would break every later widget test.
    return qapp


def render(name: str, size: int) -> QImage:
    renderer = QSvgRenderer(str(ICONS / f"{name}.svg"))
    assert renderer.isValid(), f"{name}.svg does not parse as SVG"
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0, 0))
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def opaque_share(image: QImage) -> float:
    pixels = [image.pixelColor(x, y).alpha() for x in range(image.width()) for y in range(image.height())]
    return sum(1 for a in pixels if a > 128) / len(pixels)


def has_colour_near(image: QImage, colour: str, tolerance: int = 40) -> bool:
    want = QColor(colour)
    for x in range(image.width()):
        for y in range(image.height()):
            got = image.pixelColor(x, y)
            if got.alpha() > 200 and all(
                abs(a - b) <= tolerance
                for a, b in ((got.red(), want.red()), (got.green(), want.green()), (got.blue(), want.blue()))
            ):
                return True
    return False


@pytest.mark.parametrize("name", ICON_NAMES)
def test_icon_parses_and_renders_at_16_and_48(gui_app, name):
    svg = ICONS / f"{name}.svg"
    assert svg.is_file(), f"{svg} is missing"
    root = ET.parse(svg).getroot()
    assert root.get("viewBox") == "0 0 24 24", f"{name}.svg must use a 24x24 viewBox"
    for size in (16, 48):
        share = opaque_share(render(name, size))
        # Non-empty, and not a solid block either.
        assert 0.12 < share < 0.95, f"{name}.svg at {size} px covers {share:.0%} of its square"


@pytest.mark.parametrize("name", ICON_NAMES)
def test_icon_keeps_to_the_palette(name):
    text = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    colours = {c.upper() for c in re.findall(r'(?:fill|stroke)="(#[0-9A-Fa-f]{6})"', text)}
    assert colours, f"{name}.svg names no colour"
    assert colours <= PALETTE, f"{name}.svg uses colours outside the palette: {sorted(colours - PALETTE)}"
    assert "<image" not in text and "href=" not in text, f"{name}.svg must not embed or link images"


@pytest.mark.parametrize("name,colour", sorted(STATUS_COLOURS.items()))
def test_status_icon_shows_its_colour_at_16_px(gui_app, name, colour):
    assert has_colour_near(render(name, 16), colour), f"{name} at 16 px shows no {colour}"


def test_states_are_told_apart_at_16_px(gui_app):
    # Two icons that render the same at tree size would hide a state from the administrator.
    rendered = {name: render(name, 16) for name in ICON_NAMES}
    seen: dict[bytes, str] = {}
    for name, image in rendered.items():
        key = bytes(image.constBits())
        assert key not in seen, f"{name} and {seen[key]} look identical at 16 px"
        seen[key] = name


def test_every_icon_the_ui_asks_for_exists():
    icons_module = pytest.importorskip("console.ui.icons")
    wanted = getattr(icons_module, "_FALLBACK", None)
    if wanted is None:
        pytest.skip("console.ui.icons no longer lists its icon names in _FALLBACK")
    missing = sorted(name for name in wanted if not (ICONS / f"{name}.svg").is_file())
    assert not missing, f"the UI asks for icons that resources/icons lacks: {missing}"


def test_committed_app_png_is_the_rendered_app_svg(gui_app, tmp_path):
    committed = QImage(str(ICONS / "app-256.png"))
    assert (committed.width(), committed.height()) == (256, 256)
    out = tmp_path / "app.png"
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "render_icon.py"), "256", str(out)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    fresh = QImage(str(out)).convertToFormat(committed.format())
    # Same picture (anti-aliasing may differ by a level or two between Qt builds).
    differing = sum(
        1 for x in range(0, 256, 4) for y in range(0, 256, 4)
        if abs(fresh.pixelColor(x, y).rgba() - committed.pixelColor(x, y).rgba()) > 0
        and max(abs(fresh.pixelColor(x, y).red() - committed.pixelColor(x, y).red()),
                abs(fresh.pixelColor(x, y).alpha() - committed.pixelColor(x, y).alpha())) > 8
    )
    assert differing < 40, "app-256.png is stale: run packaging/render_icon.py after changing app.svg"


def test_render_icon_refuses_a_size_out_of_range(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "render_icon.py"), "4", str(tmp_path / "x.png")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "outside 16..1024" in result.stderr
    assert not (tmp_path / "x.png").exists()
