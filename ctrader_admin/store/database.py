"""The one SQLite file: connection, pragmas, schema version and forward-only migrations.

Several processes of the app share one file (the desktop app, CLI jobs, single writes, status,
journal verify). What keeps that safe:

- Only SQLite touches the file. POSIX drops *every* fcntl lock a process holds on a file when
  *any* of its descriptors of that file is closed; SQLite tracks its own descriptors (across all
  its connections in the process) and defers such closes, but a descriptor opened beside it (an
  ``os.open`` to set the mode, a copy, a checksum) would silently drop SQLite's locks: another
  process could then checkpoint and delete the WAL under us, and our commits would be lost.
- One ``Database`` per file per process (the back office owns it; checkpoints and directory
  share it), so the process has one writer connection and one lock to serialise its threads.
- WAL: readers never block the writer nor each other; ``verify``/``export`` read a snapshot on
  a second (read-only) connection, which SQLite coordinates with the first.
- Every write is ``BEGIN IMMEDIATE``: the write lock is taken before the first read, so no
  transaction can fail half-way on a lock upgrade, and the busy timeout covers the wait.
- ``synchronous = FULL``: a journal intent is on disk before its request leaves.
- A lock not granted within the busy timeout is ``DatabaseBusyError``, a sentence for the
  operator, never a traceback (so are a damaged file, a full disk, an unreadable file). SQLite
  may roll a transaction back by itself on such errors, so the rollback here only runs while a
  transaction is still open.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.migrations import MIGRATIONS
from ctrader_admin.store.paths import AppPaths, ensure_private_dir
from ctrader_admin.store.sql import ClosedOnExit, Engine, apply_migrations

MEMORY = ":memory:"
BUSY_TIMEOUT_SECONDS = 10.0
PRIVATE_FILE_MODE = 0o600
BUSY_MESSAGE = (
    "The local database is busy (another ctrader-admin process is writing to it); "
    "try again in a moment."
)


class DatabaseError(ExpectedError):
    """The database cannot be used; the message is meant for the operator."""


class DatabaseTooNewError(DatabaseError):
    pass


class DatabaseUnreachable(DatabaseError):
    """The (team) database server cannot be reached, or the connection to it was lost: nothing
    is wrong with what was asked, and asking again later may work (the app then works read-only
    from the last state it saw, services/team_link.py)."""


class DatabaseClosedError(DatabaseError):
    """The back office closed the database (the app or command is ending); late work that still
    reaches for it (a tab's reload off the loop) gets this sentence, not sqlite3's own error."""

    def __init__(self) -> None:
        super().__init__(
            "The local database is closed (the app is shutting down); nothing was read or saved."
        )


class DatabaseBusyError(DatabaseError):
    """Another process held the lock for longer than the busy timeout; nothing was changed."""

    def __init__(self) -> None:
        super().__init__(BUSY_MESSAGE)


def _failure_in_words(exc: sqlite3.Error, path: Path | str) -> DatabaseError | None:
    """The operator's sentence for what the file or the disk refused; None for anything else
    (a bug: it keeps its traceback)."""
    # The primary result code is the low byte (SQLITE_BUSY_SNAPSHOT, _RECOVERY… are busy too).
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseBusyError()
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return DatabaseError(
            f"The local database {path} is damaged ({exc}). Nothing more is written to it; "
            "keep a copy of the file and ask the team that supports the app."
        )
    if code == sqlite3.SQLITE_FULL:
        return DatabaseError(
            f"The disk that holds the local database {path} is full: nothing was saved. "
            "Free some space and try again."
        )
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
        return DatabaseError(
            f"The local database {path} cannot be read or written ({exc}). "
            "Check the disk and the file's permissions."
        )
    return None


@contextlib.contextmanager
def _in_words(path: Path | str) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:  # OperationalError is one too
        said = _failure_in_words(exc, path)
        if said is None:
            raise
        raise said from exc


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a journal intent must be on disk before its request leaves; writes are rare.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _rollback_if_open(conn: sqlite3.Connection) -> None:
    # SQLite has already rolled back after some errors (busy, I/O, full disk): a second
    # ROLLBACK would raise "no transaction is active" and hide the error that matters.
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _make_private(path: Path) -> None:
    """Owner-only, by path (never through a descriptor of our own, see the module docstring).
    The folder is private already, so the moment between SQLite creating the file and this is
    harmless; the -wal/-shm files take the database file's mode."""
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE_MODE:
        os.chmod(path, PRIVATE_FILE_MODE)


class Database(ClosedOnExit):
    """Owns the connection. Every access goes through one lock, so executor threads can share it.

    Transactions are explicit (``BEGIN IMMEDIATE``): the connection runs in autocommit mode.
    """

    def __init__(
        self,
        path: Path | str = MEMORY,
        *,
        migrations: Sequence[Sequence[str]] = MIGRATIONS,
        busy_timeout: float | None = None,
    ) -> None:
        """``busy_timeout``: how long to wait for another process's lock; None: the default
        ``BUSY_TIMEOUT_SECONDS`` (read when called, so a test can shorten it)."""
        self._path = path if path == MEMORY else Path(path)
        busy_timeout = BUSY_TIMEOUT_SECONDS if busy_timeout is None else busy_timeout
        self._busy_timeout = busy_timeout
        if isinstance(self._path, Path):
            ensure_private_dir(self._path.parent)
        self._lock = threading.RLock()
        self._closed = False
        with _in_words(self._path):
            self._conn = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
        try:
            if isinstance(self._path, Path):
                _make_private(self._path)
            with _in_words(self._path):
                _configure(self._conn)
            self._migrate(migrations)
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open(cls, paths: AppPaths) -> Database:
        return cls(paths.database_file)

    @property
    def engine(self) -> Engine:
        return "sqlite"

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
        with self._lock, _in_words(self._path):
            yield self._open_conn()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested use joins the outer one."""
        with self._lock, _in_words(self._path):
            if self._open_conn().in_transaction:
                yield self._conn
                return
            # IMMEDIATE takes the write lock now, so read-then-write sequences cannot interleave
            # with another process using the same file.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                _rollback_if_open(self._conn)
                raise

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read-only view for long scans (verify, export) that does not hold the
        lock, so writes go on meanwhile. A second SQLite connection of this process: SQLite
        shares the file's locks between its own connections. An in-memory database has no
        second connection: there the shared one is used under the lock."""
        if not isinstance(self._path, Path):
            with self._lock, _in_words(self._path):
                self._open_conn().execute("BEGIN")
                try:
                    yield self._conn
                finally:
                    _rollback_if_open(self._conn)
            return
        if self._closed:
            raise DatabaseClosedError()
        with _in_words(self._path):
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=self._busy_timeout)
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
            apply_migrations(conn, migrations, current)

    def _open_conn(self) -> sqlite3.Connection:
        """The shared connection; call with ``_lock`` held."""
        if self._closed:
            raise DatabaseClosedError()
        return self._conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()
