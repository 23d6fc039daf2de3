"""Pools in the farm: the pool row, its clones and its version history.

No password is here: a pool's join password override lives in the keyring under ``pool:<id>:join``,
the preparation override is stored as JSON without it. A clone's name is reserved by
``reserve_clone_name`` in ONE transaction (BEGIN IMMEDIATE: the write lock is taken before the free
names are read), so two creations running at the same time — in this process or in another one on the
same farm file — never get the same name.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

from console.domain.errors import CapacityError, ConflictError, NotFoundError
from console.domain.templates import (Clone, CloneState, ImagePreparation, Pool, PoolVersionChange,
                                      Preparation, ProvisioningMethod)

from .farm import utc_now

if TYPE_CHECKING:
    from .farm import Farm

_P_COLUMNS = ("id, name, template_id, version, method, naming_pattern, initial_count, keep_available, "
              "maximum, domain, organizational_unit, join_account, preparation, target_provider_ids, "
              "description, enabled, follow_tag, delete_unused_after_minutes, per_host_cap, "
              "preparation_override, created")
_C_COLUMNS = ("pool_id, name, provider_id, vm_id, version, state, host, method, created, "
              "usable_seconds, independent_seconds, assigned_user, error, request_id, folder")
_H_COLUMNS = "pool_id, version, changed, kind, task_id"
_C_MARKS = ", ".join("?" * 15)

#: the states a killed console leaves half-made (the services turn them INCOMPLETE at start-up)
IN_FLIGHT = (CloneState.PROVISIONING, CloneState.UPDATING, CloneState.DELETING)


def _pool(row: tuple) -> Pool:
    (pid, name, template_id, version, method, pattern, initial, keep, maximum, domain, ou, account,
     prep, targets, description, enabled, tag, delete_after, cap, override, created) = row
    return Pool(id=pid, name=name, template_id=template_id, version=version,
                method=ProvisioningMethod(method), naming_pattern=pattern, initial_count=initial,
                keep_available=keep, maximum=maximum, domain=domain, organizational_unit=ou,
                join_account=account, preparation=ImagePreparation(prep),
                target_provider_ids=[int(i) for i in json.loads(targets or "[]")],
                description=description, enabled=bool(enabled), follow_tag=tag,
                delete_unused_after_minutes=delete_after, per_host_cap=cap,
                preparation_override=(Preparation.from_dict(json.loads(override))
                                      if override else None),
                created=created)


def _pool_scalars(p: Pool) -> tuple:
    return (p.name, p.template_id, p.version, ProvisioningMethod(p.method).value, p.naming_pattern,
            p.initial_count, p.keep_available, p.maximum, p.domain, p.organizational_unit,
            p.join_account, ImagePreparation(p.preparation).value,
            json.dumps([int(i) for i in p.target_provider_ids]), p.description, int(p.enabled),
            p.follow_tag, p.delete_unused_after_minutes, p.per_host_cap,
            (json.dumps(p.preparation_override.to_dict(), sort_keys=True)
             if p.preparation_override is not None else None),
            p.created)


def _clone(row: tuple) -> Clone:
    (pool_id, name, provider_id, vm_id, version, state, host, method, created, usable, independent,
     user, error, request_id, folder) = row
    return Clone(pool_id=pool_id, name=name, provider_id=provider_id, vm_id=vm_id, version=version,
                 state=CloneState(state), host=host, method=ProvisioningMethod(method),
                 created=created, usable_seconds=usable, independent_seconds=independent,
                 assigned_user=user, error=error, request_id=request_id, folder=folder)


def _clone_values(c: Clone) -> tuple:
    return (c.pool_id, c.name, c.provider_id, c.vm_id, c.version, CloneState(c.state).value, c.host,
            ProvisioningMethod(c.method).value, c.created, c.usable_seconds, c.independent_seconds,
            c.assigned_user, c.error, c.request_id, c.folder)


def _history(row: tuple) -> PoolVersionChange:
    pool_id, version, changed, kind, task_id = row
    return PoolVersionChange(pool_id=pool_id, version=version, changed=changed, kind=kind,
                             task_id=task_id)


def _conflict(name: str, exc: Exception | None = None) -> ConflictError:
    return ConflictError(f"A pool named '{name}' already exists.", "Choose another name.",
                         str(exc or ""))


def _missing(pool_id: int | None, exc: Exception | None = None) -> NotFoundError:
    return NotFoundError(f"Pool {pool_id} is not in the farm.",
                         "List the pools to see their names and numbers.", str(exc or ""))


class PoolRepository:
    def __init__(self, farm: "Farm") -> None:
        self._farm = farm

    # -- pools -------------------------------------------------------------------------------------
    def _name_taken(self, name: str, except_id: int | None = None) -> bool:
        """SQLite's NOCASE folds ASCII only; compare case-folded names so 'ÜBER' and 'über' clash."""
        folded = name.strip().casefold()
        return any(n.casefold() == folded and pid != except_id
                   for pid, n in self._farm.query("SELECT id, name FROM pools"))

    def add(self, p: Pool) -> Pool:
        """Insert the pool; sets ``p.id`` (and ``created`` when empty) and returns ``p``. The same
        name in any case -> ConflictError; an unknown template -> NotFoundError."""
        if self._name_taken(p.name):
            raise _conflict(p.name)
        p.created = p.created or utc_now()
        try:
            cur = self._farm.execute(
                f"INSERT INTO pools ({_P_COLUMNS.removeprefix('id, ')}) "
                f"VALUES ({', '.join('?' * 20)})", _pool_scalars(p))
        except sqlite3.IntegrityError as exc:
            if not self._farm.query("SELECT 1 FROM templates WHERE id = ?", (p.template_id,)):
                raise NotFoundError(f"Template {p.template_id} is not in the farm.",
                                    "List the templates to see their names and numbers.",
                                    str(exc)) from exc
            raise _conflict(p.name, exc) from exc
        p.id = cur.lastrowid
        return p

    def update(self, p: Pool) -> Pool:
        """Save every field of the pool (not its clones or history)."""
        if self._name_taken(p.name, except_id=p.id):
            raise _conflict(p.name)
        sets = ", ".join(f"{c.strip()}=?" for c in _P_COLUMNS.split(",")[1:])
        try:
            cur = self._farm.execute(f"UPDATE pools SET {sets} WHERE id=?", _pool_scalars(p) + (p.id,))
        except sqlite3.IntegrityError as exc:
            if not self._farm.query("SELECT 1 FROM templates WHERE id = ?", (p.template_id,)):
                raise NotFoundError(f"Template {p.template_id} is not in the farm.",
                                    details=str(exc)) from exc
            raise _conflict(p.name, exc) from exc
        if cur.rowcount == 0:
            raise _missing(p.id)
        return p

    def get(self, pool_id: int) -> Pool:
        rows = self._farm.query(f"SELECT {_P_COLUMNS} FROM pools WHERE id = ?", (pool_id,))
        if not rows:
            raise _missing(pool_id)
        return _pool(rows[0])

    def find_by_name(self, name: str) -> Pool | None:
        folded = (name or "").strip().casefold()
        for row in self._farm.query(f"SELECT {_P_COLUMNS} FROM pools"):
            if row[1].casefold() == folded:
                return _pool(row)
        return None

    def list(self) -> list[Pool]:
        """Every pool, by name (any case)."""
        return [_pool(r) for r in self._farm.query(
            f"SELECT {_P_COLUMNS} FROM pools ORDER BY name COLLATE NOCASE, id")]

    def remove(self, pool_id: int) -> bool:
        """Delete the pool's row with its clones' rows and its history (the VMs are the services'
        business, before this)."""
        return self._farm.execute("DELETE FROM pools WHERE id = ?", (pool_id,)).rowcount > 0

    # -- clones ------------------------------------------------------------------------------------
    def clones(self, pool_id: int) -> list[Clone]:
        return [_clone(r) for r in self._farm.query(
            f"SELECT {_C_COLUMNS} FROM clones WHERE pool_id = ? ORDER BY name COLLATE NOCASE, name",
            (pool_id,))]

    def clone(self, pool_id: int, name: str) -> Clone | None:
        rows = self._farm.query(f"SELECT {_C_COLUMNS} FROM clones WHERE pool_id = ? AND name = ?",
                                (pool_id, name))
        return _clone(rows[0]) if rows else None

    def clone_counts(self) -> dict[int, int]:
        """pool id -> number of clone rows (the tree's counts, one query)."""
        return dict(self._farm.query("SELECT pool_id, count(*) FROM clones GROUP BY pool_id"))

    def save_clone(self, c: Clone) -> Clone:
        """Insert or replace the clone's row (by pool and name); stamps ``created`` when empty."""
        c.created = c.created or utc_now()
        updates = ", ".join(f"{col.strip()}=excluded.{col.strip()}"
                            for col in _C_COLUMNS.split(",")[2:])
        try:
            self._farm.execute(f"INSERT INTO clones ({_C_COLUMNS}) VALUES ({_C_MARKS}) "
                               f"ON CONFLICT (pool_id, name) DO UPDATE SET {updates}",
                               _clone_values(c))
        except sqlite3.IntegrityError as exc:
            raise _missing(c.pool_id, exc) from exc
        return c

    def remove_clone(self, pool_id: int, name: str) -> bool:
        return self._farm.execute("DELETE FROM clones WHERE pool_id = ? AND name = ?",
                                  (pool_id, name)).rowcount > 0

    def reserve_clone_name(self, pool_id: int, names_in_order: Iterable[str], *,
                           provider_id: int = 0, host: str = "",
                           method: ProvisioningMethod = ProvisioningMethod.LINKED, version: int = 0,
                           request_id: str = "", folder: str = "") -> str:
        """Take the first name of ``names_in_order`` that no clone of any pool has (any case), as a
        PROVISIONING clone row of ``pool_id``, in one transaction; returns the name. Names are
        checked farm-wide because two pools with the same pattern would give two computers the same
        name. No free name -> CapacityError."""
        candidates = list(names_in_order)
        try:
            with self._farm.transaction() as conn:
                if not conn.execute("SELECT 1 FROM pools WHERE id = ?", (pool_id,)).fetchone():
                    raise _missing(pool_id)
                taken = {r[0].casefold() for r in conn.execute("SELECT name FROM clones")}
                name = next((n for n in candidates if n.casefold() not in taken), None)
                if name is None:
                    raise CapacityError(
                        f"The pool has no free clone name left ({len(candidates)} names in its "
                        "pattern are all taken).",
                        "Raise the number of digits in the naming pattern, or delete clones.")
                c = Clone(pool_id=pool_id, name=name, provider_id=provider_id, version=version,
                          state=CloneState.PROVISIONING, host=host, method=method,
                          created=utc_now(), request_id=request_id, folder=folder)
                conn.execute(f"INSERT INTO clones ({_C_COLUMNS}) VALUES ({_C_MARKS})",
                             _clone_values(c))
        except sqlite3.IntegrityError as exc:     # pragma: no cover - the lock makes it impossible
            raise ConflictError("Two clone creations took the same name.", "Try again.",
                                str(exc)) from exc
        return name

    def interrupt_clones(self, error: str) -> list[tuple[int, str]]:
        """At start-up, alone on the farm: every PROVISIONING/UPDATING/DELETING clone becomes
        INCOMPLETE with ``error``; returns their (pool id, name)."""
        marks = ", ".join("?" * len(IN_FLIGHT))
        states = tuple(s.value for s in IN_FLIGHT)
        with self._farm.transaction() as conn:
            rows = conn.execute(f"SELECT pool_id, name FROM clones WHERE state IN ({marks}) "
                                "ORDER BY pool_id, name", states).fetchall()
            conn.execute(f"UPDATE clones SET state = ?, error = ? WHERE state IN ({marks})",
                         (CloneState.INCOMPLETE.value, error) + states)
        return [(r[0], r[1]) for r in rows]

    # -- version history ---------------------------------------------------------------------------
    def history(self, pool_id: int) -> list[PoolVersionChange]:
        """The pool's version changes, oldest first."""
        return [_history(r) for r in self._farm.query(
            f"SELECT {_H_COLUMNS} FROM pool_versions WHERE pool_id = ? ORDER BY seq", (pool_id,))]

    def add_history(self, change: PoolVersionChange) -> PoolVersionChange:
        """Append one line to the pool's history; stamps ``changed`` when empty."""
        if change.kind not in ("create", "update", "rollback"):
            raise ValueError(f"unknown pool history kind {change.kind!r}")
        change.changed = change.changed or utc_now()
        try:
            with self._farm.transaction() as conn:
                seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM pool_versions "
                                   "WHERE pool_id = ?", (change.pool_id,)).fetchone()[0]
                conn.execute(f"INSERT INTO pool_versions (seq, {_H_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                             (seq, change.pool_id, change.version, change.changed, change.kind,
                              change.task_id))
        except sqlite3.IntegrityError as exc:
            raise _missing(change.pool_id, exc) from exc
        return change
