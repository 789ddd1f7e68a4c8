"""The journal on PostgreSQL (store/journal_engine.py says what differs and why).

- **One chain for the team.** ``open_chain`` takes the ``journal_head`` row ``FOR UPDATE``: every
  append of every workstation queues there, so ids follow each other and each entry's
  ``prev_hash`` is the hash of the entry before it, whatever the concurrency.
- **Sessions.** Each journal session holds a session-level advisory lock on its own connection
  for its life. PostgreSQL releases it when that connection ends in any way (the app quits,
  crashes or is killed; TCP keepalives end a connection to a machine that vanished), so "the lock
  can be taken" means exactly "the owner is gone".
- **Append-only, also for intents.** Agents may only INSERT; an intent is finished by the entry
  that names it (``journal.intent_id`` is unique, so it is finished once).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ctrader_admin.store.database import DatabaseUnreachable
from ctrader_admin.store.journal_engine import EntryRow, Owner
from ctrader_admin.store.pg.database import answers
from ctrader_admin.store.pg.migrations import search_text
from ctrader_admin.store.sql import Connection, Cursor

if TYPE_CHECKING:
    import psycopg

    from ctrader_admin.store.pg.database import PgDatabase

JOURNAL_CHANNEL = "ctrader_journal"  # NOTIFY payload: the last id of the entries appended
# A dead peer is noticed by the server within about idle + interval × count seconds.
KEEPALIVE = (
    "SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3"
)


def session_lock_key(session: str) -> int:
    """The advisory lock (one-bigint form) of a journal session."""
    return int.from_bytes(hashlib.sha256(session.encode()).digest()[:8], "big", signed=True)


def close_releasing_locks(conn: psycopg.Connection[Any]) -> None:
    """Close a connection that holds session locks, letting go of them first: the server frees
    them only once the connection's backend has ended, a moment after ``close`` returns, so a
    count of live sessions made right after would still see this one."""
    import psycopg

    with contextlib.suppress(psycopg.Error):
        if not conn.closed and not conn.broken:
            conn.execute("SELECT pg_advisory_unlock_all()")
    conn.close()


class PgSessionOwner:
    """A journal session: an advisory lock held on a connection of its own."""

    def __init__(self, database: PgDatabase) -> None:
        self.session = uuid.uuid4().hex
        self._database = database
        self._lock = threading.Lock()
        self._released = False
        self._conn: psycopg.Connection[Any] | None = None
        # The team server away (read-only until it answers): claimed on first use instead — not
        # tried again now when the database just failed to reach it (a silent host costs the
        # whole connect timeout, on the thread that starts the app).
        if database.reachable:
            with contextlib.suppress(DatabaseUnreachable):
                self._conn = self._claim()

    def _claim(self) -> psycopg.Connection[Any]:
        conn = self._database.connect()
        try:
            conn.execute(KEEPALIVE)
            conn.execute("SELECT pg_advisory_lock(%s)", (session_lock_key(self.session),))
        except BaseException:
            conn.close()
            raise
        return conn

    def _live(self) -> psycopg.Connection[Any]:
        """The session's connection, checked: one the server dropped (a restart, a network
        cut, an administrator ending it) is reopened and the session's lock taken again, so a
        session that writes is always one the server sees alive. Intents recovered by others
        meanwhile stay recovered (``complete`` then says so). Call with ``_lock`` held."""
        if self._released:
            raise RuntimeError("this journal session was closed")
        if self._conn is not None and answers(self._conn):
            return self._conn
        self._conn = None
        self._conn = self._claim()
        return self._conn

    def hold(self) -> None:
        """Before an intent is written: the session is alive on the server."""
        with self._lock:
            self._live()

    @property
    def backend_pid(self) -> int:
        """The server process of this session's connection (tests watch it end)."""
        with self._lock:
            assert self._conn is not None
            return int(self._conn.info.backend_pid)

    def is_gone(self, session: str) -> bool:
        if session == self.session:
            return False
        key = session_lock_key(session)
        with self._lock:
            conn = self._live()
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row is None or not row[0]:
                return False
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return True

    def sweep(self) -> int:
        return 0  # nothing is left behind: the server dropped the lock with the connection

    def release(self) -> None:
        with self._lock:
            self._released = True
            conn, self._conn = self._conn, None
        if conn is not None:
            close_releasing_locks(conn)

    def __del__(self) -> None:
        # A session dropped without release (a stray Journal) ends with it, as with the process.
        with contextlib.suppress(Exception):
            self.release()


class PgJournalEngine:
    sets_up_text_index = False  # the schema's trigram index serves text filters

    def __init__(self, database: PgDatabase) -> None:
        self._database = database
        self._owner: PgSessionOwner | None = None

    def claim_session(self) -> Owner:
        self._owner = PgSessionOwner(self._database)
        return self._owner

    def ensure_index(self, conn: Connection, *, wanted: bool) -> bool:
        # Not SQLite's FTS5 table: text filters go through ``text_filter``, whose ILIKE the
        # trigram index of the schema (migration step 3) serves.
        return False

    def open_chain(self, conn: Connection) -> tuple[int, str]:
        row = conn.execute("SELECT last_id, last_hash FROM journal_head FOR UPDATE").fetchone()
        return int(row[0]) + 1, str(row[1])

    def write_entries(self, conn: Connection, rows: Sequence[EntryRow]) -> None:
        if not rows:
            return
        conn.executemany(
            "INSERT INTO journal (id, body, hash, intent_id) VALUES (?, ?, ?, ?)", rows
        )
        last_id, _, last_hash, _ = rows[-1]
        conn.execute("UPDATE journal_head SET last_id = ?, last_hash = ?", (last_id, last_hash))
        # Delivered to listeners only if this transaction commits (store/pg/watch.py).
        conn.execute("SELECT pg_notify(?, ?)", (JOURNAL_CHANNEL, str(last_id)))

    def insert_intent(self, conn: Connection, session: str, fields: str) -> int:
        if self._owner is not None:
            self._owner.hold()
        row = conn.execute(
            "INSERT INTO journal_intents (session, fields) VALUES (?, ?) RETURNING id",
            (session, fields),
        ).fetchone()
        return int(row[0])

    def pending_intent(self, conn: Connection, intent_id: int) -> str | None:
        row = conn.execute(
            "SELECT i.fields FROM journal_intents i WHERE i.id = ? AND NOT EXISTS "
            "(SELECT 1 FROM journal j WHERE j.intent_id = i.id)",
            (intent_id,),
        ).fetchone()
        return None if row is None else str(row[0])

    def finish_intents(self, conn: Connection, intent_ids: Sequence[int]) -> None:
        pass  # the entries written name their intents: that is what finishes them

    def unfinished_intents(self, conn: Connection, except_session: str) -> list[Any]:
        return conn.execute(
            "SELECT i.id, i.session, i.fields FROM journal_intents i WHERE i.session <> ? "
            "AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.intent_id = i.id) ORDER BY i.id",
            (except_session,),
        ).fetchall()

    def pending_count(self, conn: Connection) -> int:
        row = conn.execute(
            "SELECT count(*) FROM journal_intents i "
            "WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.intent_id = i.id)"
        ).fetchone()
        return int(row[0])

    def verify_rows(self, conn: Connection) -> Cursor:
        return conn.execute(
            "SELECT id, body, hash, ((body::jsonb) ->> 'id')::bigint, "
            "(body::jsonb) ->> 'prev_hash' FROM journal ORDER BY id"
        )

    def written_up_to(self, conn: Connection) -> int | None:
        row = conn.execute("SELECT last_id FROM journal_head").fetchone()
        return None if row is None else int(row[0])

    def text_filter(self, pattern: str) -> tuple[str, list[Any]]:
        # One ILIKE over the text columns joined (SQLite's LIKE ignores ASCII case, and a filter
        # must find the same on both): the expression the trigram index is built on, so a
        # million entries are not scanned (store/pg/migrations.py, step 3).
        return f"{search_text('j.')} ILIKE ? ESCAPE '\\'", [pattern]
