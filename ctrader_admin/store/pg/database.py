"""The team database: the store interface of ``store/database.py`` (read / transaction /
snapshot) on PostgreSQL, through psycopg 3 (docs/team-mode.md says why not an ORM).

- One connection per process for ``read`` and ``transaction`` (autocommit, explicit ``BEGIN``;
  a lock lets executor threads share it, like the SQLite store), reopened after the server
  dropped it; ``snapshot`` opens its own ``REPEATABLE READ READ ONLY`` connection and streams
  through a server-side cursor, so a verify of millions of entries holds constant memory.
- The stores write ``?`` placeholders, as for SQLite; the adapter turns them into psycopg's.
- Everything the operator can meet — the server unreachable, the log-in refused, a TLS failure,
  a right the team administrator did not grant, the connection lost — is a ``DatabaseError``
  sentence; the password is a driver argument only, registered for redaction before first use.
- The schema is migrated only by ``migrate()`` (the team administrator, ``store/pg/admin.py``);
  an agent's app refuses a database older or newer than it knows, in words.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ctrader_admin.redaction import register_secret
from ctrader_admin.store.database import DatabaseError, DatabaseTooNewError, DatabaseUnreachable
from ctrader_admin.store.pg.errors import connect_failure_in_words, failure_in_words
from ctrader_admin.store.pg.migrations import PG_MIGRATIONS
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.sql import ClosedOnExit, Cursor, Engine, apply_migrations

if TYPE_CHECKING:
    import psycopg

    from ctrader_admin.store.tokens import TokenStore

# Advisory lock spaces (the two-int form: class, key). Journal sessions use the one-bigint form,
# which PostgreSQL keeps apart from these.
LOCK_CLASS = 0x63_74_61_64  # "ctad"
LOCK_MIGRATIONS = 1
LOCK_LEDGER = LOCK_CLASS + 2  # the attribution ledger's writers, per profile (its key)
_STREAM_ROWS = 2000
_cursor_names = itertools.count(1)


@functools.lru_cache(maxsize=512)
def pg_sql(sql: str) -> str:
    """``?`` placeholders (the stores' one way of writing SQL) as psycopg's ``%s``. The stores'
    PostgreSQL SQL holds no literal ``?`` (no jsonb ``?`` operators): it is written for this."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg connection speaking ``store.sql.Connection``."""

    def __init__(self, conn: psycopg.Connection[Any], *, streaming: bool = False) -> None:
        self._conn = conn
        self._streaming = streaming
        self._server_cursors: list[psycopg.Cursor[Any]] = []

    @property
    def raw(self) -> psycopg.Connection[Any]:
        return self._conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        if self._streaming:
            # Server-side: rows arrive in pages as they are iterated (constant memory).
            cursor: psycopg.Cursor[Any] = self._conn.cursor(name=f"s{next(_cursor_names)}")
            cursor.itersize = _STREAM_ROWS  # type: ignore[attr-defined]
            self._server_cursors.append(cursor)
            return cursor.execute(*_query(sql, parameters))
        return self._conn.execute(*_query(sql, parameters))

    def close_cursors(self) -> None:
        """The server-side cursors of a snapshot end with it."""
        cursors, self._server_cursors = self._server_cursors, []
        for cursor in cursors:
            cursor.close()

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self._conn.cursor()
        cursor.executemany(pg_sql(sql), parameters)
        return cursor


def answers(conn: psycopg.Connection[Any] | None) -> bool:
    """A connection that holds session locks still answers; one that does not is closed (the
    server dropped it, and its locks with it: the caller opens another and takes them again)."""
    import psycopg

    if conn is None:
        return False
    try:
        conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        conn.close()
        return False


def _query(sql: str, parameters: Sequence[Any]) -> tuple[str, Sequence[Any] | None]:
    # Without parameters psycopg sends the text as it is: no placeholder, no %% to undo.
    return (pg_sql(sql), parameters) if parameters else (sql, None)


class PgDatabase(ClosedOnExit):
    """The team database; the same interface as ``store.database.Database``."""

    def __init__(
        self,
        settings: TeamSettings,
        password: str | None,
        *,
        migrations: Sequence[Sequence[str]] = PG_MIGRATIONS,
        unreachable_ok: bool = False,
    ) -> None:
        """``unreachable_ok``: a server that cannot be reached now is not an error — the
        database opens without a connection (``unreachable_since`` says since when) and every
        use tries again, raising ``DatabaseUnreachable`` until the server answers."""
        self._settings = settings
        self._password = password
        register_secret(password)
        self._migrations = migrations
        self._lock = threading.RLock()
        self._in_transaction = False
        self._closed = False
        # Opened while unreachable: the schema is checked on the first connection made.
        self._check_schema_on_connect = False
        # When the server last failed to answer (time.time()); None: the last attempt worked.
        self.unreachable_since: float | None = None
        self._conn: psycopg.Connection[Any] | None = None
        try:
            self._conn = self.connect()
        except DatabaseUnreachable:
            if not unreachable_ok:
                raise
            self._check_schema_on_connect = True

    @classmethod
    def open(
        cls, settings: TeamSettings, tokens: TokenStore, *, unreachable_ok: bool = False
    ) -> PgDatabase:
        """An agent's connection: the password from the keyring, the schema checked (now, or
        with ``unreachable_ok`` once the server first answers)."""
        password = tokens.get_team_password(settings.keyring_key)
        database = cls(settings, password, unreachable_ok=unreachable_ok)
        try:
            if database.reachable:
                database.check_schema()
        except BaseException:
            database.close()
            raise
        return database

    @property
    def reachable(self) -> bool:
        """The last attempt to reach the server worked (no round trip: what was last seen)."""
        return self.unreachable_since is None

    @property
    def engine(self) -> Engine:
        return "postgresql"

    @property
    def path(self) -> str:
        """The server in words (stores name their database by ``path`` in messages)."""
        return self._settings.described

    @property
    def settings(self) -> TeamSettings:
        return self._settings

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """A new connection of this process (the stores' own, a journal session's, a snapshot's)."""
        import psycopg

        try:
            conn = psycopg.connect(
                **self._settings.connect_kwargs(),
                password=self._password or "",
                autocommit=autocommit,
            )
        except psycopg.Error as exc:
            said = connect_failure_in_words(exc, self._settings)
            self._note(said)
            raise said from None
        self.unreachable_since = None
        return conn

    def _note(self, said: DatabaseError) -> None:
        """Since when the server is away; a server that answered (even to refuse) is not."""
        if not isinstance(said, DatabaseUnreachable):
            self.unreachable_since = None
        elif self.unreachable_since is None:
            self.unreachable_since = time.time()

    @contextlib.contextmanager
    def _in_words(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            said = failure_in_words(exc, self._settings)
            if said is None:
                raise
            self._note(said)
            raise said from exc

    def _live(self) -> PgConnection:
        if self._closed:  # late work (a view's refresh) after the back office closed
            raise DatabaseError(
                "The team database connection is closed (the app is shutting down); nothing "
                "was read or saved."
            )
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()  # a broken one still holds its socket until closed
                self._conn = None
            self._conn = self.connect()
            if self._check_schema_on_connect:
                self.check_schema()  # its read finds this connection: no recursion
                self._check_schema_on_connect = False
        return PgConnection(self._conn)

    @property
    def schema_version(self) -> int:
        with self.read() as conn:
            return _schema_version(conn)

    @contextlib.contextmanager
    def read(self) -> Iterator[PgConnection]:
        with self._lock, self._in_words():
            yield self._live()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """A write transaction (READ COMMITTED; the stores serialise what must be serial with
        row or advisory locks); nested use joins the outer one."""
        with self._lock, self._in_words():
            conn = self._live()
            if self._in_transaction:
                yield conn
                return
            conn.execute("BEGIN")
            self._in_transaction = True
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if not conn.raw.broken and not conn.raw.closed:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._in_transaction = False

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[PgConnection]:
        with self._in_words():
            raw = self.connect()
            try:
                raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                conn = PgConnection(raw, streaming=True)
                try:
                    yield conn
                finally:
                    if not raw.broken:
                        conn.close_cursors()
            finally:
                raw.close()

    def check_schema(self) -> None:
        """Refuse a database this app does not know (an agent never migrates it)."""
        current = self.schema_version
        known = len(self._migrations)
        if current > known:
            raise DatabaseTooNewError(
                f"The team database {self.path} was set up by a newer ctrader-admin (schema "
                f"{current}, this version knows {known}). Update the app."
            )
        if current < known:
            raise DatabaseError(
                f"The team database {self.path} is at schema {current} and this app needs "
                f"{known}: ask the team administrator to run `ctrader-admin team init`."
            )

    def migrate(self) -> int:
        """Bring the schema up to date (the team administrator's right); the version reached.
        Serialised by an advisory lock, so two first starts cannot both apply a step."""
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?, ?)", (LOCK_CLASS, LOCK_MIGRATIONS))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = _schema_version(conn)
            if current > len(self._migrations):
                raise DatabaseTooNewError(
                    f"The team database {self.path} was set up by a newer ctrader-admin "
                    f"(schema {current}); update the app before changing it."
                )
            apply_migrations(conn, self._migrations, current)
            return len(self._migrations)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()


def _schema_version(conn: PgConnection) -> int:
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    return int(conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)
