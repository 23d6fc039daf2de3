"""The scripts of console/adapters/hyperv/scripts/CONTRACT.md, emulated against the simulated world.

Each emulation takes an ``OpContext`` (which host, the world, timing) and the decoded parameter
document, and returns the JSON-able result or raises ``PSError`` (the wrapper's catch turns it into the
error document, exit code 1). Operations take time through ``ctx.sleep`` while the client's Receive is
pending; a VM passes through Starting/Stopping meanwhile, and goes back to where it was if the host goes
away in the middle (``Aborted``).

To emulate a new script: write ``def my_script(ctx, params) -> object`` (raise ``PSError`` with the
message/fqid/category Windows would give) and add it to ``SCRIPTS`` under the script's file name.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
import uuid
from typing import Callable, Protocol

from .hyperv_model import SimHost, VirtualMachine
from .powershell import (PROGRESS_NOISE, HyperV, ProcessResult, PSError, escapes_non_ascii, not_recognized,
                         parse_script, ps_json, sets_utf8_output, terminating, thrown)
from .world import World

#: seconds at speed 1.0 (real-ish); divided by the lab's speed, x10 on a host with the "slow" fault
DURATIONS = {
    "start": 4.0, "resume-saved": 3.0, "resume-paused": 0.5, "shutdown": 6.0, "turnoff": 1.0,
    "restart": 8.0, "inventory": 0.3, "facts": 0.5, "get-vm": 0.2, "noop": 0.2,
    "upload-chunk": 0.05, "invoke-uploaded": 0.05,
    "unit": 1.0,          # one second: durations computed from sizes (template_timings) scale by it
}


class Aborted(Exception):
    """The host went away (offline fault, lab stopped) while the operation was running."""


class OpContext(Protocol):
    world: World
    host_name: str
    script_name: str                    # the script now running (set by run_script)
    username: str
    # this host's $env:TEMP\vdi-<id>.ps1 files: id -> bytes (and "<id>.part" -> bytearray, an upload
    # under way). In memory, per HostEndpoint: kept while the lab runs (through an offline fault), lost
    # when it stops; a lost file answers ObjectNotFound, and the adapter uploads it again.
    uploads: dict

    def duration(self, key: str) -> float: ...          # DURATIONS[key], scaled
    def begin(self, total_seconds: float) -> None: ...  # an operation of that length starts now
    def sleep(self, seconds: float) -> None: ...        # raises Aborted
    def run_script(self, script: str) -> ProcessResult: ...


Script = Callable[[OpContext, dict], object]


# ------------------------------------------------------------------------------------ running one

def run_script(ctx: OpContext, script: str, uploaded_params: str | None = None) -> ProcessResult:
    """Run one script text as powershell.exe would: JSON on stdout, progress noise on stderr.
    ``uploaded_params``: the value of $VdiUploadedParams (set by Invoke-Uploaded), which a script
    uploaded once per host decodes instead of a parameter literal."""
    utf8 = sets_utf8_output(script)
    ascii_only = escapes_non_ascii(script)
    call = parse_script(script, uploaded_params)
    if call.name is None:
        if not call.first_token:
            res = ProcessResult(stderr=PROGRESS_NOISE)
        else:
            res = terminating(not_recognized(call.first_token), "At line:1 char:1")
    elif call.error is not None:
        res = call.error
    else:
        handler = SCRIPTS.get(call.name)
        ctx.script_name = call.name
        params = call.params if isinstance(call.params, dict) else {}
        if handler is None:
            res = ProcessResult(ps_json(not_recognized(call.name).document(), ascii_only), PROGRESS_NOISE, 1)
        else:
            try:
                out = handler(ctx, params)
            except PSError as e:
                res = ProcessResult(ps_json(e.document(), ascii_only), PROGRESS_NOISE, 1)
            else:
                res = out if isinstance(out, ProcessResult) else ProcessResult(ps_json(out, ascii_only),
                                                                                   PROGRESS_NOISE, 0)
    res.utf8 = res.utf8 or utf8
    return res


# ---------------------------------------------------------------------------------------- helpers

def _host(ctx: OpContext) -> SimHost:
    return ctx.world.host(ctx.host_name)


def _vm_id(params: dict) -> str:
    """``[guid][string]$VdiParams.vm_id`` as the scripts do it."""
    value = params.get("vm_id")
    text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
    try:
        return str(uuid.UUID(text.strip())).lower()
    except ValueError:
        raise HyperV.bad_guid_cast(text) from None


def _timed(ctx: OpContext, key: str) -> None:
    d = ctx.duration(key)
    ctx.begin(d)
    ctx.sleep(d)


def _save(ctx: OpContext) -> None:
    ctx.world.save_host(ctx.host_name)


# ---------------------------------------------------------------------------------------- scripts

def get_host_facts(ctx: OpContext, params: dict) -> object:
    _timed(ctx, "facts")
    with ctx.world.lock:
        return _host(ctx).facts()


def get_inventory(ctx: OpContext, params: dict) -> object:
    _timed(ctx, "inventory")
    with ctx.world.lock:
        host = _host(ctx)
        now = time.time()
        return {"computer_name": host.name, "vms": [vm.to_contract(now) for vm in host.vms.values()]}


def get_vm(ctx: OpContext, params: dict) -> object:
    vm_id = _vm_id(params)
    _timed(ctx, "get-vm")
    with ctx.world.lock:
        vm = _host(ctx).vm_by_id(vm_id)
        if vm is None:
            raise HyperV.vm_not_found(vm_id)
        return vm.to_contract()


_CMD = {"start": "StartVM", "shutdown": "StopVM", "stop": "StopVM", "restart": "RestartVM"}


def _vdi_invalid_state(vm: VirtualMachine, verb: str) -> PSError:
    """Set-VMPowerState's own refusal (CONTRACT.md), before touching the VM."""
    return PSError(f"The virtual machine '{vm.name}' cannot be {verb} in its current state ({vm.state}).",
                   "VdiInvalidState", "InvalidOperation", "System.InvalidOperationException", vm.name)


def _plan(host: SimHost, vm: VirtualMachine, action: str, ctx: OpContext):
    """What Set-VMPowerState.ps1 does from the VM's state:
    -> (phases [(state, seconds)] or None for a no-op, final state, note, restart the uptime clock)."""
    state, cmd = vm.state, _CMD[action]
    if action == "start":
        if state == "Running":
            return None, state, "The virtual machine is already running.", False
        if state == "Paused":                                   # Resume-VM
            return [("Starting", ctx.duration("resume-paused"))], "Running", "", False
        if state in ("Off", "Saved"):                           # Start-VM (restores a saved state)
            if host.fault == "disk-full":
                raise HyperV.disk_full_on_start(vm.name, vm.id, vm.path)
            key = "start" if state == "Off" else "resume-saved"
            return [("Starting", ctx.duration(key))], "Running", "", True
    elif action == "shutdown":
        if state == "Off":
            return None, state, "The virtual machine is already off.", False
        if state != "Running":
            raise _vdi_invalid_state(vm, "shut down")
        if not vm.integration_services:                         # Stop-VM -Force
            raise HyperV.shutdown_unavailable(vm.name, vm.id)
        return [("Stopping", ctx.duration("shutdown"))], "Off", "", False
    elif action == "stop":
        if state == "Off":
            return None, state, "The virtual machine is already off.", False
        if state in ("Running", "Paused", "Saved"):             # Stop-VM -TurnOff -Force
            return [("Stopping", ctx.duration("turnoff"))], "Off", "", False
    elif action == "restart":
        if state != "Running":
            raise _vdi_invalid_state(vm, "restarted")
        d = ctx.duration("restart")                             # Restart-VM -Force
        return [("Stopping", d * 3 / 8), ("Starting", d * 5 / 8)], "Running", "", True
    # Start-VM / Stop-VM on a VM already Starting or Stopping: Hyper-V's own refusal
    raise HyperV.invalid_state(vm.name, vm.id, cmd)


def set_vm_power_state(ctx: OpContext, params: dict) -> object:
    vm_id = _vm_id(params)
    action = params.get("action")
    world = ctx.world
    with world.lock:
        host = _host(ctx)
        vm = host.vm_by_id(vm_id)
        if vm is None:
            raise HyperV.vm_not_found(vm_id)
        if action not in _CMD:
            action_text = "" if action is None else str(action)
            raise PSError(f"Unknown power action '{action_text}'.", "VdiUnknownAction", "InvalidArgument",
                          "System.ArgumentException", action_text)
        phases, final, note, reset_uptime = _plan(host, vm, action, ctx)
        if phases is not None:
            prev_state, prev_started = vm.state, vm.started_at
            vm.prev_state = prev_state
            vm.state = phases[0][0]
            if vm.state == "Starting" and reset_uptime:
                vm.started_at = None
    if phases is None:
        _timed(ctx, "noop")
        with world.lock:
            return {"vm": vm.to_contract(), "changed": False, "note": note}
    _save(ctx)
    ctx.begin(sum(s for _, s in phases))
    try:
        for i, (phase_state, seconds) in enumerate(phases):
            if i:
                with world.lock:
                    vm.state = phase_state
                    if phase_state == "Starting" and reset_uptime:
                        vm.started_at = None
                _save(ctx)
            ctx.sleep(seconds)
    except Aborted:
        with world.lock:
            vm.state, vm.started_at, vm.prev_state = prev_state, prev_started, None
        _save(ctx)
        raise
    with world.lock:
        vm.state = final
        vm.prev_state = None
        if final == "Running":
            if reset_uptime or not vm.started_at:
                vm.started_at = time.time()
        else:
            vm.started_at = None
        out = vm.to_contract()
    _save(ctx)
    return {"vm": out, "changed": True, "note": note}


_UPLOAD_ID = re.compile(r"^[0-9a-f]{64}$")


def _temp_path(ctx: OpContext, upload_id: str) -> str:
    user = ctx.username.split("\\")[-1] or "admin"
    return f"C:\\Users\\{user}\\AppData\\Local\\Temp\\vdi-{upload_id}.ps1"


def _upload_id(params: dict) -> str:
    upload_id = "" if params.get("id") is None else str(params.get("id"))
    if not _UPLOAD_ID.match(upload_id):
        raise thrown("The upload id is not a lowercase SHA-256 hex string.")
    return upload_id


def _int_param(params: dict, key: str) -> int:
    value = params.get(key)
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        raise PSError(f'Cannot convert value "{value}" to type "System.Int32". Error: "Input string was '
                      f'not in a correct format."', "InvalidCastFromStringToInteger", "InvalidArgument",
                      "System.Management.Automation.RuntimeException", "") from None


def upload_chunk(ctx: OpContext, params: dict) -> object:
    """Upload-Chunk.ps1: piece 0 creates $env:TEMP\\vdi-<id>.ps1.part, later pieces append, the last one
    renames it to vdi-<id>.ps1 (replacing one there)."""
    upload_id = _upload_id(params)
    index, count = _int_param(params, "index"), _int_param(params, "count")
    if index < 0 or index >= count:
        raise thrown(f"Piece {index} of upload {upload_id} is not one of its {count} pieces.")
    data = "" if params.get("data") is None else str(params.get("data"))
    try:
        piece = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PSError('Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid '
                      'Base-64 string as it contains a non-base 64 character, more than two padding '
                      'characters, or an illegal character among the padding characters. "',
                      "FormatException", "NotSpecified",
                      "System.Management.Automation.MethodInvocationException", "") from None
    _timed(ctx, "upload-chunk")
    part = f"{upload_id}.part"
    with ctx.world.lock:
        disk_full = _host(ctx).fault == "disk-full"
        if index == 0:
            if disk_full:
                raise HyperV.disk_full_write("WriteAllBytes", 2)
            ctx.uploads[part] = bytearray(piece)
        else:
            if part not in ctx.uploads:
                raise thrown(f"Piece {index} of upload {upload_id} arrived before piece 0.")
            if disk_full and piece:
                raise HyperV.disk_full_write("Write", 3)
            ctx.uploads[part] += piece
        size = len(ctx.uploads[part])
        if index == count - 1:
            ctx.uploads[upload_id] = ctx.uploads.pop(part)
    return {"id": upload_id, "index": index, "count": count, "bytes": size}


_BASE64 = re.compile(r"[A-Za-z0-9+/]+=*")


def invoke_uploaded(ctx: OpContext, params: dict) -> object:
    """Invoke-Uploaded.ps1: check the file arrived whole, then run it. With ``params_b64`` the file is a
    script uploaded once without its parameters: it stays, and reads them from $VdiUploadedParams. With
    ``once`` it carries its own and is deleted first. Its answer is ours (it is a whole _invoke.ps1)."""
    upload_id = _upload_id(params)
    once = params.get("once") is True
    uploaded_params = "" if params.get("params_b64") is None else str(params.get("params_b64"))
    if not once and not _BASE64.fullmatch(uploaded_params):
        raise thrown("The parameters are not base64.")
    path = _temp_path(ctx, upload_id)
    _timed(ctx, "invoke-uploaded")
    with ctx.world.lock:
        data = ctx.uploads.get(upload_id)
        if data is not None:
            data = bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            if once or digest != upload_id:
                del ctx.uploads[upload_id]
    if data is None:
        raise PSError(f"The uploaded script {upload_id} was not found on the host.", "VdiUploadMissing",
                      "ObjectNotFound", "System.IO.FileNotFoundException", path)
    if digest != upload_id:
        raise PSError(f"The uploaded script {upload_id} arrived damaged (its SHA-256 is {digest}).",
                      "VdiUploadDamaged", "InvalidData", "System.IO.InvalidDataException", path)
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    # $VdiUploadedParams is set in Invoke-Uploaded's scope (the script block runs in a child of it);
    # a one-off script has its own parameter literal and never reads it.
    return run_script(ctx, text, uploaded_params=uploaded_params)


SCRIPTS: dict[str, Script] = {
    "Get-HostFacts": get_host_facts,
    "Get-Inventory": get_inventory,
    "Get-VM": get_vm,
    "Set-VMPowerState": set_vm_power_state,
    "Upload-Chunk": upload_chunk,
    "Invoke-Uploaded": invoke_uploaded,
}

# The template scripts (issue #4): imported last, they never import this module.
from .template_copies import SCRIPTS as _TEMPLATE_COPIES
from .template_scripts import SCRIPTS as _TEMPLATE_SOURCE

SCRIPTS.update(_TEMPLATE_SOURCE)
SCRIPTS.update(_TEMPLATE_COPIES)

# The pool scripts (issue #5): imported last too, they never import this module.
from .pool_scripts import SCRIPTS as _POOL_SCRIPTS

SCRIPTS.update(_POOL_SCRIPTS)
