"""On the team database every change to a job tells the team (the Jobs view's live updates): one
notice per job creation, per saved batch of checkpoints however many rows it holds, and per state
change, with the job's id; asserted through the server's notifications, as an agent."""

from __future__ import annotations

import select
import time
import uuid

from pg_cluster import PgServer
from team_db import agent_store

from ctrader_admin.store.checkpoints import CheckpointStore, NewJob, RowCheckpoint
from ctrader_admin.store.pg.jobs import JOBS_CHANNEL
from ctrader_admin.store.pg.watch import ChannelWatcher

END = "end-of-test"


def _told_until_end(watcher: ChannelWatcher) -> list[str]:
    """Every payload until the test's own closing notice (delivered in commit order)."""
    told: list[str] = []
    deadline = time.monotonic() + 30
    while END not in told:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"the server told only {told}"
        select.select([watcher.fileno()], [], [], remaining)
        payloads = watcher.drain_payloads()
        assert payloads is not None
        told += payloads
    return told


def test_each_job_change_notifies_its_id_once_per_transaction(pg_server: PgServer) -> None:
    database = agent_store(pg_server)
    store = CheckpointStore(database)
    watcher = store.watch()
    assert watcher is not None
    try:
        job_id = uuid.uuid4().hex
        rows = [RowCheckpoint(row=n, state="pending") for n in range(1, 501)]
        new = NewJob(id=job_id, profile_id="p", plan_hash="h", plan_json="{}", operator="anna",
                     reason="r", ticket="t")  # fmt: skip
        store.create_job(new, rows)
        store.save_rows(job_id, [RowCheckpoint(row=n, state="ok") for n in range(1, 301)])
        store.save_rows(job_id, [RowCheckpoint(row=n, state="ok") for n in range(301, 501)])
        store.set_state(job_id, "finished", None)
        with database.transaction() as conn:
            conn.execute("SELECT pg_notify(?, ?)", (JOBS_CHANNEL, END))

        assert _told_until_end(watcher) == [job_id] * 4 + [END]
    finally:
        watcher.close()
        store.close()
        database.close()
