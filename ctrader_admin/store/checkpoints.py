"""Checkpoints of bulk jobs: the job (its plan, reason, ticket, who runs it) and the state of
every row, so that a job stopped by a crash, a kill or a power cut can be resumed.

The journal stays the record of what was sent; a checkpoint is what the job knew about a row when
it last saved. Saving is batched by the caller, so a checkpoint may lag a little behind the
journal: the resume path re-reads every row that is not final, which makes the lag harmless.

The same SQL runs on SQLite and on the team database (store/sql.py). Who may run a job is where
the engines differ: on SQLite (one computer) the runner's process id tells whether it is alive;
on the team database a live runner holds the job's advisory lock (store/pg/jobs.py), which the
server frees when the runner's connection ends, whatever its workstation.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.sql import Store
from ctrader_admin.store.timestamps import utc_iso

if TYPE_CHECKING:
    from ctrader_admin.store.pg.jobs import JobLocks
    from ctrader_admin.store.pg.watch import ChannelWatcher

RowState = Literal["pending", "in_flight", "ok", "skipped", "drift", "failed", "unknown"]
ROW_STATES: tuple[RowState, ...] = get_args(RowState)
# Final: the row needs nothing more. "unknown" is final for a run but a resume re-reads it.
FINAL_STATES: frozenset[RowState] = frozenset({"ok", "skipped", "drift", "failed", "unknown"})
RESUMABLE_STATES: frozenset[RowState] = frozenset({"pending", "in_flight", "unknown"})

# running: a process works on it (or died doing so); stopped: cancelled or interrupted;
# finished: every row reached a final state.
JobState = Literal["running", "stopped", "finished"]


class CheckpointError(ExpectedError):
    """A job operation that cannot be done; the message is meant for the operator."""


@dataclass(frozen=True, slots=True)
class NewJob:
    id: str  # also the batch id of every journal entry the job writes
    profile_id: str
    plan_hash: str
    plan_json: str
    operator: str
    reason: str
    ticket: str


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    profile_id: str
    plan_hash: str
    plan_json: str
    operator: str
    reason: str
    ticket: str
    state: JobState
    runner: str | None
    message: str | None
    created_at: str
    updated_at: str
    finished_at: str | None


@dataclass(frozen=True, slots=True)
class RowCheckpoint:
    row: int  # the plan row number (1-based)
    state: RowState
    error: str | None = None
    journal_id: int | None = None
    attempts: int = 0
    observed: str | None = None  # the value read on the backend when the row was last checked


_JOB_COLUMNS = (
    "id, profile_id, plan_hash, plan, operator, reason, ticket, state, runner, message, "
    "created_at, updated_at, finished_at"
)
# Assembled once from the constant column list above, never from input.
_SELECT_JOBS = f"SELECT {_JOB_COLUMNS} FROM bulk_jobs "  # noqa: S608
_INSERT_JOB = (
    f"INSERT INTO bulk_jobs ({_JOB_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, NULL, ?, ?, NULL)"
)


def this_runner() -> str:
    """Who runs a job: host and process id, so another process can tell whether it is alive."""
    return f"{socket.gethostname()}:{os.getpid()}"


def runner_alive(runner: str | None) -> bool:
    """True when ``runner`` is a live process on this host. On another host: assumed alive."""
    if not runner:
        return False
    host, _, pid_text = runner.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def _run_by_another_process(state: str, runner: str | None) -> bool:
    """On this computer's file: the job is running in another process that is alive."""
    return state == "running" and runner != this_runner() and runner_alive(runner)


class CheckpointStore:
    def __init__(self, database: Store) -> None:
        self._db = database
        self._locks: JobLocks | None = None
        if database.engine == "postgresql":
            from ctrader_admin.store.pg.database import PgDatabase
            from ctrader_admin.store.pg.jobs import JobLocks

            assert isinstance(database, PgDatabase)
            self._locks = JobLocks(database)

    def watch(self) -> ChannelWatcher | None:
        """On the team database, a listener told the id of every job anyone creates, advances
        or ends (LISTEN/NOTIFY, on a connection of its own); None on the local file, where only
        this process runs jobs."""
        if self._locks is None:
            return None
        from ctrader_admin.store.pg.database import PgDatabase
        from ctrader_admin.store.pg.jobs import JOBS_CHANNEL
        from ctrader_admin.store.pg.watch import ChannelWatcher

        assert isinstance(self._db, PgDatabase)
        return ChannelWatcher(self._db, JOBS_CHANNEL)

    def close(self) -> None:
        """Let go of the jobs this process runs (on the team database: their locks)."""
        if self._locks is not None:
            self._locks.close()

    # --- jobs --------------------------------------------------------------------------------

    def create_job(self, job: NewJob, rows: Iterable[RowCheckpoint]) -> JobRecord:
        """Record a new job, claimed by this process, with the initial state of every row."""
        now = utc_iso()
        if self._locks is not None and not self._locks.hold(job.id):
            raise CheckpointError(f"Job {job.id} is already being run by another workstation.")
        with self._db.transaction() as conn:
            conn.execute(
                _INSERT_JOB,
                (
                    job.id,
                    job.profile_id,
                    job.plan_hash,
                    job.plan_json,
                    job.operator,
                    job.reason,
                    job.ticket,
                    this_runner(),
                    now,
                    now,
                ),
            )
            conn.executemany(
                "INSERT INTO bulk_job_rows "
                "(job_id, row, state, error, journal_id, attempts, observed, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [_row_params(job.id, row, now) for row in rows],
            )
        created = self.job(job.id)
        assert created is not None
        return created

    def job(self, job_id: str) -> JobRecord | None:
        with self._db.read() as conn:
            row = conn.execute(_SELECT_JOBS + "WHERE id = ?", (job_id,)).fetchone()
        return JobRecord(*row) if row else None

    def find_jobs(self, prefix: str) -> list[JobRecord]:
        """Jobs whose id starts with ``prefix`` (operators type the first few characters)."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._db.read() as conn:
            rows = conn.execute(
                _SELECT_JOBS + "WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT 20",
                (pattern,),
            ).fetchall()
        return [JobRecord(*row) for row in rows]

    def jobs(self, profile_id: str | None = None, limit: int = 50) -> list[JobRecord]:
        """The newest jobs first."""
        order = "ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._db.read() as conn:
            if profile_id:
                cursor = conn.execute(
                    _SELECT_JOBS + "WHERE profile_id = ? " + order, (profile_id, max(0, limit))
                )
            else:
                cursor = conn.execute(_SELECT_JOBS + order, (max(0, limit),))
            rows = cursor.fetchall()
        return [JobRecord(*row) for row in rows]

    def unfinished_for_plan(self, profile_id: str, plan_hash: str) -> JobRecord | None:
        with self._db.read() as conn:
            row = conn.execute(
                _SELECT_JOBS + "WHERE profile_id = ? AND plan_hash = ? AND state != 'finished' "
                "ORDER BY created_at DESC LIMIT 1",
                (profile_id, plan_hash),
            ).fetchone()
        return JobRecord(*row) if row else None

    def running_elsewhere(self, jobs: Iterable[JobRecord]) -> set[str]:
        """The ids of the jobs that another live process runs now: on the team database, whose
        session holds the job's lock (on any workstation); on this computer's file, whose
        process is alive."""
        if self._locks is not None:
            return self._locks.held_elsewhere([job.id for job in jobs if job.state == "running"])
        return {job.id for job in jobs if _run_by_another_process(job.state, job.runner)}

    def claim(self, job_id: str) -> JobRecord:
        """Mark the job as run by this process; refused while another live process runs it."""
        me = this_runner()
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT state, runner FROM bulk_jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise CheckpointError(f"There is no job {job_id}.")
            state, runner = row
            if self._locks is not None:
                busy = not self._locks.hold(job_id)
            else:
                busy = _run_by_another_process(state, runner)
            if busy:
                raise CheckpointError(
                    f"Job {job_id} is being run by another process ({runner}); "
                    "wait for it to finish or stop it first."
                )
            conn.execute(
                "UPDATE bulk_jobs SET state = 'running', runner = ?, message = NULL, "
                "finished_at = NULL, updated_at = ? WHERE id = ?",
                (me, utc_iso(), job_id),
            )
        claimed = self.job(job_id)
        assert claimed is not None
        return claimed

    def set_state(self, job_id: str, state: JobState, message: str | None = None) -> None:
        now = utc_iso()
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE bulk_jobs SET state = ?, message = ?, updated_at = ?, "
                "finished_at = ? WHERE id = ?",
                (state, message, now, now if state == "finished" else None, job_id),
            )
        if state != "running" and self._locks is not None:
            self._locks.release(job_id)

    # --- rows --------------------------------------------------------------------------------

    def rows(self, job_id: str) -> list[RowCheckpoint]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT row, state, error, journal_id, attempts, observed FROM bulk_job_rows "
                "WHERE job_id = ? ORDER BY row",
                (job_id,),
            ).fetchall()
        return [RowCheckpoint(*row) for row in rows]

    def counts(self, job_id: str) -> dict[RowState, int]:
        """Rows per state; every state is present, with 0 where none."""
        counts: dict[RowState, int] = dict.fromkeys(ROW_STATES, 0)
        with self._db.read() as conn:
            for state, count in conn.execute(
                "SELECT state, count(*) FROM bulk_job_rows WHERE job_id = ? GROUP BY state",
                (job_id,),
            ):
                counts[state] = count
        return counts

    def save_rows(self, job_id: str, rows: Sequence[RowCheckpoint]) -> None:
        """Save row states in one transaction (the job's heartbeat moves with them)."""
        if self._locks is not None and not self._locks.still_held(job_id):
            raise CheckpointError(
                f"Job {job_id} was taken over by another workstation while this one's "
                "connection to the team database was lost; its progress is theirs to save."
            )
        now = utc_iso()
        with self._db.transaction() as conn:
            conn.executemany(
                "UPDATE bulk_job_rows SET state = ?, error = ?, journal_id = ?, attempts = ?, "
                "observed = ?, updated_at = ? WHERE job_id = ? AND row = ?",
                [
                    (r.state, r.error, r.journal_id, r.attempts, r.observed, now, job_id, r.row)
                    for r in rows
                ],
            )
            conn.execute("UPDATE bulk_jobs SET updated_at = ? WHERE id = ?", (now, job_id))


def _row_params(job_id: str, row: RowCheckpoint, now: str) -> tuple[object, ...]:
    if row.state not in ROW_STATES:
        raise CheckpointError(f"Unknown row state {row.state!r}.")
    return (job_id, row.row, row.state, row.error, row.journal_id, row.attempts, row.observed, now)
