"""Long scripts through the lab: uploaded once per host without their parameters, then one command per
run (Invoke-Uploaded); a lost upload is sent again once, a damaged one refused (CONTRACT.md "Length limit")."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from console.adapters.hyperv import adapter as adapter_module
from console.adapters.hyperv.scripts import cached_script, plan_run
from console.domain.errors import ConsoleError, NotFoundError
from console.lab import scripts as lab_scripts
from console.lab.host_endpoint import HostEndpoint
from console.lab.powershell import decode_command_line, parse_script

LONG = "Get-TemplateSource"        # read-only, and too long for one command line
HOSTILE = "x'; Remove-VM * -Force; \"$(Stop-Computer)\" `whoami` ; Ünïcødé-名前"

pytestmark = pytest.mark.asyncio


@pytest.fixture
def commands(monkeypatch):
    """Every WinRM command the lab's hosts receive, as (host, script name), in order."""
    seen: list[tuple[str, str | None]] = []
    original = HostEndpoint._run

    def run(self, cmd):
        inv = decode_command_line(cmd.command, cmd.arguments)
        seen.append((self.name, parse_script(inv.script).name if inv.kind == "script" else None))
        return original(self, cmd)

    monkeypatch.setattr(HostEndpoint, "_run", run)
    return seen


def _vm_id(lab, host: str, name: str) -> str:
    with lab.world.lock:
        return next(vm.id for vm in lab.world.host(host).vms.values() if vm.name == name)


def _names(commands, host: str = "HV01") -> list[str | None]:
    return [name for h, name in commands if h == host]


def _pieces() -> int:
    return len(plan_run(LONG, {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f"}).uploads)


async def _source(adapter, vm_id: str) -> dict:
    return await adapter.run_script(LONG, {"vm_id": vm_id}, "the source query")


async def test_a_long_script_is_uploaded_once_per_host_then_one_command(lab, hyperv, commands):
    assert plan_run(LONG, {"vm_id": "8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f"}).kind == "cached"
    pieces = _pieces()
    assert pieces >= 2
    adapter = hyperv("HV01")
    gold = await _source(adapter, _vm_id(lab, "HV01", "Win11-Gold"))
    assert gold["vm"]["name"] == "Win11-Gold"
    assert _names(commands) == ["Upload-Chunk"] * pieces + ["Invoke-Uploaded"]
    commands.clear()
    # the same script with other parameters: ONE command
    other = await _source(adapter, _vm_id(lab, "HV01", "Win11-Pool-01"))
    assert other["vm"]["name"] == "Win11-Pool-01"
    assert commands == [("HV01", "Invoke-Uploaded")]
    # another adapter of the same host and account (a new connection) knows it is there too
    commands.clear()
    await _source(hyperv("HV01"), _vm_id(lab, "HV01", "Win11-Gold"))
    assert commands == [("HV01", "Invoke-Uploaded")]
    # another host gets its own upload
    commands.clear()
    await _source(hyperv("HV02"), _vm_id(lab, "HV02", "Win10-Office-Gold"))
    assert _names(commands, "HV02") == ["Upload-Chunk"] * pieces + ["Invoke-Uploaded"]


async def test_concurrent_first_runs_upload_once(lab, hyperv, commands):
    adapter = hyperv("HV01")
    ids = [_vm_id(lab, "HV01", n) for n in ("Win11-Gold", "Win11-Pool-01")] * 3
    results = await asyncio.gather(*(_source(adapter, i) for i in ids))
    assert [r["vm"]["id"] for r in results] == ids
    assert Counter(_names(commands)) == {"Upload-Chunk": _pieces(), "Invoke-Uploaded": len(ids)}


async def test_runs_of_an_uploaded_script_do_not_wait_for_the_upload_lock(lab, hyperv, commands):
    adapter = hyperv("HV01")
    gold = _vm_id(lab, "HV01", "Win11-Gold")
    await _source(adapter, gold)
    async with adapter_module._upload_lock(adapter.endpoint):     # another upload to the host under way
        result = await asyncio.wait_for(_source(adapter, gold), 30)
    assert result["vm"]["name"] == "Win11-Gold"


async def test_a_lost_upload_is_sent_again_and_the_run_retried(lab, hyperv, commands):
    adapter = hyperv("HV01")
    gold = _vm_id(lab, "HV01", "Win11-Gold")
    await _source(adapter, gold)
    lab._endpoints["HV01"].uploads.clear()          # temp cleaned, or another console's lab restarted
    commands.clear()
    result = await _source(adapter, gold)
    assert result["vm"]["name"] == "Win11-Gold"
    assert _names(commands) == ["Invoke-Uploaded"] + ["Upload-Chunk"] * _pieces() + ["Invoke-Uploaded"]
    commands.clear()
    await _source(adapter, gold)
    assert _names(commands) == ["Invoke-Uploaded"]


async def test_an_upload_lost_again_is_sent_only_once_more(lab, hyperv, commands, monkeypatch):
    original = lab_scripts.SCRIPTS["Invoke-Uploaded"]

    def losing(ctx, params):
        ctx.uploads.clear()                          # the host loses every upload at once
        return original(ctx, params)

    monkeypatch.setitem(lab_scripts.SCRIPTS, "Invoke-Uploaded", losing)
    with pytest.raises(NotFoundError) as info:
        await _source(hyperv("HV01"), _vm_id(lab, "HV01", "Win11-Gold"))
    assert "was not found on the host" in info.value.message
    assert Counter(_names(commands)) == {"Upload-Chunk": 2 * _pieces(), "Invoke-Uploaded": 2}


async def test_a_damaged_upload_is_refused_then_sent_again(lab, hyperv, commands):
    adapter = hyperv("HV01")
    gold = _vm_id(lab, "HV01", "Win11-Gold")
    await _source(adapter, gold)
    text, upload_id = cached_script(LONG)
    uploads = lab._endpoints["HV01"].uploads
    assert bytes(uploads[upload_id]) == text.encode("utf-8")
    uploads[upload_id] = text.replace("\n", "\nStop-Computer -Force\n", 1).encode("utf-8")   # tampered with
    commands.clear()
    with pytest.raises(ConsoleError) as info:
        await _source(adapter, gold)
    assert "arrived damaged" in info.value.message
    assert upload_id not in uploads                  # Invoke-Uploaded removed it, never ran it
    assert _names(commands) == ["Invoke-Uploaded"]
    commands.clear()
    assert (await _source(adapter, gold))["vm"]["name"] == "Win11-Gold"
    assert _names(commands) == ["Upload-Chunk"] * _pieces() + ["Invoke-Uploaded"]


async def test_hostile_parameters_of_an_uploaded_script_stay_data(lab, hyperv, commands):
    adapter = hyperv("HV03")
    before = len(lab.world.host("HV03").vms)
    for _ in range(2):                               # the upload's run, then a cached run
        with pytest.raises(ConsoleError) as info:
            await adapter.run_script(LONG, {"vm_id": HOSTILE}, "the source query")
        assert HOSTILE in info.value.message         # only an odd VM id
    assert _names(commands, "HV03")[-2:] == ["Invoke-Uploaded", "Invoke-Uploaded"]
    assert len(lab.world.host("HV03").vms) == before
