"""vdictl with Nutanix providers, in-process through main([...]): add (certificates, the wrong kind),
accept-certificate, inventory, power, snapshot, snapshots, clone, delete and tasks retry."""
import io
import json

import pytest

from console.cli.main import main

PE, PC = "NTNX-PE-01", "NTNX-PC-01"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class Terminal(io.StringIO):
    """Standard input that says it is a terminal (for the questions vdictl asks there)."""

    def isatty(self):
        return True


def add_args(tmp_path, prism, kind, name=PE, *extra):
    endpoint = prism.endpoint(name)
    return ["--farm", str(tmp_path / "farm.sqlite"), "providers", "add", kind, "My Prism",
            "--address", endpoint.address, "--port", str(endpoint.port), "--user", endpoint.username,
            "--password-stdin", *extra]


def providers_in(capsys, tmp_path):
    code, out, _ = run(capsys, "--farm", str(tmp_path / "farm.sqlite"), "--json", "providers", "list")
    return json.loads(out)


def test_add_with_the_right_fingerprint_and_json_has_no_secret(capsys, tmp_path, prism, stdin):
    fingerprint = prism.endpoint(PE).fingerprint
    stdin(prism.password + "\n")
    code, out, err = run(capsys, "--json", *add_args(tmp_path, prism, "nutanix-pe", PE,
                                                     "--accept-fingerprint", fingerprint.lower().replace(":", "")))
    assert code == 0, err
    added = json.loads(out)
    assert added["kind"] == "nutanix-pe" and added["pinned_fingerprint"] == fingerprint
    assert prism.password not in out + err
    assert [p["name"] for p in providers_in(capsys, tmp_path)] == ["My Prism"]


def test_untrusted_certificate_is_shown_and_refused_without_a_terminal(capsys, tmp_path, prism, stdin):
    endpoint = prism.endpoint(PC)
    stdin(prism.password + "\n")
    code, out, err = run(capsys, *add_args(tmp_path, prism, "nutanix-pc", PC))
    assert code == 1
    assert f"SHA-256:     {endpoint.fingerprint}" in err and "subject:" in err and "valid until:" in err
    assert f"Hint: Compare the fingerprint with the one Prism shows, then run the command again with " \
           f"--accept-fingerprint {endpoint.fingerprint}." in err
    assert providers_in(capsys, tmp_path) == []


def test_another_fingerprint_is_refused(capsys, tmp_path, prism, stdin):
    stdin(prism.password + "\n")
    code, out, err = run(capsys, *add_args(tmp_path, prism, "nutanix-pe", PE, "--accept-fingerprint", "AB" * 32))
    assert code == 1
    assert "not the one given with --accept-fingerprint" in err and prism.endpoint(PE).fingerprint in err
    assert providers_in(capsys, tmp_path) == []


@pytest.mark.parametrize("answer, code, saved", [("y", 0, 1), ("", 1, 0)])
def test_on_a_terminal_the_certificate_is_asked_about(capsys, tmp_path, prism, monkeypatch, answer, code, saved):
    monkeypatch.setattr("sys.stdin", Terminal(f"{prism.password}\n{answer}\n"))
    result, out, err = run(capsys, *add_args(tmp_path, prism, "nutanix-pe", PE))
    assert result == code, err
    assert "Trust this certificate? [y/N]" in out and prism.endpoint(PE).fingerprint in err
    assert len(providers_in(capsys, tmp_path)) == saved


@pytest.mark.parametrize("given, typed_as, other, label", [(PE, "nutanix-pc", "nutanix-pe", "Prism Element"),
                                                           (PC, "nutanix-pe", "nutanix-pc", "Prism Central")])
def test_the_wrong_kind_says_so_with_the_fix(capsys, tmp_path, prism, stdin, given, typed_as, other, label):
    stdin(prism.password + "\n")
    code, out, err = run(capsys, *add_args(tmp_path, prism, typed_as, given,
                                           "--accept-fingerprint", prism.endpoint(given).fingerprint))
    assert code == 1
    assert err.splitlines()[-2].startswith(f"Error: This address is {label}, not ")
    assert err.splitlines()[-1] == f"Hint: Run the command again with {other} instead of {typed_as}; " \
                                   "nothing was saved."
    assert providers_in(capsys, tmp_path) == []


def test_bad_prism_input_is_refused_before_asking(capsys, tmp_path, stdin):
    base = ["--farm", str(tmp_path / "farm.sqlite"), "providers", "add", "nutanix-pe", "P", "--user", "admin",
            "--password-stdin"]
    code, _, err = run(capsys, *base, "--address", "http://prism.corp")
    assert code == 1 and "does not start with https://" in err
    code, _, err = run(capsys, *base, "--address", "prism.corp", "--https")
    assert code == 2 and "--https, --auth and --allow-insecure-basic are for Hyper-V hosts" in err
    code, _, err = run(capsys, *base, "--address", "prism.corp", "--accept-fingerprint", "12:34")
    assert code == 1 and "is not a SHA-256 fingerprint" in err


def test_lab_inventory_shows_clusters_hosts_and_vms(capsys, lab_args):
    code, out, err = run(capsys, *lab_args, "inventory", PC)
    assert code == 0, err
    table = out[out.index("PROVIDER"):].splitlines()
    assert table[0].split() == ["PROVIDER", "CLUSTER", "HOST", "VM", "STATE", "CPUS", "MEMORY", "GB", "ID"]
    assert {line.split()[1] for line in table[1:]} == {"NTNX-PE-01", "NTNX-PE-02"}
    assert any("(not running)" in line and "Win11-Gold" in line for line in table)


def test_lab_power_snapshot_clone_and_delete(capsys, lab_args, stdin):
    p = ["--provider", PE]
    code, out, err = run(capsys, *lab_args, "vms", "power", "Win11-VDI-003", "start", *p)
    assert code == 0, err
    assert out.rstrip().endswith("is Running.") and "VM 'Win11-VDI-003' on NTNX-PE-01-" in out
    code, out, err = run(capsys, *lab_args, "vms", "snapshot", "Win11-Gold", 'Before "patch"', *p)
    assert code == 0, err
    assert "100% " in out and out.rstrip().split("\n")[-1].startswith("Snapshot 'Before \"patch\"' of VM 'Win11-Gold' is ")
    code, out, err = run(capsys, *lab_args, "--json", "vms", "snapshots", "Win11-Gold", *p)
    snaps = json.loads(out)["snapshots"]
    assert 'Before "patch"' in [s["name"] for s in snaps]
    code, out, err = run(capsys, *lab_args, "--json", "vms", "clone", "Win11-Gold", "VDI-Thin-01",
                         "--from-snapshot", 'before "PATCH"', *p)
    assert code == 0, err
    clone = json.loads(out)
    assert clone["vm"] == "VDI-Thin-01" and clone["params"]["snapshot_id"] in {s["id"] for s in snaps}
    assert "Nutanix/4u-Lab" not in out + err
    code, out, err = run(capsys, *lab_args, "vms", "clone", "Win11-Gold", "VDI-Full-01", *p)
    assert code == 0, err
    assert "Cloned VM 'Win11-Gold' in full to 'VDI-Full-01'" in out

    stdin("")                                    # no terminal and no --yes: refused, nothing deleted
    code, out, err = run(capsys, *lab_args, "vms", "delete", "VDI-Full-01", *p)
    assert code == 2 and "Nothing was deleted: there is no terminal" in err and "Add --yes" in err
    code, out, err = run(capsys, *lab_args, "vms", "delete", "VDI-Full-01", "--yes", *p)
    assert code == 0 and out.rstrip().endswith("Deleted VM 'VDI-Full-01'."), err
    code, out, _ = run(capsys, *lab_args, "inventory", PE)
    assert "VDI-Thin-01" in out and "VDI-Full-01" not in out


def test_lab_failed_clone_then_tasks_retry(capsys, lab_args, lab_prism_faults):
    run(capsys, *lab_args, "providers", "list")              # the lab's state exists
    lab_prism_faults(PE, "clone-fails-60")
    code, out, err = run(capsys, *lab_args, "vms", "clone", "Win11-Gold", "VDI-Retry-01", "--provider", PE)
    assert code == 1 and "(at 60%)" in err and "The partial VM 'VDI-Retry-01' was deleted." in err
    code, out, _ = run(capsys, *lab_args, "--json", "tasks", "list")
    [failed] = [t for t in json.loads(out) if t["name"] == "Clone VM 'Win11-Gold' to 'VDI-Retry-01'"]
    lab_prism_faults(PE, None)
    code, out, err = run(capsys, *lab_args, "--json", "tasks", "retry", str(failed["id"]))
    assert code == 0, err
    retried = json.loads(out)
    assert retried["retry_of"] == failed["id"] and retried["request_id"] == failed["result"]["request_id"]
    code, out, err = run(capsys, *lab_args, "tasks", "retry", str(retried["task"]))
    assert code == 1 and "only a failed, cancelled or interrupted task can be retried" in err
    code, out, _ = run(capsys, *lab_args, "--json", "inventory", PE)
    names = [vm["name"] for host in json.loads(out)["providers"][0]["hosts"] for vm in host["vms"]]
    assert names.count("VDI-Retry-01") == 1


def test_lab_replaced_certificate_then_accept_certificate(capsys, lab_args, lab_prism_faults):
    run(capsys, *lab_args, "providers", "list")
    lab_prism_faults(PE, "cert-replaced")
    code, out, err = run(capsys, *lab_args, "inventory", PE)
    assert code == 1 and "has changed since it was accepted" in err
    hint = next(line for line in err.splitlines() if line.startswith("Hint: "))
    fingerprint = hint.rsplit(" ", 1)[1]
    assert f"vdictl providers accept-certificate '{PE}' {fingerprint}" in hint
    assert f"SHA-256:     {fingerprint}" in err
    code, out, err = run(capsys, *lab_args, "providers", "accept-certificate", PE, fingerprint)
    assert code == 0 and f"now trusts the certificate {fingerprint}" in out and "Warning" not in err
    code, out, err = run(capsys, *lab_args, "inventory", PE)
    assert code == 0 and "Win11-Gold" in out, err
    code, out, err = run(capsys, *lab_args, "providers", "accept-certificate", PE, "nope")
    assert code == 1 and "'nope' is not a SHA-256 fingerprint" in err
