"""vdictl templates against the lab (in-process through console.cli.main.main, like test_vdictl.py)."""
import json

import pytest

from console.cli.main import main

JOIN_PASSWORD = "J0in-Secr3t!"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _names(capsys, lab_args):
    code, out, _ = run(capsys, *lab_args, "--json", "templates", "list")
    assert code == 0
    return [t["name"] for t in json.loads(out)]


@pytest.fixture
def arm_on_start(monkeypatch):
    """Arm a one-shot lab fault as soon as the command's lab has started (the lab lives inside the
    command's services)."""
    from console.services import container

    def arm(host, fault, script):
        original = container.Services.start
        armed = []

        async def start(self):
            await original(self)
            if not armed:            # the next command only, not the later ones of the test
                armed.append(True)
                self.lab.arm_fault(host, fault, script=script)
        monkeypatch.setattr(container.Services, "start", start)
    return arm


def test_create_with_distribution_then_list_show_versions_tag_and_delete(capsys, lab_args, stdin, tmp_path):
    stdin(JOIN_PASSWORD + "\n")
    code, out, err = run(capsys, *lab_args, "templates", "create", "--provider", "HV01", "--vm", "Win11-Gold",
                         "--name", "Win11 Office", "--description", "Office 2024", "--preparation",
                         "rename-join", "--domain", "corp.example.com", "--ou",
                         "OU=Sales\\, East,DC=corp,DC=example,DC=com", "--join-account", "CORP\\svc-join",
                         "--join-password-stdin", "--owner", "IT", "--distribute", "--target", "HV02",
                         "--target", "hv03", "--concurrency", "2")
    assert code == 0, err
    assert "Created template 'Win11 Office' (id 1) from VM 'Win11-Gold' on HV01, version 1." in out
    assert "distributed to: HV02, HV03" in out
    assert "\r" not in out and "%" in out                        # plain progress lines
    assert JOIN_PASSWORD not in out + err
    assert JOIN_PASSWORD.encode() not in (tmp_path / "lab-farm.sqlite").read_bytes()

    code, out, _ = run(capsys, *lab_args, "templates", "list")
    assert code == 0
    assert out.splitlines()[1].split()[:4] == ["1", "Win11", "Office", "ready"] and "2/2" in out

    code, out, _ = run(capsys, *lab_args, "templates", "show", "win11 OFFICE")
    assert code == 0
    assert "source: HV01 / Win11-Gold" in out and "preparation: rename-join, domain corp.example.com" in out
    assert "organizational unit: OU=Sales\\, East,DC=corp,DC=example,DC=com" in out
    assert "join account: CORP\\svc-join" in out and JOIN_PASSWORD not in out

    code, out, _ = run(capsys, *lab_args, "--json", "templates", "show", "1")
    data = json.loads(out)
    assert data["provider"] == "HV01" and data["pools"] == []
    assert [(d["provider"], d["state"], d["version"]) for d in data["targets"]] == \
        [("HV02", "ready", 1), ("HV03", "ready", 1)]
    assert data["versions"][0]["snapshot_id"] and data["versions"][0]["size_bytes"] > 0

    code, out, _ = run(capsys, *lab_args, "templates", "distribution", "Win11 Office")
    rows = [ln.split() for ln in out.splitlines()[2:]]
    assert [r[:4] for r in rows] == [["HV02", "ready", "OK", "v1"], ["HV03", "ready", "OK", "v1"]]

    code, out, _ = run(capsys, *lab_args, "templates", "tag", "Win11 Office", "1", "production")
    assert code == 0 and "Version 1 of template 'Win11 Office' is tagged 'production'." in out
    code, out, _ = run(capsys, *lab_args, "templates", "versions", "Win11 Office")
    v1 = out.splitlines()[1].split()
    assert v1[0] == "v1" and v1[2] == "production"
    code, _, err = run(capsys, *lab_args, "templates", "tag", "Win11 Office", "1", "no good tag!")
    assert code == 1 and err.startswith("Error: ")
    code, _, err = run(capsys, *lab_args, "templates", "tag", "Win11 Office", "7", "production")
    assert code == 1 and "7" in err

    # delete: asks first (no terminal here: refused), then with --yes
    code, _, err = run(capsys, *lab_args, "templates", "delete", "Win11 Office")
    assert code == 2 and "--yes" in err
    code, out, err = run(capsys, *lab_args, "templates", "delete", "Win11 Office", "--yes")
    assert code == 0, err
    assert "Deleted template 'Win11 Office'. The source VM 'Win11-Gold' stays." in out
    assert _names(capsys, lab_args) == []
    code, _, err = run(capsys, *lab_args, "templates", "show", "Win11 Office")
    assert code == 1 and "There is no template named 'Win11 Office'" in err


def test_create_refusals_start_nothing(capsys, lab_args):
    base = [*lab_args, "templates", "create", "--provider", "HV01", "--name", "Gold"]
    # a running VM without --shutdown: the services' sentence, and how to allow it
    code, _, err = run(capsys, *base, "--vm", "Win11-Pool-01")
    assert code == 1
    assert "VM 'Win11-Pool-01' is running. Allow the console to shut it down, or shut it down yourself." in err
    assert "--shutdown" in err
    # names Windows refuses, and bad preparation input: refused before anything runs
    code, _, err = run(capsys, *lab_args, "templates", "create", "--provider", "HV01", "--vm", "Win11-Gold",
                       "--name", 'Gold "v1"')
    assert code == 1 and "cannot contain" in err
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--domain", "corp.example.com", "--ou", "OU=VDI")
    assert code == 1 and "no DC= parts" in err
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--domain", "corp;example.com")
    assert code == 1 and "letters, digits and hyphens" in err
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--join-account", "CORP\\svc")
    assert code == 1 and "needs a domain" in err
    # no terminal to ask the join password on
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--domain", "corp.example.com",
                       "--join-account", "CORP\\svc")
    assert code == 2 and "--join-password-stdin" in err
    # targets without --distribute; distribution from Nutanix
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--target", "HV02")
    assert code == 2 and "--distribute" in err
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--distribute", "--concurrency", "0")
    assert code == 2
    # the limit the wizard and the services share (domain.templates.MAX_CONCURRENT_DISTRIBUTION)
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--distribute", "--concurrency", "17")
    assert code == 2 and "--concurrency must be from 1 to 16." in err
    # the non-domain host as a target: its prerequisite rows with fixes, and nothing created
    code, _, err = run(capsys, *base, "--vm", "Win11-Gold", "--distribute", "--target", "HV02",
                         "--target", "HV04")
    assert code == 1
    assert "Prerequisites of HV04:" in err and "Prerequisites of HV02" not in err
    assert "FAILED  Same virtual switch name: expected vSwitch-LAN; found External Switch" in err
    assert "Fix: Create the virtual switch 'vSwitch-LAN' on HV04" in err
    assert "HV04 does not meet the prerequisites" in err and "nothing was created" in err
    assert "Traceback" not in err
    assert _names(capsys, lab_args) == []


def test_nutanix_source_refuses_distribution_and_names_are_unique(capsys, lab_args):
    code, out, err = run(capsys, *lab_args, "--json", "inventory", "NTNX-PE-01")
    assert code == 0, err
    vm = json.loads(out)["providers"][0]["hosts"][0]["vms"][0]
    code, _, err = run(capsys, *lab_args, "templates", "create", "--provider", "NTNX-PE-01", "--vm",
                       vm["id"], "--name", "Ntx", "--distribute", "--shutdown")
    assert code == 1 and "only for standalone Hyper-V hosts" in err
    code, out, err = run(capsys, *lab_args, "templates", "create", "--provider", "HV03", "--vm", "Win11-Test",
                         "--name", "Test")
    assert code == 0, err
    code, _, err = run(capsys, *lab_args, "templates", "create", "--provider", "HV03", "--vm", "Win11-Test",
                       "--name", "TEST")
    assert code == 1 and "A template named 'Test' already exists." in err
    code, out, _ = run(capsys, *lab_args, "templates", "distribution", "test")
    assert code == 0 and "created without distribution" in out


def test_targets_add_shows_failed_rows_then_add_and_remove(capsys, lab_args):
    code, _, err = run(capsys, *lab_args, "templates", "create", "--provider", "HV01", "--vm", "Win11-Gold",
                       "--name", "Gold", "--distribute")
    assert code == 0, err
    code, out, err = run(capsys, *lab_args, "templates", "targets", "add", "Gold", "HV04")
    assert code == 1
    assert "Prerequisites of HV04:" in out
    for title in ("Same folder path exists", "Same virtual switch name", "Joined to the same domain",
                  "Live migration enabled with Kerberos", "Compare-VM reports no incompatibility"):
        assert f"FAILED  {title}" in out
    assert "Fix: Join HV04 to corp.example.com" in out
    assert "HV04 does not meet the prerequisites for template 'Gold'; it was not added." in err
    # the source host itself is a valid target
    code, out, err = run(capsys, *lab_args, "templates", "targets", "add", "Gold", "HV01")
    assert code == 0, err
    assert "Added HV01 to template 'Gold' as a distribution target (version 1)." in out
    code, out, err = run(capsys, *lab_args, "templates", "targets", "remove", "Gold", "HV01")
    assert code == 0, err
    assert "Removed HV01 from template 'Gold' with its local copy." in out
    code, out, _ = run(capsys, *lab_args, "--json", "templates", "distribution", "Gold")
    assert json.loads(out)["targets"] == []
    code, _, err = run(capsys, *lab_args, "templates", "targets", "remove", "Gold", "HV01")
    assert code == 1 and "is not a distribution target" in err


def test_maintenance_on_off_with_discard_and_new_version(capsys, lab_args):
    code, _, err = run(capsys, *lab_args, "templates", "create", "--provider", "HV02", "--vm",
                       "Win10-Office-Gold", "--name", "Office")
    assert code == 0, err
    m = [*lab_args, "templates", "maintenance", "Office"]
    assert run(capsys, *m, "off")[0] == 2                       # neither --new-version nor --discard
    assert run(capsys, *m, "off", "--new-version", "--discard")[0] == 2
    assert run(capsys, *m, "on", "--discard")[0] == 2
    assert run(capsys, *m, "off", "--discard", "--notes", "x")[0] == 2
    code, out, err = run(capsys, *m, "on")
    assert code == 0, err
    assert "is in maintenance from version 1" in out
    code, out, _ = run(capsys, *lab_args, "--json", "templates", "show", "Office")
    assert json.loads(out)["state"] == "maintenance"
    code, out, err = run(capsys, *m, "off", "--discard")
    assert code == 0, err
    assert "the changes were discarded" in out
    code, out, err = run(capsys, *m, "on", "--version", "1")
    assert code == 0, err
    # the guest does not shut down in time and turning it off is not allowed: the task fails, the
    # template stays in maintenance; 'tasks retry' sends a template task to the template services
    code, _, err = run(capsys, *m, "off", "--new-version", "--shutdown-timeout", "0.001")
    assert code == 1 and "did not shut down within" in err
    code, out, _ = run(capsys, *lab_args, "--json", "tasks", "list")
    failed = [t for t in json.loads(out) if t["kind"] == "template-maintenance" and t["state"] == "failed"]
    assert len(failed) == 1
    code, out, _ = run(capsys, *lab_args, "--json", "templates", "show", "Office")
    assert json.loads(out)["state"] == "maintenance"
    code, _, err = run(capsys, *lab_args, "tasks", "retry", str(failed[0]["id"]))
    assert code == 1 and "did not shut down within" in err and "not a" not in err
    code, out, err = run(capsys, *m, "off", "--new-version", "--notes", "KB5034441", "--turn-off")
    assert code == 0, err
    assert "Template 'Office' left maintenance with a new version 2." in out
    code, out, _ = run(capsys, *lab_args, "--json", "templates", "versions", "Office")
    assert [(v["number"], v["notes"]) for v in json.loads(out)][1] == (2, "KB5034441")
    code, _, err = run(capsys, *m, "on", "--version", "9")
    assert code == 1 and err.startswith("Error: ")


def test_a_target_offline_mid_copy_fails_alone_and_retry_succeeds(capsys, lab_args, tmp_path, arm_on_start):
    from console.lab import Lab
    arm_on_start("HV03", "offline", "Start-TemplateCopy")
    code, out, err = run(capsys, *lab_args, "templates", "create", "--provider", "HV01", "--vm", "Win11-Gold",
                         "--name", "Gold", "--distribute", "--target", "HV02", "--target", "HV03")
    assert code == 1, err                                      # created, with a failed target
    assert "Created template 'Gold'" in out and "distributed to: HV02" in out
    assert "Warning: distribution to HV03 failed:" in err and "targets retry" in err
    Lab(tmp_path / "lab-state", prism=False).set_fault("HV03", None)    # the host is back
    code, out, _ = run(capsys, *lab_args, "--json", "templates", "distribution", "Gold")
    by_name = {d["provider"]: d for d in json.loads(out)["targets"]}
    assert by_name["HV02"]["state"] == "ready" and by_name["HV03"]["progress"] == "failed"
    assert by_name["HV03"]["last_error"]
    code, out, err = run(capsys, *lab_args, "templates", "targets", "retry", "Gold", "HV03")
    assert code == 0, err
    assert "HV03 holds version 1 of template 'Gold'." in out


def test_templates_help_lists_every_action(capsys):
    code, out, _ = run(capsys, "templates", "--help")
    assert code == 0
    for action in ("create", "list", "show", "delete", "distribution", "targets", "maintenance",
                   "versions", "tag"):
        assert action in out
    code, out, _ = run(capsys, "templates", "create", "--help")
    assert code == 0 and "--join-password-stdin" in out and "never an argument" in " ".join(out.split())
