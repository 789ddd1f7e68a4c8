"""Several workstations (processes, each its own agent role) write to one broker connection at
once, through the write gate, with the journal and the write budget in the team database, against
a loopback sandbox with an hourly write cap: the team never sends more than its budget, the
server never has to refuse one, every write is journaled once on one verifiable chain.

First single writes only; then bulk jobs and single writes at once: two agents run
``ctrader-admin apply`` of a plan each (the CLI as an operator runs it, in team mode), two run
loops of single writes (team_write_worker.py). The jobs, stopped while they wait for the budget,
keep every row they could not send "pending" (resumable), none "failed"."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from pg_cluster import PgServer

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import serve_in_thread
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.pg.team_config import save_team_settings
from ctrader_admin.store.profiles import Profile, ProfileStore

WORKER = Path(__file__).with_name("team_write_worker.py")
MANAGER = TRAINING_MANAGERS[0]
REFERRAL = "/cid/oauth2/ctid/referral"
TEAM_BUDGET = 20  # per hour, for the whole team
SERVER_CAP = 30  # the backend's own hourly cap: the budget keeps the team under it
PLAN_ROWS = 25  # each job alone wants more than the team's budget: it is always left waiting
SINGLES = 10  # writes each single-write loop wants
WAIT = 60.0  # seconds: generous for a busy 2-core machine; the test takes far less
pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(SandboxConfig(users=200, write_cap_per_hour=SERVER_CAP))
    yield box
    box.close()


def _settings(server: PgServer, database: str, user: str) -> TeamSettings:
    return TeamSettings(host=server.host, port=server.port, database=database, user=user,
                        tls=False)  # fmt: skip


def _team_of_four(server: PgServer) -> tuple[str, TeamSettings, list[str]]:
    """A team database (its name, the administrator's settings) and four agents' roles."""
    database = server.create_database()
    admin = _settings(server, database, server.superuser)
    agents = [f"desk{i}_{uuid.uuid4().hex[:6]}" for i in range(4)]
    with PgDatabase(admin, None) as db:
        init_team(db)
        for agent in agents:
            add_member(db, agent, None)
    return database, admin, agents


def _reachable_users(sandbox: Sandbox) -> list[int]:
    reach = set(MANAGER.broker_names)
    return [
        u for u in range(1000001, 1000201) if (sandbox.user(u) or {}).get("broker_name") in reach
    ]


def test_four_workstations_share_one_budget_and_one_chain(
    pg_server: PgServer, sandbox: Sandbox
) -> None:
    database, admin, agents = _team_of_four(pg_server)
    users = _reachable_users(sandbox)
    assert len(users) >= 40
    shares = [users[i * 10 : (i + 1) * 10] for i in range(4)]  # 40 writes wanted, 20 allowed

    with serve_in_thread(sandbox) as url:
        procs = []
        for agent, share in zip(agents, shares, strict=True):
            proc = subprocess.Popen(
                [sys.executable, str(WORKER), url, pg_server.host, str(pg_server.port), database,
                 agent, str(TEAM_BUDGET), *map(str, share)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            procs.append(proc)
        try:
            for proc in procs:
                assert proc.stdout is not None
                assert proc.stdout.readline().strip() == "ready"
            for proc in procs:  # all at once
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            results = []
            for proc in procs:
                stdout, _ = proc.communicate(timeout=90)
                assert proc.returncode == 0
                results.append(json.loads(stdout.strip().splitlines()[-1]))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()

    assert [r["other"] for r in results] == [{}] * 4
    assert sum(r["done"] for r in results) == TEAM_BUDGET
    assert sum(r["refused"] for r in results) == 40 - TEAM_BUDGET
    writes = [r for r in sandbox.request_log if r.method == "PUT" and r.path == REFERRAL]
    assert len(writes) == TEAM_BUDGET  # the server saw exactly the team's budget
    assert [w.error_code for w in writes if w.status != 200] == []  # 0 rate-limit answers
    assert all(w.applied for w in writes)
    with PgDatabase(admin, None) as db:
        journal = Journal(db)
        entries = list(journal.iter_entries())
        assert journal.verify().ok
        assert journal.pending_count() == 0
        journal.close()
    assert [e.outcome for e in entries] == ["ok"] * TEAM_BUDGET
    sent_to = Counter(w.body["userId"] for w in writes)
    journaled = Counter(int(e.target.removeprefix("user:")) for e in entries)
    assert sent_to == journaled  # every write journaled once, none sent twice
    assert max(sent_to.values()) == 1
    assert {e.operator for e in entries} == {str(MANAGER.login)}
    assert {e.workstation for e in entries} <= set(agents)


def _home(root: Path, url: str, team: TeamSettings) -> Path:
    """An agent's computer: a profile for the sandbox (budget = the team's) and team.json."""
    home = root / team.user
    profiles = ProfileStore(AppPaths.under(home))
    profile = Profile(
        id="loop",
        name="Loopback sandbox",
        base_url=url,
        broker_names=list(MANAGER.broker_names),
        broker_crm_name="sandbox_crm",
        manager_login=MANAGER.login,
        write_budget_per_hour=TEAM_BUDGET,
        timeout_seconds=5.0,
    )
    profiles.add(profile)
    profiles.set_last_profile("loop")
    save_team_settings(AppPaths.under(home), team)
    return home


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ctrader_admin", *args]


def _environ(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CTRADER_ADMIN", "PYTHON_KEYRING"))
    }
    env.update(
        CTRADER_ADMIN_HOME=str(home), CTRADER_ADMIN_TOKEN=MANAGER.token,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    return env


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The stream's lines as they come, for waiting on one with a timeout."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for_line(lines: queue.Queue[str], text: str, deadline: float) -> None:
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"no line with {text!r} within {WAIT} s")
        if text in line:
            return


def test_bulk_jobs_and_single_writes_from_four_agents_share_one_budget_and_one_chain(
    pg_server: PgServer, sandbox: Sandbox, tmp_path: Path
) -> None:
    database, admin, agents = _team_of_four(pg_server)
    users = _reachable_users(sandbox)
    wanted = 2 * PLAN_ROWS + 2 * SINGLES
    assert len(users) >= wanted
    plans, singles = (
        [users[:PLAN_ROWS], users[PLAN_ROWS : 2 * PLAN_ROWS]],
        [users[2 * PLAN_ROWS + i * SINGLES : 2 * PLAN_ROWS + (i + 1) * SINGLES] for i in range(2)],
    )

    def puts() -> list[object]:
        return [r for r in sandbox.request_log if r.method == "PUT" and r.path == REFERRAL]

    with serve_in_thread(sandbox) as url:
        homes = [_home(tmp_path, url, _settings(pg_server, database, a)) for a in agents[:2]]
        for home, share in zip(homes, plans, strict=True):
            rows = "".join(f"user,{u},,J-{home.name}-{u}\n" for u in share)
            (home / "fix.csv").write_text(
                "level,userId,ctidTraderAccountId,partnerId\n" + rows, encoding="utf-8"
            )
            planned = subprocess.run(
                _cli("plan", "fix.csv", "-o", "fix.plan.json"), env=_environ(home),
                cwd=home, capture_output=True, text=True, timeout=WAIT, check=False,
            )  # fmt: skip
            assert planned.returncode == 0, planned.stderr
        assert puts() == []  # planning reads only

        procs: list[subprocess.Popen[str]] = []
        try:
            workers = []
            for agent, share in zip(agents[2:], singles, strict=True):
                command = [sys.executable, str(WORKER), url, pg_server.host, str(pg_server.port),
                           database, agent, str(TEAM_BUDGET), *map(str, share)]  # fmt: skip
                worker = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
                )
                workers.append(worker)
            procs += workers
            for worker in workers:
                assert worker.stdout is not None
                assert worker.stdout.readline().strip() == "ready"
            jobs = []
            for home in homes:
                command = _cli("apply", "fix.plan.json", "--reason", "team load",
                               "--ticket", "T-13", "--yes", "--json")  # fmt: skip
                job = subprocess.Popen(
                    command, env=_environ(home), cwd=home, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )  # fmt: skip
                jobs.append(job)
            procs += jobs
            progress = []
            for job in jobs:
                assert job.stderr is not None
                progress.append(_lines(job.stderr))
            for worker in workers:  # the single writes start while the jobs start theirs
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()

            results = []
            for worker in workers:
                stdout, _ = worker.communicate(timeout=WAIT)
                assert worker.returncode == 0
                results.append(json.loads(stdout.strip().splitlines()[-1]))
            deadline = time.monotonic() + WAIT
            while len(puts()) < TEAM_BUDGET and time.monotonic() < deadline:
                time.sleep(0.05)  # waiting on a condition, not for an order
            # The budget is used up: each job ends up waiting for it (a job has more rows than
            # the budget), and is stopped there as an operator would (Ctrl+C, SIGTERM here).
            reports = []
            for job, lines in zip(jobs, progress, strict=True):
                _wait_for_line(lines, "waiting for the write budget", deadline)
                job.send_signal(signal.SIGTERM)
            for job in jobs:
                stdout, _ = job.communicate(timeout=WAIT)
                assert job.returncode == 1, stdout  # ran; rows left to do
                reports.append(json.loads(stdout))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()

    # The server saw exactly the team's budget, never more, and never had to refuse a write.
    writes = puts()
    assert len(writes) == TEAM_BUDGET
    assert [w.status for w in writes] == [200] * TEAM_BUDGET  # 0 rate-limit answers
    assert all(w.applied for w in writes)  # type: ignore[attr-defined]
    # Single writes: each either sent or refused by the team's budget, nothing else.
    assert [r["other"] for r in results] == [{}, {}]
    assert [r["done"] + r["refused"] for r in results] == [SINGLES, SINGLES]
    # The jobs: stopped, every row either written or still pending (resumable), none failed.
    for report in reports:
        assert report["state"] == "stopped"
        counts = {state: n for state, n in report["counts"].items() if n}
        assert set(counts) <= {"ok", "pending"}, counts
        assert counts.get("ok", 0) + counts.get("pending", 0) == PLAN_ROWS
    sent_by_jobs = sum(r["counts"]["ok"] for r in reports)
    assert sent_by_jobs + sum(r["done"] for r in results) == TEAM_BUDGET

    with PgDatabase(admin, None) as db:
        journal = Journal(db)
        try:
            entries = list(journal.iter_entries())
            assert journal.verify().ok  # one chain for the whole team
            assert journal.pending_count() == 0
        finally:
            journal.close()
        store = CheckpointStore(db)
        try:
            for report in reports:
                assert store.counts(report["job"]) == report["counts"]
                job_rows = {r.row: r for r in store.rows(report["job"])}
                assert {r.state for r in job_rows.values()} <= {"ok", "pending"}
        finally:
            store.close()
    assert [e.outcome for e in entries] == ["ok"] * TEAM_BUDGET
    # Every write the server received has exactly one journal entry, and every entry a write.
    received = Counter((w.body["userId"], w.body["partnerId"]) for w in writes)  # type: ignore[attr-defined]
    journaled = Counter((int(e.target.removeprefix("user:")), e.after) for e in entries)
    assert received == journaled
    assert max(received.values()) == 1  # none sent twice
    by_batch = Counter(e.batch_id for e in entries)  # a job's writes name it; single ones none
    assert by_batch[None] == sum(r["done"] for r in results)
    assert [by_batch[r["job"]] for r in reports] == [r["counts"]["ok"] for r in reports]
    job_rows_sent = {
        (row["target"], row["journal_id"])
        for report in reports
        for row in report["rows"]
        if row["outcome"] == "ok"
    }
    assert job_rows_sent == {(e.target, e.id) for e in entries if e.batch_id is not None}
