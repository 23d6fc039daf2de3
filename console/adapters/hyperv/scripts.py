"""The PowerShell scripts of scripts/*.ps1 and the commands that carry them (see scripts/CONTRACT.md).

Pure functions, no I/O beyond reading the packaged script files. Parameters only ever enter a
command as base64 of their JSON, so nothing in a parameter can become code.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

#: cmd.exe caps a command line at 8191 characters; stay clearly below (CONTRACT.md "Length limit").
MAX_COMMAND_CHARS = 8000
COMMAND_PREFIX = "powershell -encodedcommand "

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


def build_script(name: str, params: dict[str, Any]) -> str:
    """The full PowerShell text for one script run: _invoke.ps1 with the three tokens filled."""
    wrapper = _read("_invoke.ps1")
    # Replace the body last, so a token-like string inside a script body is never expanded.
    text = wrapper.replace("{{SCRIPT_NAME}}", name).replace("{{PARAMS_B64}}", encode_params(params))
    return _compact(text.replace("{{SCRIPT_BODY}}", script_text(name)))


def encoded_command(script: str) -> str:
    """The command line pywinrm's run_ps would send for ``script``."""
    return COMMAND_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


@dataclass(frozen=True)
class PlannedRun:
    """What to send for one script run: one command, or upload commands then the run command."""

    name: str
    commands: list[str]        # encoded command lines, in order
    chunked: bool


def plan_run(name: str, params: dict[str, Any], limit: int = MAX_COMMAND_CHARS) -> PlannedRun:
    """One command if it fits under ``limit`` characters, else Upload-Chunk pieces + Invoke-Uploaded."""
    script = build_script(name, params)
    command = encoded_command(script)
    if len(command) <= limit:
        return PlannedRun(name, [command], chunked=False)
    data = script.encode("utf-8")
    upload_id = hashlib.sha256(data).hexdigest()

    def chunk_command(piece: bytes, index: int, count: int) -> str:
        return encoded_command(build_script("Upload-Chunk", {
            "id": upload_id, "index": index, "count": count,
            "data": base64.b64encode(piece).decode("ascii")}))

    finish = encoded_command(build_script("Invoke-Uploaded", {"id": upload_id}))
    if len(finish) > limit:
        raise ValueError(f"limit {limit} is too small for the upload helpers")
    # Each raw byte costs about 4/3 (data) * 4/3 (params) * 2 (UTF-16) * 4/3 (command) characters.
    overhead = len(chunk_command(b"", 99999, 99999))
    size = max(1, int((limit - overhead) / (4 / 3 * 4 / 3 * 2 * 4 / 3)))
    while True:
        pieces = [data[i:i + size] for i in range(0, len(data), size)]
        commands = [chunk_command(p, i, len(pieces)) for i, p in enumerate(pieces)]
        if all(len(c) <= limit for c in commands):
            return PlannedRun(name, commands + [finish], chunked=True)
        if size == 1:
            raise ValueError(f"limit {limit} is too small for Upload-Chunk")
        size = max(1, size * 9 // 10)
