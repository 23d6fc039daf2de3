"""Rules a provider's connection settings must follow before anything goes on the wire."""
from __future__ import annotations

from .addresses import Endpoint, parse_winrm_address, validate_port
from .errors import ValidationError
from .inventory import ConnectionSettings, WinRMTransport


def winrm_endpoint(settings: ConnectionSettings) -> Endpoint:
    """The WinRM endpoint the settings point at, or a ValidationError naming the field to fix.

    Basic authentication over plain HTTP sends the password readable on the wire: allowed only to
    loopback (the lab) or with the explicit, visible opt-in.
    """
    validate_port(settings.port)
    endpoint = parse_winrm_address(settings.address, settings.port, settings.use_https)
    transport = WinRMTransport(settings.transport)
    if transport is not WinRMTransport.KERBEROS and not settings.username.strip():
        raise ValidationError("Enter the user name of an administrator of the host.",
                              "For example CORP\\admin or admin@corp.example.com.", field="username")
    if (transport is WinRMTransport.BASIC and endpoint.scheme == "http" and not endpoint.is_loopback
            and not settings.allow_insecure_basic):
        raise ValidationError(
            f"Basic authentication over plain HTTP would send the password to {endpoint.host} "
            "readable by anyone on the network.",
            "Use HTTPS, or NTLM or Kerberos, or explicitly allow Basic over HTTP for this provider.",
            field="transport")
    return endpoint
