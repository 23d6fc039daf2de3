"""The PowerShell scripts of scripts/*.ps1 and the commands that carry them (see scripts/CONTRACT.md).

Pure functions, no I/O beyond reading the packaged script files. Parameters only ever enter a
command as base64 of their JSON, so nothing in a parameter can become code; a long script is uploaded
once per host without its parameters, which each run hands it as data (CONTRACT.md "Length limit").
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Any

#: cmd.exe caps a command line at 8191 characters; stay clearly below (CONTRACT.md "Length limit").
MAX_COMMAND_CHARS = 8000
COMMAND_PREFIX = "powershell -encodedcommand "

#: The parameter literal of _invoke.ps1, and what replaces it in a script uploaded once per host.
_PARAMS_TOKEN = "'{{PARAMS_B64}}'"
UPLOADED_PARAMS_VARIABLE = "$VdiUploadedParams"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
_INCLUDE = re.compile(r"^\s*# vdi-include: (?P<file>_[A-Za-z0-9-]+\.ps1)\s*$", re.MULTILINE)


@functools.cache
def _read(file_name: str) -> str:
    return resources.files(__package__).joinpath("scripts", file_name).read_text(encoding="utf-8")


def script_text(name: str) -> str:
    """The text of scripts/<name>.ps1 with its ``# vdi-include:`` lines replaced by the files named."""
    if not _NAME.match(name):
        raise ValueError(f"not a script name: {name!r}")
    return _INCLUDE.sub(lambda m: _read(m.group("file")).rstrip("\n"), _read(f"{name}.ps1"))


def _compact(text: str) -> str:
    """Drop indentation, blank lines and comment-only lines (all but the first line, which names the
    script): scripts are read by people in the files and sent compact, so fewer need chunking.
    Our scripts use no here-strings or block comments, which this would break."""
    first, _, rest = text.partition("\n")
    kept = [first.rstrip()]
    for line in rest.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            kept.append(line)
    return "\n".join(kept) + "\n"


def encode_params(params: dict[str, Any]) -> str:
    raw = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def _fill(name: str, params_expression: str) -> str:
    wrapper = _read("_invoke.ps1")
    if _PARAMS_TOKEN not in wrapper:
        raise ValueError("_invoke.ps1 lacks the parameter token")
    # Replace the body last, so a token-like string inside a script body is never expanded.
    text = wrapper.replace("{{SCRIPT_NAME}}", name).replace(_PARAMS_TOKEN, params_expression)
    return _compact(text.replace("{{SCRIPT_BODY}}", script_text(name)))


def build_script(name: str, params: dict[str, Any]) -> str:
    """The full PowerShell text for one script run: _invoke.ps1 with the three tokens filled."""
    return _fill(name, f"'{encode_params(params)}'")


@functools.cache
def cached_script(name: str) -> tuple[str, str]:
    """(text, id) of what is uploaded once per host for a long script: _invoke.ps1 filled with the
    script but, instead of a parameter literal, the variable Invoke-Uploaded sets to the run's base64
    parameter document (CONTRACT.md "Length limit"). ``id`` is the SHA-256 of the UTF-8 text."""
    text = _fill(name, UPLOADED_PARAMS_VARIABLE)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def encoded_command(script: str) -> str:
    """The command line pywinrm's run_ps would send for ``script``."""
    return COMMAND_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


@dataclass(frozen=True)
class PlannedRun:
    """What to send for one script run: one command, or upload commands then the run command.

    ``kind``: "direct" (one command, the script itself), "cached" (``commands[:-1]`` upload the
    parameterless script ``upload_id`` once per host; ``commands[-1]`` runs it with this run's
    parameters) or "once" (the parameters are too long for that run command: the whole script with
    its parameters is uploaded under a unique id and runs once, deleted first)."""

    name: str
    commands: list[str]        # encoded command lines, in order: the uploads (if any), then the run
    chunked: bool              # not one command: the script goes through an upload
    kind: str = "direct"
    upload_id: str = ""

    @property
    def uploads(self) -> list[str]:
        return self.commands[:-1]

    @property
    def run(self) -> str:
        return self.commands[-1]


def plan_run(name: str, params: dict[str, Any], limit: int = MAX_COMMAND_CHARS) -> PlannedRun:
    """One command if it fits under ``limit`` characters; else the cached script's upload pieces and
    an Invoke-Uploaded run with the parameters; else (parameters too long for that) a one-off upload."""
    script = build_script(name, params)
    command = encoded_command(script)
    if len(command) <= limit:
        return PlannedRun(name, [command], chunked=False)
    _, upload_id = cached_script(name)
    run = encoded_command(build_script("Invoke-Uploaded", {"id": upload_id, "params_b64": encode_params(params)}))
    if len(run) <= limit:
        return PlannedRun(name, [*cached_uploads(name, limit), run], True, "cached", upload_id)
    # A comment with a random nonce: two identical one-off runs never share (or delete) one file.
    data = f"{script}# vdi-once: {secrets.token_hex(8)}\n".encode("utf-8")
    once_id = hashlib.sha256(data).hexdigest()
    run = encoded_command(build_script("Invoke-Uploaded", {"id": once_id, "once": True}))
    if len(run) > limit:
        raise ValueError(f"limit {limit} is too small for the upload helpers")
    return PlannedRun(name, [*_upload_commands(data, once_id, limit), run], True, "once", once_id)


@functools.lru_cache(maxsize=256)
def cached_uploads(name: str, limit: int) -> tuple[str, ...]:
    """The Upload-Chunk commands of ``cached_script(name)`` (the same for every run)."""
    text, upload_id = cached_script(name)
    return _upload_commands(text.encode("utf-8"), upload_id, limit)


def _upload_commands(data: bytes, upload_id: str, limit: int) -> tuple[str, ...]:
    """Upload-Chunk commands of ``data``, each under ``limit`` characters, as few as possible."""

    def chunk_command(piece: bytes, index: int, count: int) -> str:
        return encoded_command(build_script("Upload-Chunk", {
            "id": upload_id, "index": index, "count": count,
            "data": base64.b64encode(piece).decode("ascii")}))

    # Each raw byte costs about 4/3 (data) * 4/3 (params) * 2 (UTF-16) * 4/3 (command) characters.
    overhead = len(chunk_command(b"", 99999, 99999))
    size = max(1, int((limit - overhead) / (4 / 3 * 4 / 3 * 2 * 4 / 3)))
    while True:
        pieces = [data[i:i + size] for i in range(0, len(data), size)]
        commands = tuple(chunk_command(p, i, len(pieces)) for i, p in enumerate(pieces))
        if all(len(c) <= limit for c in commands):
            return commands
        if size == 1:
            raise ValueError(f"limit {limit} is too small for Upload-Chunk")
        size = max(1, size * 9 // 10)
