"""Checks and keys the Prism adapters apply before a request: idempotency uuids, VM ids, names and
power actions, and the cleanup entries recorded on the task before a side effect."""
from __future__ import annotations

import uuid

from console.adapters.base import Reporter
from console.domain.errors import ValidationError
from console.domain.inventory import PowerAction
from console.domain.tasks import UndoAction

#: names every Prism VM request id (uuid5), so a retried clone computes the same uuid again
_REQUEST_NS = uuid.UUID("6f1c1d2e-7a43-4b8c-9e55-0d5b3f3c9a10")


def request_uuid(*parts: str) -> str:
    """A stable uuid for one logical request: the same arguments give the same uuid on retry."""
    return str(uuid.uuid5(_REQUEST_NS, "\x1f".join(parts)))


def checked_uuid(value: str, what: str = "virtual machine") -> str:
    text = str(value or "").strip()
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValidationError(f"'{value}' is not a Nutanix {what} id.",
                              f"A Nutanix {what} id is a uuid such as 9844af5d-101b-40ea-a125-8bf1a02f888b.",
                              field="vm_id") from None
    return text.lower()


def checked_name(name: str, what: str = "virtual machine", limit: int = 80) -> str:
    """Names are data: quotes and non-ASCII letters are fine, control characters and blanks are not."""
    text = str(name or "").strip()
    if not text:
        raise ValidationError(f"Enter a name for the new {what}.", field="name")
    if len(text) > limit:
        raise ValidationError(f"The name is {len(text)} characters long; Prism accepts at most {limit}.",
                              field="name")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationError("The name contains a control character (such as a line break).",
                              "Use letters, digits, spaces and punctuation.", field="name")
    return text


def checked_action(action: PowerAction | str) -> PowerAction:
    try:
        return PowerAction(action)
    except ValueError:
        raise ValidationError(f"'{action}' is not a power action.",
                              "Use start, shutdown, stop or restart.", field="action") from None


def add_undo(reporter: Reporter, description: str, vm_id: str, name: str) -> int | None:
    """Record on the task's cleanup list, before creating it, that a VM may need deleting.
    Reporters outside a task (NullReporter) have no list: nothing to record."""
    add = getattr(reporter, "add_undo", None)
    if add is None:
        return None
    return add(UndoAction(description=description, kind="delete-vm", params={"vm_id": vm_id, "name": name}))


def undo_done(reporter: Reporter, index: int | None) -> None:
    if index is not None and hasattr(reporter, "undo_done"):
        reporter.undo_done(index)
