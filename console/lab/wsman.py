"""The WS-Management SOAP of WinRS: parsing a request envelope, building response and fault envelopes.

Pure message text, no sockets: the HTTP side (``wsman_http``) calls these. Only what pywinrm's
``Session.run_ps`` sends and reads is understood.
"""
from __future__ import annotations

import base64
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = SHELL_URI + "/Command"
ACTION_RECEIVE = SHELL_URI + "/Receive"
ACTION_SIGNAL = SHELL_URI + "/Signal"
ACTION_SEND = SHELL_URI + "/Send"
STATE_DONE = SHELL_URI + "/CommandState/Done"
STATE_RUNNING = SHELL_URI + "/CommandState/Running"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

FAULT_TIMEOUT = 2150858793          # Receive: no output within OperationTimeout (pywinrm retries)
FAULT_SHELL_NOT_FOUND = 2150858843
FAULT_ACTION = 2150858771


# ----------------------------------------------------------------------------------- request model

@dataclass
class Request:
    action: str
    message_id: str
    shell_id: str | None
    timeout: float
    options: dict[str, str]
    body: ET.Element | None


_DURATION = re.compile(r"^P(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _seconds(text: str | None, default: float = 60.0) -> float:
    m = _DURATION.match((text or "").strip())
    if not m or not any(m.groups()):
        return default
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def parse_request(data: bytes) -> Request:
    root = ET.fromstring(data)
    header = root.find("s:Header", NS)
    body = root.find("s:Body", NS)
    if header is None:
        raise ValueError("no SOAP header")
    action = (header.findtext("a:Action", "", NS) or "").strip()
    message_id = (header.findtext("a:MessageID", "", NS) or "").strip()
    shell_id = None
    for sel in header.findall("w:SelectorSet/w:Selector", NS):
        if sel.get("Name") == "ShellId":
            shell_id = (sel.text or "").strip()
    options = {o.get("Name", ""): (o.text or "") for o in header.findall("w:OptionSet/w:Option", NS)}
    return Request(action, message_id, shell_id, _seconds(header.findtext("w:OperationTimeout", None, NS)),
                   options, body)


# ----------------------------------------------------------------------------------- responses

def envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
        'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" '
        'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        f'<s:Header><a:Action>{escape(action)}</a:Action>'
        f'<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>'
        f'<a:To>{ANONYMOUS}</a:To><a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>'
        f'<s:Body>{body}</s:Body></s:Envelope>').encode("utf-8")


def fault_envelope(relates_to: str, code: int, subcode: str, text: str, machine: str) -> bytes:
    body = (
        '<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode>'
        f'<s:Value>{escape(subcode)}</s:Value></s:Subcode></s:Code>'
        f'<s:Reason><s:Text xml:lang="en-US">{escape(text)} </s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f'Code="{code}" Machine={quoteattr(machine)}><f:Message>{escape(text)} </f:Message>'
        '</f:WSManFault></s:Detail></s:Fault>')
    return envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


def shell_created(address: str, shell_id: str, owner: str, client_ip: str) -> str:
    """The Create response body: where the new shell lives and what it is."""
    return (
        f'<x:ResourceCreated><a:Address>{address}</a:Address><a:ReferenceParameters>'
        '<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>'
        f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        '</a:ReferenceParameters></x:ResourceCreated>'
        f'<rsp:Shell xmlns:rsp="{SHELL_URI}"><rsp:ShellId>{shell_id}</rsp:ShellId>'
        f'<rsp:ResourceUri>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</rsp:ResourceUri>'
        f'<rsp:Owner>{escape(owner)}</rsp:Owner><rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP>'
        '<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>'
        '<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>')


def receive_response(command_id: str, out: bytes, err: bytes, done: bool, exit_code: int) -> str:
    """The Receive response body: one chunk of each stream, then the end markers and exit code."""
    parts = []
    for name, data in (("stdout", out), ("stderr", err)):
        if data:
            parts.append(f'<rsp:Stream Name="{name}" CommandId="{command_id}">'
                         f'{base64.b64encode(data).decode("ascii")}</rsp:Stream>')
    if done:
        parts.append(f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>')
        parts.append(f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>')
        parts.append(f'<rsp:CommandState CommandId="{command_id}" State="{STATE_DONE}">'
                     f'<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>')
    else:
        parts.append(f'<rsp:CommandState CommandId="{command_id}" State="{STATE_RUNNING}"></rsp:CommandState>')
    return f'<rsp:ReceiveResponse>{"".join(parts)}</rsp:ReceiveResponse>'
