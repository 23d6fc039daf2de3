"""The worker processes' side of the Hyper-V adapter: plain data in, plain data out.

``call_script``, ``call_upload``, ``call_uploads`` and ``call_command`` run in the adapter's worker
processes (or, with an executor of threads, in its threads): a ``ClientSpec`` and the script name and
parameters (or planned commands) in; the script's JSON result, what to upload first, or a plain error
record that ``rebuild_error`` turns back into the typed error in the parent, out. Which long scripts
a host already has is known only in the parent (adapter.py). Each worker pools its own sessions per
``ClientSpec``.

This module is light on purpose: the UI process imports it, and only the workers import pywinrm
(winrm_client.py), at their first call.
"""
from __future__ import annotations

import collections
import importlib
import multiprocessing
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.domain.addresses import Endpoint
from console.domain.errors import ConsoleError

from .scripts import MAX_COMMAND_CHARS, cached_script, cached_uploads, plan_run

if TYPE_CHECKING:
    from .winrm_client import WinRMClient


@dataclass(frozen=True)
class ClientSpec:
    """Everything a worker needs to reach one host: plain, picklable data."""

    endpoint: Endpoint
    username: str
    password: str
    transport: str
    max_command_chars: int = MAX_COMMAND_CHARS

    def __repr__(self) -> str:       # never the password in a traceback or log
        return f"ClientSpec({self.endpoint.url}, {self.username!r}, {self.transport})"


#: Clients (each with its idle sessions) kept per worker; the least recently used is closed beyond it.
MAX_POOLED_CLIENTS = 256
_clients: "collections.OrderedDict[ClientSpec, WinRMClient]" = collections.OrderedDict()
_clients_guard = threading.Lock()


def _client_for(spec: ClientSpec) -> WinRMClient:
    evicted: list[WinRMClient] = []
    with _clients_guard:
        client = _clients.get(spec)
        if client is None:
            from .winrm_client import WinRMClient
            client = _clients[spec] = WinRMClient(spec.endpoint, spec.username, spec.password,
                                                  spec.transport, spec.max_command_chars)
        _clients.move_to_end(spec)
        while len(_clients) > MAX_POOLED_CLIENTS:
            evicted.append(_clients.popitem(last=False)[1])
    for old in evicted:
        old.close()
    return client


def worker_init(niceness: int) -> None:
    """Initializer of each worker process. Lowers its CPU priority below the UI's, and ends it when
    the UI process ends however that happens: a worker holds the pool's queue pipes itself, so
    without this it would wait on them forever once the UI process was killed."""
    if hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:
            pass
    parent = multiprocessing.parent_process()
    if parent is not None:
        def watch() -> None:
            parent.join()
            os._exit(0)
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def call_script(spec: ClientSpec, name: str, params: dict[str, Any], operation: str,
                uploaded: frozenset[str] = frozenset()) -> tuple[str, Any]:
    """Worker entry for one script run. ``uploaded``: the ids of the scripts the parent knows are on
    the host. Returns ("ok", result) or ("error", record), or what the parent must do first:
    ("upload", id) when the long script is not on the host yet (the parent takes the host's upload
    lock and calls ``call_upload``), ("missing", (id, record)) when the host lost it, ("damaged",
    (id, record)) when its copy there was refused, ("once", commands) for a one-off upload."""
    try:
        plan = plan_run(name, params, spec.max_command_chars)
        if plan.kind == "once":
            return "once", plan.commands
        if plan.kind == "cached" and plan.upload_id not in uploaded:
            return "upload", plan.upload_id
        client = _client_for(spec)
        if plan.kind == "direct":
            return "ok", client.run_one(name, plan.run, operation)
        status, value = client.run_uploaded(name, plan.run, operation)
        if status == "ok":
            return "ok", value
        return status, (plan.upload_id, error_record(value))
    except Exception as exc:
        return "error", error_record(exc)


def call_upload(spec: ClientSpec, name: str, operation: str) -> tuple[str, Any]:
    """Worker entry: upload the long script ``name`` without its parameters (the caller holds the
    host's upload lock). ("ok", id) or ("error", record)."""
    try:
        upload_id = cached_script(name)[1]
        _client_for(spec).send_uploads(cached_uploads(name, spec.max_command_chars), operation)
        return "ok", upload_id
    except Exception as exc:
        return "error", error_record(exc)


def call_uploads(spec: ClientSpec, commands: list[str], operation: str) -> tuple[str, Any]:
    """Worker entry: the Upload-Chunk commands of a one-off upload (the caller holds the upload lock)."""
    try:
        _client_for(spec).send_uploads(commands, operation)
        return "ok", None
    except Exception as exc:
        return "error", error_record(exc)


def call_command(spec: ClientSpec, name: str, command: str, operation: str) -> tuple[str, Any]:
    """Worker entry: one planned command (the run of a one-off upload); its result or error."""
    try:
        return "ok", _client_for(spec).run_one(name, command, operation, continuing=True)
    except Exception as exc:
        return "error", error_record(exc)


def error_record(exc: BaseException) -> dict[str, Any]:
    """An exception as plain data, so it crosses the process boundary whatever its __init__ takes."""
    kind = type(exc)
    record: dict[str, Any] = {"module": kind.__module__, "name": kind.__qualname__, "text": str(exc)}
    if isinstance(exc, ConsoleError):
        record.update(message=exc.message, hint=exc.hint, details=exc.details,
                      attrs={k: v for k, v in vars(exc).items()
                             if k not in ("message", "hint", "details")
                             and isinstance(v, (str, int, float, bool, type(None)))})
    return record


def rebuild_error(record: dict[str, Any]) -> BaseException:
    """The typed error of an ``error_record``, built in the parent."""
    try:
        kind = getattr(importlib.import_module(record["module"]), record["name"])
    except (ImportError, AttributeError):
        kind = None
    if "message" in record:
        if not (isinstance(kind, type) and issubclass(kind, ConsoleError)):
            kind = ConsoleError
        exc = kind.__new__(kind)
        ConsoleError.__init__(exc, record["message"], record["hint"], record["details"])
        exc.__dict__.update(record.get("attrs") or {})
        return exc
    if isinstance(kind, type) and issubclass(kind, Exception) and kind.__module__ == "builtins":
        return kind(record["text"])
    return ConsoleError(record["text"] or f"{record['name']} in a WinRM worker",
                        "See the details in the log.", f"{record['name']}: {record['text']}")
