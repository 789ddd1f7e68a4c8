"""The team database's schema as forward-only steps (PostgreSQL). Never edit a released step:
append one. The SQLite schema (store/migrations.py) is versioned on its own; the two describe
the same journal (the same hashed body, the same filter columns) in each engine's own terms.

What differs from SQLite, and why:
- ``journal_head`` (one row): the chain's last id and hash. Appending takes it ``FOR UPDATE``, so
  concurrent appends from many workstations queue on it and the chain stays one line; its trigger
  lets it only move forward onto an entry that exists.
- Intents are never updated nor deleted (agents hold neither right): an intent is finished when a
  journal entry names it (``journal.intent_id``, unique), so completing one appends a row.
- ``budget_reservations``: the team's write budget, one row per write reserved (store/pg/budget.py).
- ``written_by`` (every table agents write) and a reservation's ``at`` come from the server
  (``current_user``, its clock): agents may INSERT only the other columns (store/pg/admin.py), so
  who wrote a row and when a slot was taken cannot be forged by a workstation.
- The filter columns compare byte by byte (``COLLATE "C"``), as SQLite's do: a locale's collation
  would sort ISO times and ids in another order than the one the filters assume.
"""

from __future__ import annotations

from ctrader_admin.store.migrations import JOURNAL_COLUMNS

_REFUSE = """
CREATE FUNCTION ctrader_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: rows cannot be changed or removed', TG_TABLE_NAME
        USING ERRCODE = 'P0001';
END
$$
"""

_HEAD_FORWARD = """
CREATE FUNCTION ctrader_journal_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_id <= OLD.last_id OR NOT EXISTS (
        SELECT 1 FROM journal WHERE id = NEW.last_id AND hash = NEW.last_hash
    ) THEN
        RAISE EXCEPTION 'the journal head moves only forward, onto an entry that exists'
            USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$$
"""

_JOURNAL_GENERATED = ",\n    ".join(
    f"{name} TEXT COLLATE \"C\" GENERATED ALWAYS AS ((body::jsonb) ->> '{name}') STORED"
    for name in JOURNAL_COLUMNS
)


def _append_only(table: str) -> tuple[str, ...]:
    return (
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ctrader_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ctrader_refuse_change()",
    )


_V1: tuple[str, ...] = (
    _REFUSE,
    """
    CREATE TABLE journal_intents (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session TEXT NOT NULL,
        fields TEXT NOT NULL CHECK (fields::jsonb IS NOT NULL),
        written_by TEXT NOT NULL DEFAULT current_user,
        written_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    f"""
    CREATE TABLE journal (
        id BIGINT PRIMARY KEY,
        body TEXT NOT NULL,
        hash TEXT NOT NULL,
        intent_id BIGINT UNIQUE REFERENCES journal_intents (id),
        written_by TEXT NOT NULL DEFAULT current_user,
        {_JOURNAL_GENERATED}
    )
    """,
    *(
        f"CREATE INDEX journal_{name} ON journal ({name})"
        for name in ("at_utc", "operator", "profile_id", "action", "outcome", "batch_id")
    ),
    "CREATE INDEX journal_target ON journal (target)",
    "CREATE TABLE journal_head (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), "
    "last_id BIGINT NOT NULL, last_hash TEXT NOT NULL)",
    # The genesis hash (store/journal_engine.py GENESIS_HASH): 64 zeros.
    "INSERT INTO journal_head (last_id, last_hash) VALUES (0, repeat('0', 64))",
    _HEAD_FORWARD,
    "CREATE TRIGGER journal_head_forward BEFORE UPDATE ON journal_head "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_journal_head_forward()",
    *_append_only("journal"),
    *_append_only("journal_intents"),
    "CREATE TRIGGER journal_head_no_delete BEFORE DELETE ON journal_head "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_refuse_change()",
    # --- the team's write budget: one row per write reserved, per broker connection ---
    """
    CREATE TABLE budget_reservations (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        connection_key TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
        written_by TEXT NOT NULL DEFAULT current_user
    )
    """,
    "CREATE INDEX budget_reservations_window ON budget_reservations (connection_key, at)",
    # The server's lowered limit after a REQUEST_FREQUENCY_EXCEEDED, for the whole team.
    """
    CREATE TABLE budget_limits (
        connection_key TEXT PRIMARY KEY,
        accepted INTEGER NOT NULL CHECK (accepted >= 0),
        at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
        until DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM clock_timestamp()) + 3600,
        written_by TEXT NOT NULL DEFAULT current_user
    )
    """,
)

PG_MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1,)
