"""Many workstations on one team database, each its own process and its own agent role: one
journal chain, one write budget, and intents recovered only once their owner's session is gone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import PgServer
from store_fakes import journal_attempts
from team_db import agent_settings, new_team_database, team_settings

from ctrader_admin.store.journal import RECOVERED_ERROR, Journal
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings

WORKER = Path(__file__).with_name("team_worker.py")
pytestmark = pytest.mark.slow


class Workers:
    """Worker processes started together: each says ``ready``, then all get ``go`` at once."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, mode: str, settings: TeamSettings, *args: object) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), mode, settings.host, str(settings.port),
             settings.database, settings.user, *map(str, args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.procs.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        return proc

    @staticmethod
    def go(proc: subprocess.Popen[str]) -> None:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()

    def results(self) -> list[dict[str, object]]:
        for proc in self.procs:
            self.go(proc)
        out = []
        for proc in self.procs:
            stdout, _ = proc.communicate(timeout=90)
            assert proc.returncode == 0
            out.append(json.loads(stdout.strip().splitlines()[-1]))
        return out

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()  # reaps it and closes its pipes


@pytest.fixture
def workers() -> Iterator[Workers]:
    pool = Workers()
    yield pool
    pool.kill_all()


def _agents(server: PgServer, settings: TeamSettings, count: int) -> list[TeamSettings]:
    suffix = uuid.uuid4().hex[:6]
    return [agent_settings(server, settings, f"agent{i}_{suffix}") for i in range(count)]


def test_concurrent_agents_append_one_linear_verifiable_chain(
    pg_server: PgServer, workers: Workers
) -> None:
    settings = new_team_database(pg_server)
    agents = _agents(pg_server, settings, 4)
    for agent in agents:
        workers.start("journal", agent, 60)
    results = workers.results()

    ids = sorted(i for r in results for i in r["ids"])  # type: ignore[attr-defined]
    assert ids == list(range(1, 241))  # no id lost, none given twice
    with PgDatabase(settings, None) as db:
        journal = Journal(db)
        report = journal.verify()
        assert report.ok, report.message
        assert report.checked == 240
        assert journal.pending_count() == 0
        by_agent = {a.user: journal.count(_operator(a.user)) for a in agents}
        assert by_agent == {a.user: 60 for a in agents}
        journal.close()


def _operator(name: str):  # type: ignore[no-untyped-def]
    from ctrader_admin.store.journal import JournalFilter

    return JournalFilter(operator=name)


def test_one_write_budget_for_every_workstation_on_a_connection(
    pg_server: PgServer, workers: Workers
) -> None:
    settings = new_team_database(pg_server)
    agents = _agents(pg_server, settings, 5)
    for agent in agents:  # 5 workstations × 30 tries against a team budget of 40 per hour
        workers.start("budget", agent, "https://live-1.example:8443#30001", 40, 30)
    workers.start("budget", agents[0], "https://live-2.example:8443#30001", 40, 30)
    results = workers.results()

    assert sum(int(r["taken"]) for r in results[:5]) == 40  # type: ignore[call-overload]
    assert results[5] == {"taken": 30}  # another broker connection has a budget of its own
    from ctrader_admin.services.budget import WriteBudget
    from ctrader_admin.store.pg.budget import TeamBudgetWindow

    with PgDatabase(agents[1], None) as db:
        band = WriteBudget(40, window=TeamBudgetWindow(db, "https://live-1.example:8443#30001"))
        assert band.remaining() == 0  # the band's "writes left this hour" is the team's
        assert band.used() == 40
        assert 3500 < band.seconds_until_free() <= 3600
        assert not band.try_acquire()


def test_a_killed_workstations_intent_is_recovered_only_after_its_session_is_gone(
    pg_server: PgServer, workers: Workers
) -> None:
    settings = new_team_database(pg_server)
    agent_a, agent_b = _agents(pg_server, settings, 2)
    holder = workers.start("hold", agent_a)
    workers.go(holder)
    assert holder.stdout is not None
    held = json.loads(holder.stdout.readline())

    with PgDatabase(agent_b, None) as db:
        journal = Journal(db)
        assert journal.recover() == []  # the other workstation is alive: its write is in flight
        assert journal.pending_count() == 1

        holder.send_signal(signal.SIGKILL)
        holder.wait()
        _wait_until_backend_gone(pg_server, settings.database, int(held["pid"]))

        recovered = journal.recover()
        assert [(e.target, e.outcome, e.error) for e in recovered] == [
            ("user:0", "unknown", RECOVERED_ERROR)
        ]
        assert recovered[0].operator == agent_a.user
        assert journal.pending_count() == 0
        assert journal.recover() == []  # recovered once
        assert journal.verify().ok
        journal.close()


def _wait_until_backend_gone(server: PgServer, database: str, pid: int) -> None:
    """The server ends a dead client's session when it reads the closed socket: wait for that
    (a condition, not a duration)."""
    with PgDatabase(team_settings(server, database), None) as admin:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with admin.read() as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ?", (pid,)
                ).fetchone()
            if row[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError(f"the server kept the killed client's session {pid}")


def test_another_workstation_is_told_of_each_append_and_only_of_committed_ones(
    pg_server: PgServer,
) -> None:
    from store_fakes import make_draft

    from ctrader_admin.store.journal import JournalError
    from ctrader_admin.store.pg.watch import JournalWatcher

    settings = new_team_database(pg_server)
    writer_settings, reader_settings = _agents(pg_server, settings, 2)
    with (
        PgDatabase(writer_settings, None) as writer_db,
        PgDatabase(reader_settings, None) as reader_db,
    ):
        watcher = JournalWatcher(reader_db)
        journal = Journal(writer_db)
        assert watcher.wait(timeout=0) is None
        entry = journal.complete(journal.begin(make_draft()), "ok")
        assert watcher.wait(timeout=30) == entry.id
        with pytest.raises(JournalError):
            journal.complete(999, "ok")  # refused: nothing appended, nothing told
        assert watcher.wait(timeout=0.2) is None
        journal.append_many(journal_attempts(3))
        assert watcher.wait(timeout=30) == entry.id + 3
        journal.close()
        watcher.close()


def test_a_session_the_server_dropped_is_taken_again_before_the_next_write(
    pg_server: PgServer,
) -> None:
    from store_fakes import make_draft

    from ctrader_admin.store.journal import JournalError
    from ctrader_admin.store.pg.journal_engine import PgSessionOwner

    settings = new_team_database(pg_server)
    agent_a, agent_b = _agents(pg_server, settings, 2)
    with (
        PgDatabase(agent_a, None) as db_a,
        PgDatabase(agent_b, None) as db_b,
        PgDatabase(settings, None) as admin,
    ):
        journal, other = Journal(db_a), Journal(db_b)
        owner = journal.owner
        assert isinstance(owner, PgSessionOwner)
        in_flight = journal.begin(make_draft(target="user:1"))
        dropped = owner.backend_pid
        with admin.read() as conn:  # the server ends the session (a restart, a network cut)
            conn.execute("SELECT pg_terminate_backend(?)", (dropped,))
        _wait_until_backend_gone(pg_server, settings.database, dropped)
        # While it is gone, its write in flight is another's to recover, as "unknown".
        assert [e.target for e in other.recover()] == ["user:1"]

        later = journal.begin(make_draft(target="user:2"))  # takes the session again first
        assert owner.backend_pid != dropped
        assert other.recover() == []  # alive again: its new write is in flight, not crashed
        assert journal.complete(later, "ok").outcome == "ok"
        with pytest.raises(JournalError, match="completed or recovered already"):
            journal.complete(in_flight, "ok")
        assert journal.verify().ok
        journal.close()
        other.close()
