"""Reading the address an administrator typed: host name, IP, or full URL. No I/O."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ValidationError

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
WINRM_HTTP_PORT = 5985
WINRM_HTTPS_PORT = 5986


@dataclass(frozen=True)
class Endpoint:
    scheme: str      # "http" or "https"
    host: str        # name or IP, IPv6 without brackets
    port: int
    path: str        # "/wsman" for WinRM

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def is_loopback(self) -> bool:
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def validate_port(port: int) -> int:
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError(f"Port {port} is out of range.", "Use a number from 1 to 65535.", field="port")
    return port


def validate_host(host: str) -> str:
    """A DNS name or an IP address; refuses anything else with a sentence that says why."""
    host = host.strip()
    if not host:
        raise ValidationError("Enter the host's name or IP address.", field="address")
    if len(host) > 253:
        raise ValidationError("The host name is longer than 253 characters.", field="address")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if re.fullmatch(r"[0-9.]+", host):
        raise ValidationError(f"'{host}' is not a valid IPv4 address.", "Use four numbers from 0 to 255.",
                              field="address")
    labels = host.rstrip(".").split(".")
    for label in labels:
        if not _LABEL.match(label):
            raise ValidationError(f"'{host}' is not a valid host name.",
                                  "A host name has letters, digits, hyphens and dots, "
                                  "or enter an IP address or a full http(s):// URL.", field="address")
    return host


def parse_winrm_address(text: str, port: int | None = None, use_https: bool = False) -> Endpoint:
    """Turn what was typed in Add Provider into a WinRM endpoint.

    A full URL wins over the port and HTTPS fields (its scheme and port are used as given).
    """
    text = (text or "").strip()
    if not text:
        raise ValidationError("Enter the host's name, IP address or WinRM URL.", field="address")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https"):
            raise ValidationError(f"'{parts.scheme}' is not a WinRM scheme.", "Use http:// or https://.",
                                  field="address")
        try:
            url_port = parts.port
        except ValueError:
            raise ValidationError("The port in the URL is not a number from 1 to 65535.", field="address")
        host = validate_host(parts.hostname or "")
        scheme = parts.scheme
        final_port = validate_port(url_port or (WINRM_HTTPS_PORT if scheme == "https" else WINRM_HTTP_PORT))
        path = parts.path or "/wsman"
        return Endpoint(scheme, host, final_port, path)
    if any(c in text for c in " /\\@;'\"`$"):
        raise ValidationError(f"'{text}' is not a host name, IP address or URL.", field="address")
    host_part = text
    if text.count(":") == 1:       # name:port
        host_part, _, p = text.partition(":")
        if not p.isdigit():
            raise ValidationError("The port after ':' is not a number.", field="address")
        port = int(p)
    host = validate_host(host_part.strip("[]"))
    scheme = "https" if use_https else "http"
    final_port = validate_port(port if port is not None else
                               (WINRM_HTTPS_PORT if use_https else WINRM_HTTP_PORT))
    return Endpoint(scheme, host, final_port, "/wsman")
