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


@pytest.mark.parametrize("limit", [MAX_COMMAND_CHARS, 6000])
def test_long_script_is_uploaded_in_pieces_that_reassemble(limit):
    params = {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "padding": "é" * 3000}
    plan = plan_run("Get-VM", params, limit)
    full = build_script("Get-VM", params)
    assert len(encoded_command(full)) > limit
    assert plan.chunked and len(plan.commands) >= 3
    assert all(len(c) <= limit for c in plan.commands)
    pieces = [_params(c) for c in plan.commands[:-1]]
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()
    assert {name for name, _ in pieces} == {"Upload-Chunk"}
    assert [p["index"] for _, p in pieces] == list(range(len(pieces)))
    assert {p["count"] for _, p in pieces} == {len(pieces)} and {p["id"] for _, p in pieces} == {digest}
    data = b"".join(base64.b64decode(p["data"]) for _, p in pieces)
    assert data == full.encode("utf-8")
    assert _params(plan.commands[-1]) == ("Invoke-Uploaded", {"id": digest})


@pytest.mark.parametrize("name", ["Get-HostFacts", "Get-Inventory", "Get-VM", "Set-VMPowerState"])
def test_every_script_fits_one_command_line_at_the_real_limit(name):
    # Each chunked run costs several round trips, and a full disk would fail its upload first.
    params = {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "action": "shutdown"}
    assert not plan_run(name, params).chunked


def test_limit_too_small_is_refused():
    with pytest.raises(ValueError):
        plan_run("Get-HostFacts", {}, 500)
