"""A WS-Management endpoint per simulated host: just enough of WinRS (Create, Command, Receive, Signal,
Send, Delete) over HTTP with Basic auth for pywinrm's ``Session.run_ps`` to work as against Windows.

One ``ThreadingHTTPServer`` per host (its own port), all listening sockets watched by one ``Reactor``
thread (so 200 hosts cost 200 sockets, not 200 polling threads); each connection gets a thread, as
ThreadingHTTPServer does. A command runs in its own thread from the moment it is created, as the
powershell.exe process would; Receive long-polls until the command is done or the client's
OperationTimeout passes (then the WS-Man timeout fault, which pywinrm retries).

A host going offline closes its listener (connections refused), aborts the commands running there (the
world goes back to where it was) and drops every open connection without an answer, so a client
waiting in Receive gets a connection error.
"""
from __future__ import annotations

import base64
import logging
import queue
import re
import selectors
import socket
import socketserver
import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Callable
from xml.sax.saxutils import escape, quoteattr

from . import scripts
from .powershell import ProcessResult, clixml_errors, decode_command_line

if TYPE_CHECKING:
    from .lab import Lab

log = logging.getLogger(__name__)

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
MAX_RECEIVE_BYTES = 96 * 1024       # raw bytes per Receive; base64 of it stays under MaxEnvelopeSize


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

def _envelope(action: str, relates_to: str, body: str) -> bytes:
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


def _fault(relates_to: str, code: int, subcode: str, text: str, machine: str) -> bytes:
    body = (
        '<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode>'
        f'<s:Value>{escape(subcode)}</s:Value></s:Subcode></s:Code>'
        f'<s:Reason><s:Text xml:lang="en-US">{escape(text)} </s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f'Code="{code}" Machine={quoteattr(machine)}><f:Message>{escape(text)} </f:Message>'
        '</f:WSManFault></s:Detail></s:Fault>')
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


# ----------------------------------------------------------------------------------- shells, commands

class Command:
    """One powershell.exe run: output is produced at the end; Receive hands it out in chunks."""

    def __init__(self, shell: "Shell", command: str, arguments: list[str]) -> None:
        self.id = str(uuid.uuid4()).upper()
        self.shell = shell
        self.command = command
        self.arguments = arguments
        self.abort = threading.Event()
        self._cond = threading.Condition()
        self.finished = False
        self.dropped = False
        self.exit_code = 0
        self._out = b""
        self._err = b""
        self._pos_out = 0
        self._pos_err = 0
        self.thread: threading.Thread | None = None

    def finish(self, out: bytes, err: bytes, exit_code: int) -> None:
        with self._cond:
            self._out, self._err, self.exit_code = out, err, exit_code
            self.finished = True
            self._cond.notify_all()

    def drop(self) -> None:
        with self._cond:
            self.dropped = True
            self.finished = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> str:
        with self._cond:
            self._cond.wait_for(lambda: self.finished, timeout=timeout)
            if self.dropped:
                return "dropped"
            return "done" if self.finished else "running"

    def next_chunk(self) -> tuple[bytes, bytes, bool]:
        """(stdout, stderr, done) for one Receive response."""
        with self._cond:
            budget = MAX_RECEIVE_BYTES
            out = self._out[self._pos_out:self._pos_out + budget]
            self._pos_out += len(out)
            budget -= len(out)
            err = self._err[self._pos_err:self._pos_err + budget] if budget > 0 else b""
            self._pos_err += len(err)
            done = self._pos_out >= len(self._out) and self._pos_err >= len(self._err)
            return out, err, done


@dataclass
class Shell:
    id: str
    username: str
    codepage: int = 437
    commands: dict[str, Command] = field(default_factory=dict)


class CommandContext:
    """The ``scripts.OpContext`` of one command."""

    def __init__(self, endpoint: "HostEndpoint", command: Command, username: str) -> None:
        self.endpoint = endpoint
        self.command = command
        self.world = endpoint.lab.world
        self.host_name = endpoint.name
        self.username = username
        self.uploads = endpoint.uploads
        self.script_name = ""

    def duration(self, key: str) -> float:
        seconds = scripts.DURATIONS[key] / self.endpoint.lab.speed
        if self.endpoint.fault() == "slow":
            seconds *= 10
        return seconds

    def begin(self, total_seconds: float) -> None:
        self.endpoint.lab._operation_began(self.host_name, self.script_name, total_seconds)

    def sleep(self, seconds: float) -> None:
        if self.command.abort.wait(max(0.0, seconds)):
            raise scripts.Aborted()

    def run_script(self, script: str) -> ProcessResult:
        return scripts.run_script(self, script)


# ----------------------------------------------------------------------------------- HTTP

class WSManHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 300                      # an idle keep-alive connection is closed after this

    server: "_HostServer"

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
        self._send(500, _fault(req.message_id, code, subcode, text, self.server.endpoint.name))

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
        body = (
            f'<x:ResourceCreated><a:Address>http://{host}:{port}/wsman</a:Address><a:ReferenceParameters>'
            '<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>'
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell.id}</w:Selector></w:SelectorSet>'
            '</a:ReferenceParameters></x:ResourceCreated>'
            f'<rsp:Shell xmlns:rsp="{SHELL_URI}"><rsp:ShellId>{shell.id}</rsp:ShellId>'
            f'<rsp:ResourceUri>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</rsp:ResourceUri>'
            f'<rsp:Owner>{escape(user)}</rsp:Owner><rsp:ClientIP>{escape(self.client_address[0])}</rsp:ClientIP>'
            '<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>'
            '<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>')
        self._ok(_envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
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
        self._ok(_envelope(SHELL_URI + "/CommandResponse", req.message_id, body))

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
        parts = []
        for name, data in (("stdout", out), ("stderr", err)):
            if data:
                parts.append(f'<rsp:Stream Name="{name}" CommandId="{cmd.id}">'
                             f'{base64.b64encode(data).decode("ascii")}</rsp:Stream>')
        if done:
            parts.append(f'<rsp:Stream Name="stdout" CommandId="{cmd.id}" End="true"></rsp:Stream>')
            parts.append(f'<rsp:Stream Name="stderr" CommandId="{cmd.id}" End="true"></rsp:Stream>')
            parts.append(f'<rsp:CommandState CommandId="{cmd.id}" State="{STATE_DONE}">'
                         f'<rsp:ExitCode>{cmd.exit_code}</rsp:ExitCode></rsp:CommandState>')
        else:
            parts.append(f'<rsp:CommandState CommandId="{cmd.id}" State="{STATE_RUNNING}"></rsp:CommandState>')
        body = f'<rsp:ReceiveResponse>{"".join(parts)}</rsp:ReceiveResponse>'
        self._ok(_envelope(SHELL_URI + "/ReceiveResponse", req.message_id, body))

    def _signal(self, req: Request, user: str) -> None:
        shell = self._shell(req)
        if shell is None:
            return
        cmd = self._find_command(req, shell, "rsp:Signal")
        if cmd is not None:
            # terminate: the process goes away; a Hyper-V job it started carries on, as on Windows
            with self.server.endpoint.lock:
                shell.commands.pop(cmd.id, None)
        self._ok(_envelope(SHELL_URI + "/SignalResponse", req.message_id, "<rsp:SignalResponse/>"))

    def _send_input(self, req: Request, user: str) -> None:
        if self._shell(req) is None:
            return
        self._ok(_envelope(SHELL_URI + "/SendResponse", req.message_id, "<rsp:SendResponse/>"))

    def _delete(self, req: Request, user: str) -> None:
        ep = self.server.endpoint
        with ep.lock:
            shell = ep.shells.pop((req.shell_id or "").upper(), None)
        if shell is None:
            return self._fault(req, FAULT_SHELL_NOT_FOUND, "w:InvalidSelectors",
                               f"The request for the Windows Remote Shell with ShellId {req.shell_id} failed "
                               f"because the shell was not found on the server.")
        self._ok(_envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse",
                           req.message_id, ""))


class _HostServer(ThreadingHTTPServer):
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


# ----------------------------------------------------------------------------------- reactor

class Reactor:
    """One thread that accepts connections for every host's listening socket."""

    def __init__(self) -> None:
        self._sel = selectors.DefaultSelector()
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._sel.register(self._r, selectors.EVENT_READ, None)
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="lab-reactor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, fn: Callable[[], object]) -> object:
        """Run ``fn`` on the reactor thread and return its result (selector changes happen there only)."""
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            return fn()
        done = threading.Event()
        box: dict = {}
        self._calls.put((fn, done, box))
        self._w.send(b"x")
        done.wait()
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def add(self, server: _HostServer) -> None:
        self.call(lambda: self._sel.register(server.socket, selectors.EVENT_READ, server))

    def remove(self, server: _HostServer) -> None:
        def _remove() -> None:
            try:
                self._sel.unregister(server.socket)
            except (KeyError, ValueError):
                pass
            server.server_close()
        self.call(_remove)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return

        def _stop() -> None:
            self._stopping = True
        self.call(_stop)
        self._thread.join(timeout=5)
        self._sel.close()
        self._r.close()
        self._w.close()

    def _loop(self) -> None:
        while not self._stopping:
            for key, _ in self._sel.select():
                if key.data is None:
                    try:
                        while self._r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    while True:
                        try:
                            fn, done, box = self._calls.get_nowait()
                        except queue.Empty:
                            break
                        try:
                            box["result"] = fn()
                        except Exception as e:  # handed back to the caller
                            box["error"] = e
                        done.set()
                else:
                    try:
                        key.data._handle_request_noblock()
                    except Exception:
                        log.debug("lab: accept failed", exc_info=True)


# ----------------------------------------------------------------------------------- one host

class HostEndpoint:
    """The network side of one simulated host: its port, shells, commands, connections."""

    def __init__(self, lab: "Lab", name: str, bind_host: str, port: int) -> None:
        self.lab = lab
        self.name = name
        self.bind_host = bind_host
        self.port = port
        self.lock = threading.Lock()
        self.server: _HostServer | None = None
        self.shells: dict[str, Shell] = {}
        self.uploads: dict = {}
        self._conns: set[socket.socket] = set()
        self._running: set[Command] = set()
        self._offline = True

    def fault(self) -> str | None:
        return self.lab.world.hosts[self.name].fault

    def is_offline(self) -> bool:
        return self._offline

    # -- listening
    def open(self) -> None:
        with self.lock:
            if self.server is not None:
                return
            server = _HostServer((self.bind_host, self.port), self)
            self.port = server.server_address[1]
            self.server = server
            self._offline = False
        self.lab._reactor.add(server)

    def reserve_port(self) -> None:
        """Offline from the start: pick a port (so the host has an address) and do not listen on it."""
        if self.port == 0:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((self.bind_host, 0))
                self.port = s.getsockname()[1]
            finally:
                s.close()

    def close(self, join_timeout: float = 10.0) -> None:
        """Stop listening, abort running commands (their effects undone), drop every connection."""
        with self.lock:
            self._offline = True
            server, self.server = self.server, None
            running = list(self._running)
            conns = list(self._conns)
            self.shells.clear()
        if server is not None:
            self.lab._reactor.remove(server)
        for cmd in running:
            cmd.abort.set()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for cmd in running:
            if cmd.thread is not None and cmd.thread is not threading.current_thread():
                cmd.thread.join(timeout=join_timeout)

    # -- connections
    def track(self, conn: socket.socket) -> None:
        with self.lock:
            self._conns.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self.lock:
            self._conns.discard(conn)

    # -- commands
    def start_command(self, shell: Shell, cmd: Command) -> bool:
        with self.lock:
            if self._offline:
                return False
            shell.commands[cmd.id] = cmd
            # Started under the lock: close() must never see a command whose thread exists but has
            # not started (joining it would raise).
            cmd.thread = threading.Thread(target=self._run, args=(cmd,), daemon=True,
                                          name=f"lab-{self.name}-cmd")
            self._running.add(cmd)
            cmd.thread.start()
        return True

    def _run(self, cmd: Command) -> None:
        ctx = CommandContext(self, cmd, cmd.shell.username)
        try:
            inv = decode_command_line(cmd.command, cmd.arguments)
            if inv.kind == "error":
                res = inv.result or ProcessResult(exit_code=1)
            else:
                res = scripts.run_script(ctx, inv.script)
        except scripts.Aborted:
            cmd.drop()
            return
        except Exception as e:  # a bug in the lab: say so like a crashed process would
            log.exception("lab: command failed on %s", self.name)
            res = ProcessResult(stderr=clixml_errors([f"Lab internal error: {type(e).__name__}: {e}"]),
                                exit_code=1)
        finally:
            with self.lock:
                self._running.discard(cmd)
        if cmd.abort.is_set():
            cmd.drop()
            return
        out, err = res.encode(cmd.shell.codepage, self.lab.strict_encoding)
        cmd.finish(out, err, res.exit_code)
