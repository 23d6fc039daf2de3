"""vdictl pools and vdictl clones: refusals without the lab, then whole flows against the lab
(in-process through console.cli.main.main, like test_templates_cli.py)."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from console.cli.commands import UsageError
from console.cli.main import main
from console.cli.pool_update_commands import parse_at

JOIN_PASSWORD = "J0in-Secr3t!"
POOL_PASSWORD = "P00l-Secr3t!"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fast_lab(tmp_path):
    return ["--farm", str(tmp_path / "lab-farm.sqlite"), "--lab", "--lab-speed", "200",
            "--lab-state", str(tmp_path / "lab-state")]


@pytest.fixture
def gold(capsys, fast_lab, stdin):
    """Template 'Gold' from HV01's Win11-Gold, distributed to HV02 and HV03, joining corp.example.com."""
    stdin(JOIN_PASSWORD + "\n")
    code, _, err = run(capsys, *fast_lab, "templates", "create", "--provider", "HV01", "--vm", "Win11-Gold",
                       "--name", "Gold", "--preparation", "rename-join", "--domain", "corp.example.com",
                       "--join-account", "CORP\\svc-join", "--join-password-stdin", "--distribute",
                       "--target", "HV02", "--target", "HV03")
    assert code == 0, err
    return "Gold"


def _pool(capsys, lab, name):
    code, out, err = run(capsys, *lab, "--json", "pools", "show", name)
    assert code == 0, err
    return json.loads(out)


# -- without the lab -------------------------------------------------------------------------------
NOW = datetime(2025, 6, 30, 18, 0, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize("text, expected", [
    ("22:00", NOW.replace(hour=22)),
    ("7:30", NOW.replace(hour=7, minute=30) + timedelta(days=1)),       # passed today: tomorrow
    ("18:00", NOW + timedelta(days=1)),
    ("2025-07-01T03:15+02:00", NOW.replace(day=1, month=7, hour=3, minute=15)),
    ("2025-07-01 03:15+00:00", datetime(2025, 7, 1, 3, 15, tzinfo=timezone.utc)),
])
def test_at_times(text, expected):
    assert parse_at(text, NOW) == expected


def test_at_without_an_offset_is_local_time():
    at = parse_at("2999-01-01T10:00")
    assert at.tzinfo is not None and (at.hour, at.minute) == (10, 0)


@pytest.mark.parametrize("text, words", [
    ("25:00", "not a time of day"), ("12:61", "not a time of day"), ("tonight", "not a time"),
    ("2025-06-30T17:59+02:00", "already passed"), ("", "not a time"),
])
def test_bad_at_times(text, words):
    with pytest.raises(UsageError, match=words):
        parse_at(text, NOW)


def test_usage_errors_exit_2_before_anything(capsys, tmp_path):
    farm = ["--farm", str(tmp_path / "farm.sqlite")]
    assert run(capsys, *farm, "pools", "update", "Sales")[0] == 2                 # no --version/--tag
    assert run(capsys, *farm, "pools", "update", "Sales", "--version", "2", "--tag", "x")[0] == 2
    assert run(capsys, *farm, "pools", "update", "Sales", "--version", "0")[0] == 2
    assert run(capsys, *farm, "pools", "update", "Sales", "--version", "2", "--batch", "0")[0] == 2
    assert run(capsys, *farm, "pools", "create", "Sales", "--template", "G", "--max", "-3")[0] == 2
    code, _, err = run(capsys, *farm, "pools", "scale", "Sales")
    assert code == 2 and "--max, --buffer or both" in err
    code, _, err = run(capsys, *farm, "pools", "update", "Sales", "--version", "2", "--grace", "5")
    assert code == 2 and "--logoff wait" in err
    code, _, err = run(capsys, *farm, "pools", "rollback", "Sales", "--at", "tonight")
    assert code == 2 and "HH:MM" in err
    code, _, err = run(capsys, *farm, "pools", "show", "Nobody")
    assert code == 1 and err.startswith("Error: ") and "Traceback" not in err
    code, out, _ = run(capsys, *farm, "--json", "pools", "list")
    assert code == 0 and json.loads(out) == []


# -- against the lab -------------------------------------------------------------------------------
def test_bad_pool_input_is_refused_and_creates_nothing(capsys, fast_lab, gold):
    base = [*fast_lab, "pools", "create", "Sales", "--template", gold]
    for extra, words in [
        (["--naming", "SAL-%ID:2%", "--max", "500"], "%ID:2% gives at most 99 names (SAL-01 … SAL-99), "
                                                     "fewer than the maximum of 500."),
        (["--naming", "1SAL-%ID:3%"], "must start with a letter"),
        (["--naming", "SAL;%ID:3%"], "cannot have"),
        (["--naming", "SALÉ-%ID:3%"], "cannot have"),
        (["--naming", "SALES-DESKS-%ID:4%"], "longer than 15"),
        (["--buffer", "20", "--max", "10"], "buffer of 20"),
        (["--initial", "11", "--max", "10"], "more than the maximum of 10"),
        (["--naming", "SQL-VDI-%ID:2%"], "SQL-VDI-01 already exists"),      # a VM on HV02
        (["--method", "quick", "--target", "HV04"], "HV04"),                # not a ready target
        (["--version", "7"], "7"),
    ]:
        code, _, err = run(capsys, *base, *extra)
        assert code == 1, (extra, err)
        assert words in err, (extra, err)
        assert "Traceback" not in err
    for name, words in [('Sales "A"', 'cannot contain "'), ("Sales/1", "cannot contain /"), ("", "Enter a name")]:
        code, _, err = run(capsys, *fast_lab, "pools", "create", name, "--template", gold)
        assert code == 1 and words in err, err
    code, out, _ = run(capsys, *fast_lab, "--json", "pools", "list")
    assert json.loads(out) == []


def test_linked_pool_create_list_show_scale_edit_update_delete(capsys, fast_lab, gold, monkeypatch,
                                                                         stdin):
    create = [*fast_lab, "pools", "create", "Sales", "--template", gold, "--naming", "SAL-%ID:3%",
              "--initial", "3", "--max", "10", "--description", "Sales desks"]
    # no keyring here: the template's join password is gone with the command that created it
    code, _, err = run(capsys, *create)
    assert code == 2 and "Template 'Gold' joins clones with CORP\\svc-join" in err
    assert "--join-password-stdin" in err
    stdin(JOIN_PASSWORD + "\n")
    code, out, err = run(capsys, *create, "--join-password-stdin")
    assert code == 0, err
    assert "Created pool 'Sales' (id 1) of template 'Gold' v1, linked clones." in out
    assert "clones: 3 ready" in out
    assert JOIN_PASSWORD not in out + err

    code, out, _ = run(capsys, *fast_lab, "pools", "list")
    assert out.splitlines()[1].split()[:6] == ["1", "Sales", "enabled", "Gold", "v1", "linked"]

    code, out, _ = run(capsys, *fast_lab, "clones", "list", "sales")
    rows = [ln.split() for ln in out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["SAL-001", "SAL-002", "SAL-003"]
    assert {r[1] for r in rows} <= {"HV02", "HV03"} and all(r[2:5] == ["ready", "v1", "linked"] for r in rows)
    assert all(r[6].endswith("s") and r[7] == "never" for r in rows)      # usable time; never independent

    code, out, _ = run(capsys, *fast_lab, "pools", "show", "1")
    assert "template: Gold v1" in out and "naming: SAL-%ID:3% (SAL-001, SAL-002, SAL-003, ...)" in out
    assert "preparation (the template's): rename-join, domain corp.example.com" in out
    assert "targets: HV02, HV03" in out and "clones: 3 (3 ready)" in out
    assert [ln.split()[0::2] for ln in out.splitlines() if ln.startswith("v1 ")] == [["v1", "create"]]

    code, out, err = run(capsys, *fast_lab, "pools", "edit", "Sales", "--description", "Sales floor",
                         "--delete-unused-after", "60", "--per-host-cap", "5")
    assert code == 0, err
    data = _pool(capsys, fast_lab, "Sales")
    assert (data["description"], data["delete_unused_after_minutes"], data["per_host_cap"]) == \
        ("Sales floor", 60, 5)
    code, _, err = run(capsys, *fast_lab, "pools", "edit", "Sales", "--per-host-cap", "4")
    assert code == 1 and "at least 5" in err                             # 2 hosts × 4 < 10
    assert run(capsys, *fast_lab, "pools", "edit", "Sales")[0] == 2      # nothing to change

    # a new version of the template, then a rolling update in batches of 2, and a rollback
    m = [*fast_lab, "templates", "maintenance", gold]
    assert run(capsys, *m, "on")[0] == 0
    code, _, err = run(capsys, *m, "off", "--new-version", "--turn-off")
    assert code == 0, err
    stdin(JOIN_PASSWORD + "\n")
    code, out, err = run(capsys, *fast_lab, "pools", "update", "Sales", "--version", "2", "--batch", "2",
                         "--join-password-stdin")
    assert code == 0, err
    assert "Pool 'Sales' update finished: its clones are at version 2 (3 ready)." in out
    assert "Batch 1 of 2" in out
    data = _pool(capsys, fast_lab, "Sales")
    assert data["version"] == 2 and {c["version"] for c in data["clones"]} == {2}
    stdin(JOIN_PASSWORD + "\n")
    code, _, err = run(capsys, *fast_lab, "pools", "update", "Sales", "--version", "2", "--join-password-stdin")
    assert code == 1 and "already at version 2" in err
    data = _pool(capsys, fast_lab, "Sales")
    assert [(h["version"], h["kind"]) for h in data["history"]] == [(1, "create"), (2, "update")]

    code, _, err = run(capsys, *fast_lab, "pools", "scale", "Sales", "--max", "20")
    assert code == 1 and "at most 5 clones each hold 10" in err          # the cap per host
    code, out, err = run(capsys, *fast_lab, "pools", "scale", "Sales", "--max", "8")
    assert code == 0, err
    assert "Pool 'Sales': maximum 8, buffer 0." in out
    code, _, err = run(capsys, *fast_lab, "pools", "scale", "Sales", "--buffer", "25")
    assert code == 1 and "buffer of 25" in err

    # delete: asks with the count (no terminal: refused; on a terminal "n" keeps it), then --yes
    code, _, err = run(capsys, *fast_lab, "pools", "delete", "Sales")
    assert code == 2 and "--yes" in err
    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or "n")
    code, _, err = run(capsys, *fast_lab, "pools", "delete", "Sales")
    assert code == 1 and "Nothing was deleted." in err
    assert asked == ["Delete pool 'Sales' and its 3 clones (every VM and its disks)? [y/N] "]
    code, out, err = run(capsys, *fast_lab, "pools", "delete", "Sales", "--yes")
    assert code == 0, err
    assert "Deleted pool 'Sales' and its 3 clones." in out
    code, out, _ = run(capsys, *fast_lab, "--json", "pools", "list")
    assert json.loads(out) == []
    code, out, _ = run(capsys, *fast_lab, "--json", "inventory", "HV02")
    vms = [vm["name"] for h in json.loads(out)["providers"][0]["hosts"] for vm in h["vms"]]
    assert not [n for n in vms if n.startswith("SAL-")]


def test_quick_pool_with_its_own_join_account_and_json(capsys, fast_lab, gold, stdin, tmp_path):
    stdin(POOL_PASSWORD + "\n")
    code, out, err = run(capsys, *fast_lab, "--json", "pools", "create", "Quick", "--template", gold,
                         "--method", "quick", "--naming", "QCK-%ID:2:10%", "--initial", "2", "--max", "5",
                         "--target", "HV03", "--join-account", "CORP\\svc-pool", "--join-password-stdin",
                         "--ou", "OU=VDI,DC=corp,DC=example,DC=com")
    assert code == 0, err
    data = json.loads(out)
    pool = data["pool"]
    assert pool["targets"] == ["HV03"] and pool["method"] == "quick"
    assert pool["preparation_override"]["join_account"] == "CORP\\svc-pool"
    assert pool["preparation_override"]["domain"] == "corp.example.com"      # the template's, kept
    assert sorted(c["name"] for c in pool["clones"]) == ["QCK-10", "QCK-11"]
    assert all(c["host"] == "HV03" and c["independent_seconds"] is not None for c in pool["clones"])
    assert POOL_PASSWORD not in out + err
    assert POOL_PASSWORD.encode() not in (tmp_path / "lab-farm.sqlite").read_bytes()
    code, out, _ = run(capsys, *fast_lab, "pools", "show", "Quick")
    assert "preparation (the pool's own): rename-join, domain corp.example.com" in out
    assert "join account: CORP\\svc-pool" in out
    code, out, _ = run(capsys, *fast_lab, "--json", "clones", "list", "Quick")
    assert [c["state"] for c in json.loads(out)] == ["ready", "ready"]
    # back to the template's preparation
    code, _, err = run(capsys, *fast_lab, "pools", "edit", "Quick", "--inherit-preparation")
    assert code == 0, err
    assert _pool(capsys, fast_lab, "Quick")["preparation_override"] is None
    code, _, err = run(capsys, *fast_lab, "pools", "edit", "Quick", "--inherit-preparation", "--owner", "x")
    assert code == 2


def test_cleanup_removes_half_made_clones_and_says_when_there_are_none(capsys, fast_lab, tmp_path, stdin):
    from console.domain.templates import Clone, CloneState
    from console.store import Farm

    stdin(JOIN_PASSWORD + "\n")
    code, _, err = run(capsys, *fast_lab, "templates", "create", "--provider", "HV03", "--vm", "Win11-Test",
                       "--name", "Test", "--preparation", "rename-join", "--domain", "corp.example.com",
                       "--join-account", "CORP\\svc-join", "--join-password-stdin")
    assert code == 0, err
    # a workgroup override drops the template's unit and account: no password is asked
    code, out, err = run(capsys, *fast_lab, "pools", "create", "Empty", "--template", "Test", "--naming",
                         "EMP-%ID:2%", "--initial", "0", "--preparation", "sysprep", "--domain", "")
    assert code == 0, err
    code, out, err = run(capsys, *fast_lab, "pools", "cleanup", "Empty")
    assert code == 0 and "Pool 'Empty' has no half-made clones." in out
    code, out, err = run(capsys, *fast_lab, "clones", "list", "Empty")
    assert code == 0 and "has no clones" in err
    with Farm(tmp_path / "lab-farm.sqlite") as farm:      # what a killed console leaves
        pool = farm.pools.find_by_name("Empty")
        farm.pools.save_clone(Clone(pool.id, "EMP-01", pool.target_provider_ids[0], host="HV03",
                                    state=CloneState.INCOMPLETE, error="Interrupted."))
    code, out, _ = run(capsys, *fast_lab, "pools", "show", "Empty")
    assert "clones: 1 (1 incomplete)" in out
    code, out, err = run(capsys, *fast_lab, "pools", "cleanup", "Empty")
    assert code == 0, err
    assert "Removed 1 half-made clone of pool 'Empty': EMP-01." in out
    code, out, _ = run(capsys, *fast_lab, "--json", "clones", "list", "Empty")
    assert json.loads(out) == []


def test_update_by_tag_and_rollback_without_distribution(capsys, fast_lab):
    code, _, err = run(capsys, *fast_lab, "templates", "create", "--provider", "HV03", "--vm", "Win11-Test",
                       "--name", "Test")
    assert code == 0, err
    code, out, err = run(capsys, *fast_lab, "pools", "create", "T", "--template", "Test", "--naming", "TST%ID:2%",
                         "--initial", "2", "--max", "5", "--method", "full")
    assert code == 0, err
    assert "clones: 2 ready" in out
    m = [*fast_lab, "templates", "maintenance", "Test"]
    assert run(capsys, *m, "on")[0] == 0
    assert run(capsys, *m, "off", "--new-version", "--turn-off")[0] == 0
    assert run(capsys, *fast_lab, "templates", "tag", "Test", "2", "production")[0] == 0
    code, out, err = run(capsys, *fast_lab, "pools", "update", "T", "--tag", "production", "--batch", "2",
                         "--logoff", "wait", "--grace", "0", "--stop-on-error")
    assert code == 0, err
    assert "Pool 'T' update finished: its clones are at version 2 (2 ready)." in out
    code, out, err = run(capsys, *fast_lab, "pools", "rollback", "T")
    assert code == 0, err
    assert "Pool 'T' rollback finished: its clones are at version 1 (2 ready)." in out
    data = _pool(capsys, fast_lab, "T")
    assert data["version"] == 1 and {c["version"] for c in data["clones"]} == {1}
    assert [(h["version"], h["kind"]) for h in data["history"]] == [(1, "create"), (2, "update"),
                                                                   (1, "rollback")]
    code, out, _ = run(capsys, *fast_lab, "clones", "list", "T")
    rows = [ln.split() for ln in out.splitlines()[1:]]
    assert [(r[0], r[1], r[4]) for r in rows] == [("TST01", "HV03", "full"), ("TST02", "HV03", "full")]
    assert all(r[7] != "never" for r in rows)            # a full clone is independent at once


def test_vdictl_does_not_run_the_pool_keeper(monkeypatch, tmp_path):
    """A vdictl command ends in seconds: a keeper-started provisioning would be cancelled half-made."""
    import asyncio

    from console.cli import main as cli_main
    from console.services import container
    seen = []
    real = container.build_services

    def spy(*args, **kwargs):
        services = real(*args, **kwargs)
        seen.append(services)
        return services
    monkeypatch.setattr(container, "build_services", spy)

    async def probe(services, args):
        return 0 if services.pools.keeper is None else 1
    args = cli_main.build_parser().parse_args(["--farm", str(tmp_path / "farm.sqlite"), "providers", "list"])
    args.run = probe
    assert asyncio.run(cli_main._run(args)) == 0
    assert seen and seen[0].keep_pools is False
