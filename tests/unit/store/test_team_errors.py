"""What the team database refuses while connected, said in words by its SQLSTATE class (a real
server: constraints broken for real; the classes that cannot be provoked on demand — a
serialization failure, a standby — raised by the server with that SQLSTATE), and how a failed
connection is classified without reading the server's language where libpq allows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pg_cluster import PASSWORD_GROUP, PgServer, _free_port
from team_db import team_settings

from ctrader_admin.store.database import DatabaseError, DatabaseUnreachable
from ctrader_admin.store.pg.database import PgConnection, PgDatabase
from ctrader_admin.store.pg.errors import connect_failure_kind
from ctrader_admin.store.pg.settings import TeamSettings

SCRATCH_TABLES = (
    "CREATE TABLE parent (id BIGINT PRIMARY KEY)",
    "CREATE TABLE child (id BIGINT PRIMARY KEY, parent BIGINT REFERENCES parent, "
    "amount BIGINT NOT NULL CHECK (amount > 0))",
)


@pytest.fixture
def db(pg_server: PgServer, pg_database: str) -> Iterator[PgDatabase]:
    with PgDatabase(team_settings(pg_server, pg_database), None) as database:
        with database.transaction() as conn:
            for statement in SCRATCH_TABLES:
                conn.execute(statement)
            conn.execute("INSERT INTO parent VALUES (1)")
            conn.execute("INSERT INTO child VALUES (1, 1, 5)")
        yield database


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("INSERT INTO child VALUES (1, 1, 5)", "child already holds a record with the same key"),
        ("INSERT INTO child VALUES (2, 99, 5)", "a record it refers to is not in the team"),
        ("DELETE FROM parent", "or another still refers to it"),
        ("INSERT INTO child VALUES (3, 1, NULL)", "amount of child is required and was missing"),
        ("INSERT INTO child VALUES (4, 1, -5)", "a value is outside what child allows"),
    ],
)
def test_a_broken_constraint_is_a_sentence_and_nothing_is_stored(
    db: PgDatabase, statement: str, words: str
) -> None:
    def insert_then(conn: PgConnection) -> None:
        conn.execute("INSERT INTO parent VALUES (2)")  # undone with the failing statement
        conn.execute(statement)

    with pytest.raises(DatabaseError, match="The team database refused this change") as caught:
        _in_a_transaction(db, insert_then)
    assert words in caught.value.message
    assert "Nothing of it was stored." in caught.value.message
    assert not isinstance(caught.value, DatabaseUnreachable)  # asking again will not help
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM parent").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM child").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("sqlstate", "words"),
    [
        ("40001", "another workstation was changing the same records at the same moment"),
        ("40P01", "another workstation was changing the same records at the same moment"),
        ("25006", "accepts only reads just now"),
        ("57014", "cancelled this request"),
        ("53100", "is out of resources"),
        ("42501", "has not granted it to this user"),
        ("P0001", "The team database refused this: "),
    ],
)
def test_each_refusal_class_is_a_sentence(db: PgDatabase, sqlstate: str, words: str) -> None:
    raise_it = (
        f"DO $$ BEGIN RAISE EXCEPTION 'said by the server' USING ERRCODE = '{sqlstate}'; END $$"
    )
    with pytest.raises(DatabaseError) as caught, db.transaction() as conn:
        conn.execute(raise_it)
    assert words in caught.value.message
    assert not isinstance(caught.value, DatabaseUnreachable)


def test_an_administrator_ending_the_session_is_a_lost_connection(
    pg_server: PgServer, db: PgDatabase
) -> None:
    import psycopg

    with db.read() as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))  # SQLSTATE 57P01
    with pytest.raises(DatabaseUnreachable, match="may or may not have been stored"):
        _in_a_transaction(db, lambda conn: conn.execute("SELECT 1"))


def test_a_bug_in_the_apps_own_sql_is_not_dressed_as_the_operators_problem(
    db: PgDatabase,
) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.UndefinedColumn), db.read() as conn:
        conn.execute("SELECT no_such_column FROM child")


def _in_a_transaction(db: PgDatabase, work: Callable[[PgConnection], Any]) -> None:
    with db.transaction() as conn:
        work(conn)


# --- a connection that could not be opened ------------------------------------------------------


def test_an_unreachable_server_is_the_kind_the_app_can_wait_for() -> None:
    settings = TeamSettings(host="127.0.0.1", port=_free_port(), database="team", user="anna",
                            tls=False)  # fmt: skip
    with pytest.raises(DatabaseUnreachable, match="cannot be reached"):
        PgDatabase(settings, None)


def test_connection_failures_are_classified_by_sqlstate_before_any_text() -> None:
    from psycopg import errors

    # Whatever language the text is in, the SQLSTATE decides.
    assert connect_failure_kind(errors.InvalidCatalogName("Datenbank fehlt")) == "no-database"
    assert connect_failure_kind(errors.InvalidPassword("Passwort falsch")) == "log-in"
    assert connect_failure_kind(errors.TooManyConnections("zu viele")) == "busy"
    assert connect_failure_kind(errors.CannotConnectNow("startet")) == "busy"
    # No SQLSTATE and no words it knows: unreachable, which says nothing was written.
    assert connect_failure_kind(errors.OperationalError("Verbindung abgelehnt")) == "unreachable"


def test_a_missing_password_is_told_by_libpqs_flag(pg_server: PgServer, pg_database: str) -> None:
    """The server asked for a password and none was given: libpq's flag, not its text."""
    import psycopg

    role = "needs_pw_errors_test"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(f"DO $$ BEGIN CREATE ROLE {PASSWORD_GROUP}; "
                      "EXCEPTION WHEN duplicate_object THEN NULL; END $$")  # fmt: skip
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'x' IN ROLE {PASSWORD_GROUP}")
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(pg_server.conninfo(pg_database, role), password="").close()
    assert caught.value.pgconn is not None
    assert caught.value.pgconn.needs_password
    assert connect_failure_kind(caught.value) == "no-password"
