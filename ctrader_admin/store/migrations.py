"""The database schema as forward-only steps. Never edit a released step: append a new one.

Step N (1-based) brings a database from version N-1 to N. The journal's full-text index is not
here: it is derived data that journal_search.py creates or drops depending on the SQLite build.
"""

from __future__ import annotations

_APPEND_ONLY = "SELECT RAISE(ABORT, 'the journal is append-only')"

# Journal fields read out of the hashed JSON body, so what is filtered and shown is exactly what
# the hash covers (a raw UPDATE of one of these columns is impossible: they are generated).
JOURNAL_COLUMNS: tuple[str, ...] = (
    "at_utc",
    "operator",
    "profile_id",
    "environment",
    "broker_name",
    "action",
    "target",
    "before",
    "after",
    "reason",
    "ticket",
    "outcome",
    "error",
    "batch_id",
)

_JOURNAL_GENERATED = ",\n    ".join(
    f"{name} TEXT GENERATED ALWAYS AS (json_extract(body, '$.{name}')) VIRTUAL"
    for name in JOURNAL_COLUMNS
)

_V1: tuple[str, ...] = (
    # --- local directory: what the app learned about users, accounts and links ---
    """
    CREATE TABLE directory_users (
        profile_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        email TEXT,
        email_key TEXT,
        broker_name TEXT,
        preferred_language TEXT,
        created_ms INTEGER,
        source TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (profile_id, user_id)
    )
    """,
    "CREATE INDEX directory_users_email ON directory_users (profile_id, email_key)",
    """
    CREATE TABLE directory_accounts (
        profile_id TEXT NOT NULL,
        login INTEGER NOT NULL,
        environment TEXT NOT NULL,
        broker_name TEXT,
        user_id INTEGER,
        deposit_currency TEXT,
        group_name TEXT,
        registered_ms INTEGER,
        source TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (profile_id, login, environment)
    )
    """,
    "CREATE INDEX directory_accounts_user ON directory_accounts (profile_id, user_id)",
    """
    CREATE TABLE directory_links (
        profile_id TEXT NOT NULL,
        ctid_trader_account_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        login INTEGER NOT NULL,
        environment TEXT,
        broker_name TEXT,
        source TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (profile_id, ctid_trader_account_id)
    )
    """,
    "CREATE INDEX directory_links_login ON directory_links (profile_id, login)",
    "CREATE INDEX directory_links_user ON directory_links (profile_id, user_id)",
    # --- journal: hash-chained, append-only ---
    f"""
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL CHECK (json_valid(body)),
        hash TEXT NOT NULL,
        {_JOURNAL_GENERATED}
    )
    """,
    *(
        f"CREATE INDEX journal_{name} ON journal ({name})"
        for name in ("at_utc", "operator", "profile_id", "action", "outcome", "batch_id")
    ),
    f"CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal BEGIN {_APPEND_ONLY}; END",
    f"CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal BEGIN {_APPEND_ONLY}; END",
    # Attempts sent but not yet answered; not chained, emptied by complete() and recover().
    """
    CREATE TABLE journal_intents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session TEXT NOT NULL,
        fields TEXT NOT NULL CHECK (json_valid(fields))
    )
    """,
)

# Bulk jobs (services/bulk): one row per job, one per plan row and its checkpointed state. The
# plan is kept whole in the job, so a resume needs no file and cannot see an edited one.
_V2: tuple[str, ...] = (
    """
    CREATE TABLE bulk_jobs (
        id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL,
        plan_hash TEXT NOT NULL,
        plan TEXT NOT NULL CHECK (json_valid(plan)),
        operator TEXT NOT NULL,
        reason TEXT NOT NULL,
        ticket TEXT NOT NULL,
        state TEXT NOT NULL,
        runner TEXT,
        message TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    )
    """,
    "CREATE INDEX bulk_jobs_profile ON bulk_jobs (profile_id, created_at)",
    "CREATE INDEX bulk_jobs_plan ON bulk_jobs (plan_hash)",
    """
    CREATE TABLE bulk_job_rows (
        job_id TEXT NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
        row INTEGER NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        journal_id INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        observed TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (job_id, row)
    ) WITHOUT ROWID
    """,
)

# The attribution ledger and the partner registry (store/attribution.py).
_V3: tuple[str, ...] = (
    """
    CREATE TABLE attribution (
        id INTEGER PRIMARY KEY,
        profile_id TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('invite', 'ib_label', 'crm')),
        source_key TEXT NOT NULL,
        client_user_id INTEGER,
        client_login INTEGER,
        partner_code TEXT,
        partner_user_id INTEGER,
        attributed_at TEXT,
        read_at TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        UNIQUE (profile_id, source, source_key)
    )
    """,
    "CREATE INDEX attribution_client ON attribution (profile_id, client_user_id)",
    "CREATE INDEX attribution_code ON attribution (profile_id, partner_code, attributed_at)",
    "CREATE INDEX attribution_partner ON attribution (profile_id, partner_user_id, attributed_at)",
    """
    CREATE TABLE attribution_cursor (
        profile_id TEXT NOT NULL,
        source TEXT NOT NULL,
        position TEXT NOT NULL,
        PRIMARY KEY (profile_id, source)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE partner_registry (
        profile_id TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('ctrader', 'crm')),
        partner_user_id INTEGER NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('user', 'account')),
        ctid_trader_account_id INTEGER NOT NULL,
        code TEXT NOT NULL,
        read_at TEXT NOT NULL,
        PRIMARY KEY (profile_id, source, partner_user_id, level, ctid_trader_account_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX partner_registry_code ON partner_registry (profile_id, code)",
)

# The conflict report kept up to date by the ledger (store/conflict_table.py), and indexes for a
# partner's referrals: newest first per partner user or code (the rowid ends every index, so
# "attributed_at DESC, id DESC" pages along it), and counts per source read from the index.
# attribution_conflict_built says the kept report of a profile is complete: a database from
# before this step has none, and the ledger builds it once, at its first use.
_V4: tuple[str, ...] = (
    """
    CREATE TABLE attribution_conflict (
        profile_id TEXT NOT NULL,
        scope INTEGER NOT NULL,
        subject INTEGER NOT NULL,
        ordinal INTEGER NOT NULL,
        period_from TEXT,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        client_user_id INTEGER,
        partner_user_id INTEGER,
        code TEXT,
        PRIMARY KEY (profile_id, scope, subject, ordinal)
    )
    """,
    "CREATE INDEX attribution_conflict_kind "
    "ON attribution_conflict (profile_id, kind, scope, subject, ordinal)",
    """
    CREATE TABLE attribution_conflict_built (
        profile_id TEXT PRIMARY KEY,
        built_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX attribution_partner_source ON attribution (profile_id, partner_user_id, source)",
    "CREATE INDEX attribution_code_source "
    "ON attribution (profile_id, partner_code, source, partner_user_id)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4)
