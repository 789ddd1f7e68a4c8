"""Bulk jobs and their checkpoints on both engines; who may run a job: on SQLite the runner's
process, on the team database a session's advisory lock, whatever the workstation."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from pg_cluster import PgServer
from team_db import team_of_two

from ctrader_admin.store.checkpoints import (
    CheckpointError,
    CheckpointStore,
    NewJob,
    RowCheckpoint,
    this_runner,
)
from ctrader_admin.store.database import Database
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.sql import Store

P = "acme-live"


def new_job(job_id: str | None = None, plan_hash: str = "h1") -> NewJob:
    return NewJob(
        id=job_id or uuid.uuid4().hex,
        profile_id=P,
        plan_hash=plan_hash,
        plan_json=json.dumps({"rows": [1, 2, 3]}),
        operator="anna",
        reason="quarterly clean-up",
        ticket="OPS-7",
    )


PENDING = [RowCheckpoint(row=n, state="pending") for n in (1, 2, 3)]


@pytest.fixture
def checkpoints(store: Store) -> CheckpointStore:
    opened = CheckpointStore(store)
    yield opened  # type: ignore[misc]
    opened.close()


def test_a_job_and_its_rows_are_kept(checkpoints: CheckpointStore) -> None:
    job = checkpoints.create_job(new_job("abc123"), PENDING)
    assert (job.state, job.runner, job.finished_at, job.plan_hash) == (
        "running", this_runner(), None, "h1",
    )  # fmt: skip
    assert json.loads(job.plan_json) == {"rows": [1, 2, 3]}
    checkpoints.save_rows(
        job.id,
        [
            RowCheckpoint(row=1, state="ok", journal_id=2**40, attempts=1, observed="x"),
            RowCheckpoint(row=3, state="failed", error="INVALID_LOGIN", attempts=2),
        ],
    )
    assert checkpoints.rows(job.id) == [
        RowCheckpoint(row=1, state="ok", journal_id=2**40, attempts=1, observed="x"),
        RowCheckpoint(row=2, state="pending"),
        RowCheckpoint(row=3, state="failed", error="INVALID_LOGIN", attempts=2),
    ]
    counts = checkpoints.counts(job.id)
    assert (counts["ok"], counts["pending"], counts["failed"], counts["unknown"]) == (1, 1, 1, 0)
    assert checkpoints.unfinished_for_plan(P, "h1") == checkpoints.job(job.id)

    checkpoints.set_state(job.id, "finished", "3 rows")
    done = checkpoints.job(job.id)
    assert done is not None
    assert (done.state, done.message, done.finished_at) == ("finished", "3 rows", done.updated_at)
    assert checkpoints.unfinished_for_plan(P, "h1") is None
    checkpoints.set_state(job.id, "stopped")
    stopped = checkpoints.job(job.id)
    assert stopped is not None
    assert stopped.finished_at is None


def test_lists_newest_first_and_find_by_prefix(checkpoints: CheckpointStore) -> None:
    ids = ["a_1", "a%2", "b33", "a_4"]
    for job_id in ids:  # created within the same millisecond: insertion order breaks the tie
        checkpoints.create_job(new_job(job_id), [])
    assert [j.id for j in checkpoints.jobs(P)] == ids[::-1]
    assert [j.id for j in checkpoints.jobs(None, limit=2)] == ["a_4", "b33"]
    assert checkpoints.jobs("other") == []
    # _ and % are the operator's characters, not wildcards
    assert sorted(j.id for j in checkpoints.find_jobs("a_")) == ["a_1", "a_4"]
    assert [j.id for j in checkpoints.find_jobs("a%")] == ["a%2"]
    assert checkpoints.find_jobs("z") == []
    with pytest.raises(CheckpointError, match="There is no job nope"):
        checkpoints.claim("nope")
    with pytest.raises(CheckpointError, match="Unknown row state"):
        checkpoints.create_job(new_job(), [RowCheckpoint(row=1, state="done")])  # type: ignore[arg-type]


def test_sqlite_refuses_a_claim_while_the_runner_lives_and_resumes_a_dead_ones() -> None:
    db = Database()
    checkpoints = CheckpointStore(db)
    job = checkpoints.create_job(new_job(), PENDING)
    # A process of this host that has ended: its pid is free (a test cannot fake a live one
    # on another host, so that runner is only named).
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    host = this_runner().rpartition(":")[0]
    for runner, refused in (("elsewhere.example:1", True), (f"{host}:{dead}", False)):
        with db.transaction() as conn:
            conn.execute("UPDATE bulk_jobs SET runner = ? WHERE id = ?", (runner, job.id))
        if refused:
            with pytest.raises(CheckpointError, match="being run by another process"):
                checkpoints.claim(job.id)
        else:
            assert checkpoints.claim(job.id).runner == this_runner()


def _workstation(settings: TeamSettings) -> tuple[PgDatabase, CheckpointStore]:
    """Another workstation: its own connection to the team database, its own job locks."""
    db = PgDatabase(settings, None)
    return db, CheckpointStore(db)


@pytest.fixture
def team(pg_server: PgServer) -> tuple[TeamSettings, TeamSettings, TeamSettings]:
    """(administrator, anna, bob) on a fresh team database."""
    return team_of_two(pg_server)


def test_team_a_live_session_keeps_its_job_and_a_dead_ones_is_resumed_explicitly(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    admin, anna, bob = team
    anna_db, anna_jobs = _workstation(anna)
    bob_db, bob_jobs = _workstation(bob)
    job = anna_jobs.create_job(new_job(), PENDING)
    with pytest.raises(CheckpointError, match="being run by another process"):
        bob_jobs.claim(job.id)
    # What the Jobs list says: bob sees anna's job running elsewhere, anna sees her own.
    assert bob_jobs.running_elsewhere(bob_jobs.jobs(P)) == {job.id}
    assert anna_jobs.running_elsewhere(anna_jobs.jobs(P)) == set()
    with anna_db.read() as conn:  # a running job is not a journal session (`team status`)
        locks = conn.execute(
            "SELECT objsubid, count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "GROUP BY objsubid"
        ).fetchall()
    assert locks == [(2, 1)]  # the job's, in the two-int space; journal sessions use 1
    # Stopped by its runner: the job is free for anyone to resume.
    anna_jobs.set_state(job.id, "stopped", "cancelled")
    assert bob_jobs.claim(job.id).state == "running"
    with pytest.raises(CheckpointError, match="being run by another process"):
        anna_jobs.claim(job.id)

    # Bob's workstation dies: the server ends its connections (as after a SIGKILL or a cut
    # cable). The job still says "running", yet anna may now resume it.
    with psycopg.connect(**admin.connect_kwargs(), autocommit=True) as conn:
        conn.execute(  # waits (up to 30 s) until each of bob's sessions has ended
            "SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity WHERE usename = %s",
            (bob.user,),
        )
    still = anna_jobs.job(job.id)
    assert still is not None
    assert still.state == "running"
    # Its record still says "running", yet nobody runs it: the list offers to resume it.
    assert anna_jobs.running_elsewhere([still]) == set()
    resumed = anna_jobs.claim(job.id)
    assert resumed.state == "running"
    anna_jobs.save_rows(job.id, [RowCheckpoint(row=1, state="ok")])
    # Bob's app, back on the network, finds the job taken over and saves nothing over it.
    with pytest.raises(CheckpointError, match="taken over by another workstation"):
        bob_jobs.save_rows(job.id, [RowCheckpoint(row=1, state="failed")])
    assert anna_jobs.rows(job.id)[0].state == "ok"
    for db, jobs in ((anna_db, anna_jobs), (bob_db, bob_jobs)):
        jobs.close()
        db.close()


def test_team_a_killed_workstations_job_is_resumed(
    pg_server: PgServer, team: tuple[TeamSettings, TeamSettings, TeamSettings]
) -> None:
    _, anna, bob = team
    code = (
        "import json, sys, time\n"
        "from ctrader_admin.store.checkpoints import CheckpointStore, NewJob\n"
        "from ctrader_admin.store.pg.database import PgDatabase\n"
        "from ctrader_admin.store.pg.settings import TeamSettings\n"
        "db = PgDatabase(TeamSettings(**json.loads(sys.argv[1])), None)\n"
        "jobs = CheckpointStore(db)\n"
        "jobs.create_job(NewJob('killed', 'p', 'h', '{}', 'a', 'r', 't'), [])\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(dataclasses.asdict(anna))],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
        bob_db, bob_jobs = _workstation(bob)
        with pytest.raises(CheckpointError, match="being run by another process"):
            bob_jobs.claim("killed")
        worker.kill()  # SIGKILL: nothing is released by the app
        worker.wait(timeout=30)
        # SIGKILL closes the socket: the server ends that session and frees the job's lock.
        for _ in range(100):
            try:
                claimed = bob_jobs.claim("killed")
                break
            except CheckpointError:
                time.sleep(0.1)  # the server ends the killed session's backend asynchronously
        else:
            pytest.fail("the killed workstation's job could not be resumed")
        assert claimed.runner == this_runner()
        bob_jobs.close()
        bob_db.close()
    finally:
        worker.kill()
        worker.wait(timeout=30)
        if worker.stdout is not None:
            worker.stdout.close()


def test_team_agents_cannot_edit_a_jobs_plan_nor_delete_jobs(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    _, anna, bob = team
    anna_db, anna_jobs = _workstation(anna)
    job = anna_jobs.create_job(new_job("plan1"), PENDING)
    for statement in (
        "UPDATE bulk_jobs SET plan = '{}', plan_hash = 'other'",
        "UPDATE bulk_jobs SET reason = 'another reason'",
        "UPDATE bulk_job_rows SET written_by = 'someone_else'",
        "DELETE FROM bulk_job_rows",
        "DELETE FROM bulk_jobs",
    ):
        with (
            psycopg.connect(**bob.connect_kwargs(), autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(statement)  # type: ignore[arg-type]
    assert anna_jobs.job(job.id) == job
    anna_jobs.close()
    anna_db.close()
