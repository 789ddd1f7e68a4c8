"""The team database seen from a workstation: connect (the password from the keyring, or given
once and kept there), and what state the team's journal and budget are in. Shared by the CLI
(``ctrader-admin team …``) and, later, the team settings dialog."""

from __future__ import annotations

from dataclasses import dataclass

from ctrader_admin.store.journal import Journal
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.tokens import TokenStore


@dataclass(frozen=True, slots=True)
class TeamStatus:
    server: str  # user@host:port/database
    schema_version: int
    entries: int
    pending: int  # writes begun and not answered yet, team-wide
    sessions: int  # journal sessions connected now (workstations and jobs)
    chain_ok: bool
    chain_message: str
    reserved_last_hour: dict[str, int]  # write-budget slots per broker connection


def open_team(
    settings: TeamSettings, tokens: TokenStore, password: str | None = None
) -> PgDatabase:
    """The team database, schema checked. ``password``: given now (then kept in the keyring once
    the server accepted it); None: the one in the keyring."""
    if password is None:
        return PgDatabase.open(settings, tokens)
    database = PgDatabase(settings, password)
    try:
        database.check_schema()
    except BaseException:
        database.close()
        raise
    tokens.set_team_password(settings.keyring_key, password)
    return database


def team_status(database: PgDatabase) -> TeamStatus:
    journal = Journal(database)
    try:
        report = journal.verify()
        entries, pending = journal.count(), journal.pending_count()
    finally:
        journal.close()
    with database.read() as conn:
        # Journal sessions are the one-bigint advisory locks (objsubid 1) of this database.
        sessions = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 "
            "AND granted AND database = (SELECT oid FROM pg_database "
            "WHERE datname = current_database())"
        ).fetchone()[0]
        reserved = conn.execute(
            "SELECT connection_key, count(*) FROM budget_reservations "
            "WHERE at > extract(epoch FROM clock_timestamp()) - 3600 "
            "GROUP BY connection_key ORDER BY connection_key"
        ).fetchall()
    return TeamStatus(
        server=database.path,
        schema_version=database.schema_version,
        entries=entries,
        pending=pending,
        # This status's own journal session has ended; the count is the others'.
        sessions=int(sessions),
        chain_ok=report.ok,
        chain_message=report.message,
        reserved_last_hour={str(key): int(n) for key, n in reserved},
    )
