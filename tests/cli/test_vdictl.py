"""vdictl in-process through console.cli.main.main([...]), and once as a real subprocess."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from console.cli.main import main
from console.cli.output import TaskProgress
from console.domain.tasks import Task, TaskState
from console.services.events import EventBus, TaskChanged


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_lab_inventory_lists_vms_with_plain_progress_lines(capsys, lab_args):
    code, out, err = run(capsys, *lab_args, "inventory")
    assert code == 0, err
    assert "100% Refresh HV01: Done" in out and "\r" not in out
    table = out[out.index("PROVIDER"):]
    assert "Win11-Gold" in table and "HV04" in table


def test_lab_inventory_json_has_no_secret_and_no_progress(capsys, lab_args):
    code, out, err = run(capsys, *lab_args, "--json", "inventory", "HV02")
    assert code == 0, err
    data = json.loads(out)
    assert [p["name"] for p in data["providers"]] == ["HV02"] and data["errors"] == []
    assert data["providers"][0]["hosts"][0]["vms"]
    assert "Lab-Passw0rd!" not in out + err
    code, out, _ = run(capsys, *lab_args, "--json", "providers", "list")
    providers = json.loads(out)
    assert len(providers) == 6 and all(p["lab"] and p["password_known"] for p in providers)
    assert {p["kind"] for p in providers} == {"hyperv", "nutanix-pe", "nutanix-pc"}
    assert "Lab-Passw0rd!" not in out


def test_power_then_tasks_list_and_show(capsys, lab_args):
    code, out, err = run(capsys, *lab_args, "vms", "power", "Win11-Gold", "start", "--provider", "HV01")
    assert code == 0, err
    assert out.rstrip().endswith("VM 'Win11-Gold' on HV01 is Running.")
    code, out, _ = run(capsys, *lab_args, "--json", "tasks", "list")
    tasks = json.loads(out)
    power = [t for t in tasks if t["name"] == "Start VM 'Win11-Gold'"]
    assert power and power[0]["state"] == "succeeded"
    code, out, _ = run(capsys, *lab_args, "tasks", "show", str(power[0]["id"]))
    assert code == 0 and "Start VM 'Win11-Gold' on 127.0.0.1" in out
    # the same VM is now running: a restart is allowed, a start again is a no-op with a note
    code, out, err = run(capsys, *lab_args, "vms", "power", "Win11-Gold", "start", "--provider", "hv01")
    assert code == 0, err


def test_power_refused_by_the_host_is_one_sentence_and_exit_1(capsys, lab_args):
    code, out, err = run(capsys, *lab_args, "vms", "power", "Win11-Gold", "restart", "--provider", "HV01")
    assert code == 1 and "Win11-Gold" in err
    assert err.startswith("Error: ") and "Hint: " in err and "Traceback" not in err


def test_unknown_vm_is_a_clear_error(capsys, lab_args):
    code, _, err = run(capsys, *lab_args, "vms", "power", "No-Such-VM", "start")
    assert code == 1 and "No virtual machine named 'No-Such-VM'" in err


def test_add_with_password_on_stdin_then_remove(capsys, tmp_path, lab_world, stdin):
    _, hosts = lab_world
    farm = ["--farm", str(tmp_path / "farm.sqlite")]
    stdin(hosts[0].password + "\n")
    code, out, err = run(capsys, *farm, "providers", "add", "hyperv", "Lab one", "--address", hosts[0].url,
                         "--auth", "basic", "--user", hosts[0].username, "--password-stdin")
    assert code == 0, err
    assert "Added provider 'Lab one'" in out and "Test connection to 127.0.0.1" in out
    assert "no keyring" in err         # the test machine has none: the user is told
    assert hosts[0].password not in out + err
    code, out, _ = run(capsys, *farm, "--json", "providers", "list")
    assert [p["name"] for p in json.loads(out)] == ["Lab one"]
    code, out, err = run(capsys, *farm, "providers", "remove", "lab ONE")
    assert code == 0 and "Removed provider 'Lab one'" in out
    code, out, _ = run(capsys, *farm, "--json", "providers", "list")
    assert json.loads(out) == []


def test_add_refusals(capsys, tmp_path, lab_world, stdin):
    _, hosts = lab_world
    farm = ["--farm", str(tmp_path / "farm.sqlite")]
    base = ["providers", "add", "hyperv", "HV", "--auth", "basic", "--user", hosts[0].username]
    # no terminal and no --password-stdin: usage error, nothing asked, nothing saved
    code, _, err = run(capsys, *farm, *base, "--address", hosts[0].url)
    assert code == 2 and "no terminal" in err and "--password-stdin" in err
    # wrong password
    stdin("wrong\n")
    code, _, err = run(capsys, *farm, *base, "--address", hosts[0].url, "--password-stdin")
    assert code == 1 and err.startswith("Error: ") and "Traceback" not in err
    # Basic over HTTP to a remote host without the opt-in: refused before asking for a password
    code, _, err = run(capsys, *farm, *base, "--address", "hv09.corp.example.com")
    assert code == 1 and "Basic authentication over plain HTTP" in err
    # empty address, bad port
    code, _, err = run(capsys, *farm, *base, "--address", "")
    assert code == 1 and "Enter the host" in err
    code, _, err = run(capsys, *farm, *base, "--address", "hv09", "--port", "70000")
    assert code == 2 and "port" in err
    code, out, _ = run(capsys, *farm, "--json", "providers", "list")
    assert json.loads(out) == []


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "vms", "power")[0] == 2
    assert run(capsys, "--lab-speed", "-1", "inventory")[0] == 2
    assert run(capsys, "nonsense")[0] == 2
    code, out, _ = run(capsys, "tasks", "cancel", "--help")
    assert code == 0 and "another process" in " ".join(out.split())


def test_tasks_cancel_is_honest_about_other_processes(capsys, tmp_path):
    from console.domain.tasks import Task
    from console.store import Farm
    path = tmp_path / "farm.sqlite"
    with Farm(path) as farm:
        done = farm.tasks.save(Task(None, "Old", "", "x", state=TaskState.SUCCEEDED))
    code, _, err = run(capsys, "--farm", str(path), "tasks", "cancel", str(done.id))
    assert code == 1 and "already ended" in err
    code, _, err = run(capsys, "--farm", str(path), "tasks", "cancel", "999")
    assert code == 1 and "There is no task 999" in err


def test_tasks_cancel_of_a_task_another_process_runs(capsys, tmp_path):
    """While another console holds the farm, its running task is neither interrupted nor cancellable."""
    from console.store import Farm, FarmLock
    path = tmp_path / "farm.sqlite"
    other = FarmLock(path)
    assert other.acquire()
    try:
        with Farm(path) as farm:
            running = farm.tasks.save(Task(None, "Copy", "", "x", state=TaskState.RUNNING))
        code, _, err = run(capsys, "--farm", str(path), "tasks", "cancel", str(running.id))
        assert code == 1 and "another VDI Console process" in err
        with Farm(path) as farm:
            assert farm.tasks.get(running.id).state is TaskState.RUNNING
    finally:
        other.release()
    code, out, _ = run(capsys, "--farm", str(path), "--json", "tasks", "list")
    assert json.loads(out)[0]["state"] == "interrupted"     # alone now: the dead task is marked


def test_corrupt_farm_is_one_sentence(capsys, tmp_path):
    path = tmp_path / "farm.sqlite"
    path.write_bytes(b"garbage" * 500)
    code, _, err = run(capsys, "--farm", str(path), "providers", "list")
    assert code == 1 and str(path) in err and "damaged" in err


def test_progress_on_a_terminal_is_one_redrawn_line():
    class Tty(io.StringIO):
        def isatty(self):
            return True
    bus, out = EventBus(), Tty()
    progress = TaskProgress(bus, out=out)
    task = Task(7, "Copy", "", "x", state=TaskState.RUNNING)
    progress.watch(task)
    for fraction in (0.1, 0.5, 1.0):
        task.progress, task.progress_text = fraction, f"step {fraction}"
        bus.publish(TaskChanged(task))
    progress.close()
    text = out.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and "[##########----------]  50% step 0.5" in text


def test_vdictl_lab_inventory_as_a_subprocess(tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    vdictl = Path(sys.executable).with_name("vdictl")
    proc = subprocess.run([str(vdictl), "--lab", "--lab-speed", "50", "inventory"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Win11-Gold" in proc.stdout
    assert (tmp_path / "data" / "vdi-console" / "lab-farm.sqlite").exists()
    assert "PySide6" not in proc.stderr


def test_cli_imports_no_qt():
    code = ("import sys; import console.cli.main, console.cli.commands, console.services.container; "
            "sys.exit(1 if any(m.startswith('PySide6') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_lab_serve_prints_the_hosts_and_stops_on_ctrl_c(tmp_path):
    import signal
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from console.cli.main import main; "
                             "sys.exit(main(sys.argv[1:]))", "lab", "serve", "--state",
                             str(tmp_path / "state"), "--speed", "10"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("HV01\thttp://127.0.0.1:")
        while not proc.stdout.readline().startswith("#"):
            pass
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "lab stopped" in out
