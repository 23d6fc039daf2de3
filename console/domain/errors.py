"""Typed errors: a sentence for a person, a hint for the fix, details for the log.

Every layer raises these; the UI shows ``message`` and ``hint`` and never a traceback.
"""
from __future__ import annotations


class ConsoleError(Exception):
    """Base of every error the console expects and can explain."""

    #: short label used in task rows and the CLI ("Authentication failed", ...)
    title = "Operation failed"

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details  # technical text (PowerShell message, HTTP body); goes to the log

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ValidationError(ConsoleError):
    title = "Invalid input"

    def __init__(self, message: str, hint: str = "", details: str = "", field: str = "") -> None:
        super().__init__(message, hint, details)
        self.field = field


class AuthenticationError(ConsoleError):
    title = "Authentication failed"


class UnreachableError(ConsoleError):
    title = "Host unreachable"


class WrongEndpointError(ConsoleError):
    """The address answers, but it is another kind of endpoint than the one asked for."""

    title = "Wrong kind of endpoint"

    def __init__(self, message: str, hint: str = "", details: str = "", actual_kind: str = "") -> None:
        super().__init__(message, hint, details)
        self.actual_kind = actual_kind


class CertificateNotTrustedError(ConsoleError):
    title = "Certificate not trusted"

    def __init__(self, message: str, hint: str = "", details: str = "", fingerprint: str = "",
                 subject: str = "", not_before: str = "", not_after: str = "",
                 pinned_fingerprint: str = "") -> None:
        super().__init__(message, hint, details)
        self.fingerprint = fingerprint
        self.subject = subject
        self.not_before = not_before
        self.not_after = not_after
        self.pinned_fingerprint = pinned_fingerprint


class PrerequisiteError(ConsoleError):
    title = "Prerequisite not met"


class CapacityError(ConsoleError):
    title = "Not enough capacity"


class ConflictError(ConsoleError):
    title = "Conflict"


class NotFoundError(ConsoleError):
    title = "Not found"


class InvalidStateError(ConsoleError):
    """The object exists but is in a state that forbids the action (e.g. start a running VM)."""

    title = "Invalid state"


class CancelledError(ConsoleError):
    title = "Cancelled"


class ProtocolError(ConsoleError):
    """The remote end answered something we cannot understand (bad JSON, script too long...)."""

    title = "Protocol error"
