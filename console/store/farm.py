"""The farm file: one SQLite database in WAL mode, opened and migrated here."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator
from datetime import datetime, timezone
from pathlib import Path

from console.domain.errors import ConsoleError

from .migrations import MIGRATIONS, SCHEMA_VERSION


class FarmError(ConsoleError):
    title = "Farm file problem"


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds, the one timestamp format of the farm."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Farm:
    """Providers, tasks and (later) templates and pools, in one SQLite file.

    ``Farm(path)`` opens (creating and migrating as needed); ``Farm(path, connect=False)`` waits for
    ``open()``. All calls come from one thread at a time (the asyncio loop's); each write is one short
    transaction, so the loop is never held long.
    """

    def __init__(self, path: Path | str, connect: bool = True) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()   # a subprocess or a test thread may share one Farm
        from .pools import PoolRepository
        from .providers import ProviderRepository
        from .tasks import TaskRepository
        from .templates import TemplateRepository
        self.providers = ProviderRepository(self)
        self.tasks = TaskRepository(self)
        self.templates = TemplateRepository(self)
        self.pools = PoolRepository(self)
        if connect:
            self.open()

    # -- life cycle ------------------------------------------------------------------------------
    def open(self) -> "Farm":
        if self._conn is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FarmError(f"The folder of the farm file {self.path} cannot be created.",
                            "Choose another location with --farm.", str(exc)) from exc
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                   timeout=5.0)
        except sqlite3.Error as exc:
            raise FarmError(f"The farm file {self.path} cannot be opened.",
                            "Check that the file and its folder are readable and writable.",
                            str(exc)) from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL with WAL: a power cut may lose the last commits, never corrupts the file.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise FarmError(
                    f"The farm file {self.path} was written by a newer VDI Console "
                    f"(schema {version}; this version knows up to {SCHEMA_VERSION}).",
                    "Update VDI Console, or open another farm file.")
            for number in range(version, SCHEMA_VERSION):
                conn.executescript("BEGIN IMMEDIATE;\n" + MIGRATIONS[number]
                                   + f"\nPRAGMA user_version = {number + 1};\nCOMMIT;")
            conn.execute("SELECT count(*) FROM providers").fetchone()
        except FarmError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise FarmError(f"The farm file {self.path} is damaged or is not a VDI Console farm.",
                            "Restore it from a backup, or move it away to start an empty farm.",
                            str(exc)) from exc
        self._conn = conn
        return self

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "Farm":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.query("PRAGMA user_version")[0][0]

    def integrity_check(self) -> str:
        return self.query("PRAGMA integrity_check")[0][0]

    # -- helpers for the repositories ------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"The farm {self.path} is not open.")
        return self._conn

    def query(self, sql: str, params: tuple | dict = ()) -> list[tuple]:
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """One statement in its own transaction (autocommit)."""
        with self._lock:
            try:
                return self._connection().execute(sql, params)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.IntegrityError):
                    raise
                raise FarmError(f"The farm file {self.path} could not be written.",
                                "Check free disk space and that no other program locks the file.",
                                str(exc)) from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements as one transaction (a template with its versions and targets): all
        or nothing. Integrity errors pass through for the repository to explain."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
                    raise FarmError(f"The farm file {self.path} could not be written.",
                                    "Check free disk space and that no other program locks the file.",
                                    str(exc)) from exc
                raise
            conn.execute("COMMIT")

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        """Many rows in one transaction: one disk sync for a whole batch."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise FarmError(f"The farm file {self.path} could not be written.",
                                "Check free disk space and that no other program locks the file.",
                                str(exc)) from exc
