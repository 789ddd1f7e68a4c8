"""The one SQLite file: connection, pragmas, schema version and forward-only migrations."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from ctrader_admin.store.migrations import MIGRATIONS
from ctrader_admin.store.paths import AppPaths, ensure_private_dir

MEMORY = ":memory:"
_BUSY_TIMEOUT_SECONDS = 10.0


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is meant for the operator."""


class DatabaseTooNewError(DatabaseError):
    pass


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a journal intent must be on disk before its request leaves; writes are rare.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


class Database:
    """Owns the connection. Every access goes through one lock, so executor threads can share it.

    Transactions are explicit (``BEGIN IMMEDIATE``): the connection runs in autocommit mode.
    """

    def __init__(
        self, path: Path | str = MEMORY, *, migrations: Sequence[Sequence[str]] = MIGRATIONS
    ) -> None:
        self._path = path if path == MEMORY else Path(path)
        if isinstance(self._path, Path):
            ensure_private_dir(self._path.parent)
            # Created owner-only before SQLite sees it; the -wal/-shm files copy its mode.
            os.close(os.open(self._path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self._path,
            isolation_level=None,
            check_same_thread=False,
            timeout=_BUSY_TIMEOUT_SECONDS,
        )
        try:
            _configure(self._conn)
            self._migrate(migrations)
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open(cls, paths: AppPaths) -> Database:
        return cls(paths.database_file)

    @property
    def path(self) -> Path | str:
        return self._path

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Short reads on the shared connection."""
        with self._lock:
            yield self._conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested use joins the outer one."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            # IMMEDIATE takes the write lock now, so read-then-write sequences cannot interleave
            # with another process using the same file.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read-only view for long scans (verify, export) that does not hold the
        lock, so writes go on meanwhile. An in-memory database has no second connection: there
        the shared one is used under the lock."""
        if not isinstance(self._path, Path):
            with self._lock:
                self._conn.execute("BEGIN")
                try:
                    yield self._conn
                finally:
                    self._conn.execute("ROLLBACK")
            return
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=_BUSY_TIMEOUT_SECONDS)
        try:
            conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN")
            yield conn
        finally:
            conn.close()

    def _migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = int(
                conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            )
            if current > len(migrations):
                raise DatabaseTooNewError(
                    f"The database {self._path} was written by a newer ctrader-admin "
                    f"(schema {current}, this version knows {len(migrations)}). "
                    "Update the app; it will not change a database it does not understand."
                )
            for version in range(current + 1, len(migrations) + 1):
                for statement in migrations[version - 1]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (version, datetime.now(UTC).isoformat(timespec="milliseconds")),
                )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
