"""Rights enforced by the team database itself, asserted through SQL as the roles the app uses:
an agent cannot change or remove journal entries or intents (no privilege, and a trigger refuses
even those who have one), cannot move the chain's head back, nor change the schema."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from pg_cluster import PgServer
from store_fakes import journal_attempts, make_draft
from team_db import agent_settings, new_team_database, team_settings

from ctrader_admin.store.directory import SOURCE_CREATED, SOURCE_READ, Directory
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.pg.admin import AGENTS_ROLE, TeamSetupError, add_member, init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.migrations import PG_MIGRATIONS
from ctrader_admin.store.pg.settings import TeamSettings

CHANGES = (
    "UPDATE journal SET hash = 'x' WHERE id = 2",
    "DELETE FROM journal WHERE id = 2",
    "TRUNCATE journal",
    "UPDATE journal_intents SET session = 'someone-else'",
    "DELETE FROM journal_intents",
    "TRUNCATE journal_intents CASCADE",
)


@pytest.fixture
def team(pg_server: PgServer) -> tuple[TeamSettings, TeamSettings]:
    """A team database with 3 entries and one pending intent; (administrator, agent)."""
    admin = new_team_database(pg_server)
    agent = agent_settings(pg_server, admin, f"agent_{uuid.uuid4().hex[:8]}")
    with PgDatabase(agent, None) as db:
        journal = Journal(db)
        journal.append_many(journal_attempts(3))
        journal.begin(make_draft())
        journal.close()
    return admin, agent


def _sql(settings: TeamSettings, statement: str) -> None:
    """One statement on a raw connection as that role (not through the app)."""
    with psycopg.connect(**settings.connect_kwargs(), autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


SCHEMA_CHANGES = (
    "DROP TABLE journal",
    "ALTER TABLE journal DISABLE TRIGGER journal_no_change",
    "CREATE TABLE mine (x int)",
    "DROP TRIGGER journal_no_change ON journal",
)


@pytest.mark.parametrize("statement", CHANGES + SCHEMA_CHANGES)
def test_an_agent_has_no_right_to_change_the_journal_nor_the_schema(
    team: tuple[TeamSettings, TeamSettings], statement: str
) -> None:
    _, agent = team
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(agent, statement)


@pytest.mark.parametrize("statement", CHANGES)
def test_the_trigger_refuses_even_a_role_with_the_right(
    team: tuple[TeamSettings, TeamSettings], statement: str
) -> None:
    admin, agent = team
    # Were the rights ever granted by mistake, the table still refuses; so it does for the
    # owner and the superuser.
    _sql(admin, f"GRANT UPDATE, DELETE, TRUNCATE ON journal, journal_intents TO {agent.user}")
    for who in (agent, admin):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            _sql(who, statement)
    with PgDatabase(admin, None) as db:
        journal = Journal(db)
        assert journal.verify().checked == 3
        assert journal.pending_count() == 1
        journal.close()


def test_who_wrote_a_row_is_the_servers_word_not_the_workstations(
    team: tuple[TeamSettings, TeamSettings],
) -> None:
    admin, agent = team
    with PgDatabase(admin, None) as db, db.read() as conn:
        writers = conn.execute("SELECT DISTINCT written_by FROM journal").fetchall()
        intents = conn.execute("SELECT DISTINCT written_by FROM journal_intents").fetchall()
    assert writers == intents == [(agent.user,)]
    for statement in (
        "INSERT INTO journal_intents (session, fields, written_by) VALUES ('s', '{}', 'boss')",
        "INSERT INTO budget_reservations (connection_key, at) VALUES ('k', 0)",  # an old slot
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(agent, statement)


def test_the_chain_head_only_moves_forward_onto_a_real_entry(
    team: tuple[TeamSettings, TeamSettings],
) -> None:
    _, agent = team
    for statement in (
        "UPDATE journal_head SET last_id = 1",  # back: would fork the chain
        "UPDATE journal_head SET last_id = 9",  # past the end: no such entry
        "UPDATE journal_head SET last_id = 4, last_hash = 'x'",
        "DELETE FROM journal_head",
    ):
        with pytest.raises((psycopg.errors.RaiseException, psycopg.errors.InsufficientPrivilege)):
            _sql(agent, statement)


def test_a_temporary_table_cannot_stand_in_for_the_journal_in_the_head_check(
    team: tuple[TeamSettings, TeamSettings],
) -> None:
    # Agents may create temporary tables, which come first on the default search path: the
    # head's check must still read the team's journal, not a made-up entry.
    _, agent = team
    with psycopg.connect(**agent.connect_kwargs(), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE journal (id BIGINT, hash TEXT)")
        conn.execute("INSERT INTO journal VALUES (99, 'made-up')")
        with pytest.raises(psycopg.errors.RaiseException, match="moves only forward"):
            conn.execute("UPDATE journal_head SET last_id = 99, last_hash = 'made-up'")


def test_generated_columns_cannot_be_edited_apart_from_the_hashed_body(
    team: tuple[TeamSettings, TeamSettings],
) -> None:
    admin, _ = team
    with pytest.raises(psycopg.errors.GeneratedAlways):
        _sql(admin, "UPDATE journal SET after = 'IB-666' WHERE id = 2")


def test_an_agent_cannot_take_another_agents_role(
    pg_server: PgServer, team: tuple[TeamSettings, TeamSettings]
) -> None:
    admin, agent = team
    other = agent_settings(pg_server, admin, f"agent_{uuid.uuid4().hex[:8]}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(agent, f"SET ROLE {other.user}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(agent, f"GRANT {AGENTS_ROLE} TO {other.user}")


def test_init_is_safe_to_run_again_and_names_are_checked(
    pg_server: PgServer, team: tuple[TeamSettings, TeamSettings]
) -> None:
    admin, agent = team
    with PgDatabase(admin, None) as db:
        assert init_team(db) == len(PG_MIGRATIONS)
        with pytest.raises(TeamSetupError, match="cannot be a team user name"):
            add_member(db, "Robert'); DROP TABLE journal;--", None)
    with PgDatabase(agent, None) as db:  # the agent's rights survived
        journal = Journal(db)
        assert journal.complete(journal.begin(make_draft()), "ok").id == 4
        journal.close()
    # a stranger (a role of the cluster outside the team's groups) cannot even connect
    stranger = f"stranger_{uuid.uuid4().hex[:8]}"
    _sql(team_settings(pg_server, "postgres"), f"CREATE ROLE {stranger} LOGIN")
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        _sql(team_settings(pg_server, admin.database, stranger), "SELECT 1")


def test_agents_merge_directory_facts_but_cannot_remove_them_nor_forge_the_writer(
    pg_server: PgServer, team: tuple[TeamSettings, TeamSettings]
) -> None:
    admin, anna = team
    bob = agent_settings(pg_server, admin, f"agent_{uuid.uuid4().hex[:8]}")
    with PgDatabase(anna, None) as db:
        Directory(db).upsert_user("p", 7, source=SOURCE_CREATED, email="a@x.io")
    with PgDatabase(bob, None) as db:  # bob learns more about anna's user: one row, merged
        merged = Directory(db).upsert_user("p", 7, source=SOURCE_READ, broker_name="acme")
    assert (merged.email, merged.broker_name) == ("a@x.io", "acme")
    for statement in (
        "DELETE FROM directory_users",
        "TRUNCATE directory_links",
        "UPDATE directory_users SET written_by = 'someone_else'",
        "INSERT INTO directory_accounts (profile_id, login, environment, source, updated_at, "
        "written_by) VALUES ('p', 1, 'live', 'x', 'x', 'someone_else')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(bob, statement)
    with psycopg.connect(**admin.connect_kwargs()) as conn:
        row = conn.execute("SELECT written_by FROM directory_users WHERE user_id = 7").fetchone()
    assert row == (bob.user,)  # the last writer, named by the server


def _rows(settings: TeamSettings, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(**settings.connect_kwargs(), autocommit=True) as conn:
        return conn.execute(statement).fetchall()  # type: ignore[arg-type]


LOWER = "SELECT ctrader_lower_budget_limit('k', {})"
LIMIT = (
    "SELECT accepted, round(until - at), written_by FROM budget_limits WHERE connection_key = 'k'"
)


def test_a_lowered_budget_limit_moves_only_through_the_databases_rules(
    pg_server: PgServer,
) -> None:
    admin = new_team_database(pg_server)
    anna, bob = (
        agent_settings(pg_server, admin, f"{n}_{uuid.uuid4().hex[:6]}") for n in ("anna", "bob")
    )
    _sql(anna, LOWER.format(5))  # the server refused a write after 5 accepted
    assert _rows(bob, LIMIT) == [(5, 3600, anna.user)]
    # Raw SQL cannot lift it early, raise it, forge it or remove it.
    for statement in (
        "UPDATE budget_limits SET until = 0",
        "UPDATE budget_limits SET accepted = 1000",
        "INSERT INTO budget_limits (connection_key, accepted) VALUES ('other', 1000)",
        "DELETE FROM budget_limits",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(bob, statement)
    _sql(bob, LOWER.format(50))  # a higher count while it is in force: still 5, a new hour
    assert _rows(anna, LIMIT) == [(5, 3600, bob.user)]
    _sql(bob, LOWER.format(3))
    assert _rows(anna, LIMIT)[0][0] == 3
    with pytest.raises(psycopg.errors.RaiseException, match="0 writes or more, not -1"):
        _sql(anna, LOWER.format(-1))
    # Once it has lapsed, the next refusal's count stands, whatever it is.
    _sql(admin, "UPDATE budget_limits SET until = extract(epoch FROM clock_timestamp()) - 1")
    _sql(anna, LOWER.format(50))
    assert _rows(bob, LIMIT) == [(50, 3600, anna.user)]


def test_an_upgrade_takes_back_the_agents_old_rights_on_budget_limits(
    pg_server: PgServer,
) -> None:
    admin = new_team_database(pg_server)
    agent = agent_settings(pg_server, admin, f"agent_{uuid.uuid4().hex[:8]}")
    # What earlier versions granted, then `team init` run again after the upgrade.
    _sql(admin, f"GRANT INSERT (connection_key, accepted), UPDATE (accepted, at, until) "
                f"ON budget_limits TO {AGENTS_ROLE}")  # fmt: skip
    with PgDatabase(admin, None) as db:
        init_team(db)
    _sql(agent, LOWER.format(5))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(agent, "UPDATE budget_limits SET until = 0")


def test_only_the_agent_who_took_a_budget_slot_may_give_it_back(pg_server: PgServer) -> None:
    admin = new_team_database(pg_server)
    anna, bob = (
        agent_settings(pg_server, admin, f"{n}_{uuid.uuid4().hex[:6]}") for n in ("anna", "bob")
    )
    [(slot,)] = _rows(
        anna, "INSERT INTO budget_reservations (connection_key) VALUES ('k') RETURNING id"
    )
    give_back = "DELETE FROM budget_reservations WHERE connection_key = 'k'"
    with pytest.raises(psycopg.errors.RaiseException, match=f"slot {slot} was taken by anna_"):
        _sql(bob, give_back)  # a free slot for bob's next write: refused
    assert _rows(bob, "SELECT count(*) FROM budget_reservations") == [(1,)]
    _sql(anna, give_back)  # anna's write was never sent: she gives her slot back
    assert _rows(bob, "SELECT count(*) FROM budget_reservations") == [(0,)]
