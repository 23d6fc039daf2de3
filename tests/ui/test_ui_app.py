"""The `vdi-console` entry point, run as a real process."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from console.app import parse_args


def run_console(*args: str, home, timeout: float = 90) -> subprocess.CompletedProcess:
    # its own config and data folders: never the user's layout or farm
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return subprocess.run([sys.executable, "-c", "import sys; from console.app import main; sys.exit(main())",
                           *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_screenshot_of_the_lab_inventory(tmp_path):
    shot = tmp_path / "shot.png"
    result = run_console("--lab", "--lab-speed", "50", "--lab-state", str(tmp_path / "lab"),
                         "--farm", str(tmp_path / "farm.sqlite"), "--screenshot", str(shot), home=tmp_path)
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1280, 820)      # the default layout, not a saved one
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "config").exists() or not any((tmp_path / "config").rglob("*.conf"))


def test_bad_arguments_are_refused_with_a_sentence():
    with pytest.raises(SystemExit) as exc:
        parse_args(["--lab-speed", "0"])
    assert exc.value.code == 2
    args = parse_args(["--lab", "--lab-speed", "20", "--farm", "/tmp/f.sqlite"])
    assert args.lab and args.lab_speed == 20.0 and str(args.farm) == "/tmp/f.sqlite"
    assert args.screenshot is None
