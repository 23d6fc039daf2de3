"""The JSON documents of CONTRACT.md turned into domain objects. A document that lacks what the
contract promises is a ProtocolError, never a KeyError reaching a person."""
from __future__ import annotations

from typing import Any

from console.domain.errors import ProtocolError
from console.domain.inventory import (HostFacts, LiveMigrationSettings, PowerState, VirtualDisk,
                                      VirtualSwitch, VM, Volume)

_STATES = {s.value: s for s in PowerState}


def _bad(host: str, what: str, exc: Exception) -> ProtocolError:
    return ProtocolError(f"{host} answered with {what} that does not match what the console expects.",
                         "The host's scripts may be from another version; see the details in the log.",
                         details=f"{type(exc).__name__}: {exc}")


def flag(doc: Any, key: str, host: str) -> bool:
    """A script's yes/no answer ({"removed": true}, {"stopped": false}, ...)."""
    try:
        return bool(doc[key])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _bad(host, f"a '{key}' answer", exc) from None


def _list(value: Any) -> list:
    # ConvertTo-Json writes null for an empty pipeline result and a bare object for a single one.
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def host_facts(doc: Any, host: str) -> HostFacts:
    try:
        lm = doc.get("live_migration") or {}
        delegation = lm.get("constrained_delegation")
        return HostFacts(
            computer_name=str(doc["computer_name"]),
            os_caption=str(doc.get("os_caption") or ""),
            os_version=str(doc.get("os_version") or ""),
            hyperv_version=str(doc.get("hyperv_version") or ""),
            domain=str(doc.get("domain") or ""),
            part_of_domain=bool(doc.get("part_of_domain")),
            logical_processors=int(doc.get("logical_processors") or 0),
            memory_bytes=int(doc.get("memory_bytes") or 0),
            vm_path=str(doc.get("vm_path") or ""),
            vhd_path=str(doc.get("vhd_path") or ""),
            live_migration=LiveMigrationSettings(
                enabled=bool(lm.get("enabled")),
                authentication=str(lm.get("authentication") or "CredSSP"),
                max_migrations=int(lm.get("max_migrations") or 0),
                constrained_delegation=None if delegation is None else [str(d) for d in _list(delegation)],
            ),
            switches=[VirtualSwitch(str(s["name"]), str(s.get("switch_type") or "External"))
                      for s in _list(doc.get("switches"))],
            volumes=[Volume(str(v["path"]), int(v.get("size_bytes") or 0), int(v.get("free_bytes") or 0))
                     for v in _list(doc.get("volumes"))],
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _bad(host, "host facts", exc) from None


def vm(doc: Any, host_name: str, host: str) -> VM:
    """``host_name``: the computer name the VM is on; ``host``: the address, for messages."""
    try:
        return VM(
            id=str(doc["id"]),
            name=str(doc["name"]),
            host=host_name,
            state=_STATES.get(str(doc.get("state")), PowerState.UNKNOWN),
            cpu_count=int(doc.get("cpu_count") or 1),
            memory_bytes=int(doc.get("memory_bytes") or 0),
            uptime_seconds=int(doc.get("uptime_seconds") or 0),
            generation=int(doc.get("generation") or 2),
            version=str(doc.get("version") or ""),
            path=str(doc.get("path") or ""),
            switch=str(doc.get("switch") or ""),
            disks=[VirtualDisk(str(d["path"]), int(d.get("size_bytes") or 0), int(d.get("file_bytes") or 0),
                               str(d.get("parent_path") or "")) for d in _list(doc.get("disks"))],
            guest_agent=bool(doc.get("guest_agent")),
            notes=str(doc.get("notes") or ""),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _bad(host, "a virtual machine", exc) from None


def inventory_vms(doc: Any, host: str) -> tuple[str, list[VM]]:
    try:
        name = str(doc["computer_name"])
        return name, [vm(v, name, host) for v in _list(doc.get("vms"))]
    except (AttributeError, KeyError, TypeError) as exc:
        raise _bad(host, "an inventory", exc) from None


def power_result(doc: Any, host_name: str, host: str) -> tuple[VM, bool, str]:
    try:
        return vm(doc["vm"], host_name, host), bool(doc["changed"]), str(doc.get("note") or "")
    except (AttributeError, KeyError, TypeError) as exc:
        raise _bad(host, "a power result", exc) from None
