"""Substring search over the journal: a trigram full-text index where SQLite has one, else LIKE.

The index is derived data, so it lives outside the migrations: it is created (and rebuilt) when
the SQLite build supports FTS5 trigrams, and its trigger is dropped where it does not, so that a
database carried to such a machine still accepts new entries.
"""

from __future__ import annotations

import sqlite3

# The fields a text filter looks at.
TEXT_COLUMNS: tuple[str, ...] = (
    "target",
    "action",
    "operator",
    "reason",
    "ticket",
    "before",
    "after",
    "error",
)
INDEX_TABLE = "journal_fts"
_TRIGGER = "journal_fts_insert"
# Trigrams cannot match fewer than three characters; shorter text falls back to LIKE.
MIN_INDEXED_LENGTH = 3


def trigram_supported(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts_probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.fts_probe")
    return True


def _exists(conn: sqlite3.Connection, kind: str, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?", (kind, name))
    return row.fetchone() is not None


def ensure_index(conn: sqlite3.Connection, *, wanted: bool = True) -> bool:
    """Bring the index in line with this SQLite build; True when it can be used.

    Call inside a write transaction.
    """
    if not trigram_supported(conn):
        # Without the module every insert would fail inside the trigger.
        conn.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")
        return False
    if not wanted:
        return False
    columns = ", ".join(TEXT_COLUMNS)
    if not _exists(conn, "table", INDEX_TABLE):
        conn.execute(
            f"CREATE VIRTUAL TABLE {INDEX_TABLE} USING fts5({columns}, "
            "content='journal', content_rowid='id', tokenize='trigram')"
        )
        conn.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")
    if not _exists(conn, "trigger", _TRIGGER):
        values = ", ".join(f"new.{c}" for c in TEXT_COLUMNS)
        # Identifiers are this module's constants.
        insert = f"INSERT INTO {INDEX_TABLE} (rowid, {columns}) VALUES (new.id, {values})"  # noqa: S608
        conn.execute(f"CREATE TRIGGER {_TRIGGER} AFTER INSERT ON journal BEGIN {insert}; END")
        # Entries written while the trigger was missing are not indexed yet.
        conn.execute("INSERT INTO journal_fts (journal_fts) VALUES ('rebuild')")
    return True


def match_phrase(text: str) -> str:
    """An FTS5 query that matches ``text`` as a substring (trigram phrase)."""
    return '"' + text.replace('"', '""') + '"'


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


LIKE_CLAUSE = "(" + " OR ".join(f"j.{c} LIKE ? ESCAPE '\\'" for c in TEXT_COLUMNS) + ")"
