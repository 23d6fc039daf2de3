"""How the Add Provider dialog shows a Prism address (the service does the real checking, through
providers.validate_new: this only decides what the port field displays)."""
from __future__ import annotations

from urllib.parse import urlsplit

from console.domain.inventory import ProviderKind

PRISM_PORT = 9440
_NUTANIX = (ProviderKind.NUTANIX_PE, ProviderKind.NUTANIX_PC)


def is_nutanix(kind: ProviderKind) -> bool:
    return kind in _NUTANIX


def prism_url_port(text: str) -> int | None:
    """The port a typed https URL decides (9440 when it names none); None when it cannot tell."""
    try:
        parts = urlsplit(text.strip())
        return parts.port or PRISM_PORT
    except ValueError:
        return None


def display_endpoint(text: str, port: int) -> str:
    """'host:port' for sentences, from a name, 'name:port' or an https URL."""
    text = text.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
            host, url_port = parts.hostname or text, parts.port or PRISM_PORT
        except ValueError:
            return text
        return f"[{host}]:{url_port}" if ":" in host else f"{host}:{url_port}"
    if text.count(":") == 1:
        return text
    port = port or PRISM_PORT
    return f"[{text.strip('[]')}]:{port}" if ":" in text else f"{text}:{port}"
