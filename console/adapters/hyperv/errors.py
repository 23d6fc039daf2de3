"""Turning what a Hyper-V host answered into the console's typed errors (CONTRACT.md's table)."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from console.domain.errors import (AuthenticationError, CapacityError, ConflictError, ConsoleError,
                                   InvalidStateError, NotFoundError, PrerequisiteError, ProtocolError)

_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_HYPERV_MODULE_COMMANDS = re.compile(r"\b(Get|Set|Start|Stop|Restart|Resume)-VM\w*\b")


def parse_json_output(stdout: bytes, host: str, script: str) -> Any:
    """The one JSON document a script writes on stdout; ProtocolError when it is not JSON."""
    text = stdout.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
    try:
        return json.loads(text)
    except ValueError:
        raise ProtocolError(f"{host} answered {script} with something that is not a JSON document.",
                            "The host may be running a different PowerShell profile or a proxy may "
                            "alter the answer; see the details in the log.",
                            details=text[:2000]) from None


def clixml_error_text(stderr: bytes) -> str:
    """The error records (``<S S="Error">``) of a PowerShell CLIXML stream, as plain text."""
    text = stderr.decode("utf-8", errors="replace")
    if not text.startswith("#< CLIXML"):
        return text.strip()
    body = text.partition("\n")[2]
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return ""
    lines = []
    for node in root.iter():
        if node.tag.rpartition("}")[2] == "S" and node.get("S") == "Error" and node.text:
            lines.append(_CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), node.text))
    return "".join(lines).strip()


def script_error(error: dict[str, Any], host: str) -> ConsoleError:
    """CONTRACT.md's mapping, first match wins. The message is PowerShell's own sentence."""
    # PowerShell messages often carry line breaks ("'x' failed...\r\n\r\nThe operation..."): one line here.
    message = " ".join(str(error.get("message") or "").split()) or f"A PowerShell command failed on {host}."
    fqid = str(error.get("fqid") or "")
    category = str(error.get("category") or "")
    exception = str(error.get("exception") or "")
    lower = message.lower()
    details = json.dumps(error, ensure_ascii=False)

    # Before ObjectNotFound: a missing cmdlet has that category too.
    if exception.endswith("CommandNotFoundException") and _HYPERV_MODULE_COMMANDS.search(message):
        return PrerequisiteError(f"{host} answers WinRM, but the Hyper-V PowerShell module is not "
                                 "installed there.", "Install the Hyper-V role with its management "
                                 "tools (Install-WindowsFeature Hyper-V -IncludeManagementTools).", details)
    if category == "ObjectNotFound" or (fqid.startswith("InvalidParameter") and "unable to find" in lower):
        return NotFoundError(message, "Refresh the inventory: the object may have been deleted or "
                             "moved to another host.", details)
    # Before the state rule: a disk-full failure of a start can mention the saved state.
    if "not enough space on the disk" in lower or "0x80070070" in lower:
        return CapacityError(message, f"Free space on the volume of {host} that holds the virtual "
                             "machine's files, or move them to another volume.", details)
    if ((category in ("InvalidOperation", "InvalidResult") and "current state" in lower)
            or (fqid.startswith("OperationFailed") and "state" in lower)
            or ("integration service" in lower and ("not available" in lower or "unavailable" in lower))):
        return InvalidStateError(message, _state_hint(lower), details)
    if category == "ResourceExists" or "already exists" in lower:
        return ConflictError(message, "Choose another name, or remove the existing object first.", details)
    if category in ("PermissionDenied", "SecurityError") or exception.endswith("UnauthorizedAccessException"):
        return AuthenticationError(f"Access was denied on {host}: {message}",
                                   "Use an account that is a member of Administrators or Hyper-V "
                                   "Administrators on the host.", details)
    return ConsoleError(message, "See the details in the log.", details)


def _state_hint(lower_message: str) -> str:
    if "integration service" in lower_message or "shut" in lower_message:
        return ("The guest cannot shut itself down (no integration services answering): turn the "
                "virtual machine off instead, or install the integration services in the guest.")
    return "Refresh to see the virtual machine's current state, then choose an action it allows."


def stderr_error(stderr: bytes, exit_code: int, host: str, script: str) -> ConsoleError:
    """When a script failed before its own try/catch: read PowerShell's error record on stderr
    (the message, then "At line:..." and the "+ CategoryInfo" / "+ FullyQualifiedErrorId" lines)."""
    text = clixml_error_text(stderr)
    if not text:
        return ProtocolError(f"{script} failed on {host} with exit code {exit_code} and no message.",
                             "See the details in the log.", details=stderr.decode("utf-8", "replace")[:2000])
    message_lines = []
    for line in text.splitlines():
        if line.startswith("At line:") or line.lstrip().startswith("+ "):
            break
        message_lines.append(line)
    category = re.search(r"\+ CategoryInfo\s*:\s*(\w+)", text)
    fqid = re.search(r"\+ FullyQualifiedErrorId\s*:\s*(\S+)", text)
    error = script_error({"message": " ".join(message_lines) or text.splitlines()[0],
                          "category": category.group(1) if category else "",
                          "fqid": fqid.group(1) if fqid else ""}, host)
    error.details = text[:2000]
    return error
