"""TLS for Prism: the system CA store normally, or exactly one pinned self-signed certificate.

A pinned certificate is identified by its SHA-256 fingerprint (the one the administrator accepted).
The adapter reads the certificate the server presents *without trusting it* (no HTTP request, no
credentials sent), compares fingerprints, and only then builds a context that trusts that one
certificate (VERIFY_X509_PARTIAL_CHAIN lets a self-signed leaf be its own trust anchor). OpenSSL still
checks its validity period, so an expired pinned certificate is refused too.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID

from console.domain.errors import CertificateNotTrustedError, UnreachableError, ValidationError

#: how long reading a presented certificate may take (the same as the connect timeout)
FETCH_TIMEOUT = 5.0


@dataclass(frozen=True)
class CertificateInfo:
    """What the console's accept dialog shows about a presented certificate."""

    fingerprint: str        # SHA-256 of the DER, "AA:BB:..." upper case
    subject: str            # e.g. "CN=localhost,O=Nutanix Lab"
    issuer: str
    not_before: str         # ISO-8601 UTC
    not_after: str
    self_signed: bool
    der: bytes

    @property
    def expired(self) -> bool:
        return _parse_iso(self.not_after) < dt.datetime.now(dt.timezone.utc)

    @property
    def not_yet_valid(self) -> bool:
        return _parse_iso(self.not_before) > dt.datetime.now(dt.timezone.utc)


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def normalize_fingerprint(text: str) -> str:
    """Lower-case hex without separators, so "AA:BB" and "aabb" compare equal."""
    return "".join(c for c in (text or "").lower() if c in "0123456789abcdef")


def format_fingerprint(hex_digest: str) -> str:
    digest = normalize_fingerprint(hex_digest).upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def fingerprint_of(der: bytes) -> str:
    return format_fingerprint(hashlib.sha256(der).hexdigest())


def same_fingerprint(a: str, b: str) -> bool:
    return bool(normalize_fingerprint(a)) and normalize_fingerprint(a) == normalize_fingerprint(b)


def certificate_info(der: bytes) -> CertificateInfo:
    cert = x509.load_der_x509_certificate(der)
    return CertificateInfo(
        fingerprint=fingerprint_of(der),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
        self_signed=cert.subject == cert.issuer,
        der=der,
    )


def common_name(info: CertificateInfo) -> str:
    cert = x509.load_der_x509_certificate(info.der)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else info.subject


def system_ssl_context() -> ssl.SSLContext:
    """The operating system's CA store, host name checked."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)


def pinned_ssl_context(der: bytes) -> ssl.SSLContext:
    """Trust exactly this certificate and nothing else (not even the system CAs).

    The host name is not checked: the pinned fingerprint is the server's identity, and a Prism
    appliance's self-signed certificate rarely names the address it is reached by."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata=der)
    return context


def _unverified_context() -> ssl.SSLContext:
    # Only to *read* what the server presents; nothing is sent over this connection.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme != "https":
        raise ValidationError(f"'{url}' is not an https:// address.", "Prism is reached over HTTPS only.",
                              field="address")
    if not parts.hostname:
        raise ValidationError(f"'{url}' has no host name.", field="address")
    return parts.hostname, parts.port or 443


async def fetch_certificate(url: str, timeout: float = FETCH_TIMEOUT) -> CertificateInfo:
    """Read the certificate the server at ``url`` presents, without trusting it (for the accept
    dialog). Raises UnreachableError when nothing answers TLS there."""
    host, port = _host_port(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=_unverified_context(), server_hostname=host),
            timeout)
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        reason = "it did not answer in time" if isinstance(exc, asyncio.TimeoutError) else str(exc)
        raise UnreachableError(f"Cannot read the certificate of {host}:{port}: {reason}.",
                               "Check the address and port (Prism listens on 9440).",
                               details=repr(exc)) from None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass
    if not der:
        raise UnreachableError(f"{host}:{port} presented no certificate.",
                               "Check that the address is a Prism web console (port 9440).")
    return certificate_info(der)


def _day(iso: str) -> str:
    return _parse_iso(iso).strftime("%Y-%m-%d %H:%M UTC")


def untrusted_error(where: str, info: CertificateInfo, pinned: str = "",
                    reason: str = "") -> CertificateNotTrustedError:
    """The sentence for a certificate the console will not trust, saying what is wrong with it.
    ``reason``: OpenSSL's verify message, when there was one."""
    fields = dict(fingerprint=info.fingerprint, subject=info.subject, not_before=info.not_before,
                  not_after=info.not_after, pinned_fingerprint=format_fingerprint(pinned) if pinned else "")
    details = f"presented {info.fingerprint}" + (f", pinned {fields['pinned_fingerprint']}" if pinned else "")
    if pinned and not same_fingerprint(pinned, info.fingerprint):
        validity = (f"expired on {_day(info.not_after)}" if info.expired
                    else f"valid until {_day(info.not_after)}")
        return CertificateNotTrustedError(
            f"The certificate of {where} has changed since it was accepted: it now presents "
            f"{info.subject} (fingerprint {info.fingerprint}, {validity}) "
            f"instead of the accepted fingerprint {fields['pinned_fingerprint']}.",
            "If the administrators of this Prism replaced its certificate, compare the new fingerprint "
            "with theirs and accept it; otherwise someone may be intercepting the connection.",
            details, **fields)
    if info.expired:
        return CertificateNotTrustedError(
            f"The certificate of {where} expired on {_day(info.not_after)}.",
            "Renew the Prism certificate (Settings > SSL Certificate), then accept the new one.",
            details, **fields)
    if info.not_yet_valid:
        return CertificateNotTrustedError(
            f"The certificate of {where} is not valid before {_day(info.not_before)}.",
            "Check the clocks of this computer and of Prism.", details, **fields)
    if "mismatch" in reason.lower():            # a trusted certificate, but for another name
        return CertificateNotTrustedError(
            f"The certificate of {where} is for {info.subject}, not for this address.",
            "Use the name the certificate was issued for, or compare its fingerprint "
            f"({info.fingerprint}) with Prism's and accept it.", details, **fields)
    what = "a self-signed certificate" if info.self_signed else "a certificate from an unknown authority"
    return CertificateNotTrustedError(
        f"{where} presents {what} ({info.subject}, fingerprint {info.fingerprint}) that this computer "
        "does not trust.",
        "Compare the fingerprint with the one Prism shows (Settings > SSL Certificate) and accept it to "
        "pin it for this provider.", details, **fields)
