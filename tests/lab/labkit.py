"""Talking to the lab as the adapter would, through pywinrm's real client, without importing the
adapter: commands are built from _invoke.ps1 as CONTRACT.md describes."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import winrm

#: a body that keeps a command short (one command, no upload): the lab reads only the first line and
#: the parameters, never the body
SHORT = "    $null\n"
SCRIPTS = Path(__file__).resolve().parents[2] / "console" / "adapters" / "hyperv" / "scripts"
_INCLUDE = re.compile(r"^\s*# vdi-include: (_[A-Za-z0-9-]+\.ps1)\s*$", re.MULTILINE)


def script_body(name: str) -> str:
    """The script file's text when it exists (includes expanded), else a stand-in body: the lab
    recognises a script by its first line, never by its body."""
    path = SCRIPTS / f"{name}.ps1"
    if not path.exists():
        return "    $null\n"
    text = path.read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: (SCRIPTS / m.group(1)).read_text(encoding="utf-8").rstrip("\n"), text)


def params_b64(params: dict) -> str:
    return base64.b64encode(json.dumps(params, ensure_ascii=False).encode("utf-8")).decode("ascii")


def compact(text: str) -> str:
    """As CONTRACT.md says the adapter sends scripts: indentation, blank lines and comment-only lines
    dropped, except the first line."""
    first, _, rest = text.partition("\n")
    kept = [first.rstrip()] + [ln.strip() for ln in rest.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return "\n".join(kept) + "\n"


def build(name: str, params: dict | None = None, body: str | None = None,
          wrapper: str | None = None, compacted: bool = True, uploaded: bool = False) -> str:
    """_invoke.ps1 with {{SCRIPT_NAME}}, {{PARAMS_B64}} and {{SCRIPT_BODY}} filled (body last).
    ``uploaded``: the form uploaded once per host, which reads its parameters from $VdiUploadedParams."""
    wrapper = wrapper if wrapper is not None else (SCRIPTS / "_invoke.ps1").read_text(encoding="utf-8")
    if uploaded:
        wrapper = wrapper.replace("'{{PARAMS_B64}}'", "$VdiUploadedParams")
    text = wrapper.replace("{{SCRIPT_NAME}}", name).replace("{{PARAMS_B64}}", params_b64(params or {}))
    text = text.replace("{{SCRIPT_BODY}}", body if body is not None else script_body(name))
    return compact(text) if compacted else text


def command_length(script: str) -> int:
    return len("powershell -encodedcommand ") + len(base64.b64encode(script.encode("utf-16-le")))


def session(host, password: str | None = None, username: str | None = None, **kwargs) -> winrm.Session:
    return winrm.Session(host.url, auth=(username or host.username, password or host.password),
                         transport="basic", server_cert_validation="ignore", ca_trust_path=None,
                         proxy=None, **kwargs)


def run(host, name: str, params: dict | None = None, body: str | None = None,
        **kwargs) -> tuple[int, object, bytes]:
    """(exit code, parsed stdout JSON or None, stderr) of one script run; through the upload path when
    the command would be too long for cmd.exe, as the adapter does."""
    script = build(name, params, body=body)
    if command_length(script) > 8000:
        return upload_and_run(host, script, **kwargs)
    r = session(host, **kwargs).run_ps(script)
    out = r.std_out.decode("utf-8")
    return r.status_code, (json.loads(out) if out.strip() else None), r.std_err


def ok(host, name: str, params: dict | None = None, body: str | None = None, **kwargs) -> object:
    code, doc, err = run(host, name, params, body=body, **kwargs)
    assert code == 0, (code, doc, err)
    return doc


def upload(host, data: bytes, piece_size: int = 500, upload_id: str | None = None, **kwargs) -> str:
    """Upload-Chunk pieces of ``data`` (CONTRACT.md "Length limit"); returns the id (its SHA-256)."""
    upload_id = upload_id or hashlib.sha256(data).hexdigest()
    pieces = [data[i:i + piece_size] for i in range(0, len(data), piece_size)]
    s = session(host, **kwargs)
    for i, piece in enumerate(pieces):
        r = s.run_ps(build("Upload-Chunk", {"id": upload_id, "index": i, "count": len(pieces),
                                            "data": base64.b64encode(piece).decode("ascii")}))
        assert r.status_code == 0, r.std_out
        got = json.loads(r.std_out)
        assert got["index"] == i and got["id"] == upload_id
    return upload_id


def invoke(host, params: dict, **kwargs) -> tuple[int, object, bytes]:
    """An Invoke-Uploaded run with these parameters: (exit code, stdout JSON or None, stderr)."""
    r = session(host, **kwargs).run_ps(build("Invoke-Uploaded", params))
    out = r.std_out.decode("utf-8")
    return r.status_code, (json.loads(out) if out.strip() else None), r.std_err


def run_uploaded(host, upload_id: str, params: dict, **kwargs) -> tuple[int, object, bytes]:
    """Run a script uploaded once (the ``uploaded=True`` form of ``build``) with ``params``."""
    return invoke(host, {"id": upload_id, "params_b64": params_b64(params)}, **kwargs)


def upload_and_run(host, script: str, piece_size: int = 500, **kwargs) -> tuple[int, object, bytes]:
    """A one-off upload: the whole script with its parameters, then Invoke-Uploaded ``once``."""
    upload_id = upload(host, script.encode("utf-8"), piece_size, **kwargs)
    return invoke(host, {"id": upload_id, "once": True}, **kwargs)


def vm_named(inventory: dict, name: str) -> dict:
    (vm,) = [v for v in inventory["vms"] if v["name"] == name]
    return vm
