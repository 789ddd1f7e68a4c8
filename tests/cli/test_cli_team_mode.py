"""The CLI on a team database (``team.json`` saved by ``ctrader-admin team connect``): its
writes are journaled in the team's journal, not the local file, and counted in the team's write
budget; with the team server unreachable, writes are refused in words and nothing is sent."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_env import MANAGER, PROFILE, Cli
from pg_cluster import PgServer
from team_db import team_of_two

from ctrader_admin.services.approvals import PolicyUnavailable
from ctrader_admin.services.session import Session, WriteIntent
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalFilter
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.approvals import ApprovalStore, TeamPolicy
from ctrader_admin.store.pg.budget import TeamBudgetWindow
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import CONNECT_TIMEOUT_RANGE, TeamSettings
from ctrader_admin.store.pg.team_config import save_team_settings

EMILY = 1000001
PER_HOUR = 100_000  # cli_env's profile budget


def _settings(server: PgServer, database: str, user: str) -> TeamSettings:
    return TeamSettings(host=server.host, port=server.port, database=database, user=user, tls=False)


def _join_team(cli: Cli, server: PgServer) -> tuple[TeamSettings, TeamSettings]:
    """A team database set up by its administrator, and this workstation connected to it as an
    agent (the test server trusts loopback: no password). The administrator's and the agent's
    settings."""
    database = server.create_database()
    admin = _settings(server, database, server.superuser)
    agent = f"agent_{uuid.uuid4().hex[:6]}"
    with PgDatabase(admin, None) as db:
        init_team(db)
        add_member(db, agent, None)
    mine = _settings(server, database, agent)
    save_team_settings(cli.paths, mine)
    return admin, mine


def _local_entries(cli: Cli) -> int:
    database = Database.open(cli.paths)
    try:
        journal = Journal(database)
        try:
            return journal.count()
        finally:
            journal.close()
    finally:
        database.close()


def test_a_single_write_lands_in_the_team_journal_not_the_local_file(
    cli: Cli, pg_server: PgServer
) -> None:
    admin, agent = _join_team(cli, pg_server)
    done = cli.run("referral", "set", "--user", str(EMILY), "TEAM-1", "--reason", "team mode")
    assert done.returncode == 0, done.stderr
    assert cli.sandbox.referral(user_id=EMILY) == "TEAM-1"

    with PgDatabase(admin, None) as db:
        journal = Journal(db)
        try:
            [entry] = journal.iter_entries(JournalFilter(targets=(f"user:{EMILY}",)))
            assert journal.verify().ok
        finally:
            journal.close()
        with db.read() as conn:
            written_by = conn.execute("SELECT written_by FROM journal").fetchone()[0]
    assert (entry.outcome, entry.after, entry.reason) == ("ok", "TEAM-1", "team mode")
    assert written_by == agent.user  # the agent's own database role wrote it
    assert _local_entries(cli) == 0


def test_the_write_budget_is_the_teams(cli: Cli, pg_server: PgServer) -> None:
    admin, _agent = _join_team(cli, pg_server)
    with PgDatabase(admin, None) as db:
        # Another workstation on the same broker connection has written 7 times this hour.
        other = TeamBudgetWindow(db, f"{cli.url}#{MANAGER.login}")
        assert all(other.take(PER_HOUR) is not None for _ in range(7))

    async def writes_left(session: Session) -> tuple[int, int]:
        before = (await session.budget.figures()).remaining
        await session.write(
            WriteIntent("set_partner", f"user:{EMILY}", None, "B-1", reason="r"), _sent
        )
        return before, (await session.budget.figures()).remaining

    assert cli.in_session(writes_left) == (PER_HOUR - 7, PER_HOUR - 8)


async def _sent() -> str:
    return "sent"


def test_an_unreachable_team_server_refuses_writes_in_words(cli: Cli) -> None:
    with socket_bound() as dead_port:  # nothing listens there
        save_team_settings(
            cli.paths,
            TeamSettings(host="127.0.0.1", port=dead_port, database="team", user="anna", tls=False),
        )
        done = cli.run("referral", "set", "--user", str(EMILY), "NOPE", "--reason", "r")
    assert done.returncode == 2
    server = f"anna@127.0.0.1:{dead_port}/team"
    assert f"ctrader-admin: warning: the team database ({server}) cannot be reached" in done.stderr
    assert "every write is refused and none is kept to send later" in done.stderr
    assert f"Nothing was sent: the team database ({server}) cannot be reached since" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli.sandbox.referral(user_id=EMILY) != "NOPE"
    # The broker saw the sandbox's log-in and no write at all.
    assert not [r for r in cli.sandbox.request_log if r.method != "GET" and "login" not in r.path]
    assert _local_entries(cli) == 0  # nothing written locally that the team would not see


def test_a_silent_team_server_ends_a_write_in_words_after_its_connect_timeout(
    cli: Cli, silent_server: int
) -> None:
    # A server that takes the connection and never answers (packets dropped, not refused):
    # the command waits for the configured connect timeout, not the kernel's, and then says so.
    save_team_settings(
        cli.paths,
        TeamSettings(
            host="127.0.0.1", port=silent_server, database="team", user="anna", tls=False,
            connect_timeout=CONNECT_TIMEOUT_RANGE[0],
        ),
    )  # fmt: skip
    done = cli.run("referral", "set", "--user", str(EMILY), "NOPE", "--reason", "r")
    assert done.returncode == 2
    server = f"anna@127.0.0.1:{silent_server}/team"
    assert f"ctrader-admin: warning: the team database ({server}) cannot be reached" in done.stderr
    assert f"Nothing was sent: the team database ({server}) cannot be reached since" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli.sandbox.referral(user_id=EMILY) != "NOPE"
    assert _local_entries(cli) == 0


def test_an_unreachable_team_server_leaves_reads_from_the_broker_working(cli: Cli) -> None:
    with socket_bound() as dead_port:
        save_team_settings(
            cli.paths,
            TeamSettings(host="127.0.0.1", port=dead_port, database="team", user="anna", tls=False),
        )
        done = cli.run("referral", "get", "--user", str(EMILY))
        journal = cli.run("journal", "verify")
    assert done.returncode == 0, done.stderr
    assert "partnerId IB-1042" in done.stdout  # the sandbox's seed, read live
    assert "warning: the team database (anna@127.0.0.1:" in done.stderr
    # The team's journal itself is on the server: said, not guessed from a local copy.
    assert journal.returncode == 2
    assert "cannot be reached" in journal.stderr
    assert "Traceback" not in done.stderr + journal.stderr
    assert _local_entries(cli) == 0


def test_losing_the_team_server_mid_session_refuses_writes_before_sending(
    cli: Cli, pg_server: PgServer
) -> None:
    admin, agent = _join_team(cli, pg_server)
    sent: list[str] = []

    async def send() -> str:
        sent.append("sent")
        return "sent"

    async def write_after_the_server_is_gone(session: Session) -> str:
        with PgDatabase(admin, None) as db, db.transaction() as conn:
            # The agent can no longer connect, and every connection it had is cut.
            conn.execute(f'ALTER ROLE "{agent.user}" NOLOGIN')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ?",
                (agent.user,),
            )
        # The team's policy is the gate's first round trip (then the budget): either way the
        # write is refused in words before anything is journaled or sent.
        with pytest.raises(PolicyUnavailable) as refused:
            await session.write(
                WriteIntent("set_partner", f"user:{EMILY}", None, "GONE", reason="r"), send
            )
        return str(refused.value)

    message = cli.in_session(write_after_the_server_is_gone)
    assert message.startswith(
        "The write was not sent: the team's policy for 'Loopback sandbox' could not"
    )
    assert "team database" in message
    assert sent == []
    assert _local_entries(cli) == 0


def _set_policy(admin: TeamSettings, policy: TeamPolicy) -> None:
    with PgDatabase(admin, None) as db:
        ApprovalStore(db).set_policy(policy)


def _referral_puts(cli: Cli) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in cli.sandbox.request_log
        if e.method != "GET" and e.path.endswith("/referral")
    ]


def _run_in(cli: Cli, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as another agent runs it on their own computer (their own home and role)."""
    return subprocess.run(
        cli.command(*args), env=cli.environ(CTRADER_ADMIN_HOME=str(home)), capture_output=True,
        text=True, timeout=120, check=False, cwd=home, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_write_the_team_sends_for_approval_is_refused_until_approved(
    cli: Cli, pg_server: PgServer, tmp_path: Path
) -> None:
    admin, anna, bob = team_of_two(pg_server)
    save_team_settings(cli.paths, anna)
    bob_home = tmp_path / "bob"
    bob_home.mkdir()
    save_team_settings(AppPaths.under(bob_home), bob)
    _set_policy(admin, TeamPolicy(PROFILE, approve_writes=True))
    before = cli.sandbox.referral(user_id=EMILY)

    done = cli.run("referral", "set", "--user", str(EMILY), "NEEDS-2", "--reason", "r")
    assert done.returncode == 2
    assert "This change needs a second person's approval on" in done.stderr
    assert "every change on this connection needs approval" in done.stderr
    assert "nothing was sent" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli.sandbox.referral(user_id=EMILY) == before
    assert _referral_puts(cli) == []

    submit = ("approvals", "submit", "--target", f"user:{EMILY}", "--action", "set_partner",
              "--to", "NEEDS-2", "--reason", "r", "--json")  # fmt: skip
    done = cli.run(*submit)
    assert done.returncode == 0, done.stderr
    number = json.loads(done.stdout)["id"]
    done = _run_in(cli, bob_home, "approvals", "approve", str(number))
    assert done.returncode == 0, done.stderr
    done = cli.run("approvals", "apply", str(number), "--confirm-env", "live")
    assert done.returncode == 0, done.stderr
    assert f"submitted by {anna.user}, approved by {bob.user}" in done.stdout
    assert cli.sandbox.referral(user_id=EMILY) == "NEEDS-2"
    assert _referral_puts(cli) == ["PUT /cid/oauth2/ctid/referral"]


def test_a_plan_the_team_sends_for_approval_is_not_started(cli: Cli, pg_server: PgServer) -> None:
    admin, _agent = _join_team(cli, pg_server)
    _set_policy(admin, TeamPolicy(PROFILE, approve_plans_over=0))
    source = cli.write(
        "fix.csv", f"level,userId,ctidTraderAccountId,partnerId\nuser,{EMILY},,IB-9\n"
    )
    assert cli.run("plan", str(source), "-o", "fix.plan.json").returncode == 0

    done = cli.run("apply", "fix.plan.json", "--reason", "r", "--yes")
    assert done.returncode == 2
    assert "plans of more than 0 rows need approval" in done.stderr
    assert "Traceback" not in done.stderr
    assert _referral_puts(cli) == []


def test_a_read_only_team_policy_makes_the_workstation_read_only(
    cli: Cli, pg_server: PgServer
) -> None:
    admin, _agent = _join_team(cli, pg_server)
    _set_policy(admin, TeamPolicy(PROFILE, read_only=True, budget_per_hour=40))
    before = cli.sandbox.referral(user_id=EMILY)

    done = cli.run("referral", "set", "--user", str(EMILY), "RO-1", "--reason", "r")
    assert done.returncode == 2
    assert "is read-only: nothing was sent" in done.stderr
    assert cli.sandbox.referral(user_id=EMILY) == before
    assert _referral_puts(cli) == []

    async def the_session_profile(session: Session) -> tuple[bool, int]:
        return session.profile.read_only, session.profile.write_budget_per_hour

    assert cli.in_session(the_session_profile) == (True, 40)  # the team's lower budget too


@contextlib.contextmanager
def socket_bound() -> Iterator[int]:
    """A loopback port bound and not listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_what_one_agent_learns_lands_in_the_team_database(cli: Cli, pg_server: PgServer) -> None:
    # The ledger, the partner registry and the directory are the team's: another agent's app
    # reads what this one pulled, and the workstation's own file learns nothing.
    admin, _agent = _join_team(cli, pg_server)
    done = cli.run("attribution", "pull", "--registry")
    assert done.returncode == 0, done.stderr
    shown = cli.run("partner", "show", "IB-1042")
    assert shown.returncode == 0, shown.stderr

    with PgDatabase(admin, None) as db, db.read() as conn:
        ledger = conn.execute("SELECT count(*) FROM attribution").fetchone()[0]
        registry = conn.execute("SELECT count(*) FROM partner_registry").fetchone()[0]
    assert ledger > 0
    assert registry > 0
    local = Database.open(cli.paths)
    try:
        with local.read() as conn:
            assert conn.execute("SELECT count(*) FROM attribution").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM partner_registry").fetchone()[0] == 0
    finally:
        local.close()
