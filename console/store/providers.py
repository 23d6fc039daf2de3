"""Providers in the farm: name, kind, connection settings (never the password), lab flag."""
from __future__ import annotations

import dataclasses
import enum
import json
import sqlite3
from typing import TYPE_CHECKING

from console.domain.errors import ConflictError, NotFoundError
from console.domain.inventory import ConnectionSettings, Provider, ProviderKind, WinRMTransport

from .farm import utc_now

if TYPE_CHECKING:
    from .farm import Farm

_COLUMNS = "id, name, kind, settings, lab, created"


def settings_to_json(settings: ConnectionSettings) -> str:
    data = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        data[f.name] = value.value if isinstance(value, enum.Enum) else value
    return json.dumps(data, sort_keys=True)


def settings_from_json(text: str) -> ConnectionSettings:
    data = json.loads(text)
    known = {f.name for f in dataclasses.fields(ConnectionSettings)}
    data = {k: v for k, v in data.items() if k in known}   # a field dropped later is ignored
    data["kind"] = ProviderKind(data["kind"])
    if "transport" in data:
        data["transport"] = WinRMTransport(data["transport"])
    return ConnectionSettings(**data)


def _row(row: tuple) -> Provider:
    pid, name, _kind, settings, lab, created = row
    return Provider(id=pid, name=name, settings=settings_from_json(settings), lab=bool(lab),
                    created=created)


class ProviderRepository:
    def __init__(self, farm: "Farm") -> None:
        self._farm = farm

    def add(self, provider: Provider) -> Provider:
        """Insert; returns a copy with ``id`` and ``created`` set. Same name -> ConflictError."""
        created = provider.created or utc_now()
        try:
            cur = self._farm.execute(
                "INSERT INTO providers (name, kind, settings, lab, created) VALUES (?, ?, ?, ?, ?)",
                (provider.name, provider.kind.value, settings_to_json(provider.settings),
                 int(provider.lab), created))
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"A provider named '{provider.name}' already exists.",
                                "Choose another name.", str(exc)) from exc
        return dataclasses.replace(provider, id=cur.lastrowid, created=created)

    def update(self, provider: Provider) -> Provider:
        try:
            cur = self._farm.execute(
                "UPDATE providers SET name = ?, kind = ?, settings = ?, lab = ? WHERE id = ?",
                (provider.name, provider.kind.value, settings_to_json(provider.settings),
                 int(provider.lab), provider.id))
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"A provider named '{provider.name}' already exists.",
                                "Choose another name.", str(exc)) from exc
        if cur.rowcount == 0:
            raise NotFoundError(f"Provider {provider.id} is not in the farm.")
        return provider

    def remove(self, provider_id: int) -> bool:
        return self._farm.execute("DELETE FROM providers WHERE id = ?", (provider_id,)).rowcount > 0

    def list(self) -> list[Provider]:
        return [_row(r) for r in self._farm.query(f"SELECT {_COLUMNS} FROM providers ORDER BY name")]

    def get(self, provider_id: int) -> Provider:
        rows = self._farm.query(f"SELECT {_COLUMNS} FROM providers WHERE id = ?", (provider_id,))
        if not rows:
            raise NotFoundError(f"Provider {provider_id} is not in the farm.",
                                "List the providers to see their numbers.")
        return _row(rows[0])

    def find_by_name(self, name: str) -> Provider | None:
        rows = self._farm.query(f"SELECT {_COLUMNS} FROM providers WHERE name = ? COLLATE NOCASE",
                                (name,))
        return _row(rows[0]) if rows else None
