"""The console killed in the middle of a task, and quit and started again: what survives."""
from __future__ import annotations

import json
import signal

import pytest
from e2e_console import DEFAULT_SIZE, LAB_PROVIDERS, SCREENSHOT_WAIT_S, Journal, poll, vdictl

from console.store import INTERRUPTED_LINE

pytestmark = pytest.mark.e2e


def test_sigkill_during_a_power_action_leaves_an_interrupted_task_and_a_sound_farm(start_console, tmp_path):
    # a slow lab: starting a VM takes 8 s, long enough to be caught running
    console = start_console(speed=0.5)
    journal = Journal(console.farm)
    console.find_window()
    poll(journal.refreshes_done, "the first refresh of the 4 lab hosts", console=console)

    mark = journal.last_task_id()
    console.keys("ctrl+f")
    console.type("Lab-Linux")
    console.keys("Return", "ctrl+shift+s")

    def started_and_logged():
        tasks = journal.tasks(mark)
        if tasks and tasks[0]["state"] == "running":
            lines = journal.log(tasks[0]["id"])
            if any(line.startswith("Start VM 'Lab-Linux' on") for line in lines):
                return tasks[0], lines
        return None
    task, lines_before = poll(started_and_logged, "Start VM 'Lab-Linux' running with its log in the journal",
                              console=console)
    assert task["name"] == "Start VM 'Lab-Linux'"

    assert console.kill() == -signal.SIGKILL
    assert journal.tasks(mark)[0]["state"] == "running"       # nothing closed it: a real crash
    assert journal.integrity() == "ok"

    # the next start marks it interrupted and keeps its log; the screenshot run still works
    shot = tmp_path / "after-crash.png"
    again = start_console("--screenshot", str(shot), speed=50, home=console.home)
    assert again.wait_exit(SCREENSHOT_WAIT_S) == 0, again.stderr_tail()
    assert shot.stat().st_size > 0
    assert journal.integrity() == "ok"

    result = vdictl("--farm", str(console.farm), "--json", "tasks", "show", str(task["id"]))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["task"]["state"] == "interrupted"
    assert shown["task"]["error"] == INTERRUPTED_LINE
    texts = [line["text"] for line in shown["log"]]
    assert texts[:len(lines_before)] == lines_before            # the lines written before the kill
    assert texts[-1] == INTERRUPTED_LINE
    assert [t["state"] for t in journal.tasks(task["id"])] == ["succeeded"] * len(LAB_PROVIDERS)  # its refreshes


def test_quit_with_ctrl_q_and_start_again_restores_providers_and_geometry(start_console):
    console = start_console(speed=20)
    journal = Journal(console.farm)
    window = console.find_window()
    poll(journal.refreshes_done, "the first refresh of the 4 lab hosts", console=console)
    providers = journal.providers()
    assert [(name, lab) for _id, name, lab in providers] == [(p, 1) for p in LAB_PROVIDERS]
    assert console.geometry()[2:] == DEFAULT_SIZE

    moved = (60, 40, 1000, 700)
    console.display.xdotool("windowsize", "--sync", window, "1000", "700")
    console.display.xdotool("windowmove", "--sync", window, "60", "40")
    poll(lambda: console.geometry() == moved, f"the window moved and resized to {moved}", console=console)

    console.keys("ctrl+q")
    assert console.wait_exit() == 0, console.stderr_tail()
    settings = console.config_dir / "VDI Console" / "VDI Console.conf"
    assert settings.is_file(), f"no settings written under {console.config_dir}"
    assert "geometry=" in settings.read_text(encoding="utf-8", errors="replace")

    mark = journal.last_task_id()
    again = start_console(speed=20, home=console.home)
    again.find_window()
    assert again.geometry() == moved
    assert journal.providers() == providers                       # the same rows, not re-created
    refreshed = poll(lambda: journal.refreshes_done(after=mark), "the refresh at start-up", console=again)
    assert {t["state"] for t in refreshed} == {"succeeded"}, refreshed

    again.keys("ctrl+q")
    assert again.wait_exit() == 0, again.stderr_tail()
    assert "Traceback" not in console.stderr_text() + again.stderr_text()
