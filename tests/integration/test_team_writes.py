"""Several workstations (processes, each its own agent role) write to one broker connection at
once, through the write gate, with the journal and the write budget in the team database, against
a loopback sandbox with an hourly write cap: the team never sends more than its budget, the
server never has to refuse one, every write is journaled once on one verifiable chain."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import PgServer

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import serve_in_thread
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings

WORKER = Path(__file__).with_name("team_write_worker.py")
MANAGER = TRAINING_MANAGERS[0]
REFERRAL = "/cid/oauth2/ctid/referral"
TEAM_BUDGET = 20  # per hour, for the whole team
SERVER_CAP = 30  # the backend's own hourly cap: the budget keeps the team under it
pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(SandboxConfig(users=80, write_cap_per_hour=SERVER_CAP))
    yield box
    box.close()


def _settings(server: PgServer, database: str, user: str) -> TeamSettings:
    return TeamSettings(host=server.host, port=server.port, database=database, user=user,
                        tls=False)  # fmt: skip


def test_four_workstations_share_one_budget_and_one_chain(
    pg_server: PgServer, sandbox: Sandbox
) -> None:
    database = pg_server.create_database()
    admin = _settings(pg_server, database, pg_server.superuser)
    agents = [f"desk{i}_{uuid.uuid4().hex[:6]}" for i in range(4)]
    with PgDatabase(admin, None) as db:
        init_team(db)
        for agent in agents:
            add_member(db, agent, None)
    reach = set(MANAGER.broker_names)
    users = [
        u for u in range(1000001, 1000081) if (sandbox.user(u) or {}).get("broker_name") in reach
    ]
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
