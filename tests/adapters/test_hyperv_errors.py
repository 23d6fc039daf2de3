"""CONTRACT.md's error table and the adapter's refusals of bad settings, without a host."""
from __future__ import annotations

import asyncio
import socket

import pytest

from console.adapters.hyperv import HyperVAdapter
from console.adapters.hyperv.errors import clixml_error_text, parse_json_output, script_error, stderr_error
from console.adapters.base import ProviderAdapter
from console.domain import errors as e
from console.domain.inventory import ConnectionSettings, PowerAction, ProviderKind, WinRMTransport


def _err(message, category="", fqid="", exception=""):
    return script_error({"message": message, "category": category, "fqid": fqid,
                         "exception": exception, "target": ""}, "hv01")


@pytest.mark.parametrize("doc, kind", [
    (dict(message='Hyper-V was unable to find a virtual machine with ID "1".', category="InvalidArgument",
          fqid="InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM"), e.NotFoundError),
    (dict(message="nothing here", category="ObjectNotFound"), e.NotFoundError),
    (dict(message="The operation cannot be performed while the object is in its current state.",
          category="InvalidOperation"), e.InvalidStateError),
    (dict(message="The shutdown integration service is not available", category="NotSpecified",
          fqid="OperationFailed,Microsoft.HyperV.PowerShell.Commands.StopVM"), e.InvalidStateError),
    (dict(message="Failed to start: There is not enough space on the disk. (0x80070070)",
          category="NotSpecified"), e.CapacityError),
    (dict(message="A virtual machine named 'x' already exists.", category="NotSpecified"), e.ConflictError),
    (dict(message="Access is denied.", category="PermissionDenied"), e.AuthenticationError),
    (dict(message="The term 'Get-VMHost' is not recognized as the name of a cmdlet",
          category="ObjectNotFound", exception="System.Management.Automation.CommandNotFoundException"),
     e.PrerequisiteError),
    (dict(message="Something odd happened.", category="NotSpecified"), e.ConsoleError),
])
def test_script_errors_map_to_typed_errors(doc, kind):
    error = _err(**doc)
    assert type(error) is kind
    assert error.hint
    if kind in (e.NotFoundError, e.InvalidStateError, e.CapacityError, e.ConsoleError):
        assert error.message == doc["message"]


def test_clixml_error_records_are_read_from_stderr():
    stderr = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
              b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
              b'</TN></Obj><S S="Error">Hyper-V was unable to find a virtual machine with ID "7".'
              b'_x000D__x000A_</S><S S="Error">    + CategoryInfo          : ObjectNotFound: (:) [Get-VM]'
              b'_x000D__x000A_</S></Objs>')
    assert clixml_error_text(stderr).startswith('Hyper-V was unable to find a virtual machine with ID "7".\r\n')
    error = stderr_error(stderr, 1, "hv01", "Get-VM")
    assert isinstance(error, e.NotFoundError)
    assert error.message == 'Hyper-V was unable to find a virtual machine with ID "7".'


def test_failure_without_any_message_is_a_protocol_error():
    assert isinstance(stderr_error(b"", 1, "hv01", "Get-VM"), e.ProtocolError)


def test_bad_json_is_a_protocol_error():
    with pytest.raises(e.ProtocolError, match="not a JSON document"):
        parse_json_output(b"<html>hello</html>", "hv01", "Get-Inventory")
    assert parse_json_output(b'\xef\xbb\xbf {"a": "\\u00e9"}\r\n', "hv01", "x") == {"a": "é"}


def _settings(**kw):
    base = dict(kind=ProviderKind.HYPERV, address="hv01.corp.example.com", username="CORP\\admin",
                transport=WinRMTransport.NTLM)
    base.update(kw)
    return ConnectionSettings(**base)


def test_adapter_implements_the_protocol():
    adapter = HyperVAdapter(_settings(), "pw")
    assert isinstance(adapter, ProviderAdapter)
    assert adapter.capabilities.can_power and adapter.capabilities.can_distribute
    assert adapter.capabilities.can_link_clone and not adapter.capabilities.can_clone_vm   # pools only
    assert adapter.endpoint.url == "http://hv01.corp.example.com:5985/wsman"


def test_basic_over_http_off_loopback_is_refused_unless_allowed():
    with pytest.raises(e.ValidationError, match="readable by anyone") as info:
        HyperVAdapter(_settings(transport=WinRMTransport.BASIC), "pw")
    assert info.value.field == "transport"
    HyperVAdapter(_settings(transport=WinRMTransport.BASIC, allow_insecure_basic=True), "pw")
    HyperVAdapter(_settings(transport=WinRMTransport.BASIC, use_https=True), "pw")
    HyperVAdapter(_settings(transport=WinRMTransport.BASIC, address="127.0.0.1"), "pw")


@pytest.mark.parametrize("kw, password, field", [
    (dict(address="hv01; rm -rf /"), "pw", "address"),
    (dict(address=""), "pw", "address"),
    (dict(username=""), "pw", "username"),
    (dict(), "", "password"),
    (dict(kind=ProviderKind.NUTANIX_PE), "pw", "kind"),
])
def test_bad_settings_are_refused_with_a_sentence(kw, password, field):
    with pytest.raises(e.ValidationError) as info:
        HyperVAdapter(_settings(**kw), password)
    assert info.value.field == field and info.value.message.endswith(".")


@pytest.mark.asyncio
async def test_bad_vm_id_and_action_are_refused_before_any_connection():
    adapter = HyperVAdapter(_settings(address="127.0.0.1", port=9), "pw")
    with pytest.raises(e.ValidationError, match="not a Hyper-V virtual machine id"):
        await adapter.power("x'; Remove-VM *", PowerAction.START)
    with pytest.raises(e.ValidationError, match="not a power action"):
        await adapter.power("8d6f2f7e-1c3a-4b8e-9f00-2a1b3c4d5e6f", "explode")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.asyncio
async def test_refused_port_is_unreachable():
    port = _closed_port()
    adapter = HyperVAdapter(_settings(address="127.0.0.1", port=port), "pw")
    with pytest.raises(e.UnreachableError) as info:
        await adapter.check()
    assert info.value.message == f"127.0.0.1:{port} refused the connection."
    assert "winrm quickconfig" in info.value.hint
    await adapter.close()


@pytest.mark.asyncio
async def test_unknown_host_name_is_unreachable():
    adapter = HyperVAdapter(_settings(address="no-such-host.invalid"), "pw")
    with pytest.raises(e.UnreachableError, match="could not be resolved"):
        await adapter.facts()


@pytest.mark.asyncio
async def test_kerberos_without_its_library_says_so():
    adapter = HyperVAdapter(_settings(address="127.0.0.1", port=_closed_port(),
                                      transport=WinRMTransport.KERBEROS), "")
    with pytest.raises(e.PrerequisiteError, match="Kerberos"):
        await adapter.check()


@pytest.mark.asyncio
async def test_an_http_server_that_is_not_winrm_is_the_wrong_endpoint():
    import http.server
    import threading

    class NotWinRM(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - stdlib naming
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(404)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"not found")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotWinRM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        adapter = HyperVAdapter(_settings(address=f"http://127.0.0.1:{server.server_address[1]}/wsman",
                                          transport=WinRMTransport.BASIC), "pw")
        with pytest.raises(e.WrongEndpointError, match="not a WinRM endpoint") as info:
            await adapter.check()
        assert "5985" in info.value.hint
    finally:
        server.shutdown()
        server.server_close()


def test_error_record_on_stderr_keeps_category_and_whole_message():
    lines = ["'VM1' failed to change state.", "", "The operation cannot be performed while the object is "
             "in its current state.", "At line:12 char:1",
             "    + CategoryInfo          : InvalidOperation: (:) [Restart-VM], VirtualizationException",
             "    + FullyQualifiedErrorId : InvalidState,Microsoft.HyperV.PowerShell.Commands.RestartVM"]
    body = "".join(f'<S S="Error">{line}_x000D__x000A_</S>' for line in lines)
    stderr = ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
              + body + "</Objs>").encode()
    error = stderr_error(stderr, 1, "hv01", "Set-VMPowerState")
    assert isinstance(error, e.InvalidStateError)
    assert error.message == ("'VM1' failed to change state. The operation cannot be performed while the "
                             "object is in its current state.")
    assert "FullyQualifiedErrorId" in error.details
