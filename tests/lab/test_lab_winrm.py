"""The lab through pywinrm's real client: shapes of the answers, errors, power operations."""
from __future__ import annotations

import json
import threading
import time

import pytest
import winrm
from winrm.exceptions import InvalidCredentialsError

from console.lab import PASSWORD, WorldSpec
from labkit import build, ok, run, session, vm_named


def test_hosts_have_own_ports_and_credentials(lab):
    names = [h.name for h in lab.hosts]
    assert names == ["HV01", "HV02", "HV03", "HV04"]
    assert len({h.port for h in lab.hosts}) == 4
    for h in lab.hosts:
        assert h.url == f"http://127.0.0.1:{h.port}/wsman"
        assert h.password == PASSWORD and h.username


def test_inventory_is_json_with_clixml_noise(lab):
    h = lab.host("HV01")
    r = session(h).run_ps(build("Get-Inventory", body="    $null\n"))
    assert r.status_code == 0
    doc = json.loads(r.std_out)
    assert doc["computer_name"] == "HV01"
    assert 4 <= len(doc["vms"]) <= 7
    states = {v["state"] for v in doc["vms"]}
    assert {"Running", "Off", "Saved"} <= states
    assert {True, False} <= {v["guest_agent"] for v in doc["vms"]}
    vm = vm_named(doc, "Win11-Gold")
    assert set(vm) == {"id", "name", "state", "cpu_count", "memory_bytes", "uptime_seconds", "generation",
                       "version", "path", "switch", "guest_agent", "notes", "disks"}
    assert vm["switch"] == "vSwitch-LAN" and vm["disks"][0]["size_bytes"] > vm["disks"][0]["file_bytes"] > 0
    # what Windows prints on stderr of a successful run over WinRM: progress records, no error
    assert r.std_err.startswith(b"#< CLIXML\r\n")
    assert b'<Obj S="progress"' in r.std_err and b'S="Error"' not in r.std_err


def test_ids_are_stable_guids_across_worlds(lab_factory):
    a = ok(lab_factory().host("HV02"), "Get-Inventory")
    b = ok(lab_factory().host("HV02"), "Get-Inventory")
    assert [v["id"] for v in a["vms"]] == [v["id"] for v in b["vms"]]
    assert all(len(v["id"]) == 36 and v["id"].count("-") == 4 for v in a["vms"])


def test_host_facts_domain_host(lab):
    facts = ok(lab.host("HV01"), "Get-HostFacts")
    assert facts["computer_name"] == "HV01"
    assert facts["domain"] == "corp.example.com" and facts["part_of_domain"] is True
    assert facts["os_caption"] == "Microsoft Windows Server 2022 Datacenter"
    assert facts["os_version"] == "10.0.20348" and facts["hyperv_version"].startswith("10.0.20348.")
    assert facts["vm_path"] == "D:\\Hyper-V" and facts["vhd_path"] == "D:\\Hyper-V\\Virtual Hard Disks"
    lm = facts["live_migration"]
    assert lm["enabled"] is True and lm["authentication"] == "Kerberos" and lm["max_migrations"] == 2
    for other in ("HV02", "HV03"):
        assert f"cifs/{other}.corp.example.com" in lm["constrained_delegation"]
        assert f"Microsoft Virtual System Migration Service/{other}.corp.example.com" in lm["constrained_delegation"]
    assert not any("HV01" in d for d in lm["constrained_delegation"])
    assert facts["switches"] == [{"name": "vSwitch-LAN", "switch_type": "External"}]
    for v in facts["volumes"]:
        assert 0 < v["free_bytes"] < v["size_bytes"]
    assert {v["path"] for v in facts["volumes"]} == {"C:\\", "D:\\"}


def test_host_facts_workgroup_host(lab):
    facts = ok(lab.host("HV04"), "Get-HostFacts")
    assert facts["part_of_domain"] is False and facts["domain"] == "WORKGROUP"
    assert facts["os_version"] == "10.0.17763" and "2019" in facts["os_caption"]
    assert facts["vm_path"] == "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"
    assert facts["switches"] == [{"name": "External Switch", "switch_type": "External"}]
    lm = facts["live_migration"]
    assert lm["enabled"] is False and lm["authentication"] == "CredSSP"
    assert lm["constrained_delegation"] is None


def test_wrong_password_is_invalid_credentials(lab):
    with pytest.raises(InvalidCredentialsError):
        session(lab.host("HV01"), password="not-the-password").run_ps(build("Get-Inventory"))


def test_other_accepted_user_name(lab):
    doc = ok(lab.host("HV02"), "Get-Inventory", username="Administrator")
    assert doc["computer_name"] == "HV02"


def test_vm_not_found_error_document(lab):
    missing = "0b5c3f6e-0000-4000-8000-000000000001"
    code, doc, err = run(lab.host("HV01"), "Get-VM", {"vm_id": missing})
    assert code == 1
    e = doc["error"]
    assert e["fqid"] == "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM"
    assert e["category"] == "InvalidArgument"
    assert e["message"] == f'Hyper-V was unable to find a virtual machine with ID "{missing}".'
    assert e["exception"] == "Microsoft.HyperV.PowerShell.VirtualizationException"
    assert err.startswith(b"#< CLIXML")


def test_vm_of_another_host_is_not_found_here(lab):
    other = ok(lab.host("HV02"), "Get-Inventory")["vms"][0]
    code, doc, _ = run(lab.host("HV01"), "Get-VM", {"vm_id": other["id"]})
    assert code == 1 and "unable to find" in doc["error"]["message"]


def test_bad_guid_is_a_cast_error(lab):
    code, doc, _ = run(lab.host("HV01"), "Get-VM", {"vm_id": "not-a-guid"})
    assert code == 1
    assert doc["error"]["fqid"] == "InvalidCastParseTargetInvocation"
    assert 'to type "System.Guid"' in doc["error"]["message"]


def test_get_vm(lab):
    inv = ok(lab.host("HV02"), "Get-Inventory")
    vm = vm_named(inv, "SQL-VDI-01")
    got = ok(lab.host("HV02"), "Get-VM", {"vm_id": vm["id"].upper()})
    assert got["id"] == vm["id"] and got["name"] == "SQL-VDI-01" and got["state"] == "Running"
    assert got["uptime_seconds"] >= vm["uptime_seconds"] > 0


def test_unknown_script_is_command_not_found(lab):
    code, doc, _ = run(lab.host("HV01"), "Get-Nothing-Such")
    assert code == 1
    assert doc["error"]["exception"] == "System.Management.Automation.CommandNotFoundException"
    assert doc["error"]["fqid"] == "CommandNotFoundException"
    assert doc["error"]["category"] == "ObjectNotFound"


def test_text_that_is_not_a_contract_script(lab):
    r = session(lab.host("HV01")).run_ps("Get-Process")
    assert r.status_code == 1 and r.std_out == b""
    # pywinrm turns the CLIXML error records into text
    assert b"The term 'Get-Process' is not recognized" in r.std_err


def test_undecodable_params_fail_before_the_try(lab):
    text = build("Get-Inventory", body="    $null\n").replace("FromBase64String('", "FromBase64String('!!")
    r = session(lab.host("HV01")).run_ps(text)
    assert r.status_code == 1 and r.std_out == b""
    assert b"FromBase64String" in r.std_err and b"FormatException" in r.std_err


def test_command_line_too_long_for_cmd(lab):
    r = session(lab.host("HV01")).run_ps(build("Get-Inventory", body="$x = '" + "x" * 5000 + "'\n$null\n"))
    assert r.status_code == 1 and b"The command line is too long." in r.std_err


def test_power_cycle(lab):
    h = lab.host("HV01")
    vm = vm_named(ok(h, "Get-Inventory"), "Win11-Gold")
    assert vm["state"] == "Off"
    res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "start"})
    assert res["changed"] is True and res["vm"]["state"] == "Running" and res["vm"]["guest_agent"] is True
    res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "start"})
    assert res["changed"] is False and res["note"] == "The virtual machine is already running."
    res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "restart"})
    assert res["changed"] is True and res["vm"]["state"] == "Running"
    res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "shutdown"})
    assert res["changed"] is True and res["vm"]["state"] == "Off" and res["vm"]["uptime_seconds"] == 0
    for action in ("shutdown", "stop"):
        res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": action})
        assert res["changed"] is False and res["note"] == "The virtual machine is already off."
    code, doc, _ = run(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "restart"})
    assert code == 1 and doc["error"]["fqid"] == "VdiInvalidState"
    assert doc["error"]["category"] == "InvalidOperation" and "current state (Off)" in doc["error"]["message"]
    with lab.world.lock:
        assert lab.world.host("HV01").vm_by_id(vm["id"]).state == "Off"


def test_start_from_saved_and_turn_off(lab):
    h = lab.host("HV01")
    vm = vm_named(ok(h, "Get-Inventory"), "Win10-Office")
    assert vm["state"] == "Saved"
    code, doc, _ = run(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "shutdown"})
    assert code == 1 and doc["error"]["fqid"] == "VdiInvalidState"
    res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "start"})
    assert res["vm"]["state"] == "Running" and res["changed"]
    res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "stop"})
    assert res["vm"]["state"] == "Off" and res["changed"]


def test_shutdown_without_guest_agent_fails(lab):
    h = lab.host("HV01")
    vm = vm_named(ok(h, "Get-Inventory"), "Appliance-Firewall")
    assert vm["state"] == "Running" and vm["guest_agent"] is False
    code, doc, _ = run(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "shutdown"})
    assert code == 1
    assert "shutdown integration service is not available" in doc["error"]["message"]
    assert doc["error"]["category"] == "InvalidOperation"
    # turning it off works
    assert ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "stop"})["vm"]["state"] == "Off"


def test_unknown_action(lab):
    h = lab.host("HV01")
    vm = ok(h, "Get-Inventory")["vms"][0]
    code, doc, _ = run(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "explode"})
    assert code == 1 and doc["error"]["category"] == "InvalidArgument"
    assert doc["error"]["fqid"] == "VdiUnknownAction"


def test_concurrent_inventory_sees_transitional_state(lab_factory):
    lab = lab_factory(speed=4.0)          # a start takes ~1 s
    h = lab.host("HV02")
    vm = vm_named(ok(h, "Get-Inventory"), "Win10-Office-Gold")
    result = {}
    t = threading.Thread(target=lambda: result.update(
        ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "start"})))
    t.start()
    seen = set()
    deadline = time.monotonic() + 10
    while t.is_alive() and time.monotonic() < deadline:
        seen.add(vm_named(ok(h, "Get-Inventory"), "Win10-Office-Gold")["state"])
    t.join()
    assert "Starting" in seen
    assert result["vm"]["state"] == "Running"
    # a second operation on a VM in transition is refused by Hyper-V
    t = threading.Thread(target=lambda: ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "restart"}))
    t.start()
    time.sleep(0.3)
    code, doc, _ = run(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "stop"})
    t.join()
    assert code == 1 and doc["error"]["fqid"] == "InvalidState,Microsoft.HyperV.PowerShell.Commands.StopVM"
    assert "current state" in doc["error"]["message"]


def test_durations_scale_with_speed(lab_factory):
    h = lab_factory(speed=2.0).host("HV01")       # start: 4 s / 2 = 2 s
    vm = vm_named(ok(h, "Get-Inventory"), "Win11-Gold")
    t0 = time.monotonic()
    ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "start"})
    assert 1.9 <= time.monotonic() - t0 < 6


def test_receive_long_poll_times_out_and_pywinrm_retries(lab_factory):
    h = lab_factory(speed=1.6).host("HV01")       # start: 2.5 s, longer than the operation timeout
    vm = vm_named(ok(h, "Get-Inventory"), "Win11-Gold")
    s = session(h, operation_timeout_sec=1, read_timeout_sec=3)
    r = s.run_ps(build("Set-VMPowerState", {"vm_id": vm["id"], "action": "start"}, body="    $null\n"))
    assert r.status_code == 0 and json.loads(r.std_out)["vm"]["state"] == "Running"


def test_large_output_spans_several_receives(lab_factory):
    lab = lab_factory(spec=WorldSpec(hosts=1, vms_per_host=600, seed=3))
    h = lab.hosts[0]
    r = session(h).run_ps(build("Get-Inventory", body="    $null\n"))
    assert r.status_code == 0 and len(r.std_out) > 200_000
    assert len(json.loads(r.std_out)["vms"]) == 600


def test_plain_cmd_command(lab):
    r = session(lab.host("HV01")).run_cmd("ipconfig", ["/all"])
    assert r.status_code == 1 and b"is not recognized as an internal or external command" in r.std_err


def test_many_hosts_in_parallel(lab):
    results = {}

    def worker(h):
        for _ in range(3):
            results.setdefault(h.name, []).append(ok(h, "Get-Inventory")["computer_name"])
    threads = [threading.Thread(target=worker, args=(h,)) for h in lab.hosts for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {k: set(v) for k, v in results.items()} == {h.name: {h.name} for h in lab.hosts}


def test_winrm_is_the_real_client():
    # guard: these tests mean pywinrm 0.5.0, whose message shapes the lab answers
    assert winrm.__version__ == "0.5.0"
