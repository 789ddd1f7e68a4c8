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

Size (~670 lines): almost all SQL text of released steps, which are frozen history; one file
keeps their order visible.
"""

from __future__ import annotations

from ctrader_admin.store.journal_search import TEXT_COLUMNS
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


# --- step 2: the team's policies (set by the administrators) and four-eyes approvals ---------
# Who submitted, decided or applied is the server's ``session_user`` (the login role), set by the
# triggers whatever the statement said; the trigger functions run as their owner (SECURITY
# DEFINER) so they can lock and read what an agent's own rights do not cover. Their search_path
# puts pg_temp last: agents may create temporary tables, and one named ``approvals`` must never
# stand in for the real one inside these functions.

_STAMP_PERSON = """
CREATE FUNCTION ctrader_stamp_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'approvals' THEN
        NEW.submitted_by := session_user;
        NEW.submitted_at := now();
        IF encode(sha256(convert_to(NEW.body, 'UTF8')), 'hex') <> NEW.body_hash THEN
            RAISE EXCEPTION 'the change submitted does not match its hash'
                USING ERRCODE = 'P0001';
        END IF;
    ELSIF TG_TABLE_NAME = 'team_policies' THEN
        NEW.written_by := session_user;
        NEW.written_at := now();
    END IF;
    RETURN NEW;
END
$$
"""

_LOCKED = """
CREATE FUNCTION ctrader_approval_locked(wanted BIGINT, seen_hash TEXT) RETURNS approvals
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    asked approvals%ROWTYPE;
BEGIN
    -- The approval's row locked (deciders and appliers queue on it), and still the body that
    -- was submitted and that the caller was shown.
    SELECT * INTO asked FROM approvals WHERE id = wanted FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'approval % does not exist', wanted USING ERRCODE = 'P0001';
    END IF;
    IF encode(sha256(convert_to(asked.body, 'UTF8')), 'hex') <> asked.body_hash
        OR seen_hash <> asked.body_hash THEN
        RAISE EXCEPTION 'approval %: the change is not the one that was submitted (its hash '
            'differs); submit it again', wanted USING ERRCODE = 'P0001';
    END IF;
    RETURN asked;
END
$$
"""

_DECIDE = """
CREATE FUNCTION ctrader_approval_decide() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    asked approvals%ROWTYPE;
    earlier approval_decisions%ROWTYPE;
BEGIN
    -- One decision at a time per approval: concurrent deciders queue on the approval's row.
    asked := ctrader_approval_locked(NEW.approval_id, NEW.body_hash);
    SELECT * INTO earlier FROM approval_decisions WHERE approval_id = NEW.approval_id;
    IF FOUND THEN
        RAISE EXCEPTION 'approval % was already % by %', NEW.approval_id, earlier.decision,
            earlier.decided_by USING ERRCODE = 'P0001';
    END IF;
    IF asked.submitted_by = session_user THEN
        RAISE EXCEPTION 'approval % was submitted by %: another person must decide it',
            NEW.approval_id, session_user USING ERRCODE = 'P0001';
    END IF;
    NEW.decided_by := session_user;
    NEW.decided_at := now();
    RETURN NEW;
END
$$
"""

_USE = """
CREATE FUNCTION ctrader_approval_use() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    asked approvals%ROWTYPE;
    decided approval_decisions%ROWTYPE;
    earlier approval_uses%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Only the journal entry the apply produced may be filled in, once, by who applied.
        IF OLD.journal_id IS NOT NULL OR NEW.approval_id <> OLD.approval_id
            OR NEW.used_by <> OLD.used_by OR NEW.used_at <> OLD.used_at
            OR OLD.used_by <> session_user THEN
            RAISE EXCEPTION 'approval %: its use is already recorded', OLD.approval_id
                USING ERRCODE = 'P0001';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM journal WHERE id = NEW.journal_id) THEN
            RAISE EXCEPTION 'approval %: journal entry % does not exist', OLD.approval_id,
                NEW.journal_id USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    asked := ctrader_approval_locked(NEW.approval_id, NEW.body_hash);
    SELECT * INTO decided FROM approval_decisions WHERE approval_id = NEW.approval_id;
    IF NOT FOUND OR decided.decision <> 'approved' THEN
        RAISE EXCEPTION 'approval % is not approved (%)', NEW.approval_id,
            coalesce(decided.decision, 'still pending') USING ERRCODE = 'P0001';
    END IF;
    SELECT * INTO earlier FROM approval_uses WHERE approval_id = NEW.approval_id;
    IF FOUND THEN
        RAISE EXCEPTION 'approval % was already applied by % at %', NEW.approval_id,
            earlier.used_by, earlier.used_at USING ERRCODE = 'P0001';
    END IF;
    NEW.used_by := session_user;
    NEW.used_at := now();
    NEW.journal_id := NULL;
    RETURN NEW;
END
$$
"""

_NOTIFY_APPROVALS = """
CREATE FUNCTION ctrader_notify_approvals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ctrader_approvals', '');
    RETURN NULL;
END
$$
"""

_V2: tuple[str, ...] = (
    _STAMP_PERSON,
    # One row per profile (the profile's id): what the team administrator decided for it. A
    # workstation's own settings can only make it stricter (services/approvals.py).
    """
    CREATE TABLE team_policies (
        profile_id TEXT PRIMARY KEY CHECK (profile_id <> ''),
        read_only BOOLEAN NOT NULL DEFAULT FALSE,
        budget_per_hour INTEGER CHECK (budget_per_hour >= 0),
        require_reason BOOLEAN NOT NULL DEFAULT TRUE,
        require_ticket BOOLEAN NOT NULL DEFAULT FALSE,
        approve_writes BOOLEAN NOT NULL DEFAULT FALSE,
        approve_plans BOOLEAN NOT NULL DEFAULT FALSE,
        approve_plans_over INTEGER CHECK (approve_plans_over >= 0),
        approve_wl_moves BOOLEAN NOT NULL DEFAULT FALSE,
        approve_live_only BOOLEAN NOT NULL DEFAULT FALSE,
        written_by TEXT NOT NULL DEFAULT session_user,
        written_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    "CREATE TRIGGER team_policies_stamp BEFORE INSERT OR UPDATE ON team_policies "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_stamp_person()",
    # A change waiting for a second person: its serialised body and that body's SHA-256.
    """
    CREATE TABLE approvals (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('write', 'plan')),
        profile_id TEXT NOT NULL,
        environment TEXT NOT NULL,
        summary TEXT NOT NULL,
        body TEXT NOT NULL CHECK (body::jsonb IS NOT NULL),
        body_hash TEXT NOT NULL CHECK (body_hash ~ '^[0-9a-f]{64}$'),
        reason TEXT NOT NULL DEFAULT '',
        ticket TEXT NOT NULL DEFAULT '',
        submitted_by TEXT NOT NULL DEFAULT session_user,
        submitted_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    "CREATE TRIGGER approvals_stamp BEFORE INSERT ON approvals "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_stamp_person()",
    *_append_only("approvals"),
    _LOCKED,
    """
    CREATE TABLE approval_decisions (
        approval_id BIGINT PRIMARY KEY REFERENCES approvals (id),
        decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
        comment TEXT NOT NULL DEFAULT '',
        body_hash TEXT NOT NULL,
        decided_by TEXT NOT NULL DEFAULT session_user,
        decided_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    _DECIDE,
    "CREATE TRIGGER approval_decisions_check BEFORE INSERT ON approval_decisions "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_approval_decide()",
    *_append_only("approval_decisions"),
    """
    CREATE TABLE approval_uses (
        approval_id BIGINT PRIMARY KEY REFERENCES approvals (id),
        body_hash TEXT NOT NULL,
        -- No foreign key: the journal's own TRUNCATE refusal must stay its trigger's (words).
        journal_id BIGINT,
        used_by TEXT NOT NULL DEFAULT session_user,
        used_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    _USE,
    "CREATE TRIGGER approval_uses_check BEFORE INSERT OR UPDATE ON approval_uses "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_approval_use()",
    "CREATE TRIGGER approval_uses_no_delete BEFORE DELETE ON approval_uses "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_refuse_change()",
    "CREATE TRIGGER approval_uses_no_truncate BEFORE TRUNCATE ON approval_uses "
    "FOR EACH STATEMENT EXECUTE FUNCTION ctrader_refuse_change()",
    _NOTIFY_APPROVALS,
    *(
        f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ctrader_notify_approvals()"
        for table in ("approvals", "approval_decisions", "approval_uses")
    ),
)


def search_text(alias: str = "") -> str:
    """The journal's text columns as one text, for text filters and their trigram index (the
    same expression in both, or the planner cannot use the index). The unit separator between
    columns keeps a search from matching across two of them."""
    return "(" + " || chr(31) || ".join(f"coalesce({alias}{c}, '')" for c in TEXT_COLUMNS) + ")"


# A text filter on a million entries: a trigram index (pg_trgm, in PostgreSQL's contrib, which
# Debian's server package includes) over the text columns, as SQLite has its FTS5 trigram index.
# ``team init`` creates the extension as the superuser or database owner first (store/pg/admin.py):
# IF NOT EXISTS then asks nothing more of the administrators' group, which owns the index.
_V3: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX journal_search ON journal USING gin ({search_text()} gin_trgm_ops)",
)

# Rows agents may change (directory, jobs, ledger) name the role that last wrote them: the
# column's default on INSERT, this trigger on UPDATE (agents hold no right on the column itself).
_WRITTEN_BY = """
CREATE FUNCTION ctrader_written_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.written_by := current_user;
    RETURN NEW;
END
$$
"""


def written_by(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_written_by BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ctrader_written_by()"
    )


# The directory (store/directory.py), as SQLite's: ids are BIGINT (SQLite's INTEGER is 64-bit);
# text keys compare byte by byte (COLLATE "C"), which the email prefix search and the
# "newer updated_at wins" merge assume.
_DIRECTORY: tuple[str, ...] = (
    _WRITTEN_BY,
    """
    CREATE TABLE directory_users (
        profile_id TEXT COLLATE "C" NOT NULL,
        user_id BIGINT NOT NULL,
        email TEXT,
        email_key TEXT COLLATE "C",
        broker_name TEXT,
        preferred_language TEXT,
        created_ms BIGINT,
        source TEXT NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        written_by TEXT NOT NULL DEFAULT current_user,
        PRIMARY KEY (profile_id, user_id)
    )
    """,
    "CREATE INDEX directory_users_email ON directory_users (profile_id, email_key)",
    """
    CREATE TABLE directory_accounts (
        profile_id TEXT COLLATE "C" NOT NULL,
        login BIGINT NOT NULL,
        environment TEXT COLLATE "C" NOT NULL,
        broker_name TEXT,
        user_id BIGINT,
        deposit_currency TEXT,
        group_name TEXT,
        registered_ms BIGINT,
        source TEXT NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        written_by TEXT NOT NULL DEFAULT current_user,
        PRIMARY KEY (profile_id, login, environment)
    )
    """,
    "CREATE INDEX directory_accounts_user ON directory_accounts (profile_id, user_id)",
    """
    CREATE TABLE directory_links (
        profile_id TEXT COLLATE "C" NOT NULL,
        ctid_trader_account_id BIGINT NOT NULL,
        user_id BIGINT NOT NULL,
        login BIGINT NOT NULL,
        environment TEXT COLLATE "C",
        broker_name TEXT,
        source TEXT NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        written_by TEXT NOT NULL DEFAULT current_user,
        PRIMARY KEY (profile_id, ctid_trader_account_id)
    )
    """,
    "CREATE INDEX directory_links_login ON directory_links (profile_id, login)",
    "CREATE INDEX directory_links_user ON directory_links (profile_id, user_id)",
    *(written_by(t) for t in ("directory_users", "directory_accounts", "directory_links")),
)

# Bulk jobs and their checkpoints (store/checkpoints.py). ``rowid``: SQLite's implicit insertion
# order, which the newest-first list breaks ties with; here an identity column of that name, so
# the query is the same on both engines. Who runs a job is an advisory lock (store/pg/jobs.py).
_JOBS: tuple[str, ...] = (
    """
    CREATE TABLE bulk_jobs (
        id TEXT COLLATE "C" PRIMARY KEY,
        profile_id TEXT COLLATE "C" NOT NULL,
        plan_hash TEXT COLLATE "C" NOT NULL,
        plan TEXT NOT NULL CHECK (plan::jsonb IS NOT NULL),
        operator TEXT NOT NULL,
        reason TEXT NOT NULL,
        ticket TEXT NOT NULL,
        state TEXT NOT NULL,
        runner TEXT,
        message TEXT,
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        finished_at TEXT COLLATE "C",
        rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
        written_by TEXT NOT NULL DEFAULT current_user
    )
    """,
    "CREATE INDEX bulk_jobs_profile ON bulk_jobs (profile_id, created_at)",
    "CREATE INDEX bulk_jobs_plan ON bulk_jobs (plan_hash)",
    """
    CREATE TABLE bulk_job_rows (
        job_id TEXT COLLATE "C" NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
        row INTEGER NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        journal_id BIGINT,
        attempts INTEGER NOT NULL DEFAULT 0,
        observed TEXT,
        updated_at TEXT COLLATE "C" NOT NULL,
        written_by TEXT NOT NULL DEFAULT current_user,
        PRIMARY KEY (job_id, row)
    )
    """,
    written_by("bulk_jobs"),
    written_by("bulk_job_rows"),
)

# The attribution ledger, its partner registry and kept conflict report (store/attribution.py,
# store/conflict_table.py): SQLite's steps 3 and 4 in one. The referral indexes end with the row
# id (SQLite's indexes end with the rowid by themselves) and keep undated rows first, so that a
# backward scan gives "attributed_at DESC NULLS LAST, id DESC", the referrals' order.
_LEDGER: tuple[str, ...] = (
    """
    CREATE TABLE attribution (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        profile_id TEXT COLLATE "C" NOT NULL,
        source TEXT COLLATE "C" NOT NULL CHECK (source IN ('invite', 'ib_label', 'crm')),
        source_key TEXT COLLATE "C" NOT NULL,
        client_user_id BIGINT,
        client_login BIGINT,
        partner_code TEXT COLLATE "C",
        partner_user_id BIGINT,
        attributed_at TEXT COLLATE "C",
        read_at TEXT COLLATE "C" NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        written_by TEXT NOT NULL DEFAULT current_user,
        UNIQUE (profile_id, source, source_key)
    )
    """,
    "CREATE INDEX attribution_client ON attribution (profile_id, client_user_id)",
    "CREATE INDEX attribution_code "
    "ON attribution (profile_id, partner_code, attributed_at NULLS FIRST, id)",
    "CREATE INDEX attribution_partner "
    "ON attribution (profile_id, partner_user_id, attributed_at NULLS FIRST, id)",
    "CREATE INDEX attribution_partner_source ON attribution (profile_id, partner_user_id, source)",
    "CREATE INDEX attribution_code_source "
    "ON attribution (profile_id, partner_code, source, partner_user_id)",
    """
    CREATE TABLE attribution_cursor (
        profile_id TEXT COLLATE "C" NOT NULL,
        source TEXT COLLATE "C" NOT NULL,
        position TEXT NOT NULL,
        PRIMARY KEY (profile_id, source)
    )
    """,
    """
    CREATE TABLE partner_registry (
        profile_id TEXT COLLATE "C" NOT NULL,
        source TEXT COLLATE "C" NOT NULL CHECK (source IN ('ctrader', 'crm')),
        partner_user_id BIGINT NOT NULL,
        level TEXT COLLATE "C" NOT NULL CHECK (level IN ('user', 'account')),
        ctid_trader_account_id BIGINT NOT NULL,
        code TEXT COLLATE "C" NOT NULL,
        read_at TEXT COLLATE "C" NOT NULL,
        written_by TEXT NOT NULL DEFAULT current_user,
        PRIMARY KEY (profile_id, source, partner_user_id, level, ctid_trader_account_id)
    )
    """,
    "CREATE INDEX partner_registry_code ON partner_registry (profile_id, code)",
    """
    CREATE TABLE attribution_conflict (
        profile_id TEXT COLLATE "C" NOT NULL,
        scope INTEGER NOT NULL,
        subject BIGINT NOT NULL,
        ordinal INTEGER NOT NULL,
        period_from TEXT COLLATE "C",
        kind TEXT COLLATE "C" NOT NULL,
        detail TEXT NOT NULL,
        client_user_id BIGINT,
        partner_user_id BIGINT,
        code TEXT COLLATE "C",
        PRIMARY KEY (profile_id, scope, subject, ordinal)
    )
    """,
    "CREATE INDEX attribution_conflict_kind "
    "ON attribution_conflict (profile_id, kind, scope, subject, ordinal)",
    """
    CREATE TABLE attribution_conflict_built (
        profile_id TEXT COLLATE "C" PRIMARY KEY,
        built_at TEXT NOT NULL
    )
    """,
    written_by("attribution"),
    written_by("partner_registry"),
)

# Agents may create temporary tables, which the default search path reads first: the head's
# check must read the team's journal, whatever table named journal an agent made (as the
# approvals' functions do since step 2).
_HEAD_CHECK_PATH: tuple[str, ...] = (
    "ALTER FUNCTION ctrader_journal_head_forward() SET search_path = public, pg_temp",
)

# Live updates of the Jobs view: every change to a job's record tells the team, with the job's id.
# A job's saved progress moves its record too (``save_rows`` sets ``updated_at`` in the same
# transaction), so one notice per save and per state change: a few a second per running job at
# most (the runner saves its checkpoints every 0.25 s), however many rows each save holds.
_JOBS_LIVE: tuple[str, ...] = (
    """
    CREATE FUNCTION ctrader_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('ctrader_jobs', NEW.id);
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER bulk_jobs_notify AFTER INSERT OR UPDATE ON bulk_jobs "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_notify_jobs()",
)

# The team's write budget, kept honest by the database: an agent's raw SQL cannot lift or raise a
# lowered limit early, nor free slots others took. The limit moves only through the function
# (SECURITY DEFINER; agents hold no INSERT/UPDATE right on budget_limits, store/pg/admin.py):
# while one is in force it only goes down, every refusal restarts its hour on the server's
# clock, and a higher count starts a new limit only once the old one has lapsed. A reservation is
# given back (deleted) only by the role that took it (or an administrator).
_BUDGET_RULES: tuple[str, ...] = (
    """
    CREATE FUNCTION ctrader_lower_budget_limit(limit_key TEXT, accepted_now INTEGER)
    RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
        now_s DOUBLE PRECISION := extract(epoch FROM clock_timestamp());
    BEGIN
        IF accepted_now IS NULL OR accepted_now < 0 THEN
            RAISE EXCEPTION 'a lowered write budget accepts 0 writes or more, not %',
                accepted_now USING ERRCODE = 'P0001';
        END IF;
        INSERT INTO budget_limits AS kept (connection_key, accepted, at, until, written_by)
        VALUES (limit_key, accepted_now, now_s, now_s + 3600, session_user)
        ON CONFLICT (connection_key) DO UPDATE SET
            accepted = CASE WHEN kept.until > now_s
                THEN least(kept.accepted, excluded.accepted) ELSE excluded.accepted END,
            at = now_s,
            until = now_s + 3600,
            written_by = session_user;
    END
    $$
    """,
    "REVOKE ALL ON FUNCTION ctrader_lower_budget_limit(TEXT, INTEGER) FROM PUBLIC",
    """
    CREATE FUNCTION ctrader_reservation_given_back() RETURNS trigger LANGUAGE plpgsql
    SET search_path = public, pg_temp AS $$
    BEGIN
        IF OLD.written_by <> session_user THEN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ctrader_admin_admins'
                           AND pg_has_role(session_user, oid, 'MEMBER')) THEN
                RAISE EXCEPTION 'write budget slot % was taken by %: only they may give it back',
                    OLD.id, OLD.written_by USING ERRCODE = 'P0001';
            END IF;
        END IF;
        RETURN OLD;
    END
    $$
    """,
    "CREATE TRIGGER budget_reservations_given_back BEFORE DELETE ON budget_reservations "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_reservation_given_back()",
)

# --- step 10: a workstation's own history imported into the team chain (issue 13) -----------
# An imported entry's hashed body carries ``origin`` (store/journal_origin.py). Only the
# administrators' group may append one (agents may append entries, not vouch for history: an
# imported entry names other operators and times the server never saw), and who imported it must
# be the role that is logged in. The same original entry is imported once: unique by its
# original hash, and by workstation + file + original id.
_ORIGIN = "((body::jsonb) -> 'origin')"

_IMPORT_CHECK = """
CREATE FUNCTION ctrader_journal_import_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    origin JSONB := (NEW.body::jsonb) -> 'origin';
BEGIN
    IF origin IS NULL THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ctrader_admin_admins'
                   AND pg_has_role(session_user, oid, 'MEMBER')) THEN
        RAISE EXCEPTION 'only a team administrator may import a workstation''s history'
            USING ERRCODE = 'P0001';
    END IF;
    IF origin ->> 'imported_by' IS DISTINCT FROM session_user THEN
        RAISE EXCEPTION 'an imported entry must name who imports it (%)', session_user
            USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$$
"""

_IMPORTS: tuple[str, ...] = (
    _IMPORT_CHECK,
    "CREATE TRIGGER journal_import_check BEFORE INSERT ON journal "
    "FOR EACH ROW EXECUTE FUNCTION ctrader_journal_import_check()",
    f"CREATE UNIQUE INDEX journal_origin_hash ON journal (({_ORIGIN} ->> 'hash')) "
    f"WHERE {_ORIGIN} IS NOT NULL",
    f"CREATE UNIQUE INDEX journal_origin_entry ON journal (({_ORIGIN} ->> 'workstation'), "
    f"({_ORIGIN} ->> 'source'), (({_ORIGIN} ->> 'id')::bigint)) WHERE {_ORIGIN} IS NOT NULL",
)

PG_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _V1,
    _V2,
    _V3,
    _DIRECTORY,
    _JOBS,
    _LEDGER,
    _HEAD_CHECK_PATH,
    _JOBS_LIVE,
    _BUDGET_RULES,
    _IMPORTS,
)
