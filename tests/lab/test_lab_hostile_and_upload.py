"""Hostile VM names are data, never code; long scripts go through Upload-Chunk / Invoke-Uploaded."""
from __future__ import annotations

import base64
import hashlib
import json

from console.lab import HOSTILE_NAMES
from labkit import SHORT, build, command_length, ok, run, session, upload_and_run, vm_named


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


def test_long_script_through_upload(lab):
    h = lab.host("HV02")
    vm = vm_named(ok(h, "Get-Inventory"), "FS-Profiles")
    padding = "".join(f"$pad{i} = '{'x' * 60}'\n" for i in range(150))
    script = build("Get-VM", {"vm_id": vm["id"]}, body=padding + "    $null\n")
    assert command_length(script) > 8191
    code, doc, err = upload_and_run(h, script)
    assert code == 0 and doc["name"] == "FS-Profiles"
    assert err.startswith(b"#< CLIXML")
    # the uploaded file is deleted after the run
    code, doc, _ = run(h, "Invoke-Uploaded", {"id": hashlib.sha256(script.encode()).hexdigest()})
    assert code == 1 and doc["error"]["category"] == "ObjectNotFound"
    assert doc["error"]["fqid"] == "VdiUploadMissing"


def test_uploaded_script_error_is_its_own(lab):
    h = lab.host("HV02")
    script = build("Get-VM", {"vm_id": "11111111-2222-4333-8444-555555555555"},
                   body="".join(f"$p{i} = '{'y' * 70}'\n" for i in range(130)))
    code, doc, _ = upload_and_run(h, script)
    assert code == 1 and "unable to find a virtual machine" in doc["error"]["message"]


def test_uploaded_power_action_changes_the_world(lab):
    h = lab.host("HV04")
    vm = vm_named(ok(h, "Get-Inventory"), "Lab-Linux")
    script = build("Set-VMPowerState", {"vm_id": vm["id"], "action": "start"},
                   body="".join(f"$p{i} = '{'z' * 70}'\n" for i in range(130)))
    code, doc, _ = upload_and_run(h, script)
    assert code == 0 and doc["vm"]["state"] == "Running" and doc["changed"] is True


def test_upload_errors(lab):
    h = lab.host("HV01")
    good = "b" * 64
    code, doc, _ = run(h, "Upload-Chunk", {"id": "NOT-A-SHA", "index": 0, "count": 1, "data": ""})
    assert code == 1 and "not a lowercase SHA-256" in doc["error"]["message"]
    code, doc, _ = run(h, "Upload-Chunk", {"id": good, "index": 1, "count": 2, "data": "QQ=="})
    assert code == 1 and "arrived before piece 0" in doc["error"]["message"]
    # pieces that do not add up to the announced script
    data = b"# vdi-script: Get-Inventory\n"
    upload_id = hashlib.sha256(data + b"!").hexdigest()
    ok(h, "Upload-Chunk", {"id": upload_id, "index": 0, "count": 1, "data": base64.b64encode(data).decode()})
    code, doc, _ = run(h, "Invoke-Uploaded", {"id": upload_id})
    assert code == 1 and "arrived damaged" in doc["error"]["message"]


def test_uploads_are_per_host(lab):
    script = build("Get-Inventory", body="".join(f"$p{i} = '{'q' * 70}'\n" for i in range(130)))
    data = script.encode()
    upload_id = hashlib.sha256(data).hexdigest()
    ok(lab.host("HV01"), "Upload-Chunk", {"id": upload_id, "index": 0, "count": 1,
                                          "data": base64.b64encode(data).decode()})
    code, doc, _ = run(lab.host("HV02"), "Invoke-Uploaded", {"id": upload_id})
    assert code == 1 and doc["error"]["category"] == "ObjectNotFound"
    assert ok(lab.host("HV01"), "Invoke-Uploaded", {"id": upload_id})["computer_name"] == "HV01"
