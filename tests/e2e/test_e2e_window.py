"""The real console in a real X window: a screenshot run, then a session driven from the keyboard."""
from __future__ import annotations

from collections import Counter

import pytest
from e2e_console import DEFAULT_SIZE, LAB_PROVIDERS, SCREENSHOT_WAIT_S, Journal, lab_vm_state, poll

pytestmark = pytest.mark.e2e


def _colour_census(path) -> Counter:
    """How often each colour appears on a grid of every 8th pixel of the PNG."""
    from PySide6.QtGui import QImage  # decoding a PNG needs no QApplication
    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable PNG"
    return Counter(image.pixel(x, y) for y in range(0, image.height(), 8) for x in range(0, image.width(), 8))


def test_screenshot_run_draws_the_lab_inventory_and_exits(start_console, tmp_path):
    shot = tmp_path / "shot.png"
    console = start_console("--screenshot", str(shot), speed=50)
    assert console.wait_exit(SCREENSHOT_WAIT_S) == 0, console.stderr_tail()
    assert "Traceback" not in console.stderr_text()

    from PySide6.QtGui import QImage
    image = QImage(str(shot))
    assert (image.width(), image.height()) == DEFAULT_SIZE       # the window itself, not the screen
    census = _colour_census(shot)
    samples = sum(census.values())
    assert len(census) >= 12, f"only {len(census)} colours: a blank or half-drawn window"
    assert census.most_common(1)[0][1] < 0.9 * samples, "one colour covers 90% of the window"

    providers = Journal(console.farm).providers()
    assert [(name, lab) for _id, name, lab in providers] == [(p, 1) for p in LAB_PROVIDERS]


def test_keyboard_refresh_and_start_a_vm(start_console):
    console = start_console(speed=20)
    journal = Journal(console.farm)
    console.find_window()
    first = poll(journal.refreshes_done, "the first refresh of the 4 lab hosts", console=console)
    assert {t["state"] for t in first} == {"succeeded"}, first

    # F5: every provider is read again
    mark = journal.last_task_id()
    console.keys("F5")
    again = poll(lambda: journal.refreshes_done(after=mark), "the refresh F5 asked for", console=console)
    assert {t["state"] for t in again} == {"succeeded"}, again

    # Ctrl+F, a name, Enter: the VM is selected and the tree has the focus; Ctrl+Shift+S starts it.
    # Twice: the second Ctrl+F must take the focus back from the tree and replace the old filter.
    for host, vm in (("HV03", "Win11-Test"), ("HV04", "Lab-Linux")):
        assert lab_vm_state(console.lab_state, host, vm) == "Off"
        mark = journal.last_task_id()
        console.keys("ctrl+f")
        console.type(vm)
        console.keys("Return", "ctrl+shift+s")
        done = poll(lambda mark=mark: [t for t in journal.tasks(mark) if t["state"] not in ("queued", "running")],
                    f"the start of {vm}", console=console)
        assert [(t["name"], t["state"], t["error"]) for t in done] == [(f"Start VM '{vm}'", "succeeded", "")]
        assert lab_vm_state(console.lab_state, host, vm) == "Running"

    # a name nothing matches: no selection is left, so Ctrl+Shift+O (turn off) must do nothing. The
    # F5 after it bounds the wait: keys are handled in order, so its refreshes come after any task
    # the turn-off would have made.
    mark = journal.last_task_id()
    console.keys("ctrl+f")
    console.type("No-Such-VM")
    console.keys("Return", "ctrl+shift+o", "F5")
    poll(lambda: journal.refreshes_done(after=mark), "the refresh after the unmatched filter", console=console)
    assert [t["name"] for t in journal.tasks(mark) if not t["name"].startswith("Refresh ")] == []
    assert lab_vm_state(console.lab_state, "HV04", "Lab-Linux") == "Running"
    assert "Traceback" not in console.stderr_text()
