"""A WS-Management endpoint per simulated host: just enough of WinRS over HTTP with Basic auth for
pywinrm's ``Session.run_ps`` to work as against Windows.

Layout: ``wsman`` (SOAP messages), ``winrs`` (shells, commands), ``wsman_http`` (the HTTP handler and
one host's server), ``reactor`` (accepting for all hosts), this module (one host's network side, and
running a command against the world).

A command runs in its own thread from the moment it is created, as the powershell.exe process would.
A host going offline closes its listener (connections refused), aborts the commands running there (the
world goes back to where it was) and drops every open connection without an answer, so a client
waiting in Receive gets a connection error.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING

from . import scripts
from .powershell import ProcessResult, clixml_errors, decode_command_line
from .winrs import Command, Shell
from .wsman_http import HostHTTPServer

if TYPE_CHECKING:
    from .lab import Lab

log = logging.getLogger(__name__)


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


class HostEndpoint:
    """The network side of one simulated host: its port, shells, commands, connections."""

    def __init__(self, lab: "Lab", name: str, bind_host: str, port: int) -> None:
        self.lab = lab
        self.name = name
        self.bind_host = bind_host
        self.port = port
        self.lock = threading.Lock()
        self.server: HostHTTPServer | None = None
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
            server = HostHTTPServer((self.bind_host, self.port), self)
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
        # Wait for the aborted commands to undo their effects before the connections drop: a client
        # that sees the connection lost must find the world as it was (a VM half-started is Off).
        for cmd in running:
            if cmd.thread is not None and cmd.thread is not threading.current_thread():
                cmd.thread.join(timeout=join_timeout)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

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
