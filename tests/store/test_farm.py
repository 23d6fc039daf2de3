import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from console.domain.errors import ConflictError, NotFoundError
from console.domain.inventory import ConnectionSettings, Provider, ProviderKind, WinRMTransport
from console.domain.tasks import LogLevel, LogLine, Task, TaskState, UndoAction
from console.store import INTERRUPTED_LINE, SCHEMA_VERSION, Farm, FarmError
from console.store.migrations import MIGRATIONS


def _provider(name="HV01", address="hv01.corp.example.com"):
    return Provider(None, name, ConnectionSettings(ProviderKind.HYPERV, address, 5986, True,
                                                   WinRMTransport.NTLM, "CORP\\admin"))


def test_new_farm_is_migrated_to_the_current_schema_in_wal_mode(tmp_path):
    with Farm(tmp_path / "farm.sqlite") as farm:
        assert farm.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert farm.query("PRAGMA journal_mode")[0][0] == "wal"
        tables = {r[0] for r in farm.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"providers", "tasks", "task_log", "templates", "template_versions",
            "distribution_targets", "pools", "clones"} <= tables


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "farm.sqlite"
    with Farm(path) as farm:
        farm.providers.add(_provider())
    with Farm(path) as farm:
        assert [p.name for p in farm.providers.list()] == ["HV01"]
        assert farm.schema_version == SCHEMA_VERSION


def test_a_farm_from_a_newer_version_is_refused_with_a_clear_sentence(tmp_path):
    path = tmp_path / "farm.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(FarmError) as info:
        Farm(path)
    assert "newer VDI Console" in info.value.message and str(path) in info.value.message
    assert info.value.hint


def test_a_corrupt_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "farm.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(FarmError) as info:
        Farm(path)
    assert str(path) in info.value.message and "damaged" in info.value.message


def test_providers_round_trip_without_password(tmp_path):
    with Farm(tmp_path / "farm.sqlite") as farm:
        p = farm.providers.add(_provider())
        assert p.id and p.created
        got = farm.providers.get(p.id)
        assert got.settings == p.settings and got.kind is ProviderKind.HYPERV and not got.lab
        raw = farm.query("SELECT settings FROM providers")[0][0]
        assert "password" not in raw.lower()
        got.settings.port = 5985
        farm.providers.update(got)
        assert farm.providers.get(p.id).settings.port == 5985
        assert farm.providers.find_by_name("hv01").id == p.id
        with pytest.raises(ConflictError):
            farm.providers.add(_provider(name="hv01"))
        assert farm.providers.remove(p.id)
        assert not farm.providers.remove(p.id)
        with pytest.raises(NotFoundError):
            farm.providers.get(p.id)


def test_tasks_journal_and_log_batches(tmp_path):
    with Farm(tmp_path / "farm.sqlite") as farm:
        t = farm.tasks.save(Task(None, "Start VM 'a'", "HV01 / a", "vm-power", provider_id=1, host="HV01"))
        t.cleanup.append(UndoAction("Delete VM 'b'", "delete-vm", {"vm_id": "x"}))
        t.state, t.result = TaskState.RUNNING, {"k": [1, 2]}
        farm.tasks.save(t)
        lines = [LogLine(t.id, i, "2024-01-01T00:00:00.000+00:00", LogLevel.INFO, f"line {i}")
                 for i in range(5000)]
        assert farm.tasks.append_log_lines(lines) == 5000
        back = farm.tasks.get(t.id)
        assert back.state is TaskState.RUNNING and back.result == {"k": [1, 2]}
        assert back.cleanup[0].kind == "delete-vm" and back.cleanup[0].params == {"vm_id": "x"}
        assert [ln.text for ln in farm.tasks.log_lines(t.id, limit=2)] == ["line 4998", "line 4999"]
        assert farm.tasks.log_count(t.id) == 5000


def test_mark_running_interrupted_with_its_log_line(tmp_path):
    with Farm(tmp_path / "farm.sqlite") as farm:
        running = farm.tasks.save(Task(None, "a", "", "x", state=TaskState.RUNNING))
        queued = farm.tasks.save(Task(None, "b", "", "x"))
        done = farm.tasks.save(Task(None, "c", "", "x", state=TaskState.SUCCEEDED))
        farm.tasks.append_log_lines([LogLine(running.id, 0, "t", LogLevel.INFO, "working")])
        assert farm.tasks.mark_running_interrupted() == [running.id, queued.id]
        assert farm.tasks.get(running.id).state is TaskState.INTERRUPTED
        assert farm.tasks.get(queued.id).state is TaskState.INTERRUPTED
        assert farm.tasks.get(done.id).state is TaskState.SUCCEEDED
        assert [ln.text for ln in farm.tasks.log_lines(running.id)] == ["working", INTERRUPTED_LINE]
        assert farm.tasks.mark_running_interrupted() == []


def test_survives_sigkill_during_writes(tmp_path):
    path = tmp_path / "farm.sqlite"
    Farm(path).close()
    writer = textwrap.dedent(f"""
        import sys
        from console.domain.tasks import LogLevel, LogLine, Task
        from console.store import Farm
        farm = Farm({str(path)!r})
        i = 0
        while True:
            t = farm.tasks.save(Task(None, f"task {{i}}", "", "x"))
            farm.tasks.append_log_lines([LogLine(t.id, n, "t", LogLevel.INFO, "x" * 200) for n in range(50)])
            i += 1
            if i == 20:
                print("ready", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    with Farm(path) as farm:
        assert farm.integrity_check() == "ok"
        tasks = farm.tasks.recent(100000)
        assert len(tasks) >= 20
        # every committed task but possibly the last has its whole batch of log lines
        for t in tasks[:-1]:
            assert farm.tasks.log_count(t.id) == 50
