"""Team databases for the store tests (a unique module name: tests dirs have no __init__)."""

from __future__ import annotations

import uuid

from pg_cluster import PgServer

from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings


def team_settings(server: PgServer, database: str, user: str | None = None) -> TeamSettings:
    # Loopback test server with trust authentication: no TLS, no password.
    return TeamSettings(
        host=server.host, port=server.port, database=database, user=user or server.superuser,
        tls=False,
    )  # fmt: skip


def new_team_database(server: PgServer) -> TeamSettings:
    """A fresh database set up as `ctrader-admin team init` would; the superuser's settings."""
    settings = team_settings(server, server.create_database())
    with PgDatabase(settings, None) as admin:
        init_team(admin)
    return settings


def agent_settings(server: PgServer, settings: TeamSettings, name: str) -> TeamSettings:
    """An agent's login role (in the agents' group) and their settings."""
    with PgDatabase(settings, None) as admin:
        add_member(admin, name, None)
    return team_settings(server, settings.database, name)


def team_of_two(server: PgServer) -> tuple[TeamSettings, TeamSettings, TeamSettings]:
    """A fresh team database with two agents (unique names anna_…, bob_…): (the superuser's
    settings, anna's, bob's) — for the four-eyes tests."""
    import uuid

    admin = new_team_database(server)
    anna, bob = (
        agent_settings(server, admin, f"{name}_{uuid.uuid4().hex[:6]}") for name in ("anna", "bob")
    )
    return admin, anna, bob


def agent_store(server: PgServer) -> PgDatabase:
    """A team database set up by `team init`, opened as one agent (not its administrator)."""
    settings = new_team_database(server)
    return PgDatabase(agent_settings(server, settings, f"agent_{uuid.uuid4().hex[:8]}"), None)


def desk_team(server: PgServer) -> tuple[TeamSettings, TeamSettings]:
    """A fresh team database with one agent (desk1_…): the administrator's settings and the
    agent's — for the views' tests."""
    admin = new_team_database(server)
    return admin, agent_settings(server, admin, f"desk1_{uuid.uuid4().hex[:6]}")


def another_workstation_writes(admin: TeamSettings, target: str) -> None:
    """A second connection to the team database appends, as another workstation would."""
    from ctrader_admin.store.journal import Journal, JournalDraft

    with PgDatabase(admin, None) as db:
        journal = Journal(db)
        try:
            draft = JournalDraft(
                operator="30017", profile_id="sandbox", profile_name="Sandbox",
                environment="demo", broker_name="sandbox", action="set_partner",
                target=target, after="DESK-2", reason="from desk 2", workstation="desk-2",
            )  # fmt: skip
            journal.complete(journal.begin(draft), "ok")
        finally:
            journal.close()
