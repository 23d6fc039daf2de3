"""What the v2.0 and v3 request handlers share: the parsed request, the reply, input checks."""
from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .world import PrismError

if TYPE_CHECKING:
    from .endpoint import PrismEndpoint

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class Call:
    method: str
    parts: list[str]                      # path below the API root, split on "/", empties dropped
    query: dict[str, list[str]]
    body: Any                             # parsed JSON, or None when there was no body
    endpoint: PrismEndpoint
    user: str
    raw_body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() == "true"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def need_object(body: Any, what: str) -> dict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise PrismError(400, "INVALID_REQUEST", f"The request body for {what} must be a JSON object.")
    return body


def need_uuid(value: Any, what: str) -> str:
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise PrismError(400, "INVALID_UUID", f"{what} must be a UUID such as "
                                              f"{uuidlib.UUID(int=0)}; got {value!r}.")
    return value.lower()


def need_int(value: Any, what: str, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PrismError(400, "INVALID_ARGUMENT", f"{what} must be a whole number; got {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise PrismError(400, "INVALID_ARGUMENT", f"{what} must be {bound}; got {value}.")
    return value


def need_name(value: Any, what: str, max_length: int = 80) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PrismError(400, "INVALID_ARGUMENT", f"{what} must be a non-empty string; got {value!r}.")
    if len(value) > max_length:
        raise PrismError(400, "INVALID_ARGUMENT", f"{what} is {len(value)} characters long; "
                                                  f"at most {max_length} are allowed.")
    return value
