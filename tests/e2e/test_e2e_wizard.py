"""The Create Template wizard driven through its pages in a real X window (xcb on Xvfb), not the
offscreen platform the rest of tests/ui runs on: the pytest-qt test of the whole wizard is run again
in a child pytest whose Qt platform is xcb on this suite's private display."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_the_whole_wizard_in_a_real_window(x_display, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=x_display.name,
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", HOME=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         "tests/ui/test_template_wizard.py::test_whole_wizard_hv01_gold_to_hv02_hv03_with_hv04_failing_and_removed"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout, run.stdout[-2000:]
