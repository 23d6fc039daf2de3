"""Where a Prism provider lives: name or IP (port 9440 unless another is given) or a full https URL."""
from __future__ import annotations

from urllib.parse import urlsplit

from console.domain.addresses import WINRM_HTTP_PORT, WINRM_HTTPS_PORT, validate_host, validate_port
from console.domain.errors import ValidationError
from console.domain.inventory import ConnectionSettings

PRISM_PORT = 9440
#: ConnectionSettings.port values that mean "not chosen" for a Prism provider (the dataclass default
#: is WinRM's port, which Prism never listens on)
_UNSET_PORTS = (0, WINRM_HTTP_PORT, WINRM_HTTPS_PORT)


def prism_base_url(settings: ConnectionSettings) -> str:
    """``https://host:port`` for the settings, or a ValidationError saying what is wrong."""
    text = (settings.address or "").strip()
    if not text:
        raise ValidationError("Enter the Prism address: a name, an IP address or an https:// URL.",
                              field="address")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme.lower() != "https":
            raise ValidationError(f"'{text}' does not start with https://.",
                                  "Prism is reached over HTTPS only, for example https://prism.corp:9440.",
                                  field="address")
        try:
            url_port = parts.port
        except ValueError:
            raise ValidationError("The port in the URL is not a number from 1 to 65535.",
                                  field="address") from None
        if parts.path.strip("/") or parts.query:
            raise ValidationError(f"'{text}' has a path; give only the address of the Prism web console.",
                                  "For example https://prism.corp:9440.", field="address")
        host = validate_host(parts.hostname or "")
        port = validate_port(url_port or PRISM_PORT)
        return _url(host, port)
    if any(c in text for c in " /\\@;'\"`$?#"):
        raise ValidationError(f"'{text}' is not a host name, IP address or URL.", field="address")
    port = settings.port if settings.port not in _UNSET_PORTS else PRISM_PORT
    host_part = text
    if text.count(":") == 1:                 # name:port
        host_part, _, typed = text.partition(":")
        if not typed.isdigit():
            raise ValidationError("The port after ':' is not a number.", field="address")
        port = int(typed)
    host = validate_host(host_part.strip("[]"))
    return _url(host, validate_port(port))


def _url(host: str, port: int) -> str:
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
