"""Templates in the farm: the template row, its versions and its distribution targets.

The join password is never here (it lives in the keyring under ``template:<id>:join``); the
preparation is stored as JSON without it. ``get`` and ``list`` return templates with their versions
and targets loaded; the other calls change one row so that a distribution's per-target progress is one
short write.
"""
from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from console.domain.errors import ConflictError, NotFoundError
from console.domain.templates import (DistributionTarget, Preparation, TargetProgress, TargetState,
                                      Template, TemplateState, TemplateVersion)

from .farm import utc_now

if TYPE_CHECKING:
    from .farm import Farm

_T_COLUMNS = ("id, name, provider_id, source_vm_id, description, state, distribution_enabled, "
              "concurrent_distribution, created, source_vm_name, source_host, preparation, "
              "maintenance_from")
_V_COLUMNS = "template_id, number, created, notes, tag, snapshot_id, size_bytes"
_D_COLUMNS = ("template_id, provider_id, state, progress, version, last_error, fraction, vm_id, "
              "folder, updated, kept")
_D_MARKS = ", ".join("?" * 11)


def _template(row: tuple) -> Template:
    (tid, name, provider_id, vm_id, description, state, dist, conc, created, vm_name, host, prep,
     maint) = row
    return Template(id=tid, name=name, provider_id=provider_id, source_vm_id=vm_id,
                    description=description, state=TemplateState(state),
                    distribution_enabled=bool(dist), concurrent_distribution=conc,
                    source_vm_name=vm_name, source_host=host,
                    preparation=Preparation.from_dict(json.loads(prep or "{}")),
                    maintenance_from=maint, created=created)


def _version(row: tuple) -> TemplateVersion:
    tid, number, created, notes, tag, snapshot_id, size = row
    return TemplateVersion(template_id=tid, number=number, created=created, notes=notes, tag=tag,
                           snapshot_id=snapshot_id, size_bytes=size)


def _kept(text: str | None) -> dict[int, dict]:
    """The kept copies as stored (JSON object keys are strings) -> {version: {"folder", "vm_id"}}."""
    raw = json.loads(text or "{}")
    return {int(number): {"folder": str(c.get("folder", "")), "vm_id": str(c.get("vm_id", ""))}
            for number, c in raw.items()}


def _kept_json(kept: dict[int, dict]) -> str:
    return json.dumps({str(int(n)): {"folder": c.get("folder", ""), "vm_id": c.get("vm_id", "")}
                       for n, c in sorted(kept.items())}, sort_keys=True)


def _target(row: tuple) -> DistributionTarget:
    tid, pid, state, progress, version, error, fraction, vm_id, folder, updated, kept = row
    return DistributionTarget(template_id=tid, provider_id=pid, state=TargetState(state),
                              progress=TargetProgress(progress), version=version, last_error=error,
                              fraction=fraction, vm_id=vm_id, folder=folder, updated=updated,
                              kept=_kept(kept))


def _scalars(t: Template) -> tuple:
    return (t.name, t.provider_id, t.source_vm_id, t.description, t.state.value,
            int(t.distribution_enabled), t.concurrent_distribution, t.created, t.source_vm_name,
            t.source_host, json.dumps(t.preparation.to_dict(), sort_keys=True), t.maintenance_from)


def _version_values(v: TemplateVersion) -> tuple:
    return (v.template_id, v.number, v.created, v.notes, v.tag, v.snapshot_id, v.size_bytes)


def _target_values(t: DistributionTarget) -> tuple:
    return (t.template_id, t.provider_id, t.state.value, t.progress.value, t.version, t.last_error,
            t.fraction, t.vm_id, t.folder, t.updated, _kept_json(t.kept))


def _conflict(name: str, exc: Exception | None = None) -> ConflictError:
    return ConflictError(f"A template named '{name}' already exists.", "Choose another name.",
                         str(exc or ""))


class TemplateRepository:
    def __init__(self, farm: "Farm") -> None:
        self._farm = farm

    # -- templates ---------------------------------------------------------------------------
    def _name_taken(self, name: str, except_id: int | None = None) -> bool:
        """SQLite's NOCASE folds ASCII only; compare case-folded names so 'ÜBER' and 'über' clash."""
        folded = name.casefold()
        return any(n.casefold() == folded and tid != except_id
                   for tid, n in self._farm.query("SELECT id, name FROM templates"))

    def add(self, t: Template) -> Template:
        """Insert the template with any versions and targets it holds; sets ``t.id`` (and
        ``created`` when empty) and returns ``t``. Same name in any case -> ConflictError."""
        if self._name_taken(t.name):
            raise _conflict(t.name)
        t.created = t.created or utc_now()
        try:
            with self._farm.transaction() as conn:
                cur = conn.execute(
                    "INSERT INTO templates (name, provider_id, source_vm_id, description, state, "
                    "distribution_enabled, concurrent_distribution, created, source_vm_name, "
                    "source_host, preparation, maintenance_from) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _scalars(t))
                tid = cur.lastrowid
                for v in t.versions:
                    v.template_id = tid
                    v.created = v.created or utc_now()
                    conn.execute(f"INSERT INTO template_versions ({_V_COLUMNS}) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", _version_values(v))
                for d in t.targets:
                    d.template_id = tid
                    d.updated = d.updated or utc_now()
                    conn.execute(f"INSERT INTO distribution_targets ({_D_COLUMNS}) "
                                 f"VALUES ({_D_MARKS})", _target_values(d))
        except sqlite3.IntegrityError as exc:
            raise _conflict(t.name, exc) from exc
        t.id = tid
        return t

    def update(self, t: Template) -> Template:
        """Save the template's own fields (not its versions or targets)."""
        if self._name_taken(t.name, except_id=t.id):
            raise _conflict(t.name)
        try:
            cur = self._farm.execute(
                "UPDATE templates SET name=?, provider_id=?, source_vm_id=?, description=?, state=?, "
                "distribution_enabled=?, concurrent_distribution=?, created=?, source_vm_name=?, "
                "source_host=?, preparation=?, maintenance_from=? WHERE id=?", _scalars(t) + (t.id,))
        except sqlite3.IntegrityError as exc:
            raise _conflict(t.name, exc) from exc
        if cur.rowcount == 0:
            raise NotFoundError(f"Template {t.id} is not in the farm.")
        return t

    def _load(self, rows: list[tuple]) -> list[Template]:
        templates = [_template(r) for r in rows]
        if not templates:
            return []
        by_id = {t.id: t for t in templates}
        marks = ",".join("?" * len(by_id))
        ids = tuple(by_id)
        for r in self._farm.query(f"SELECT {_V_COLUMNS} FROM template_versions "
                                  f"WHERE template_id IN ({marks}) ORDER BY number", ids):
            by_id[r[0]].versions.append(_version(r))
        for r in self._farm.query(f"SELECT {_D_COLUMNS} FROM distribution_targets "
                                  f"WHERE template_id IN ({marks}) ORDER BY provider_id", ids):
            by_id[r[0]].targets.append(_target(r))
        return templates

    def get(self, template_id: int) -> Template:
        found = self._load(self._farm.query(f"SELECT {_T_COLUMNS} FROM templates WHERE id = ?",
                                            (template_id,)))
        if not found:
            raise NotFoundError(f"Template {template_id} is not in the farm.",
                                "List the templates to see their names and numbers.")
        return found[0]

    def find_by_name(self, name: str) -> Template | None:
        folded = name.strip().casefold()
        for tid, n in self._farm.query("SELECT id, name FROM templates"):
            if n.casefold() == folded:
                return self.get(tid)
        return None

    def list(self) -> list[Template]:
        """Every template with its versions and targets, by name (any case)."""
        return self._load(self._farm.query(
            f"SELECT {_T_COLUMNS} FROM templates ORDER BY name COLLATE NOCASE, id"))

    def remove(self, template_id: int) -> bool:
        """Delete the template; its versions and targets go with it. A pool still using it ->
        ConflictError naming the pools (the services refuse before that)."""
        pools = self.pool_names_using(template_id)
        if pools:
            raise ConflictError(f"The template is used by the pool{'s' if len(pools) > 1 else ''} "
                                f"{', '.join(pools)}.", "Delete those pools or move them to "
                                "another template first.")
        return self._farm.execute("DELETE FROM templates WHERE id = ?", (template_id,)).rowcount > 0

    def pool_names_using(self, template_id: int, version: int | None = None) -> list[str]:
        if version is None:
            rows = self._farm.query("SELECT name FROM pools WHERE template_id = ? "
                                    "ORDER BY name COLLATE NOCASE", (template_id,))
        else:
            rows = self._farm.query("SELECT name FROM pools WHERE template_id = ? AND version = ? "
                                    "ORDER BY name COLLATE NOCASE", (template_id, version))
        return [r[0] for r in rows]

    # -- versions ----------------------------------------------------------------------------
    def versions(self, template_id: int) -> list[TemplateVersion]:
        return [_version(r) for r in self._farm.query(
            f"SELECT {_V_COLUMNS} FROM template_versions WHERE template_id = ? ORDER BY number",
            (template_id,))]

    def add_version(self, v: TemplateVersion) -> TemplateVersion:
        v.created = v.created or utc_now()
        try:
            self._farm.execute(f"INSERT INTO template_versions ({_V_COLUMNS}) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)", _version_values(v))
        except sqlite3.IntegrityError as exc:
            if self._farm.query("SELECT 1 FROM templates WHERE id = ?", (v.template_id,)):
                raise ConflictError(f"Version {v.number} of the template already exists.",
                                    details=str(exc)) from exc
            raise NotFoundError(f"Template {v.template_id} is not in the farm.",
                                details=str(exc)) from exc
        return v

    def update_version(self, v: TemplateVersion) -> TemplateVersion:
        cur = self._farm.execute(
            "UPDATE template_versions SET created=?, notes=?, tag=?, snapshot_id=?, size_bytes=? "
            "WHERE template_id=? AND number=?",
            (v.created, v.notes, v.tag, v.snapshot_id, v.size_bytes, v.template_id, v.number))
        if cur.rowcount == 0:
            raise NotFoundError(f"Version {v.number} of template {v.template_id} is not in the farm.")
        return v

    def set_tag(self, template_id: int, number: int, tag: str) -> None:
        """Put ``tag`` on one version and take it off the others, in one transaction ("" clears)."""
        with self._farm.transaction() as conn:
            if tag:
                conn.execute("UPDATE template_versions SET tag='' WHERE template_id=? AND tag=?",
                             (template_id, tag))
            cur = conn.execute("UPDATE template_versions SET tag=? WHERE template_id=? AND number=?",
                               (tag, template_id, number))
            if cur.rowcount == 0:
                raise NotFoundError(f"Version {number} of template {template_id} is not in the farm.")

    def remove_version(self, template_id: int, number: int) -> bool:
        return self._farm.execute("DELETE FROM template_versions WHERE template_id=? AND number=?",
                                  (template_id, number)).rowcount > 0

    # -- distribution targets ------------------------------------------------------------------
    def targets(self, template_id: int) -> list[DistributionTarget]:
        return [_target(r) for r in self._farm.query(
            f"SELECT {_D_COLUMNS} FROM distribution_targets WHERE template_id = ? "
            "ORDER BY provider_id", (template_id,))]

    def save_target(self, t: DistributionTarget) -> DistributionTarget:
        """Insert or replace the target's row; stamps ``updated``."""
        t.updated = utc_now()
        try:
            self._farm.execute(
                f"INSERT INTO distribution_targets ({_D_COLUMNS}) VALUES ({_D_MARKS}) "
                "ON CONFLICT (template_id, provider_id) DO UPDATE SET state=excluded.state, "
                "progress=excluded.progress, version=excluded.version, "
                "last_error=excluded.last_error, fraction=excluded.fraction, vm_id=excluded.vm_id, "
                "folder=excluded.folder, updated=excluded.updated, kept=excluded.kept",
                _target_values(t))
        except sqlite3.IntegrityError as exc:
            raise NotFoundError(f"Template {t.template_id} is not in the farm.",
                                details=str(exc)) from exc
        return t

    def kept_copies(self, template_id: int, provider_id: int) -> dict[int, dict] | None:
        """The target's kept copies as the farm holds them now; None when there is no such target."""
        rows = self._farm.query("SELECT kept FROM distribution_targets WHERE template_id=? AND provider_id=?",
                                (template_id, provider_id))
        return _kept(rows[0][0]) if rows else None

    def keep_copy(self, template_id: int, provider_id: int, number: int, folder: str,
                  vm_id: str) -> dict[int, dict]:
        """Add one kept copy (version ``number``) in one transaction, so two tasks changing the same
        target's kept copies never lose each other's change; the kept copies after it."""
        return self._change_kept(template_id, provider_id,
                                 lambda kept: kept.__setitem__(int(number), {"folder": folder, "vm_id": vm_id}))

    def forget_copy(self, template_id: int, provider_id: int, number: int) -> dict[int, dict]:
        """Drop one kept copy (its files are gone) in one transaction; the kept copies after it."""
        return self._change_kept(template_id, provider_id, lambda kept: kept.pop(int(number), None))

    def _change_kept(self, template_id: int, provider_id: int, change) -> dict[int, dict]:
        with self._farm.transaction() as conn:
            row = conn.execute("SELECT kept FROM distribution_targets WHERE template_id=? AND provider_id=?",
                               (template_id, provider_id)).fetchone()
            if row is None:
                return {}
            kept = _kept(row[0])
            change(kept)
            conn.execute("UPDATE distribution_targets SET kept=?, updated=? WHERE template_id=? AND provider_id=?",
                         (_kept_json(kept), utc_now(), template_id, provider_id))
        return kept

    def remove_target(self, template_id: int, provider_id: int) -> bool:
        return self._farm.execute(
            "DELETE FROM distribution_targets WHERE template_id=? AND provider_id=?",
            (template_id, provider_id)).rowcount > 0
