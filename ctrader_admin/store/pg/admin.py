"""Setting up a team database: the schema, the roles, the rights (docs/team-mode.md).

Run once by a PostgreSQL superuser (or the database owner with CREATEROLE), through
``ctrader-admin team init`` or these functions. The rights are the database's, not the app's:

- ``ctrader_admin_admins`` (a group, no log-in) owns every table: the team administrators.
- ``ctrader_admin_agents`` (a group, no log-in): each agent is their own login role in it. Agents
  may read, and may only INSERT into the journal and its intents (no UPDATE, DELETE or TRUNCATE
  right, and a trigger refuses those for everyone, administrators included); they move the
  journal's head (its trigger lets it only move forward onto an entry that exists) and reserve
  and give back write-budget slots. They read the profiles' policies (only administrators set
  them), submit changes for approval and decide other people's (the triggers refuse the rest).
  They add and merge directory facts (INSERT, UPDATE; no DELETE), create bulk jobs and move
  their state and checkpoints (never their plan, reason or ticket, nor delete them). They keep
  the attribution ledger, a copy of what its sources say (a re-read replaces a source's rows).
  ``written_by`` is never theirs to set: its default and a trigger fill it in.
"""

from __future__ import annotations

import re

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.sql import Connection

ADMINS_ROLE = "ctrader_admin_admins"
AGENTS_ROLE = "ctrader_admin_agents"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# The columns agents write in the directory: all but ``written_by`` (the server's).
_DIRECTORY_USER = (
    "profile_id, user_id, email, email_key, broker_name, preferred_language, created_ms, "
    "source, updated_at"
)
_DIRECTORY_ACCOUNT = (
    "profile_id, login, environment, broker_name, user_id, deposit_currency, group_name, "
    "registered_ms, source, updated_at"
)
_DIRECTORY_LINK = (
    "profile_id, ctid_trader_account_id, user_id, login, environment, broker_name, source, "
    "updated_at"
)

# The ledger's columns agents write: all but ``id`` (the server's sequence) and ``written_by``.
_LEDGER_ROW = (
    "profile_id, source, source_key, client_user_id, client_login, partner_code, "
    "partner_user_id, attributed_at, read_at, detail"
)
_REGISTRY_ROW = "profile_id, source, partner_user_id, level, ctid_trader_account_id, code, read_at"

# What an agent may do, table by table (the owner, the administrators' group, may do the rest).
AGENT_GRANTS: tuple[str, ...] = (
    f"GRANT SELECT ON schema_version TO {AGENTS_ROLE}",
    # Column lists: ``written_by`` and a reservation's ``at`` are the server's (their defaults).
    f"GRANT SELECT, INSERT (id, body, hash, intent_id) ON journal TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT (session, fields) ON journal_intents TO {AGENTS_ROLE}",
    f"GRANT SELECT, UPDATE (last_id, last_hash) ON journal_head TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT (connection_key), DELETE ON budget_reservations TO {AGENTS_ROLE}",
    # A lowered limit moves only through the function that keeps its rules (schema step 9);
    # the revoke takes back the column rights that earlier versions granted.
    f"REVOKE INSERT, UPDATE, DELETE ON budget_limits FROM {AGENTS_ROLE}",
    f"GRANT SELECT ON budget_limits TO {AGENTS_ROLE}",
    f"GRANT EXECUTE ON FUNCTION ctrader_lower_budget_limit(TEXT, INTEGER) TO {AGENTS_ROLE}",
    # Policies are the administrators' alone; approvals: who and when are the server's.
    f"GRANT SELECT ON team_policies TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT (kind, profile_id, environment, summary, body, body_hash, reason, "
    f"ticket) ON approvals TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT (approval_id, decision, comment, body_hash) "
    f"ON approval_decisions TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT (approval_id, body_hash), UPDATE (journal_id) "
    f"ON approval_uses TO {AGENTS_ROLE}",
    # The directory is what the team learned: agents add and merge facts, never remove them.
    *(
        f"GRANT SELECT, INSERT ({columns}), UPDATE ({columns}) ON {table} TO {AGENTS_ROLE}"
        for table, columns in (
            ("directory_users", _DIRECTORY_USER),
            ("directory_accounts", _DIRECTORY_ACCOUNT),
            ("directory_links", _DIRECTORY_LINK),
        )
    ),
    # Bulk jobs: a job's plan, its hash, reason and ticket are fixed once it is created (no
    # UPDATE right on them); its state, runner and rows' checkpoints move; nothing is deleted.
    f"GRANT SELECT, INSERT (id, profile_id, plan_hash, plan, operator, reason, ticket, state, "
    f"runner, message, created_at, updated_at, finished_at), "
    f"UPDATE (state, runner, message, updated_at, finished_at) ON bulk_jobs TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT (job_id, row, state, error, journal_id, attempts, observed, "
    f"updated_at), UPDATE (state, error, journal_id, attempts, observed, updated_at) "
    f"ON bulk_job_rows TO {AGENTS_ROLE}",
    # The ledger is a copy of what the sources say: a re-read replaces a source's rows, so
    # agents may delete there (the journal, not the ledger, is the record of what was done).
    f"GRANT SELECT, INSERT ({_LEDGER_ROW}), UPDATE ({_LEDGER_ROW}), DELETE "
    f"ON attribution TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT ({_REGISTRY_ROW}), UPDATE ({_REGISTRY_ROW}), DELETE "
    f"ON partner_registry TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE ON attribution_cursor, attribution_conflict_built "
    f"TO {AGENTS_ROLE}",
    f"GRANT SELECT, INSERT, DELETE ON attribution_conflict TO {AGENTS_ROLE}",
)


class TeamSetupError(ExpectedError):
    """A team set-up step that cannot be done (bad role name)."""


def check_role_name(name: str) -> str:
    """An agent's or administrator's database user name: lower-case letters, digits, ``_``."""
    if not _ROLE_NAME.fullmatch(name):
        raise TeamSetupError(
            f"{name!r} cannot be a team user name: use 1–63 lower-case letters, digits and _, "
            "starting with a letter or _."
        )
    return name


def _ensure_group(conn: Connection, role: str) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)).fetchone()
    if exists is None:
        conn.execute(f"CREATE ROLE {role} NOLOGIN")


def init_team(database: PgDatabase) -> int:
    """Create the groups, bring the schema up to date (owned by the administrators' group) and
    grant the agents their rights. Safe to run again (after an upgrade: new steps, same rights).
    Returns the schema version."""
    name = '"' + database.settings.database.replace('"', '""') + '"'  # a quoted identifier
    with database.transaction() as conn:
        _ensure_group(conn, ADMINS_ROLE)
        _ensure_group(conn, AGENTS_ROLE)
        conn.execute(f"REVOKE ALL ON DATABASE {name} FROM PUBLIC")
        conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {ADMINS_ROLE}, {AGENTS_ROLE}")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {ADMINS_ROLE}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {AGENTS_ROLE}")
        # The text filter's trigram index needs it; creating it is the caller's right, not the
        # administrators' group's (a trusted extension: the database owner may).
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # Objects made from here on belong to the administrators' group, not to whoever ran it.
        conn.execute(f"SET LOCAL ROLE {ADMINS_ROLE}")
        version = database.migrate()  # joins this transaction
        conn.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC")
        for grant in AGENT_GRANTS:
            conn.execute(grant)
        conn.execute("RESET ROLE")
    return version


def add_member(
    database: PgDatabase, name: str, password: str | None, *, administrator: bool = False
) -> None:
    """A login role for one agent (or administrator). The password is turned into a SCRAM
    verifier here, so the clear password never reaches the server, its logs or a statement."""
    check_role_name(name)
    group = ADMINS_ROLE if administrator else AGENTS_ROLE
    with database.transaction() as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (name,)).fetchone()
        if exists is None:
            conn.execute(f"CREATE ROLE {name} LOGIN")
        conn.execute(f"GRANT {group} TO {name}")
        if administrator:
            conn.execute(f"GRANT {AGENTS_ROLE} TO {name}")
        if password:
            verifier = conn.raw.pgconn.encrypt_password(
                password.encode(), name.encode(), b"scram-sha-256"
            ).decode()
            # A verifier is no secret (the server stores exactly this); quoted as a literal.
            conn.execute(f"ALTER ROLE {name} PASSWORD '{verifier}'")
