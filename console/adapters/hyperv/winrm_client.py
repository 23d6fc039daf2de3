"""The blocking side: pywinrm sessions, one script run, transport errors. Runs in worker processes
(or executor threads), never on the asyncio loop; everything here is synchronous on purpose.
The worker processes' entry points are in worker.py."""
from __future__ import annotations

import hashlib
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any

import requests
import winrm
from winrm.exceptions import (BasicAuthDisabledError, InvalidCredentialsError, WinRMError,
                              WinRMTransportError, WSManFaultError)
from winrm.protocol import Protocol

from console.domain.addresses import Endpoint
from console.domain.errors import (AuthenticationError, CertificateNotTrustedError, ConsoleError,
                                   PrerequisiteError, ProtocolError, UnreachableError,
                                   WrongEndpointError)

from .errors import parse_json_output, script_error, stderr_error
from .scripts import MAX_COMMAND_CHARS, plan_run

#: Seconds one WS-Man request may take on the host; reads wait a little longer (pywinrm requires it).
OPERATION_TIMEOUT_SEC = 20
READ_TIMEOUT_SEC = 30

#: Invoke-Uploaded's own refusals (CONTRACT.md "Length limit"): the uploaded script is not run.
_UPLOAD_FAULTS = {"VdiUploadMissing": "missing", "VdiUploadDamaged": "damaged"}

# Two uploads of the same script to the same host would append to the same temporary file.
_upload_locks: dict[str, threading.Lock] = {}
_upload_locks_guard = threading.Lock()


def _upload_lock(host_key: str) -> threading.Lock:
    with _upload_locks_guard:
        return _upload_locks.setdefault(host_key, threading.Lock())


@dataclass
class RawResult:
    stdout: bytes
    stderr: bytes
    exit_code: int


class WinRMClient:
    """Runs the scripts of CONTRACT.md on one host. Thread-safe: sessions are pooled, one per thread
    at a time, because an NTLM-authenticated connection must not be shared by parallel requests."""

    def __init__(self, endpoint: Endpoint, username: str, password: str, transport: str,
                 max_command_chars: int = MAX_COMMAND_CHARS) -> None:
        self.endpoint = endpoint
        self._username = username
        self._password = password
        self._transport = transport
        self.max_command_chars = max_command_chars
        self._idle: list[winrm.Session] = []
        self._uploaded: set[str] = set()      # long scripts this client uploaded (run_script only)
        self._lock = threading.Lock()
        self._closed = False

    # -- sessions ---------------------------------------------------------------------------
    def _new_session(self) -> winrm.Session:
        options: dict[str, Any] = dict(
            transport=self._transport,
            server_cert_validation="validate",   # pinned self-signed certificates: not yet
            ca_trust_path=None, proxy=None,       # no REQUESTS_CA_BUNDLE or environment proxies
            operation_timeout_sec=OPERATION_TIMEOUT_SEC, read_timeout_sec=READ_TIMEOUT_SEC)
        url = self.endpoint.url
        session = winrm.Session(url, auth=(self._username, self._password), **options)
        if session.url != url:
            # winrm.Session's URL parser cannot read IPv6 literals: give the protocol the URL as is.
            session.url = url
            session.protocol = Protocol(url, username=self._username, password=self._password, **options)
        return session

    def _acquire(self) -> winrm.Session:
        with self._lock:
            if self._closed:
                raise ConsoleError(f"The connection to {self.endpoint.host} has been closed.")
            if self._idle:
                return self._idle.pop()
        return self._new_session()

    def _release(self, session: winrm.Session, healthy: bool) -> None:
        with self._lock:
            if healthy and not self._closed:
                self._idle.append(session)
                return
        session.protocol.transport.close_session()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for session in idle:
            session.protocol.transport.close_session()

    # -- running ----------------------------------------------------------------------------
    def run_script(self, name: str, params: dict[str, Any], operation: str) -> Any:
        """Run scripts/<name>.ps1 with ``params`` and return its JSON result, or raise a typed error.
        ``operation`` names the work for messages ("the inventory query"). The blocking form of what
        the adapter does across processes (adapter.py): a long script is uploaded once per client."""
        plan = plan_run(name, params, self.max_command_chars)
        if plan.kind == "direct":
            return self.run_one(name, plan.run, operation)
        lock = _upload_lock(f"{self.endpoint.host}:{self.endpoint.port}")
        if plan.kind == "once":
            with lock:
                self.send_uploads(plan.uploads, operation)
            return self.run_one(name, plan.run, operation, continuing=True)
        for attempt in range(2):
            with lock:
                if plan.upload_id not in self._uploaded:
                    self.send_uploads(plan.uploads, operation)
                    self._uploaded.add(plan.upload_id)
            status, value = self.run_uploaded(name, plan.run, operation)
            if status == "ok":
                return value
            self._uploaded.discard(plan.upload_id)
            if status == "damaged" or attempt:
                raise value
        raise AssertionError("unreachable")

    def run_one(self, name: str, command: str, operation: str, continuing: bool = False) -> Any:
        """One command: the script's JSON result, or its typed error."""
        return self._result(name, self._run_command(command, operation, continuing))

    def send_uploads(self, commands: list[str] | tuple[str, ...], operation: str) -> None:
        """Upload-Chunk commands, in order. The caller holds the host's upload lock (two uploads of
        the same script would append to the same temporary file)."""
        for index, command in enumerate(commands):
            self._result("Upload-Chunk", self._run_command(command, operation, index > 0))

    def run_uploaded(self, name: str, command: str, operation: str) -> tuple[str, Any]:
        """An Invoke-Uploaded run of a script uploaded once: ("ok", result), or ("missing", error) when
        the host does not have it (temp cleaned, rebooted, another console...), or ("damaged", error)
        when Invoke-Uploaded refused its copy (and removed it). The script's own errors are raised."""
        raw = self._run_command(command, operation)
        if raw.exit_code != 0 and raw.stdout.strip():
            document = parse_json_output(raw.stdout, self.endpoint.host, name)
            error = document.get("error") if isinstance(document, dict) else None
            fault = _UPLOAD_FAULTS.get(str(error.get("fqid"))) if isinstance(error, dict) else None
            if fault is not None:
                return fault, script_error(error, self.endpoint.host)
        return "ok", self._result(name, raw)

    def _result(self, name: str, raw: RawResult) -> Any:
        host = self.endpoint.host
        if raw.exit_code == 0:
            return parse_json_output(raw.stdout, host, name)
        if raw.stdout.strip():
            document = parse_json_output(raw.stdout, host, name)
            if isinstance(document, dict) and isinstance(document.get("error"), dict):
                raise script_error(document["error"], host)
        raise stderr_error(raw.stderr, raw.exit_code, host, name)

    def _run_command(self, command: str, operation: str, continuing: bool = False) -> RawResult:
        """Shell, command, output, cleanup, as pywinrm's run_cmd does, but knowing how far it got:
        a connection that fails after the command started was lost, not refused. ``continuing``: an
        earlier command of the same operation already reached the host."""
        session = self._acquire()
        protocol = session.protocol
        started = continuing
        try:
            shell_id = protocol.open_shell()
            started = True
            command_id = protocol.run_command(shell_id, command)
            stdout, stderr, code = protocol.get_command_output(shell_id, command_id)
            try:
                protocol.cleanup_command(shell_id, command_id)
                protocol.close_shell(shell_id)
            except (WinRMError, WinRMTransportError, requests.RequestException):
                pass    # the answer is in hand; a shell left behind times out on the host
        except BaseException as exc:
            self._release(session, healthy=False)
            if isinstance(exc, ConsoleError):
                raise
            if isinstance(exc, Exception):
                raise self._transport_error(exc, operation, started) from None
            raise
        self._release(session, healthy=True)
        return RawResult(stdout, stderr, code)

    def _transport_error(self, exc: Exception, operation: str, started: bool) -> ConsoleError:
        ep = self.endpoint
        host = ep.host
        details = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, BasicAuthDisabledError):
            return AuthenticationError(f"{host} does not accept Basic authentication.",
                                       "Use NTLM or Kerberos, or allow Basic in the host's WinRM "
                                       "service configuration.", details)
        if isinstance(exc, InvalidCredentialsError) or getattr(exc, "code", None) == 401:
            if "requires a" in str(exc):      # pywinrm refusing before sending anything
                return AuthenticationError(f"No user name or password was given for {host}.",
                                           "Enter the account's user name and password.", details)
            return AuthenticationError(f"The user name or password was not accepted by {host}.",
                                       "Check the user name (DOMAIN\\user or user@domain) and the "
                                       "password, and that the account may use WinRM on the host "
                                       "(Administrators or Remote Management Users).", details)
        if isinstance(exc, requests.exceptions.SSLError):
            return self._certificate_error(details)
        if isinstance(exc, requests.exceptions.Timeout) and not isinstance(
                exc, requests.exceptions.ConnectTimeout):
            what = f"during {operation}" if started else "to the connection"
            return UnreachableError(f"{host} did not answer {what} within {READ_TIMEOUT_SEC} seconds.",
                                    "Check that the host is running and not overloaded, then retry.",
                                    details)
        if isinstance(exc, requests.exceptions.ConnectTimeout) and not started:
            return UnreachableError(f"{host}:{ep.port} did not answer the connection.",
                                    "Check the address, that the host is on, and that a firewall "
                                    "allows WinRM (TCP 5985/5986).", details)
        if isinstance(exc, requests.exceptions.ConnectionError):
            if _caused_by(exc, socket.gaierror) or "resolve" in str(exc).lower():
                return UnreachableError(f"The host name '{host}' could not be resolved.",
                                        "Check the spelling, or enter the host's IP address or fully "
                                        "qualified name.", details)
            if started:
                return UnreachableError(f"The connection to {host} was lost during {operation}.",
                                        "Check that the host is still running and reachable, then "
                                        "retry: the operation may or may not have completed.", details)
            if _caused_by(exc, ConnectionRefusedError) or "refused" in str(exc).lower():
                return UnreachableError(f"{host}:{ep.port} refused the connection.",
                                        "Check that WinRM is enabled (winrm quickconfig) and the "
                                        "port is right.", details)
            return UnreachableError(f"{host}:{ep.port} could not be reached.",
                                    "Check the address, the network and the firewall.", details)
        if isinstance(exc, WSManFaultError):
            reason = (exc.reason or "").strip()
            if exc.wsman_fault_code == 5 or "access is denied" in reason.lower():
                return AuthenticationError(f"Access was denied on {host}.",
                                           "Use an account that is a member of Administrators or "
                                           "Remote Management Users on the host.", details)
            return ConsoleError(f"{host} refused the WinRM request: {reason}",
                                "See the details in the log.", details)
        if isinstance(exc, WinRMTransportError):
            if exc.code in (404, 405):
                return WrongEndpointError(f"{ep.url} answered, but it is not a WinRM endpoint "
                                          f"(HTTP {exc.code}).", "Check the address and port: WinRM "
                                          "listens on /wsman at 5985 (HTTP) or 5986 (HTTPS).",
                                          details, actual_kind="http")
            return ProtocolError(f"{host} answered the WinRM request with HTTP {exc.code}.",
                                 "See the details in the log.", details)
        if isinstance(exc, WinRMError) and "kerberos" in str(exc).lower():
            return PrerequisiteError("Kerberos authentication is not available on this computer.",
                                     "Use NTLM, or install pywinrm's Kerberos support.", details)
        if isinstance(exc, WinRMError):
            return ProtocolError(f"WinRM failed with {host}: {exc}", "See the details in the log.", details)
        if isinstance(exc, (ValueError, KeyError, StopIteration)) or type(exc).__name__ == "ParseError":
            return ProtocolError(f"{host} sent a WinRM answer that could not be read.",
                                 "Check that the address is a WinRM endpoint.", details)
        return ConsoleError(f"{operation.capitalize()} on {host} failed: {exc}", "See the details in the log.",
                            details)

    def _certificate_error(self, details: str) -> CertificateNotTrustedError:
        ep = self.endpoint
        fingerprint = ""
        try:
            pem = ssl.get_server_certificate((ep.host, ep.port), timeout=5)
            der = ssl.PEM_cert_to_DER_cert(pem)
            fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        except (OSError, ValueError):
            pass
        return CertificateNotTrustedError(
            f"The certificate of {ep.host} is not trusted.",
            "Install the certificate's issuing CA on this computer, or check that the address is "
            "the host you meant.", details, fingerprint=fingerprint)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is anywhere in the exception's chain (requests wraps urllib3 wraps socket)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        for nxt in (current.__cause__, current.__context__, getattr(current, "reason", None),
                    *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
    return False
