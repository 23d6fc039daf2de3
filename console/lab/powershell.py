"""What powershell.exe on a Windows host would print: command-line decoding, JSON as Windows PowerShell
5.1 writes it, error records, CLIXML on stderr, output encoding.

Nothing here ever evaluates anything: a script is recognised by its first line and its parameters are
decoded from base64 JSON, exactly as CONTRACT.md describes.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

CMD_LINE_MAX = 8191          # cmd.exe's limit on one command line

CLIXML_HEADER = "#< CLIXML\r\n"
_OBJS_OPEN = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
PROGRESS_RECORD = (
    '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
    '<T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for '
    'first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR>'
    '</MS></Obj>')
#: What a Windows host prints on stderr of nearly every ``powershell -encodedcommand`` over WinRM.
PROGRESS_NOISE = CLIXML_HEADER + _OBJS_OPEN + PROGRESS_RECORD + "</Objs>"

NOT_RECOGNIZED = ("The term '{0}' is not recognized as the name of a cmdlet, function, script file, or "
                  "operable program. Check the spelling of the name, or if a path was included, verify "
                  "that the path is correct and try again.")

_SCRIPT_HEADER = re.compile(r"^\ufeff?\s*#\s*vdi-script:\s*(\S+)")
#: The wrapper's parameter document: a base64 literal, or (in a script uploaded once per host, CONTRACT.md
#: "Length limit") the variable Invoke-Uploaded sets. The first FromBase64String is the wrapper's.
_PARAMS = re.compile(r"FromBase64String\(\s*(?:'([^']*)'|(\$VdiUploadedParams))\s*\)", re.IGNORECASE)
_UTF8_OUTPUT = re.compile(
    r"\[(?:System\.)?Console\]::OutputEncoding\s*=\s*(?:\[(?:System\.)?Text\.Encoding\]::UTF8\b"
    r"|New-Object\s+(?:-TypeName\s+)?(?:System\.)?Text\.UTF8Encoding\b"
    r"|\[(?:System\.)?Text\.UTF8Encoding\]::new\b"
    r"|\[(?:System\.)?Text\.Encoding\]::GetEncoding\(\s*65001\s*\))",
    re.IGNORECASE)


class PSError(Exception):
    """A PowerShell error record: what the wrapper's catch block turns into the error document."""

    def __init__(self, message: str, fqid: str, category: str, exception: str, target: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fqid = fqid
        self.category = category
        self.exception = exception
        self.target = target

    def document(self) -> dict:
        return {"error": {"message": self.message, "fqid": self.fqid, "category": self.category,
                          "exception": self.exception, "target": self.target}}

    def error_lines(self, position: str = "") -> list[str]:
        """The record as powershell.exe prints it on stderr (one string per CLIXML <S S="Error">)."""
        activity = self.fqid.split(",", 1)[-1].rsplit(".", 1)[-1] if "," in self.fqid else ""
        activity = _cmdlet_from_class(activity)
        lines = [self.message]
        if position:
            lines.append(position)
        target = self.target if len(self.target) < 60 else ""
        lines.append(f"    + CategoryInfo          : {self.category}: ({target}:String) "
                     f"[{activity}], {self.exception.rsplit('.', 1)[-1]}")
        lines.append(f"    + FullyQualifiedErrorId : {self.fqid}")
        lines.append(" ")
        return lines


def _cmdlet_from_class(cls_name: str) -> str:
    """``StartVM`` -> ``Start-VM`` (Hyper-V's command classes are named after their cmdlets)."""
    m = re.match(r"^(Get|Set|Start|Stop|Restart|Save|Suspend|Resume|New|Remove|Move|Export|Import|"
                 r"Checkpoint|Rename|Add|Compare|Convert|Mount|Dismount|Optimize|Resize|Test)(.+)$", cls_name)
    return f"{m.group(1)}-{m.group(2)}" if m else cls_name


class HyperV:
    """Errors as the Hyper-V module reports them."""

    EXC = "Microsoft.HyperV.PowerShell.VirtualizationException"

    @staticmethod
    def target(vm_name: str, vm_id: str) -> str:
        return f"VirtualMachine (Name = '{vm_name}') [Id = '{vm_id}']"

    @classmethod
    def vm_not_found(cls, vm_id: str, cmd: str = "GetVM") -> PSError:
        return PSError(f'Hyper-V was unable to find a virtual machine with ID "{vm_id}".',
                       f"InvalidParameter,Microsoft.HyperV.PowerShell.Commands.{cmd}", "InvalidArgument",
                       cls.EXC, vm_id)

    @classmethod
    def vm_name_not_found(cls, name: str, cmd: str = "GetVM") -> PSError:
        return PSError(f'Hyper-V was unable to find a virtual machine with name "{name}".',
                       f"InvalidParameter,Microsoft.HyperV.PowerShell.Commands.{cmd}", "InvalidArgument",
                       cls.EXC, name)

    @staticmethod
    def bad_guid_cast(value: str) -> PSError:
        """``[guid]"<value>"`` failing (how the scripts convert vm_id)."""
        return PSError(f'Cannot convert value "{value}" to type "System.Guid". Error: "Guid should contain '
                       f'32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."',
                       "InvalidCastParseTargetInvocation", "InvalidArgument",
                       "System.Management.Automation.RuntimeException", "")

    @staticmethod
    def bad_guid(value: object, cmd: str = "GetVM") -> PSError:
        return PSError(f"Cannot bind parameter 'Id'. Cannot convert value \"{value}\" to type "
                       f"\"System.Guid\". Error: \"Guid should contain 32 digits with 4 dashes "
                       f"(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).\"",
                       f"CannotConvertArgumentNoMessage,Microsoft.HyperV.PowerShell.Commands.{cmd}",
                       "InvalidArgument", "System.Management.Automation.ParameterBindingException",
                       str(value))

    @staticmethod
    def null_argument(param: str, cmd: str = "GetVM") -> PSError:
        return PSError(f"Cannot bind argument to parameter '{param}' because it is null.",
                       f"ParameterArgumentValidationErrorNullNotAllowed,"
                       f"Microsoft.HyperV.PowerShell.Commands.{cmd}", "InvalidData",
                       "System.Management.Automation.ParameterBindingValidationException", "")

    @classmethod
    def invalid_state(cls, vm_name: str, vm_id: str, cmd: str) -> PSError:
        return PSError(f"'{vm_name}' failed to change state.\r\n\r\nThe operation cannot be performed "
                       f"while the object is in its current state.",
                       f"InvalidState,Microsoft.HyperV.PowerShell.Commands.{cmd}", "InvalidOperation",
                       cls.EXC, cls.target(vm_name, vm_id))

    @classmethod
    def shutdown_unavailable(cls, vm_name: str, vm_id: str) -> PSError:
        return PSError(f"'{vm_name}' failed to shut down. (Virtual machine ID {vm_id.upper()})\r\n\r\n"
                       f"The shutdown integration service is not available.",
                       "InvalidState,Microsoft.HyperV.PowerShell.Commands.StopVM", "InvalidOperation",
                       cls.EXC, cls.target(vm_name, vm_id))

    @classmethod
    def disk_full_on_start(cls, vm_name: str, vm_id: str, vm_path: str) -> PSError:
        vid = vm_id.upper()
        return PSError(f"'{vm_name}' failed to start. (Virtual machine ID {vid})\r\n\r\n'{vm_name}' could "
                       f"not create the memory contents file '{vm_path}\\Virtual Machines\\{vid}.VMRS': "
                       f"There is not enough space on the disk. (0x80070070). (Virtual machine ID {vid})",
                       "OperationFailed,Microsoft.HyperV.PowerShell.Commands.StartVM", "NotSpecified",
                       cls.EXC, cls.target(vm_name, vm_id))

    @classmethod
    def name_in_use(cls, name: str, cmd: str = "NewVM") -> PSError:
        return PSError(f"Failed to create a virtual machine: a virtual machine named '{name}' already "
                       f"exists. The object already exists. (0x80071392).",
                       f"ObjectExists,Microsoft.HyperV.PowerShell.Commands.{cmd}", "ResourceExists",
                       cls.EXC, name)

    @staticmethod
    def disk_full_write(method: str = "AppendAllText", args: int = 2) -> PSError:
        return PSError(f'Exception calling "{method}" with "{args}" argument(s): "There is not enough '
                       f'space on the disk.\r\n"', "IOException", "NotSpecified",
                       "System.Management.Automation.MethodInvocationException", "")


def not_recognized(term: str) -> PSError:
    return PSError(NOT_RECOGNIZED.format(term), "CommandNotFoundException", "ObjectNotFound",
                   "System.Management.Automation.CommandNotFoundException", term)


def thrown(message: str) -> PSError:
    """``throw "message"`` in a script."""
    return PSError(message, message, "OperationStopped", "System.Management.Automation.RuntimeException",
                   message)


def ps_json(value: object, ascii_only: bool = False) -> str:
    """``ConvertTo-Json -Compress`` of Windows PowerShell 5.1: compact, non-ASCII kept, and the
    characters < > & ' escaped as \\u003c \\u003e \\u0026 \\u0027 (JavaScriptSerializer's habit).
    ``ascii_only``: non-ASCII escaped as \\uXXXX too (what the wrapper's Write-VdiJson does)."""
    text = json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027"))


def clixml_string(text: str) -> str:
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif o < 32 or o in (0xFFFE, 0xFFFF) or 0xD800 <= o <= 0xDFFF:
            out.append(f"_x{o:04X}_")
        else:
            out.append(ch)
    return "".join(out)


def clixml_errors(lines: list[str], progress: bool = True) -> str:
    """stderr of powershell.exe when a terminating error escaped the script."""
    parts = [CLIXML_HEADER, _OBJS_OPEN]
    if progress:
        parts.append(PROGRESS_RECORD)
    for line in lines:
        parts.append(f'<S S="Error">{clixml_string(line + chr(13) + chr(10))}</S>')
    parts.append("</Objs>")
    return "".join(parts)


@dataclass
class ProcessResult:
    """What the remote process left: text streams (encoded for the wire by ``encode``) and exit code."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    utf8: bool = False        # the script set [Console]::OutputEncoding to UTF-8

    def encode(self, codepage: int, strict: bool = True) -> tuple[bytes, bytes]:
        enc = "utf-8" if (self.utf8 or not strict or codepage == 65001) else _codec(codepage)
        return (self.stdout.encode(enc, errors="replace"), self.stderr.encode(enc, errors="replace"))


def _codec(codepage: int) -> str:
    name = f"cp{codepage}"
    try:
        "".encode(name)
        return name
    except LookupError:
        return "utf-8"


def sets_utf8_output(script: str) -> bool:
    return bool(_UTF8_OUTPUT.search(script))


_ESCAPES_NON_ASCII = re.compile(r"\[\^\\x00-\\x7F\]", re.IGNORECASE)


def escapes_non_ascii(script: str) -> bool:
    """The script replaces ``[^\\x00-\\x7F]`` in its JSON with \\uXXXX (CONTRACT.md's wrapper)."""
    return bool(_ESCAPES_NON_ASCII.search(script))


@dataclass
class Invocation:
    """A decoded command line."""

    kind: str                 # "script": PowerShell text; "error": the process failed at once
    script: str = ""
    result: ProcessResult | None = None


def decode_command_line(command: str, arguments: list[str]) -> Invocation:
    """Turn the WinRS CommandLine (``powershell -encodedcommand <b64>``) into the script text."""
    line = " ".join([command, *arguments]).strip()
    if len(line) > CMD_LINE_MAX:
        return Invocation("error", result=ProcessResult(stderr="The command line is too long.\r\n",
                                                        exit_code=1))
    tokens = line.split()
    if not tokens:
        return Invocation("error", result=ProcessResult(exit_code=0))
    exe = tokens[0].strip('"').replace("/", "\\").rsplit("\\", 1)[-1].lower()
    if exe not in ("powershell", "powershell.exe"):
        return Invocation("error", result=ProcessResult(
            stderr=f"'{tokens[0]}' is not recognized as an internal or external command,\r\n"
                   f"operable program or batch file.\r\n", exit_code=1))
    rest = tokens[1:]
    for i, tok in enumerate(rest):
        low = tok.lower()
        if low.startswith("-") and len(low) >= 2 and (
                low in ("-e", "-ec") or (len(low) >= 3 and "-encodedcommand".startswith(low))):
            if i + 1 >= len(rest):
                return Invocation("error", result=ProcessResult(
                    stderr="Cannot process the command because -EncodedCommand requires an argument.\r\n",
                    exit_code=64))
            try:
                raw = base64.b64decode(rest[i + 1], validate=True)
                if len(raw) % 2:
                    raise ValueError("odd length")
                return Invocation("script", script=raw.decode("utf-16-le"))
            except (binascii.Error, ValueError, UnicodeDecodeError):
                return Invocation("error", result=ProcessResult(
                    stderr="Cannot process the command because the value specified with -EncodedCommand "
                           "is not properly encoded. The value must be Base64 encoded.\r\n", exit_code=64))
    # powershell [-Command] <text>: the text itself is the script
    words = [t for t in rest if not t.startswith("-")]
    return Invocation("script", script=" ".join(words))


@dataclass
class ScriptCall:
    name: str | None          # from "# vdi-script: <Name>"; None when the text is not one of ours
    params: object = None
    error: ProcessResult | None = None   # the process failed before the script's try/catch
    first_token: str = ""


def parse_script(script: str, uploaded_params: str | None = None) -> ScriptCall:
    """Recognise a script by its first line and decode its parameters (base64 of UTF-8 JSON): the
    literal in the text, or for a script that reads $VdiUploadedParams, ``uploaded_params`` (that
    variable's value; None: not set, as when such a script is run other than by Invoke-Uploaded)."""
    first_line = script.split("\n", 1)[0]
    m = _SCRIPT_HEADER.match(first_line)
    if not m:
        stripped = script.strip()
        token = stripped.split(None, 1)[0] if stripped else ""
        return ScriptCall(None, first_token=token)
    name = m.group(1)
    pm = _PARAMS.search(script)
    if not pm:
        return ScriptCall(name, {})
    b64 = pm.group(1) if pm.group(2) is None else uploaded_params
    if b64 is None:
        err = PSError('Exception calling "FromBase64String" with "1" argument(s): "Value cannot be null.\r\n'
                      'Parameter name: s"', "ArgumentNullException", "NotSpecified",
                      "System.Management.Automation.MethodInvocationException")
        return ScriptCall(name, error=terminating(err, "At line:5 char:1"))
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        err = PSError('Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid '
                      'Base-64 string as it contains a non-base 64 character, more than two padding '
                      'characters, or an illegal character among the padding characters. "',
                      "FormatException", "NotSpecified",
                      "System.Management.Automation.MethodInvocationException")
        return ScriptCall(name, error=terminating(err, "At line:5 char:1"))
    try:
        text = raw.decode("utf-8")
        params = json.loads(text) if text.strip() else None
    except (UnicodeDecodeError, ValueError):
        err = PSError("Invalid JSON primitive: .",
                      "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand",
                      "NotSpecified", "System.ArgumentException")
        return ScriptCall(name, error=terminating(err, "At line:5 char:93"))
    return ScriptCall(name, params)


def terminating(err: PSError, position: str = "") -> ProcessResult:
    """A terminating error outside any try/catch: nothing on stdout, the record on stderr, exit 1."""
    return ProcessResult(stdout="", stderr=clixml_errors(err.error_lines(position)), exit_code=1)
