"""What the journal does differently on each engine, behind one interface (docs/team-mode.md).

The journal's logic — drafts, redaction, the hash chain, group commit, filters, verification —
is written once in store/journal.py. Only these differ:
- how a session proves it is alive (a lock file here; an advisory lock on PostgreSQL),
- how the chain's head is read and held while entries are appended,
- how an intent is finished (deleted here; on PostgreSQL an entry naming it is appended),
- how "entries were written up to N" is known for verify, and the text search.
This module is the SQLite side; store/pg/journal_engine.py is PostgreSQL's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from ctrader_admin.store import journal_search
from ctrader_admin.store.ownership import SessionOwner
from ctrader_admin.store.sql import Connection, Cursor, Store

GENESIS_HASH = "0" * 64

# One entry to write: id, body, hash, and the intent it finishes (None: an import or recovery
# of an older version's intent row).
EntryRow = tuple[int, str, str, int | None]


class Owner(Protocol):
    """A journal session's claim: alive until released or its process is gone."""

    session: str

    def is_gone(self, session: str) -> bool: ...

    def sweep(self) -> int: ...

    def release(self) -> None: ...


class JournalEngine(Protocol):
    # False: text filters need no index made by the journal (``ensure_index`` is not called).
    sets_up_text_index: bool

    def claim_session(self) -> Owner: ...

    def ensure_index(self, conn: Connection, *, wanted: bool) -> bool: ...

    def open_chain(self, conn: Connection) -> tuple[int, str]:
        """The next id and the last hash, held for this transaction (appends queue behind)."""
        ...

    def write_entries(self, conn: Connection, rows: Sequence[EntryRow]) -> None: ...

    def insert_intent(self, conn: Connection, session: str, fields: str) -> int: ...

    def pending_intent(self, conn: Connection, intent_id: int) -> str | None:
        """The fields of an intent not finished yet; None when finished or never written."""
        ...

    def finish_intents(self, conn: Connection, intent_ids: Sequence[int]) -> None: ...

    def unfinished_intents(self, conn: Connection, except_session: str) -> list[Any]:
        """(id, session, fields) of other sessions' unfinished intents, oldest first."""
        ...

    def pending_count(self, conn: Connection) -> int: ...

    def verify_rows(self, conn: Connection) -> Cursor:
        """(id, body, hash, the id in the body, the prev_hash in the body), by id."""
        ...

    def written_up_to(self, conn: Connection) -> int | None:
        """The highest id ever given to an entry (removed ones included)."""
        ...

    def text_filter(self, pattern: str) -> tuple[str, list[Any]]:
        """The WHERE clause (and its parameters) for a LIKE ``pattern`` over the text columns
        (journal_search.TEXT_COLUMNS, the journal aliased ``j``)."""
        ...


def sessions_folder(database: Store) -> Path | None:
    """Where the sessions of a database file keep their lock files (None: in memory)."""
    path = database.path
    return path.parent / f"{path.name}.sessions" if isinstance(path, Path) else None


class SqliteJournalEngine:
    sets_up_text_index = True

    def __init__(self, database: Store) -> None:
        self._database = database

    def claim_session(self) -> Owner:
        return SessionOwner.claim(sessions_folder(self._database))

    def ensure_index(self, conn: Connection, *, wanted: bool) -> bool:
        return journal_search.ensure_index(conn, wanted=wanted)  # type: ignore[arg-type]

    def open_chain(self, conn: Connection) -> tuple[int, str]:
        # The transaction is BEGIN IMMEDIATE: the file's write lock already serialises appends.
        last = conn.execute("SELECT id, hash FROM journal ORDER BY id DESC LIMIT 1").fetchone()
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").fetchone()
        # Never reuse an id, even one whose entry was removed: the gap must stay visible.
        next_id = max(last[0] if last else 0, seq[0] if seq else 0) + 1
        return next_id, (last[1] if last else GENESIS_HASH)

    def write_entries(self, conn: Connection, rows: Sequence[EntryRow]) -> None:
        conn.executemany(
            "INSERT INTO journal (id, body, hash) VALUES (?, ?, ?)",
            [(entry_id, body, digest) for entry_id, body, digest, _ in rows],
        )

    def insert_intent(self, conn: Connection, session: str, fields: str) -> int:
        rows = conn.execute(
            "INSERT INTO journal_intents (session, fields) VALUES (?, ?) RETURNING id",
            (session, fields),
        ).fetchall()  # all: a RETURNING statement left unfinished would hold the transaction
        return int(rows[0][0])

    def pending_intent(self, conn: Connection, intent_id: int) -> str | None:
        row = conn.execute(
            "SELECT fields FROM journal_intents WHERE id = ?", (intent_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def finish_intents(self, conn: Connection, intent_ids: Sequence[int]) -> None:
        conn.executemany(
            "DELETE FROM journal_intents WHERE id = ?", [(intent_id,) for intent_id in intent_ids]
        )

    def unfinished_intents(self, conn: Connection, except_session: str) -> list[Any]:
        return conn.execute(
            "SELECT id, session, fields FROM journal_intents WHERE session != ? ORDER BY id",
            (except_session,),
        ).fetchall()

    def pending_count(self, conn: Connection) -> int:
        return int(conn.execute("SELECT count(*) FROM journal_intents").fetchone()[0])

    def verify_rows(self, conn: Connection) -> Cursor:
        return conn.execute(
            "SELECT id, body, hash, json_extract(body, '$.id'), "
            "json_extract(body, '$.prev_hash') FROM journal ORDER BY id"
        )

    def written_up_to(self, conn: Connection) -> int | None:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").fetchone()
        return None if row is None else int(row[0])

    def text_filter(self, pattern: str) -> tuple[str, list[Any]]:
        return journal_search.LIKE_CLAUSE, [pattern] * len(journal_search.TEXT_COLUMNS)
