"""The team database's connection: settings checked once, every failure an operator can meet
said in words (never with the password), TLS verified, the password from the keyring."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import uuid
from pathlib import Path

import pytest
from pg_cluster import PASSWORD_GROUP, PgServer, _free_port
from store_fakes import MemoryKeyring, make_draft
from team_db import agent_settings, new_team_database, team_settings

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.database import DatabaseError, DatabaseTooNewError, DatabaseUnreachable
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.migrations import PG_MIGRATIONS
from ctrader_admin.store.pg.settings import (
    CONNECT_TIMEOUT_RANGE,
    CONNECT_TIMEOUT_SECONDS,
    KEEPALIVE_COUNT,
    KEEPALIVE_IDLE_SECONDS,
    KEEPALIVE_INTERVAL_SECONDS,
    TCP_USER_TIMEOUT_MS,
    TeamSettings,
    TeamSettingsError,
)
from ctrader_admin.store.pg.team_config import load_team_settings, save_team_settings, team_file
from ctrader_admin.store.tokens import SERVICE_NAME, TokenStore

PASSWORD = "Team-pw-7f3a9c"


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"host": " "}, "needs a server"),
        ({"port": 0}, "not a TCP port"),
        ({"port": 70000}, "not a TCP port"),
        ({"database": ""}, "needs a database name"),
        ({"user": "a\nb"}, "line break"),
        ({"host": "db.example.com", "tls": False}, "TLS can be turned off only"),
        ({"ca_bundle": Path("/nonexistent/ca.pem")}, "does not exist"),
        ({"connect_timeout": 1}, r"connect timeout must be 2–300 seconds \(it is 1\)"),
        ({"connect_timeout": 301}, r"\(it is 301\)"),
    ],
)
def test_settings_that_cannot_work_are_refused_in_words(
    changes: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {"host": "db.example.com", "database": "team", "user": "anna"}
    with pytest.raises(TeamSettingsError, match=message) as caught:
        TeamSettings(**(values | changes))  # type: ignore[arg-type]
    assert isinstance(caught.value, ExpectedError)


def test_tls_is_verified_unless_the_server_is_on_this_computer() -> None:
    remote = TeamSettings(host="db.example.com", database="team", user="anna")
    assert remote.connect_kwargs()["sslmode"] == "verify-full"
    assert remote.connect_kwargs()["sslrootcert"] == "system"
    assert "password" not in remote.connect_kwargs()
    local = TeamSettings(host="127.0.0.1", database="team", user="anna", tls=False)
    assert local.connect_kwargs()["sslmode"] == "disable"
    assert TeamSettings(host="localhost", database="t", user="a", tls=False).tls is False


def test_the_connect_timeout_is_kept_in_the_team_file(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    given = TeamSettings(host="127.0.0.1", database="team", user="anna", tls=False,
                         connect_timeout=4)  # fmt: skip
    save_team_settings(paths, given)
    assert load_team_settings(paths) == given
    # A file saved before the setting existed: the default.
    data = json.loads(team_file(paths).read_text(encoding="utf-8"))
    del data["connect_timeout"]
    team_file(paths).write_text(json.dumps(data), encoding="utf-8")
    loaded = load_team_settings(paths)
    assert loaded is not None
    assert loaded.connect_timeout == CONNECT_TIMEOUT_SECONDS


# --- connecting: every failure in words ------------------------------------------------------


def _assert_no_password(error: BaseException) -> None:
    for text in (str(error), repr(error), getattr(error, "message", "")):
        assert PASSWORD not in text


def test_a_server_that_does_not_answer_is_said_in_words() -> None:
    settings = TeamSettings(host="127.0.0.1", port=_free_port(), database="team", user="anna",
                            tls=False)  # fmt: skip
    with pytest.raises(DatabaseError, match="cannot be reached") as caught:
        PgDatabase(settings, PASSWORD)
    assert f"127.0.0.1:{settings.port}" in caught.value.message
    assert caught.value.__cause__ is None  # the driver's exception (and its text) left behind
    _assert_no_password(caught.value)


def test_a_silent_server_is_given_up_after_the_connect_timeout_and_not_dialled_again(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It takes the connection and never answers: libpq gives up after the connect timeout
    # (not the kernel's TCP timeout), in the same words as a refused connection.
    settings = TeamSettings(host="127.0.0.1", port=silent_server, database="team", user="anna",
                            tls=False, connect_timeout=CONNECT_TIMEOUT_RANGE[0])  # fmt: skip
    with pytest.raises(DatabaseUnreachable, match="cannot be reached") as caught:
        PgDatabase(settings, PASSWORD)
    assert "connection timeout expired" in caught.value.message
    _assert_no_password(caught.value)
    # Opened for the read-only mode: opening the journal on it costs no second attempt (each
    # would wait the whole timeout again); the live-updates thread is the one that retries.
    db = PgDatabase(settings, None, unreachable_ok=True)

    def dialled(**_: object) -> None:
        raise AssertionError("connected again")

    monkeypatch.setattr(db, "connect", dialled)
    journal = Journal(db)
    assert not db.reachable
    journal.close()
    db.close()


def test_libpq_bounds_a_silent_server_on_an_open_connection(pg_server: PgServer) -> None:
    """A server that falls silent after the connection was made: libpq's own TCP settings end
    the connection (a lost connection, then the outage handling) instead of the kernel's many
    minutes. Read back from the socket libpq made."""
    if not hasattr(socket, "TCP_USER_TIMEOUT"):
        pytest.skip("TCP_USER_TIMEOUT is a Linux socket option")
    with PgDatabase(team_settings(pg_server, "postgres"), None) as db:
        raw = db.connect()
        try:
            with socket.socket(fileno=os.dup(raw.fileno())) as sock:
                tcp = socket.IPPROTO_TCP
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                assert sock.getsockopt(tcp, socket.TCP_KEEPIDLE) == KEEPALIVE_IDLE_SECONDS
                assert sock.getsockopt(tcp, socket.TCP_KEEPINTVL) == KEEPALIVE_INTERVAL_SECONDS
                assert sock.getsockopt(tcp, socket.TCP_KEEPCNT) == KEEPALIVE_COUNT
                assert sock.getsockopt(tcp, socket.TCP_USER_TIMEOUT) == TCP_USER_TIMEOUT_MS
        finally:
            raw.close()


def test_an_unknown_user_is_a_refused_log_in(pg_server: PgServer, pg_database: str) -> None:
    settings = team_settings(pg_server, pg_database, "nobody_here")
    with pytest.raises(DatabaseError, match="refused the log-in of 'nobody_here'") as caught:
        PgDatabase(settings, PASSWORD)
    _assert_no_password(caught.value)


def test_a_missing_database_is_named(pg_server: PgServer) -> None:
    with pytest.raises(DatabaseError, match="'no_such_db' does not exist"):
        PgDatabase(team_settings(pg_server, "no_such_db"), None)


def test_tls_is_verified_against_the_ca_bundle(pg_server: PgServer, pg_database: str) -> None:
    verified = dataclasses.replace(
        team_settings(pg_server, pg_database), tls=True, ca_bundle=pg_server.ca_bundle
    )
    with PgDatabase(verified, None) as db, db.read() as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[
            0
        ]

    # Without the bundle, the server's private CA is not trusted: no connection at all.
    unverified = dataclasses.replace(verified, ca_bundle=None)
    with pytest.raises(DatabaseError, match=r"secure \(TLS\) connection .* failed") as caught:
        PgDatabase(unverified, PASSWORD)
    assert "CA bundle" in caught.value.message
    _assert_no_password(caught.value)


def test_the_password_comes_from_the_keyring(
    pg_server: PgServer, memory_keyring: MemoryKeyring
) -> None:
    settings = new_team_database(pg_server)
    name = f"pw_{uuid.uuid4().hex[:8]}"
    with PgDatabase(settings, None) as admin:
        from ctrader_admin.store.pg.admin import add_member

        add_member(admin, name, PASSWORD)
        with admin.transaction() as conn:
            conn.execute(f"DO $$ BEGIN CREATE ROLE {PASSWORD_GROUP}; "
                         "EXCEPTION WHEN duplicate_object THEN NULL; END $$")  # fmt: skip
            conn.execute(f"GRANT {PASSWORD_GROUP} TO {name}")
            stored = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = ?", (name,)
            ).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$")  # the server never saw the password itself
    agent = team_settings(pg_server, settings.database, name)
    tokens = TokenStore()

    with pytest.raises(DatabaseError, match="none is saved on this computer"):
        PgDatabase.open(agent, tokens)  # nothing saved yet
    tokens.set_team_password(agent.keyring_key, "not-" + PASSWORD)
    with pytest.raises(DatabaseError, match="refused the log-in") as caught:
        PgDatabase.open(agent, tokens)
    _assert_no_password(caught.value)
    tokens.set_team_password(agent.keyring_key, PASSWORD)
    assert memory_keyring.passwords[(SERVICE_NAME, agent.keyring_key)] == PASSWORD

    with PgDatabase.open(agent, TokenStore()) as db:  # a new store: read back from the keyring
        journal = Journal(db)
        assert journal.complete(journal.begin(make_draft()), "ok").id == 1
        journal.close()


# --- schema ---------------------------------------------------------------------------------


def test_an_agent_never_migrates_and_is_told_who_can(pg_server: PgServer, pg_database: str) -> None:
    with PgDatabase(team_settings(pg_server, pg_database), None) as db:
        with pytest.raises(DatabaseError, match="ask the team administrator to run"):
            db.check_schema()
        assert db.migrate() == len(PG_MIGRATIONS)
        assert db.migrate() == len(PG_MIGRATIONS)  # again: nothing to do
        db.check_schema()
        with db.transaction() as conn:
            conn.execute("INSERT INTO schema_version VALUES (99, 'later')")
        with pytest.raises(DatabaseTooNewError, match="newer ctrader-admin"):
            db.check_schema()


# --- a connection lost ------------------------------------------------------------------------


def test_a_dropped_connection_is_said_in_words_and_reopened(pg_server: PgServer) -> None:
    settings = new_team_database(pg_server)
    agent = agent_settings(pg_server, settings, f"agent_{uuid.uuid4().hex[:8]}")
    with PgDatabase(agent, None) as db, PgDatabase(settings, None) as admin:
        with db.read() as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with admin.read() as conn:
            conn.execute("SELECT pg_terminate_backend(?)", (pid,))
        with pytest.raises(DatabaseError, match="was lost") as caught, db.read() as conn:
            conn.execute("SELECT 1")
        assert "may or may not have been stored" in caught.value.message
        assert db.schema_version == len(PG_MIGRATIONS)  # the next action reconnects
