"""The Prism endpoints' TLS certificates: self-signed, made with ``cryptography``, kept in the lab
state folder so a fingerprint pinned by the console stays valid across restarts.

    <state>/prism/tls/<ENDPOINT>.key           the private key (EC P-256: instant to make, unlike RSA)
    <state>/prism/tls/<ENDPOINT>.pem           the certificate served normally
    <state>/prism/tls/<ENDPOINT>-expired.pem   the same key, a validity that ended yesterday

The certificate names 127.0.0.1 and localhost in its subjectAltName, so a client that trusts the PEM
as its CA bundle verifies the host name too (a self-signed leaf is its own trust anchor).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 3650


def fingerprint_of(der: bytes) -> str:
    """SHA-256 of the DER certificate as Prism and browsers show it: AA:BB:..."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True)
class CertFiles:
    cert_path: Path
    key_path: Path
    pem: str
    fingerprint: str


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _build(key: ec.EllipticCurvePrivateKey, common_name: str, not_before: dt.datetime,
           not_after: dt.datetime) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "CA"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "San Jose"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Nutanix Inc."),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Manageability"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    public = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256()))


def _atomic_write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class EndpointCertificate:
    """The certificate of one endpoint, on disk under ``folder``; made on first use."""

    def __init__(self, folder: Path, endpoint: str) -> None:
        self.folder = Path(folder)
        self.endpoint = endpoint
        self.key_path = self.folder / f"{endpoint}.key"
        self.cert_path = self.folder / f"{endpoint}.pem"
        self.expired_path = self.folder / f"{endpoint}-expired.pem"
        self._lock = threading.Lock()

    # ---- files
    def _load_key(self) -> ec.EllipticCurvePrivateKey | None:
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError):
            return None
        return key if isinstance(key, ec.EllipticCurvePrivateKey) else None

    def _write(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, path: Path) -> None:
        _atomic_write(self.key_path, key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()), private=True)
        _atomic_write(path, cert.public_bytes(serialization.Encoding.PEM))

    def ensure(self) -> CertFiles:
        """The current certificate, made (and saved) when there is none or it cannot be read."""
        with self._lock:
            key = self._load_key()
            try:
                cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            except (OSError, ValueError):
                cert = None
            if key is None or cert is None or cert.public_key() != key.public_key():
                return self._replace_locked(key)
            return self._files(self.cert_path)

    def replace(self) -> CertFiles:
        """A new key and certificate (the fault "cert-replaced": someone renewed Prism's certificate)."""
        with self._lock:
            return self._replace_locked(None)

    def _replace_locked(self, key: ec.EllipticCurvePrivateKey | None) -> CertFiles:
        key = key or _new_key()
        now = dt.datetime.now(dt.UTC)
        cert = _build(key, self.endpoint.lower() + ".lab.local", now - dt.timedelta(days=1),
                      now + dt.timedelta(days=VALID_DAYS))
        self._write(key, cert, self.cert_path)
        self.expired_path.unlink(missing_ok=True)
        return self._files(self.cert_path)

    def expired(self) -> CertFiles:
        """A certificate of the current key whose validity ended yesterday (fault "cert-expired")."""
        with self._lock:
            key = self._load_key()
            if key is None:
                self._replace_locked(None)
                key = self._load_key()
            assert key is not None
            try:
                cert = x509.load_pem_x509_certificate(self.expired_path.read_bytes())
                if cert.public_key() == key.public_key():
                    return self._files(self.expired_path)
            except (OSError, ValueError):
                pass
            now = dt.datetime.now(dt.UTC)
            cert = _build(key, self.endpoint.lower() + ".lab.local", now - dt.timedelta(days=400),
                          now - dt.timedelta(days=1))
            self._write(key, cert, self.expired_path)
            return self._files(self.expired_path)

    def _files(self, path: Path) -> CertFiles:
        pem = path.read_text(encoding="ascii")
        der = ssl.PEM_cert_to_DER_cert(pem)
        return CertFiles(path, self.key_path, pem, fingerprint_of(der))

    @staticmethod
    def server_context(files: CertFiles) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(files.cert_path), str(files.key_path))
        return ctx
