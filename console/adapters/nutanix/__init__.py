"""Nutanix AHV through Prism Element (REST v2.0) and Prism Central (REST v3), over httpx.

    adapter = make_nutanix_adapter(settings, password)        # kind nutanix-pe or nutanix-pc
    result = await adapter.check()                             # WrongEndpointError names the real kind
    inventory = await adapter.inventory()
    await adapter.close()

    info = await fetch_certificate("https://prism:9440")       # for the accept dialog (not trusted)

Idempotency: every create names its result with a uuid the client chooses, as both APIs allow
(v3 clone/restore ``metadata.uuid``, v3 snapshot ``vm_recovery_point_uuid``, v2.0 clone
``spec_list[].uuid``, v2.0 snapshot ``snapshot_specs[].uuid``). The uuid is a uuid5 of the request
(source VM, snapshot, new name, optional request_id), so a retry computes the same one, asks Prism for
it first (one GET) and finds what the first try made - exact even when two VMs share a name, and with
nothing written into the VM's description or categories. Prism refuses a second create with a uuid
already taken (409), so even two concurrent tries cannot make two VMs.

VMs that run on no host (powered off) are listed under a Host named "" of their cluster.
"""
from __future__ import annotations

from typing import Any

import httpx

from console.domain.inventory import ConnectionSettings

from .adapter import PrismAdapter
from .checks import request_uuid
from .central import PrismCentralAdapter
from .certificates import CertificateInfo, fetch_certificate, format_fingerprint, normalize_fingerprint
from .element import PrismElementAdapter
from .errors import PrismError, TaskFailedError

#: the brief's name for either class
NutanixAdapter = PrismAdapter


def make_nutanix_adapter(settings: ConnectionSettings, password: str, *,
                         client: httpx.AsyncClient | None = None, **options: Any) -> PrismAdapter:
    """The adapter for ``settings.kind`` (nutanix-pe or nutanix-pc); an AdapterFactory. ``options``:
    poll_interval, retry_delays, request_hooks (see PrismAdapter)."""
    return PrismAdapter(settings, password, client=client, **options)


__all__ = [
    "CertificateInfo", "NutanixAdapter", "PrismAdapter", "PrismCentralAdapter", "PrismElementAdapter",
    "PrismError", "TaskFailedError", "fetch_certificate", "format_fingerprint", "make_nutanix_adapter",
    "normalize_fingerprint", "request_uuid",
]
