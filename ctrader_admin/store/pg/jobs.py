"""Who runs a bulk job, decided by the team database (store/checkpoints.py).

On one computer a job's runner is a process id that can be checked; across workstations it
cannot. So, as journal sessions do (store/pg/journal_engine.py), a process running a job holds a
session-level advisory lock on a connection of its own: PostgreSQL releases it when that
connection ends in any way (the app quits, crashes, is killed; TCP keepalives end the connection
of a machine that vanished). "The lock can be taken" means exactly "no live session runs it".
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from ctrader_admin.store.pg.database import LOCK_CLASS, answers
from ctrader_admin.store.pg.journal_engine import KEEPALIVE, close_releasing_locks

if TYPE_CHECKING:
    import psycopg

    from ctrader_admin.store.pg.database import PgDatabase


# What every change to a job's record notifies, with the job's id as the payload (the trigger of
# store/pg/migrations.py ``_JOBS_LIVE``).
JOBS_CHANNEL = "ctrader_jobs"
LOCK_JOBS = LOCK_CLASS + 3  # the two-int lock class of running jobs; the key: the job's


def job_lock_key(job_id: str) -> int:
    """A 32-bit key: the one-bigint lock space is the journal sessions' (``team status`` counts
    them). A collision would only refuse a second job while the first runs, never share one."""
    return zlib.crc32(job_id.encode()) - 2**31


class JobLocks:
    """This process's hold on the jobs it runs: one connection, one lock per job."""

    def __init__(self, database: PgDatabase) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._held: set[str] = set()

    def _live(self) -> psycopg.Connection[Any]:
        """The holding connection. One the server dropped (a restart, a network cut) took its
        locks with it: a new one takes them again, and forgets the jobs another session took
        meanwhile. Call with ``_lock`` held."""
        if self._conn is not None and answers(self._conn):
            return self._conn
        self._conn = self._database.connect()
        self._conn.execute(KEEPALIVE)
        self._held = {job_id for job_id in self._held if self._take(self._conn, job_id)}
        return self._conn

    def _take(self, conn: psycopg.Connection[Any], job_id: str) -> bool:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_JOBS, job_lock_key(job_id))
        ).fetchone()
        return bool(row and row[0])

    def hold(self, job_id: str) -> bool:
        """Take (or keep) the job; False when a live session of any workstation holds it."""
        with self._lock:
            conn = self._live()
            # A session-level lock counts its takes: a job already held is not taken twice.
            if job_id not in self._held and self._take(conn, job_id):
                self._held.add(job_id)
            return job_id in self._held

    def still_held(self, job_id: str) -> bool:
        """Before saving the job's progress: this session still holds it (after a lost
        connection: it took it again, nobody else had)."""
        with self._lock:
            self._live()
            return job_id in self._held

    def held_elsewhere(self, job_ids: Collection[str]) -> set[str]:
        """The jobs among ``job_ids`` that another live session holds, i.e. that another
        workstation (or process) runs now. A crashed one's lock went with its session."""
        with self._lock:
            others = [job_id for job_id in job_ids if job_id not in self._held]
        # pg_locks shows a two-int lock's second key as an oid: unsigned.
        by_key = {job_lock_key(job_id) & 0xFFFFFFFF: job_id for job_id in others}
        if not by_key:
            return set()
        with self._database.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
                "AND objsubid = 2 AND classid = ? AND granted AND objid::bigint = ANY(?::bigint[]) "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (LOCK_JOBS, list(by_key)),
            ).fetchall()
        return {by_key[int(key)] for (key,) in rows}

    def release(self, job_id: str) -> None:
        with self._lock:
            if job_id not in self._held:
                return
            self._held.discard(job_id)
            conn = self._conn
            if conn is not None and not conn.broken and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_JOBS, job_lock_key(job_id)))

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._held.clear()
        if conn is not None:
            close_releasing_locks(conn)
