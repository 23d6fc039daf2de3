"""What each provider kind needs before anything goes on the wire, and how its adapter is made.

Hyper-V hosts are reached over WinRM (domain.connection_rules); Nutanix providers over HTTPS to Prism
(adapters.nutanix.address: a name, an IP or an https:// URL, port 9440 unless another is given).
"""
from __future__ import annotations

import concurrent.futures
import importlib
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from console.adapters.base import Capabilities, ProviderAdapter
from console.domain.addresses import parse_winrm_address
from console.domain.connection_rules import winrm_endpoint
from console.domain.errors import ValidationError
from console.domain.inventory import ConnectionSettings, ProviderKind

log = logging.getLogger(__name__)

AdapterFactory = Callable[[ConnectionSettings, str], ProviderAdapter]

NUTANIX_KINDS = (ProviderKind.NUTANIX_PE, ProviderKind.NUTANIX_PC)
#: how often a Prism task is polled for a real Prism (Nutanix's own Terraform provider uses 3 s)
PRISM_POLL_INTERVAL = 3.0


@dataclass(frozen=True)
class Target:
    """Where validated settings point: the host (for task names) and a key that is the same for two
    providers that reach the same endpoint."""

    host: str
    key: str


def is_nutanix(kind: ProviderKind | str) -> bool:
    return ProviderKind(kind) in NUTANIX_KINDS


def _not_supported(kind: ProviderKind) -> ValidationError:
    return ValidationError(f"{kind.label} providers are not supported yet.",
                           "Add a standalone Microsoft Hyper-V host or a Nutanix AHV cluster.", field="kind")


def prism_url(settings: ConnectionSettings) -> str:
    """``https://host:port`` of a Nutanix provider, or the ValidationError naming the field."""
    from console.adapters.nutanix.address import prism_base_url
    return prism_base_url(settings)


def check_settings(settings: ConnectionSettings) -> Target:
    """Check what can be checked without the network; where the settings point."""
    kind = ProviderKind(settings.kind)
    if kind is ProviderKind.HYPERV:
        endpoint = winrm_endpoint(settings)
        return Target(endpoint.host, f"{endpoint.scheme}://{endpoint.host.lower()}:{endpoint.port}")
    if kind in NUTANIX_KINDS:
        url = prism_url(settings)
        if not (settings.username or "").strip():
            raise ValidationError("Enter the Prism user name.", "For example admin, or admin@corp.example.com.",
                                  field="username")
        host = urlsplit(url).hostname or url
        return Target(host, url.lower())
    raise _not_supported(kind)


def target_key(settings: ConnectionSettings) -> str:
    """The endpoint key of saved settings ("" when they no longer parse), for duplicate checks."""
    try:
        if is_nutanix(settings.kind):
            return prism_url(settings).lower()
        e = parse_winrm_address(settings.address, settings.port, settings.use_https)
        return f"{e.scheme}://{e.host.lower()}:{e.port}"
    except (ValidationError, ValueError):
        return ""


#: The module each kind's adapter comes from. Importing one costs ~300 ms (requests, pywinrm, spnego;
#: httpx for Prism), so ProviderService imports it in a worker thread before it first makes an
#: adapter of that kind, and never on the UI thread.
ADAPTER_MODULES = {ProviderKind.HYPERV: "console.adapters.hyperv",
                   ProviderKind.NUTANIX_PE: "console.adapters.nutanix",
                   ProviderKind.NUTANIX_PC: "console.adapters.nutanix"}


def adapter_module(kind: ProviderKind | str) -> str | None:
    """The module ``make_adapter_factory`` imports for this kind (None for an unsupported kind)."""
    try:
        return ADAPTER_MODULES.get(ProviderKind(kind))
    except ValueError:
        return None


_imports: dict[str, concurrent.futures.Future] = {}
_imports_guard = threading.Lock()


def _import_module(module: str, done: concurrent.futures.Future) -> None:
    try:
        importlib.import_module(module)
    except Exception:       # noqa: BLE001  the factory's own import raises it again, in the task
        log.debug("preloading %s failed", module, exc_info=True)
        with _imports_guard:
            _imports.pop(module, None)
    done.set_result(None)


def preload_adapter_module(kind: ProviderKind | str) -> concurrent.futures.Future | None:
    """Start importing the adapter module of ``kind`` in a thread (once per process); the future is
    done when it is imported (or failed: the factory then raises the error itself)."""
    module = adapter_module(kind)
    if module is None:
        return None
    with _imports_guard:
        done = _imports.get(module)
        if done is None:
            done = _imports[module] = concurrent.futures.Future()
            if module in sys.modules:
                done.set_result(None)
            else:
                threading.Thread(target=_import_module, args=(module, done), daemon=True,
                                 name=f"import {module}").start()
    return done


def default_adapter_factory(settings: ConnectionSettings, password: str) -> ProviderAdapter:
    return make_adapter_factory()(settings, password)


def make_adapter_factory(prism_poll_interval: float = PRISM_POLL_INTERVAL,
                         copy_poll_interval: float = 2.0) -> AdapterFactory:
    """The factory for every supported kind. The lab passes shorter Prism and template copy poll
    intervals, as its tasks and copies run ``speed`` times faster than real ones."""
    def make(settings: ConnectionSettings, password: str) -> ProviderAdapter:
        kind = ProviderKind(settings.kind)
        if kind is ProviderKind.HYPERV:
            from console.adapters.hyperv import HyperVAdapter
            return HyperVAdapter(settings, password, copy_poll_interval=copy_poll_interval)
        if kind in NUTANIX_KINDS:
            from console.adapters.nutanix import make_nutanix_adapter
            return make_nutanix_adapter(settings, password, poll_interval=prism_poll_interval)
        raise _not_supported(kind)
    return make


def lab_adapter_factory(speed: float) -> AdapterFactory:
    return make_adapter_factory(max(0.02, min(1.0, PRISM_POLL_INTERVAL / max(speed, 0.001))),
                                copy_poll_interval=max(0.02, min(2.0, 2.0 / max(speed, 0.001))))


def capabilities_for(kind: ProviderKind | str) -> Capabilities:
    """What a provider of this kind can do, without connecting to it."""
    kind = ProviderKind(kind)
    if kind in NUTANIX_KINDS:
        from console.adapters.nutanix import PrismAdapter
        return PrismAdapter.capabilities
    if kind is ProviderKind.HYPERV:
        return Capabilities(can_power=True, can_snapshot=True, can_distribute=True,
                            can_full_clone=True, can_link_clone=True, can_quick_clone=True)
    return Capabilities(can_power=False)


def check_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as typed ("AA:BB:...", "aabb...", spaces allowed), as "AA:BB:..."."""
    from console.adapters.nutanix import format_fingerprint
    raw = (text or "").strip()
    digest = "".join(c for c in raw if c not in ": ").lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValidationError(f"'{raw}' is not a SHA-256 fingerprint.",
                              "A SHA-256 fingerprint is 64 hexadecimal digits, shown in pairs separated by "
                              "colons (AA:BB:...).", field="fingerprint")
    return format_fingerprint(digest)


def check_object_name(name: str, what: str, limit: int = 80) -> str:
    """A snapshot or VM name: any letters (quotes and non-ASCII are data), no control characters."""
    text = (name or "").strip()
    if not text:
        raise ValidationError(f"Enter a name for the {what}.", field="name")
    if len(text) > limit:
        raise ValidationError(f"The name of the {what} is {len(text)} characters long; at most {limit} "
                              "are allowed.", field="name")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationError(f"The name of the {what} contains a control character (such as a line break).",
                              "Use letters, digits, spaces and punctuation.", field="name")
    return text
