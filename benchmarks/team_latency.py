"""From one agent's write to another agent's Journal tab showing it — goal ≤ 1 s.

Two processes on one team database (a throwaway PostgreSQL cluster, durable like a real server):
- the viewer: the desktop app's Journal tab (JournalTab, its model, the UiContext that listens
  to the team journal — LISTEN/NOTIFY on a thread of its own, handed to the GUI thread by a Qt
  signal), built by ``compose_backoffice`` as the app builds it, connected as agent B; it prints
  the id of the newest entry each time the model's first page arrives;
- the writer (this process), agent A: one entry at a time through ``Journal.begin``/``complete``
  (the write gate's two journal steps), then waits until the viewer shows it.
Latency = the time the viewer's model has the entry minus the time ``complete`` returned (both
``time.time()`` on this one machine).

    .venv/bin/python benchmarks/team_latency.py [--writes 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from team_server import team_server

from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings

GOAL_SECONDS = 1.0


def viewer(host: str, port: str, database: str, user: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication, QMainWindow

    from ctrader_admin.store.database import Database
    from ctrader_admin.store.paths import AppPaths
    from ctrader_admin.store.profiles import ProfileStore
    from ctrader_admin.ui.context import UiContext
    from ctrader_admin.ui.journal_tab import JournalTab
    from ctrader_admin.wiring import compose_backoffice

    settings = TeamSettings(host=host, port=int(port), database=database, user=user, tls=False)
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as home:
        paths = AppPaths.under(Path(home))
        office = compose_backoffice(
            Database.open(paths), ProfileStore(paths), workstation="viewer",
            team=PgDatabase(settings, None),
        )  # fmt: skip
        window = QMainWindow()
        tab = JournalTab(UiContext(office, window))

        def shown() -> None:
            top = tab.model.entry_at(0)
            print(f"seen {top.id if top else 0} {time.time():.6f}", flush=True)

        tab.model.first_page.connect(shown)
        window.setCentralWidget(tab)
        window.show()

        async def until_stdin_closes() -> None:
            await asyncio.to_thread(sys.stdin.read)

        with loop:
            loop.run_until_complete(until_stdin_closes())
        office.close_stores()


def _draft(n: int) -> JournalDraft:
    return JournalDraft(
        operator="40001", profile_id="acme-live", profile_name="ACME Live", environment="live",
        broker_name="acme", action="set_partner", target=f"user:{2_000_000 + n}",
        after=f"IB-{n}", reason="latency benchmark", workstation="writer",
    )  # fmt: skip


def main() -> None:
    if sys.argv[1:2] == ["--viewer"]:
        viewer(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=100)
    args = parser.parse_args()
    with team_server(2) as server:
        port = server.port
        writer_role, viewer_role = server.agents
        proc = subprocess.Popen(
            [sys.executable, __file__, "--viewer", "127.0.0.1", str(port), "postgres",
             viewer_role],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        assert proc.stdin is not None

        def seen_until(entry_id: int) -> float:
            while True:
                line = proc.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    sys.exit("the viewer stopped")
                _, shown, at = line.split()
                if int(shown) >= entry_id:
                    return float(at)

        seen_until(0)  # the empty journal is on screen
        mine = server.settings(writer_role)
        latencies: list[float] = []
        with PgDatabase(mine, None) as db:
            journal = Journal(db)
            for n in range(args.writes):
                entry = journal.complete(journal.begin(_draft(n)), "ok")
                written = time.time()
                latencies.append(seen_until(entry.id) - written)
            journal.close()
        proc.stdin.close()
        proc.wait(timeout=30)

    latencies.sort()
    median = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(f"{len(latencies)} writes by agent A, each shown in agent B's Journal tab model:")
    print(f"  median {median * 1000:7.1f} ms  = {median / GOAL_SECONDS:.3f}× the 1 s goal")
    print(f"  p99    {p99 * 1000:7.1f} ms  = {p99 / GOAL_SECONDS:.3f}× the 1 s goal")
    print(f"  max    {latencies[-1] * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
