"""Turning what Prism answered into the console's typed errors."""
from __future__ import annotations

import json
import ssl
from typing import Any

import httpx

from console.domain.errors import (
    AuthenticationError,
    ConflictError,
    ConsoleError,
    NotFoundError,
    ProtocolError,
    UnreachableError,
    ValidationError,
)


class PrismError(ConsoleError):
    """Prism answered with an error the console has no more precise name for (500, 400...)."""

    title = "Prism error"

    def __init__(self, message: str, hint: str = "", details: str = "", status: int = 0) -> None:
        super().__init__(message, hint, details)
        self.status = status


class TaskFailedError(ConsoleError):
    """A Prism task ended FAILED (or ABORTED)."""

    title = "Prism task failed"

    def __init__(self, message: str, hint: str = "", details: str = "", task_uuid: str = "") -> None:
        super().__init__(message, hint, details)
        self.task_uuid = task_uuid


def prism_message(body: Any) -> str:
    """The human sentence inside a v2 or v3 error body, if any."""
    if not isinstance(body, dict):
        return ""
    for entry in body.get("message_list") or []:             # v3
        if isinstance(entry, dict) and entry.get("message"):
            reason = entry.get("reason")
            return str(entry["message"]) + (f" ({reason})" if reason and reason not in entry["message"] else "")
    for key in ("message", "detailed_message", "error_detail", "error"):   # v2 and others
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text[:500]


def http_error(response: httpx.Response, where: str, what: str, username: str) -> ConsoleError:
    """The typed error for a non-2xx answer. ``what`` names the request for a person ("the VM list")."""
    status = response.status_code
    body = _body(response)
    said = prism_message(body)
    details = f"{response.request.method} {response.request.url.path} -> {status}: " + (
        json.dumps(body, ensure_ascii=False)[:2000] if not isinstance(body, str) else body)
    if status == 401:
        return AuthenticationError(f"{where} refused the user name or password of '{username}'.",
                                   "Check the user name and password (a Prism local or directory account).",
                                   details)
    if status == 403:
        return AuthenticationError(f"'{username}' is not allowed to read or change {what} on {where}.",
                                   "Use an account with the Prism Admin or Cluster Admin role.", details)
    if status == 404:
        return NotFoundError(f"{where} could not find {what}" + (f": {said}" if said else "."),
                             "Refresh the inventory: it may have been deleted by someone else.", details)
    if status == 409:
        return ConflictError(f"{where} refused {what} because it changed meanwhile"
                             + (f": {said}" if said else "."),
                             "Refresh and try again.", details)
    if status == 422 or status == 400:
        return ValidationError(f"{where} refused {what}" + (f": {said}" if said else " as invalid."),
                               "See the details in the log.", details)
    if status in (429, 503):
        return UnreachableError(f"{where} is too busy to answer {what} (HTTP {status}), even after "
                                "waiting and retrying.", "Try again in a few minutes.", details)
    return PrismError(f"{where} failed on {what} (HTTP {status})" + (f": {said}" if said else "."),
                      "See the details in the log; Prism's own logs may say more.", details, status)


def is_certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind an httpx connect error, if that is what it is."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        current = current.__cause__ or current.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return ssl.SSLCertVerificationError(str(exc))
    return None


def is_connection_reset(exc: BaseException) -> bool:
    """A connection the server (or a middle box) dropped: worth one more try."""
    if isinstance(exc, httpx.RemoteProtocolError):
        return True
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        current: BaseException | None = exc
        while current is not None:
            if isinstance(current, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
                return True
            current = current.__cause__ or current.__context__
        return "reset" in str(exc).lower() or not str(exc)
    return False


def transport_error(exc: httpx.TransportError, where: str, what: str) -> ConsoleError:
    """A request that got no HTTP answer at all."""
    if isinstance(exc, httpx.ConnectTimeout):
        return UnreachableError(f"{where} did not accept a connection within 5 seconds.",
                                "Check the address, that Prism is running, and that a firewall lets "
                                "port 9440 through.", repr(exc))
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or type(exc).__name__
        return UnreachableError(f"Cannot connect to {where}: {reason}.",
                                "Check the address and port (Prism listens on 9440) and that Prism is "
                                "running.", repr(exc))
    if isinstance(exc, httpx.ReadTimeout):
        return UnreachableError(f"{where} accepted the connection but did not answer {what} within "
                                "30 seconds.", "Prism may be overloaded; try again later.", repr(exc))
    if is_connection_reset(exc):
        return UnreachableError(f"{where} dropped the connection while answering {what}.",
                                "Try again; a retried operation finds what the first try made.", repr(exc))
    return ProtocolError(f"The connection to {where} failed while asking for {what}: {exc}.",
                         "See the details in the log.", repr(exc))
