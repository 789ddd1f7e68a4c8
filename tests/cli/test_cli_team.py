"""``ctrader-admin team …`` as an operator runs it, against the tests' PostgreSQL server."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import PASSWORD_GROUP, PgServer

from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.migrations import PG_MIGRATIONS
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.sql import Connection

PASSWORD = "Member-pw-51c0de"


def _team(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ours = ("CTRADER_ADMIN", "PYTHON_KEYRING")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    environ.update(
        CTRADER_ADMIN_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"
    )
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ctrader_admin", "team", *args],
        env=environ, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _connect(home: Path, server: PgServer, database: str, user: str, *more: str, **env: str):  # type: ignore[no-untyped-def]
    return _team(
        home, "connect", "--host", server.host, "--port", str(server.port),
        "--database", database, "--user", user, *more, **env,
    )  # fmt: skip


@contextlib.contextmanager
def _superuser(server: PgServer, database: str) -> Iterator[Connection]:
    settings = TeamSettings(
        host=server.host, port=server.port, database=database, user=server.superuser, tls=False
    )
    with PgDatabase(settings, None) as db, db.transaction() as conn:
        yield conn


def test_set_up_a_team_and_read_its_status(
    pg_server: PgServer, pg_database: str, tmp_path: Path
) -> None:
    admin_home, agent_home = tmp_path / "admin", tmp_path / "agent"
    done = _team(admin_home, "status")
    assert done.returncode == 2
    assert "run `ctrader-admin team connect` first" in done.stderr

    done = _connect(
        admin_home, pg_server, pg_database, pg_server.superuser, "--no-tls", "--no-check"
    )
    assert done.returncode == 0, done.stderr
    done = _team(admin_home, "init")
    server = f"postgres@127.0.0.1:{pg_server.port}/{pg_database}"
    assert (done.returncode, done.stdout.strip()) == (
        0, f"Team database {server} is set up (schema {len(PG_MIGRATIONS)}).",
    )  # fmt: skip
    agent = f"anna_{uuid.uuid4().hex[:6]}"
    done = _team(admin_home, "add-member", agent, "--no-password")
    assert done.returncode == 0, done.stderr
    done = _team(admin_home, "add-member", "Anna Smith", "--no-password")
    assert done.returncode == 2
    assert "cannot be a team user name" in done.stderr
    assert "Traceback" not in done.stderr

    # The agent's workstation: with TLS, verified against the team's CA bundle.
    done = _connect(
        agent_home, pg_server, pg_database, agent, "--ca-bundle", str(pg_server.ca_bundle)
    )
    assert done.returncode == 0, done.stderr
    assert "saved and checked" in done.stdout
    done = _team(agent_home, "status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert (status["entries"], status["pending"], status["chain_ok"]) == (0, 0, True)
    assert status["server"] == f"{agent}@127.0.0.1:{pg_server.port}/{pg_database}"


def test_passwords_come_from_the_environment_and_reach_no_file(
    pg_server: PgServer, pg_database: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _connect(home, pg_server, pg_database, pg_server.superuser, "--no-tls", "--no-check")
    assert _team(home, "init").returncode == 0
    with _superuser(pg_server, pg_database) as conn:
        conn.execute(f"DO $$ BEGIN CREATE ROLE {PASSWORD_GROUP}; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")  # fmt: skip
    member = f"pw_{uuid.uuid4().hex[:6]}"
    done = _team(home, "add-member", member)  # no terminal, no variable: refused in words
    assert done.returncode == 2
    assert "CTRADER_ADMIN_TEAM_MEMBER_PASSWORD" in done.stderr
    done = _team(home, "add-member", member, CTRADER_ADMIN_TEAM_MEMBER_PASSWORD=PASSWORD)
    assert done.returncode == 0, done.stderr
    with _superuser(pg_server, pg_database) as conn:
        conn.execute(f"GRANT {PASSWORD_GROUP} TO {member}")

    agent_home = tmp_path / "agent"
    done = _connect(agent_home, pg_server, pg_database, member, "--no-tls",
                    CTRADER_ADMIN_TEAM_PASSWORD="wrong-" + PASSWORD)  # fmt: skip
    assert done.returncode == 2
    assert "refused the log-in" in done.stderr
    done = _connect(agent_home, pg_server, pg_database, member, "--no-tls",
                    "--connect-timeout", "5", CTRADER_ADMIN_TEAM_PASSWORD=PASSWORD)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # No keyring here (the null backend): the next command needs the password again, and says so.
    done = _team(agent_home, "status")
    assert done.returncode == 2
    assert "none is saved on this computer" in done.stderr
    assert _team(agent_home, "status", CTRADER_ADMIN_TEAM_PASSWORD=PASSWORD).returncode == 0

    for path in [*home.rglob("*"), *agent_home.rglob("*")]:
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    saved = json.loads((agent_home / "config" / "team.json").read_text())
    assert saved == {
        "host": pg_server.host, "port": pg_server.port, "database": pg_database,
        "user": member, "ca_bundle": None, "tls": False, "connect_timeout": 5,
    }  # fmt: skip


@pytest.mark.parametrize("action", ["init", "add-member x", "status"])
def test_every_action_needs_a_saved_connection(tmp_path: Path, action: str) -> None:
    done = _team(tmp_path, *action.split())
    assert done.returncode == 2
    assert "team connect" in done.stderr
