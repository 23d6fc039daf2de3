"""Hostile VM names are data, never code; long scripts go through Upload-Chunk / Invoke-Uploaded: uploaded
once per host without their parameters (kept), or whole with them for one run (deleted)."""
from __future__ import annotations

import hashlib
import json

from console.lab import HOSTILE_NAMES
from labkit import (SHORT, build, command_length, invoke, ok, params_b64, run, run_uploaded, session, upload,
                    upload_and_run, vm_named)


def test_hostile_names_round_trip_unchanged(lab):
    h = lab.host("HV03")
    inv = ok(h, "Get-Inventory")
    names = [v["name"] for v in inv["vms"]]
    for name in HOSTILE_NAMES:
        assert name in names
    for name in HOSTILE_NAMES:
        vm = vm_named(inv, name)
        got = ok(h, "Get-VM", {"vm_id": vm["id"]})
        assert got["name"] == name and got["path"] == vm["path"]
        action = "start" if vm["state"] != "Running" else "stop"
        res = ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": action})
        assert res["vm"]["name"] == name and res["changed"] is True
    # nothing was evaluated: every VM is still there, the host answers, the other hosts too
    assert len(ok(h, "Get-Inventory")["vms"]) == len(inv["vms"])
    for other in lab.hosts:
        ok(other, "Get-HostFacts")


def test_hostile_name_in_error_messages(lab):
    h = lab.host("HV03")
    vm = vm_named(ok(h, "Get-Inventory"), "$(Stop-Computer)")
    ok(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "stop"})
    code, doc, _ = run(h, "Set-VMPowerState", {"vm_id": vm["id"], "action": "restart"})
    assert code == 1 and "'$(Stop-Computer)'" in doc["error"]["message"]
    assert doc["error"]["target"] == "$(Stop-Computer)"


def test_stdout_is_ascii_when_the_wrapper_escapes(lab):
    h = lab.host("HV03")
    r = session(h).run_ps(build("Get-Inventory", body=SHORT))
    r.std_out.decode("ascii")                     # \uXXXX escapes, as the wrapper writes them
    assert "Überwachung-Ärzte-東京" in [v["name"] for v in json.loads(r.std_out)["vms"]]
    assert b"\\u0027Q3\\u0027" in r.std_out       # Windows PowerShell 5.1 escapes ' < > &


def test_console_code_page_garbles_what_a_script_does_not_protect(lab):
    """A script that neither switches the output to UTF-8 nor escapes gets Windows' treatment: stdout
    in the shell's code page (437 for pywinrm), characters it lacks become '?'."""
    h = lab.host("HV03")
    wrapper = ("# vdi-script: {{SCRIPT_NAME}}\n$VdiParams = [Text.Encoding]::UTF8.GetString("
               "[Convert]::FromBase64String('{{PARAMS_B64}}')) | ConvertFrom-Json\n"
               "[Console]::Out.Write((ConvertTo-Json -InputObject (& {\n{{SCRIPT_BODY}}\n}) -Compress))\n")
    r = session(h).run_ps(build("Get-Inventory", body=SHORT, wrapper=wrapper))
    assert r.status_code == 0
    names = [v["name"] for v in json.loads(r.std_out.decode("cp437"))["vms"]]
    assert "Überwachung-Ärzte-??" in names


def _padding(n: int, ch: str) -> str:
    return "".join(f"$p{i} = '{ch * 70}'\n" for i in range(n))


def test_long_script_through_a_one_off_upload(lab):
    h = lab.host("HV02")
    vm = vm_named(ok(h, "Get-Inventory"), "FS-Profiles")
    script = build("Get-VM", {"vm_id": vm["id"]}, body=_padding(150, "x") + "    $null\n")
    assert command_length(script) > 8191
    code, doc, err = upload_and_run(h, script)
    assert code == 0 and doc["name"] == "FS-Profiles"
    assert err.startswith(b"#< CLIXML")
    # a one-off upload (it carries its parameters) is deleted before it runs
    code, doc, _ = invoke(h, {"id": hashlib.sha256(script.encode()).hexdigest(), "once": True})
    assert code == 1 and doc["error"]["category"] == "ObjectNotFound"
    assert doc["error"]["fqid"] == "VdiUploadMissing"


def test_uploaded_script_error_is_its_own(lab):
    h = lab.host("HV02")
    script = build("Get-VM", {"vm_id": "11111111-2222-4333-8444-555555555555"}, body=_padding(130, "y"))
    code, doc, _ = upload_and_run(h, script)
    assert code == 1 and "unable to find a virtual machine" in doc["error"]["message"]


def test_uploaded_power_action_changes_the_world(lab):
    h = lab.host("HV04")
    vm = vm_named(ok(h, "Get-Inventory"), "Lab-Linux")
    script = build("Set-VMPowerState", {"vm_id": vm["id"], "action": "start"}, body=_padding(130, "z"))
    code, doc, _ = upload_and_run(h, script)
    assert code == 0 and doc["vm"]["state"] == "Running" and doc["changed"] is True


def test_script_uploaded_once_runs_with_each_runs_parameters_and_stays(lab):
    h = lab.host("HV02")
    vms = {v["name"]: v for v in ok(h, "Get-Inventory")["vms"]}
    cached = build("Get-VM", body=_padding(130, "c") + "    Get-VM -Id $VdiParams.vm_id\n", uploaded=True)
    assert "FromBase64String($VdiUploadedParams)" in cached and "FromBase64String('" not in cached
    upload_id = upload(h, cached.encode("utf-8"))
    for name in ("FS-Profiles", "Win10-Office-Gold", "FS-Profiles"):
        code, doc, _ = run_uploaded(h, upload_id, {"vm_id": vms[name]["id"]})
        assert code == 0 and doc["name"] == name
    code, doc, _ = run_uploaded(h, upload_id, {"vm_id": "11111111-2222-4333-8444-555555555555"})
    assert code == 1 and "unable to find a virtual machine" in doc["error"]["message"]
    # the same text uploaded again (another console) replaces the file; runs go on
    assert upload(h, cached.encode("utf-8"), piece_size=300) == upload_id
    assert run_uploaded(h, upload_id, {"vm_id": vms["FS-Profiles"]["id"]})[1]["name"] == "FS-Profiles"


def test_hostile_parameters_of_an_uploaded_script_stay_data(lab):
    h = lab.host("HV03")
    vms = {v["name"]: v for v in ok(h, "Get-Inventory")["vms"]}
    upload_id = upload(h, build("Get-VM", body=_padding(130, "h"), uploaded=True).encode("utf-8"))
    hostile = "x'; Remove-VM * -Force; \"$(Stop-Computer)\" `whoami`"
    code, doc, _ = run_uploaded(h, upload_id, {"vm_id": hostile})
    assert code == 1 and hostile in doc["error"]["message"]          # only an odd VM id
    # params_b64 must be base64: anything else is refused before the script runs
    code, doc, _ = invoke(h, {"id": upload_id, "params_b64": "'); Remove-VM * -Force; ('"})
    assert code == 1 and "not base64" in doc["error"]["message"]
    code, doc, _ = invoke(h, {"id": upload_id})
    assert code == 1 and "not base64" in doc["error"]["message"]
    assert len(ok(h, "Get-Inventory")["vms"]) == len(vms)


def test_an_uploaded_script_run_without_invoke_uploaded_has_no_parameters(lab):
    h = lab.host("HV01")
    r = session(h).run_ps(build("Get-Inventory", body=SHORT, uploaded=True))
    assert r.status_code == 1 and b"Value cannot be null" in r.std_err


def test_upload_errors(lab):
    h = lab.host("HV01")
    good = "b" * 64
    code, doc, _ = run(h, "Upload-Chunk", {"id": "NOT-A-SHA", "index": 0, "count": 1, "data": ""})
    assert code == 1 and "not a lowercase SHA-256" in doc["error"]["message"]
    code, doc, _ = run(h, "Upload-Chunk", {"id": good, "index": 1, "count": 2, "data": "QQ=="})
    assert code == 1 and "arrived before piece 0" in doc["error"]["message"]
    code, doc, _ = run(h, "Upload-Chunk", {"id": good, "index": 2, "count": 2, "data": "QQ=="})
    assert code == 1 and "not one of its 2 pieces" in doc["error"]["message"]
    # an upload under way is not a file to run yet
    ok(h, "Upload-Chunk", {"id": good, "index": 0, "count": 2, "data": "QQ=="})
    code, doc, _ = run_uploaded(h, good, {})
    assert code == 1 and doc["error"]["fqid"] == "VdiUploadMissing"


def test_a_damaged_upload_is_refused_and_removed(lab):
    h = lab.host("HV01")
    data = build("Get-Inventory", body=SHORT, uploaded=True).encode("utf-8")
    upload_id = hashlib.sha256(data + b"!").hexdigest()          # pieces that are not the announced script
    upload(h, data, upload_id=upload_id)
    code, doc, _ = run_uploaded(h, upload_id, {})
    assert code == 1 and "arrived damaged" in doc["error"]["message"]
    assert doc["error"]["fqid"] == "VdiUploadDamaged" and doc["error"]["category"] == "InvalidData"
    code, doc, _ = run_uploaded(h, upload_id, {})
    assert code == 1 and doc["error"]["fqid"] == "VdiUploadMissing"     # gone: the next run uploads again


def test_uploads_are_per_host_and_lost_when_the_lab_restarts(lab):
    data = build("Get-Inventory", body=_padding(130, "q"), uploaded=True).encode("utf-8")
    upload_id = upload(lab.host("HV01"), data)
    code, doc, _ = run_uploaded(lab.host("HV02"), upload_id, {})
    assert code == 1 and doc["error"]["category"] == "ObjectNotFound"
    assert run_uploaded(lab.host("HV01"), upload_id, {})[1]["computer_name"] == "HV01"
    lab.set_fault("HV01", "offline")                 # a host going away and back keeps its TEMP
    lab.set_fault("HV01", None)
    assert run_uploaded(lab.host("HV01"), upload_id, {})[1]["computer_name"] == "HV01"
    lab.stop()                                       # the lab keeps uploads in memory only
    lab.start()
    code, doc, _ = run_uploaded(lab.host("HV01"), upload_id, {})
    assert code == 1 and doc["error"]["fqid"] == "VdiUploadMissing"
    assert params_b64({}) == "e30="
