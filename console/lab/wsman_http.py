"""The HTTP side of one host's WS-Management endpoint: Basic auth, the faults a client sees on the
wire, and the WinRS actions (Create, Command, Receive, Signal, Send, Delete).

``HostHTTPServer`` is a ``ThreadingHTTPServer`` whose listening socket is non-blocking and accepted by
the shared ``Reactor``; each connection then gets a thread, as ThreadingHTTPServer does. Receive
long-polls until the command is done or the client's OperationTimeout passes (then the WS-Man timeout
fault, which pywinrm retries).
"""
from __future__ import annotations

import logging
import socket
import socketserver
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .winrs import Command, Shell
from .wsman import (ACTION_COMMAND, ACTION_CREATE, ACTION_DELETE, ACTION_RECEIVE, ACTION_SEND, ACTION_SIGNAL,
                    FAULT_ACTION, FAULT_SHELL_NOT_FOUND, FAULT_TIMEOUT, NS, SHELL_URI, Request, envelope,
                    fault_envelope, parse_request, receive_response, shell_created)

if TYPE_CHECKING:
    from .host_endpoint import HostEndpoint

log = logging.getLogger(__name__)


class WSManHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 300                      # an idle keep-alive connection is closed after this

    server: "HostHTTPServer"

    def log_message(self, format: str, *args: object) -> None:   # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:            # noqa: N802 - stdlib naming
        self._send(405, b"")

    def do_POST(self) -> None:           # noqa: N802
        ep = self.server.endpoint
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if ep.is_offline():
            return self._drop()
        user = ep.lab.authenticate(self.headers.get("Authorization"))
        if ep.fault() == "auth" or user is None:
            return self._send(401, b"", [("WWW-Authenticate", "Negotiate"),
                                         ("WWW-Authenticate", 'Basic realm="WSMAN"')])
        if self.path.split("?", 1)[0].rstrip("/").lower() != "/wsman":
            return self._send(404, b"")
        try:
            req = parse_request(data)
        except (ET.ParseError, ValueError):
            return self._send(400, b"")
        handler = {
            ACTION_CREATE: self._create, ACTION_COMMAND: self._command, ACTION_RECEIVE: self._receive,
            ACTION_SIGNAL: self._signal, ACTION_DELETE: self._delete, ACTION_SEND: self._send_input,
        }.get(req.action)
        if handler is None:
            return self._fault(req, FAULT_ACTION, "w:ActionNotSupported",
                               f"The action {req.action} is not supported by the service.")
        handler(req, user)

    # -- plumbing
    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] = ()) -> None:
        try:
            self.send_response(status)
            if body:
                self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _ok(self, body: bytes) -> None:
        self._send(200, body)

    def _fault(self, req: Request, code: int, subcode: str, text: str) -> None:
        self._send(500, fault_envelope(req.message_id, code, subcode, text, self.server.endpoint.name))

    def _drop(self) -> None:
        """Go away without answering: the client sees the connection closed (a connection error)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _shell(self, req: Request) -> Shell | None:
        ep = self.server.endpoint
        with ep.lock:
            shell = ep.shells.get((req.shell_id or "").upper())
        if shell is None:
            self._fault(req, FAULT_SHELL_NOT_FOUND, "w:InvalidSelectors",
                        f"The request for the Windows Remote Shell with ShellId {req.shell_id} failed "
                        f"because the shell was not found on the server. Possible causes are: the specified "
                        f"ShellId is incorrect or the shell no longer exists on the server. Provide the "
                        f"correct ShellId or create a new shell and retry the operation.")
        return shell

    # -- actions
    def _create(self, req: Request, user: str) -> None:
        ep = self.server.endpoint
        try:
            codepage = int(req.options.get("WINRS_CODEPAGE") or 437)
        except ValueError:
            codepage = 437
        shell = Shell(str(uuid.uuid4()).upper(), user, codepage)
        with ep.lock:
            ep.shells[shell.id] = shell
        host, port = self.server.server_address[:2]
        body = shell_created(f"http://{host}:{port}/wsman", shell.id, user, self.client_address[0])
        self._ok(envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
                          req.message_id, body))

    def _command(self, req: Request, user: str) -> None:
        shell = self._shell(req)
        if shell is None:
            return
        line = req.body.find("rsp:CommandLine", NS) if req.body is not None else None
        command = (line.findtext("rsp:Command", "", NS) if line is not None else "") or ""
        arguments = [a.text or "" for a in line.findall("rsp:Arguments", NS)] if line is not None else []
        cmd = Command(shell, command.strip(), arguments)
        ep = self.server.endpoint
        if not ep.start_command(shell, cmd):
            return self._drop()
        body = f"<rsp:CommandResponse><rsp:CommandId>{cmd.id}</rsp:CommandId></rsp:CommandResponse>"
        self._ok(envelope(SHELL_URI + "/CommandResponse", req.message_id, body))

    def _find_command(self, req: Request, shell: Shell, element: str) -> Command | None:
        node = req.body.find(element, NS) if req.body is not None else None
        cid = (node.get("CommandId") or "").upper() if node is not None else ""
        with self.server.endpoint.lock:
            return shell.commands.get(cid)

    def _receive(self, req: Request, user: str) -> None:
        shell = self._shell(req)
        if shell is None:
            return
        cmd = self._find_command(req, shell, "rsp:Receive/rsp:DesiredStream")
        if cmd is None:
            return self._fault(req, FAULT_SHELL_NOT_FOUND, "w:InvalidSelectors",
                               "The request for the Windows Remote Shell failed because the command was "
                               "not found on the server.")
        state = cmd.wait(max(0.05, req.timeout))
        if state == "dropped" or self.server.endpoint.is_offline():
            return self._drop()
        if state == "running":
            return self._fault(req, FAULT_TIMEOUT, "w:TimedOut",
                               "The WS-Management service cannot complete the operation within the time "
                               "specified in OperationTimeout.")
        out, err, done = cmd.next_chunk()
        body = receive_response(cmd.id, out, err, done, cmd.exit_code)
        self._ok(envelope(SHELL_URI + "/ReceiveResponse", req.message_id, body))

    def _signal(self, req: Request, user: str) -> None:
        shell = self._shell(req)
        if shell is None:
            return
        cmd = self._find_command(req, shell, "rsp:Signal")
        if cmd is not None:
            # terminate: the process goes away; a Hyper-V job it started carries on, as on Windows
            with self.server.endpoint.lock:
                shell.commands.pop(cmd.id, None)
        self._ok(envelope(SHELL_URI + "/SignalResponse", req.message_id, "<rsp:SignalResponse/>"))

    def _send_input(self, req: Request, user: str) -> None:
        if self._shell(req) is None:
            return
        self._ok(envelope(SHELL_URI + "/SendResponse", req.message_id, "<rsp:SendResponse/>"))

    def _delete(self, req: Request, user: str) -> None:
        ep = self.server.endpoint
        with ep.lock:
            shell = ep.shells.pop((req.shell_id or "").upper(), None)
        if shell is None:
            return self._fault(req, FAULT_SHELL_NOT_FOUND, "w:InvalidSelectors",
                               f"The request for the Windows Remote Shell with ShellId {req.shell_id} failed "
                               f"because the shell was not found on the server.")
        self._ok(envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse",
                          req.message_id, ""))


class HostHTTPServer(ThreadingHTTPServer):
    """One host's listener: non-blocking (the ``Reactor`` accepts), a thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], endpoint: "HostEndpoint") -> None:
        self.endpoint = endpoint
        super().__init__(address, WSManHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve a fully qualified name: slow, and useless here
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port

    def server_activate(self) -> None:
        super().server_activate()
        self.socket.setblocking(False)

    def process_request(self, request: socket.socket, client_address: object) -> None:
        request.setblocking(True)
        try:   # headers and body leave in separate writes: without this, Nagle + delayed ACK cost 40 ms
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.endpoint.track(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        self.endpoint.untrack(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("lab: error on a connection to %s", self.endpoint.name, exc_info=True)
