"""Journal appends per second through the team store: N processes (each its own agent role) ×
M single writes on one PostgreSQL database, against one process making all N×M on SQLite.
Every write is what the write gate does around a request: ``begin`` (the intent) then
``complete`` (the chained entry), two durable commits. Both servers are durable (fsync on).

    .venv/bin/python benchmarks/team_journal.py [--processes 5] [--writes 2000]

Needs PostgreSQL's server binaries (tests/pg_cluster.py starts a throwaway cluster). Also checks
the issue's goal of 0 lost and 0 duplicate entries: ids 1..N×M, every (agent, write) once, the
chain verified. No sandbox in the loop yet: the app does not wire the team journal into the
write gate (docs/team-mode.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from team_server import team_server

from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.sql import Store


def _draft(agent: str, n: int) -> JournalDraft:
    return JournalDraft(
        operator=agent, profile_id="team", profile_name="Team", environment="demo",
        broker_name="sandbox_main", action="set_partner", target=f"user:{n}",
        after=f"IB-{n}", reason="benchmark", ticket="B-1", workstation=agent,
    )  # fmt: skip


def _write(store: Store, agent: str, count: int) -> float:
    journal = Journal(store)
    started = time.perf_counter()
    for n in range(count):
        journal.complete(journal.begin(_draft(agent, n)), "ok")
    elapsed = time.perf_counter() - started
    journal.close()
    return elapsed


def _notice_latencies(writer: TeamSettings, reader: TeamSettings, count: int) -> list[float]:
    """Seconds from a write's ``complete`` being called (the journal entry's transaction, its
    commit included) to another agent's watcher receiving its id, one write at a time: an upper
    bound of the commit-to-notice delay (the notice may arrive before ``complete`` returns)."""
    from ctrader_admin.store.pg.watch import JournalWatcher

    received: dict[int, float] = {}
    done = threading.Event()
    with PgDatabase(writer, None) as writer_db, PgDatabase(reader, None) as reader_db:
        watcher = JournalWatcher(reader_db)

        def watch() -> None:
            while not done.is_set():
                newest = watcher.wait(timeout=0.5)
                if newest is not None:
                    received[newest] = time.perf_counter()

        thread = threading.Thread(target=watch)
        thread.start()
        journal = Journal(writer_db)
        started: dict[int, float] = {}
        for n in range(count):
            intent = journal.begin(_draft(writer.user, n))
            before = time.perf_counter()
            entry = journal.complete(intent, "ok")
            started[entry.id] = before
            while entry.id not in received:  # the next write only once this one was seen
                time.sleep(0.0005)
        done.set()
        thread.join()
        journal.close()
        watcher.close()
    return [received[i] - started[i] for i in started]


def worker(host: str, port: str, database: str, user: str, count: str) -> None:
    settings = TeamSettings(host=host, port=int(port), database=database, user=user, tls=False)
    with PgDatabase(settings, None) as db:
        print("ready", flush=True)
        sys.stdin.readline()
        _write(db, user, int(count))


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--writes", type=int, default=2000, help="per process")
    parser.add_argument("--notices", type=int, default=200, help="writes timed to a watcher")
    args = parser.parse_args()
    total = args.processes * args.writes

    with (
        tempfile.TemporaryDirectory() as folder,
        Database(Path(folder) / "journal.sqlite3") as sqlite_db,
    ):
        sqlite_seconds = _write(sqlite_db, "solo", total)

    with team_server(args.processes) as server:
        admin, agents, port = server.admin, server.agents, server.port
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    "127.0.0.1",
                    str(port),
                    "postgres",
                    agent,
                    str(args.writes),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for agent in agents
        ]
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            proc.communicate()
        team_seconds = time.perf_counter() - started

        with PgDatabase(admin, None) as db:
            journal = Journal(db)
            report = journal.verify()
            entries = list(journal.iter_entries())
            journal.close()
        latencies = _notice_latencies(
            server.settings(agents[0]), server.settings(agents[1]), args.notices
        )

    ids = [e.id for e in entries]
    seen = Counter((e.operator, e.target) for e in entries)
    lost = total - len(seen)
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    team_rate, sqlite_rate = total / team_seconds, total / sqlite_seconds
    print(f"journal appends (begin + complete, durable), {total:,} writes each side")
    print(f"  team store: {args.processes} processes × {args.writes:,} on PostgreSQL: "
          f"{team_rate:,.0f}/s ({team_seconds:.1f} s)")  # fmt: skip
    print(f"  baseline:   1 process × {total:,} on SQLite: {sqlite_rate:,.0f}/s "
          f"({sqlite_seconds:.1f} s)")  # fmt: skip
    print(f"  ratio team ÷ SQLite: {team_rate / sqlite_rate:.2f}×")
    consecutive = ids == list(range(1, total + 1))
    latencies.sort()
    median, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    print(f"  lost {lost}, duplicate {duplicates}; ids 1..{total} in order: {consecutive}; "
          f"chain: {report.message}")  # fmt: skip
    print(
        f"one agent's journal append → another agent's watcher told (LISTEN/NOTIFY), "
        f"{len(latencies)} writes: median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
