"""The commands the adapter builds, without a host: parameters only as base64, the chunked path."""
from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from console.adapters.hyperv import scripts
from console.adapters.hyperv.scripts import (COMMAND_PREFIX, MAX_COMMAND_CHARS, build_script,
                                             encoded_command, plan_run)

HOSTILE = "x'; Remove-VM * -Force; \"$(Stop-Computer)\" `whoami` ; Ünïcødé-名前 🖥"


def _decode(command: str) -> str:
    assert command.startswith(COMMAND_PREFIX)
    return base64.b64decode(command[len(COMMAND_PREFIX):]).decode("utf-16-le")


def test_hostile_parameter_is_only_inside_base64():
    command = plan_run("Get-VM", {"vm_id": HOSTILE}).commands[0]
    script = _decode(command)
    assert script.startswith("# vdi-script: Get-VM\n")
    for fragment in ("Remove-VM", "Stop-Computer", "whoami", "Ünïcødé", "名前", "x';"):
        assert fragment not in script
    encoded = re.search(r"FromBase64String\('([^']*)'\)", script).group(1)
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", encoded)
    assert json.loads(base64.b64decode(encoded).decode("utf-8")) == {"vm_id": HOSTILE}


def test_script_tokens_are_all_filled_and_includes_expanded():
    for name in ("Get-HostFacts", "Get-Inventory", "Get-VM", "Set-VMPowerState", "Upload-Chunk",
                 "Invoke-Uploaded"):
        text = build_script(name, {})
        assert text.startswith(f"# vdi-script: {name}\n")
        assert "{{" not in text and "vdi-include" not in text
    assert "function ConvertTo-VdiVM" in build_script("Get-Inventory", {})
    assert "function ConvertTo-VdiVM" not in build_script("Get-HostFacts", {})


def test_unknown_script_name_is_refused():
    with pytest.raises(ValueError):
        scripts.script_text("../_invoke")


def test_short_script_is_one_command():
    plan = plan_run("Get-Inventory", {})
    assert not plan.chunked and len(plan.commands) == 1
    assert len(plan.commands[0]) <= MAX_COMMAND_CHARS


def _params(command: str) -> tuple[str, dict]:
    script = _decode(command)
    name = script.splitlines()[0].removeprefix("# vdi-script: ")
    encoded = re.search(r"FromBase64String\('([^']*)'\)", script).group(1)
    return name, json.loads(base64.b64decode(encoded))


@pytest.mark.parametrize("limit", [MAX_COMMAND_CHARS, 6500])
def test_long_script_is_uploaded_without_its_parameters_then_run_with_them(limit):
    params = {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "name": HOSTILE}
    plan = plan_run("Start-TemplateCopy", params, limit)
    assert len(encoded_command(build_script("Start-TemplateCopy", params))) > limit
    assert plan.kind == "cached" and plan.chunked and len(plan.commands) >= 3
    assert all(len(c) <= limit for c in plan.commands)
    text, digest = scripts.cached_script("Start-TemplateCopy")
    assert digest == hashlib.sha256(text.encode("utf-8")).hexdigest() == plan.upload_id
    pieces = [_params(c) for c in plan.uploads]
    assert {name for name, _ in pieces} == {"Upload-Chunk"}
    assert [p["index"] for _, p in pieces] == list(range(len(pieces)))
    assert {p["count"] for _, p in pieces} == {len(pieces)} and {p["id"] for _, p in pieces} == {digest}
    data = b"".join(base64.b64decode(p["data"]) for _, p in pieces)
    assert data == text.encode("utf-8")
    # the uploaded text reads its parameters from the variable Invoke-Uploaded sets: no literal of them
    assert text.startswith("# vdi-script: Start-TemplateCopy\n")
    assert text.count("FromBase64String($VdiUploadedParams)") == 1 and "FromBase64String('e" not in text
    name, run = _params(plan.run)
    assert name == "Invoke-Uploaded" and set(run) == {"id", "params_b64"} and run["id"] == digest
    assert json.loads(base64.b64decode(run["params_b64"])) == params
    # the same script with other parameters: the same upload, another run command
    other = plan_run("Start-TemplateCopy", {"vm_id": "x"}, limit)
    assert other.upload_id == digest and other.uploads == plan.uploads and other.run != plan.run


def test_hostile_parameters_of_an_uploaded_script_are_only_inside_base64():
    plan = plan_run("New-PoolClone", {"name": HOSTILE, "folder": HOSTILE, "base_disks": [HOSTILE]})
    assert plan.kind == "cached"
    for command in plan.commands:
        script = _decode(command)
        for fragment in ("Remove-VM", "Stop-Computer", "whoami", "Ünïcødé", "名前", "x';"):
            assert fragment not in script
    encoded = _params(plan.run)[1]["params_b64"]
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", encoded)


def test_parameters_too_long_for_the_run_command_go_with_a_one_off_upload():
    params = {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "padding": "é" * 3000}
    plan = plan_run("Get-VM", params)
    assert plan.kind == "once" and all(len(c) <= MAX_COMMAND_CHARS for c in plan.commands)
    data = b"".join(base64.b64decode(_params(c)[1]["data"]) for c in plan.uploads)
    assert hashlib.sha256(data).hexdigest() == plan.upload_id
    assert _params(plan.run) == ("Invoke-Uploaded", {"id": plan.upload_id, "once": True})
    text = data.decode("utf-8")
    assert text.startswith(build_script("Get-VM", params)) and "# vdi-once: " in text
    # two identical runs never share a file (one deletes it before it runs)
    assert plan_run("Get-VM", params).upload_id != plan.upload_id


@pytest.mark.parametrize("name", ["Get-HostFacts", "Get-Inventory", "Get-VM", "Set-VMPowerState"])
def test_every_script_fits_one_command_line_at_the_real_limit(name):
    # Each chunked run costs several round trips, and a full disk would fail its upload first.
    params = {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "action": "shutdown"}
    assert not plan_run(name, params).chunked


def test_limit_too_small_is_refused():
    with pytest.raises(ValueError):
        plan_run("Get-HostFacts", {}, 500)


def test_polled_and_removal_pool_scripts_at_the_real_limit():
    # CONTRACT.md: Get-QuickCloneCopy fits one command line; Remove-PoolClone does not, and after its
    # first run on a host it is one Invoke-Uploaded command.
    vm_id, folder = "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "D:\\Hyper-V\\VDI-Pools\\Pool-A\\POOL-A-0001"
    assert plan_run("Get-QuickCloneCopy", {"vm_id": vm_id, "copy_id": "12-34-5"}).kind == "direct"
    assert plan_run("Remove-PoolClone", {"vm_id": vm_id, "folder": folder}).kind == "cached"
