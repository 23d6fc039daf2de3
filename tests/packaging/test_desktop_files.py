"""The .desktop entry and AppStream metainfo: valid for the Debian tools, and agreeing with the project."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import console

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{console.APP_ID}.desktop"
METAINFO = PACKAGING / f"{console.APP_ID}.metainfo.xml"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def desktop_entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate is not installed (Debian package desktop-file-utils)")
def test_desktop_file_passes_desktop_file_validate():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate is not installed (Debian package desktop-file-utils)")
def test_desktop_file_validate_catches_a_broken_entry(tmp_path):
    # Proves the check above can fail: the same file without its Name is refused.
    broken = tmp_path / DESKTOP.name
    broken.write_text("".join(line for line in DESKTOP.read_text().splitlines(keepends=True)
                              if not line.startswith("Name=")))
    result = subprocess.run(["desktop-file-validate", str(broken)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "Name" in result.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli is not installed (Debian package appstream)")
def test_metainfo_passes_appstreamcli_validate():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # Infos (e.g. a tag newer than this appstreamcli) are fine; warnings and errors are not.
    problems = [line for line in result.stdout.splitlines() if line[:2] in ("W:", "E:")]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli is not installed (Debian package appstream)")
def test_appstreamcli_catches_a_broken_metainfo(tmp_path):
    broken = tmp_path / METAINFO.name
    broken.write_text(METAINFO.read_text().replace("<summary>", "<!--").replace("</summary>", "-->"))
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(broken)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "summary" in result.stdout


def test_desktop_entry_starts_the_installed_command_with_our_icon():
    entry = desktop_entry()
    gui_scripts = pyproject()["project"]["gui-scripts"]
    assert entry["Exec"].split()[0] in gui_scripts, "Exec must name the console's gui-script"
    assert entry["Icon"] == console.APP_ID
    assert entry["Name"] == console.APP_NAME
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"


def test_metainfo_agrees_with_the_project():
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == console.APP_ID
    assert root.findtext("name") == console.APP_NAME
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == pyproject()["project"]["license"]["text"]
    assert root.findtext("launchable") == DESKTOP.name
    assert root.find("launchable").get("type") == "desktop-id"
    assert root.find("url[@type='homepage']").text.startswith("https://")
    assert root.find("content_rating") is not None
    developer = root.find("developer")
    assert developer is not None and developer.get("id") and developer.findtext("name")
    # The newest release listed is the version we ship.
    newest = root.find("releases/release")
    assert newest.get("version") == console.__version__ == pyproject()["project"]["version"]
    assert newest.get("date") == "2026-11-21"
