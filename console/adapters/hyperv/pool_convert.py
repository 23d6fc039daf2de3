"""The JSON documents of the pool scripts (CONTRACT.md "Pool scripts (issue #5)") turned into domain
objects. A document that lacks what the contract promises is a ProtocolError, never a KeyError."""
from __future__ import annotations

from typing import Any

from console.adapters.base import GuestState
from console.domain.errors import CapacityError, ConsoleError, UnreachableError

from .convert import _bad, _list, flag  # noqa: F401  (pc.flag)

_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


def guest_states(doc: Any, host: str) -> dict[str, GuestState]:
    try:
        result = {}
        for g in _list(doc):
            state = GuestState(vm_id=str(g["vm_id"]), state=str(g.get("state") or ""),
                               heartbeat=str(g.get("heartbeat") or ""),
                               computer_name=str(g.get("computer_name") or ""), domain=str(g.get("domain") or ""),
                               ready=bool(g.get("ready")), logged_on_user=str(g.get("logged_on_user") or ""),
                               error=str(g.get("error") or ""))
            result[state.vm_id.lower()] = state
        return result
    except _ERRORS as exc:
        raise _bad(host, "guest states", exc) from None


def pool_clones(doc: Any, host: str) -> list[dict]:
    try:
        return [{"vm_id": str(c.get("vm_id") or ""), "name": str(c["name"]), "folder": str(c["folder"]),
                 "request_id": str(c.get("request_id") or "")} for c in _list(doc)]
    except _ERRORS as exc:
        raise _bad(host, "a list of pool clones", exc) from None




def own_copy_error(sentence: str, clone: str, host: str) -> ConsoleError:
    """A failed copy of a quick clone's base as the typed error a person can act on."""
    sentence = " ".join(sentence.split()) or "The copy stopped before it was complete."
    message = f"The copy of the base disk for quick clone '{clone}' on {host} failed: {sentence}"
    lower = sentence.lower()
    if "not enough space on the disk" in lower or "0x80070070" in lower:
        return CapacityError(message, f"Free space on {host}; the clone keeps running on the template's disk "
                             "until it is made independent again.", sentence)
    if "network" in lower:
        return UnreachableError(message, f"Check that {host} is reachable, then retry.", sentence)
    return ConsoleError(message, "See vdi-own-copy.log in the clone's folder, then retry.", sentence)
