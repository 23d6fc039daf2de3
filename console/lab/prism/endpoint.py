"""One Prism endpoint (Prism Element or Prism Central) over HTTPS on its own port of 127.0.0.1.

A ``ThreadingHTTPServer`` in its own thread (never the console's Qt thread), each connection in a
thread of its own; the TLS handshake happens in that thread, so a slow or refusing client never holds
the accept loop. The certificate context can be swapped while serving (faults "cert-replaced",
"cert-expired"): new connections get the new certificate, as after a real certificate change.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import socket
import socketserver
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from . import build, v2_api, v2_bodies, v3_api, v3_bodies
from .api_common import Call, Reply
from .model import Cluster, Task
from .world import DURATIONS, POWERING_ON, PrismError, PrismWorld

if TYPE_CHECKING:
    from .lab import PrismLab

log = logging.getLogger(__name__)

V2_ROOTS = (("PrismGateway", "services", "rest", "v2.0"), ("api", "nutanix", "v2.0"))
V3_ROOT = ("api", "nutanix", "v3")


class PrismEndpoint:
    """The network side of one Prism: port, TLS context, fault switch, and the request entry point."""

    def __init__(self, lab: PrismLab, kind: str, name: str, bind_host: str, port: int) -> None:
        self.lab = lab
        self.kind = kind                  # "nutanix-pe" | "nutanix-pc"
        self.name = name                  # NTNX-PE-01 | NTNX-PC-01
        self.bind_host = bind_host
        self.port = port
        self.context: ssl.SSLContext | None = None
        self.lock = threading.Lock()
        self.server: _PrismServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()

    @property
    def world(self) -> PrismWorld:
        return self.lab.world

    @property
    def fault(self) -> str | None:
        return self.world.fault(self.name)

    # ---- what the handlers ask
    def pe_cluster(self) -> Cluster:
        return self.world.cluster(build.PE01)

    def pc_cluster(self) -> Cluster:
        return self.world.cluster(build.PC)

    def version_override(self, cluster: Cluster) -> tuple[str, str] | None:
        """Fault "old-version": Prism Element reports AOS 4.7 for its cluster, Prism Central an old
        Prism Central build for itself (the clusters it manages keep theirs)."""
        if self.fault != "old-version":
            return None
        if self.kind == "nutanix-pe" and cluster.name == build.PE01:
            return build.OLD_PE_VERSION
        if self.kind == "nutanix-pc" and cluster.is_prism_central:
            return build.OLD_PC_VERSION
        return None

    def refuse_clone_if_faulty(self) -> None:
        if self.fault == "clone-500":
            raise PrismError(500, "INTERNAL_ERROR", "Internal Server Error: the clone request could not be "
                                                    "processed (simulated fault clone-500).")

    def start_task(self, cluster: Cluster, operation: str, entity_type: str, entity_uuids: list[str],
                   params: dict, api: str, duration: str | None = None) -> Task:
        fault = self.fault
        slow = 10 if fault == "slow" else 1
        seconds = DURATIONS[duration or operation] / self.lab.speed * slow
        if operation in POWERING_ON:           # a VM this task powers on boots at the speed of now
            params = {**params, "boot_seconds": DURATIONS["boot"] / self.lab.speed * slow}
        fail_at = 0.6 if fault == "clone-fails-60" and operation in ("clone", "restore") else None
        return self.world.start_task(cluster, operation, entity_type, entity_uuids, params, seconds,
                                     fail_at, api)

    # ---- listening
    def open(self) -> None:
        with self.lock:
            if self.server is not None:
                return
            server = _PrismServer((self.bind_host, self.port), self)
            self.port = server.server_address[1]
            self.server = server
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"lab-prism-{self.name}", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop listening (connections refused) and drop every open connection without an answer."""
        with self.lock:
            server, self.server = self.server, None
            thread, self._thread = self._thread, None
            conns = list(self._conns)
        if server is not None:
            server.shutdown()
            server.server_close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=5)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self.lock:
            (self._conns.add if add else self._conns.discard)(conn)

    # ---- one request
    def authenticate(self, header: str | None) -> str | None:
        if self.fault == "auth" or not header or not header.lower().startswith("basic "):
            return None
        try:
            text = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        user, sep, password = text.partition(":")
        if not sep or user != self.lab.username or password != self.lab.password:
            return None
        return user

    def dispatch(self, method: str, raw_path: str, auth: str | None, body: bytes) -> Reply:
        url = urllib.parse.urlsplit(raw_path)
        segments = [urllib.parse.unquote(s) for s in url.path.split("/") if s]
        api, parts = None, []
        for root in V2_ROOTS:
            if tuple(segments[:len(root)]) == root:
                api, parts = "v2", segments[len(root):]
        if tuple(segments[:3]) == V3_ROOT:
            api, parts = "v3", segments[3:]
        if api is None:
            return Reply(404, {"message": f"{url.path} is not a Prism API path."})
        user = self.authenticate(auth)
        if user is None:
            return _unauthorized(api)
        try:
            parsed = json.loads(body.decode("utf-8")) if body.strip() else None
        except (UnicodeDecodeError, ValueError) as e:
            return _error(api, PrismError(400, "INVALID_REQUEST", f"The request body is not valid JSON: {e}."))
        call = Call(method, parts, urllib.parse.parse_qs(url.query), parsed, self, user, body)
        self.world.advance()
        try:
            reply = (v2_api if api == "v2" else v3_api).handle(call)
        except PrismError as e:
            return _error(api, e)
        if api == "v3" and parts == ["users", "me"]:
            reply.headers["x-ntnx-env"] = "pc" if self.kind == "nutanix-pc" else "pe"
        return reply


def _unauthorized(api: str) -> Reply:
    headers = {"WWW-Authenticate": 'Basic realm="Intent Gateway Login Required"'}
    if api == "v3":
        return Reply(401, v3_bodies.error(401, "AUTHENTICATION_REQUIRED",
                                          "Authentication required: the user name or password is wrong."), headers)
    return Reply(401, v2_bodies.error(401, "Authentication required: the user name or password is wrong.",
                                      "An Authentication object was not found in the SecurityContext"), headers)


def _error(api: str, e: PrismError) -> Reply:
    if api == "v3":
        return Reply(e.status, v3_bodies.error(e.status, e.reason, e.message))
    return Reply(e.status, v2_bodies.error(e.status, e.message, e.reason))


class _PrismServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], endpoint: PrismEndpoint) -> None:
        self.endpoint = endpoint
        super().__init__(address, _PrismHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves a fully qualified name: slow and useless here
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        sock.settimeout(60)
        context = self.endpoint.context
        assert context is not None
        # the handshake runs in the connection's thread (setup), not in the accept loop
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def process_request(self, request: socket.socket, client_address: object) -> None:
        self.endpoint.track(request, True)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        self.endpoint.track(request, False)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("lab: error on a connection to %s", self.endpoint.name, exc_info=True)


class _PrismHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    server: _PrismServer

    def setup(self) -> None:
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            # the client refused our certificate (or went away): nothing to answer
            raise ConnectionAbortedError("TLS handshake failed") from None
        super().setup()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("lab prism %s: " + format, self.server.endpoint.name, *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        ep = self.server.endpoint
        try:
            reply = ep.dispatch(self.command, self.path, self.headers.get("Authorization"), body)
        except Exception as e:  # a bug in the lab: answer like a server error, keep serving
            log.exception("lab: request failed on %s", ep.name)
            reply = Reply(500, {"message": f"Lab internal error: {type(e).__name__}: {e}"})
        data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve
