"""Importing a workstation's history into the team database (issue 13): a SQLite journal of N
entries imported into a team journal that already holds N, against appending N fresh entries
there with ``append_many`` (the same chain, the same server work per row); and ``verify`` on the
team journal before and after, since it then also checks each imported entry's original hash.
CPU time of this process (the machine is shared: wall-clock figures are printed for reference).

    .venv/bin/python benchmarks/team_import.py [--entries 20000]

Needs PostgreSQL's server binaries (tests/pg_cluster.py starts a throwaway durable cluster).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from team_server import team_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit" / "store"))

from store_fakes import journal_attempts

from ctrader_admin.services.history_import import import_history
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.pg.database import PgDatabase

T = TypeVar("T")


def _timed(what: str, work: Callable[[], T]) -> T:
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{what:<44} cpu {cpu:6.2f} s   wall {wall:6.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    n = parser.parse_args().entries
    with team_server(0) as server, tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "ctrader-admin.sqlite3"
        with Database(file) as db:
            local = Journal(db)
            local.append_many(journal_attempts(n))
            local.close()
        with PgDatabase(server.admin, None) as db:
            team = Journal(db)
            _timed(f"append_many {n:,} entries", lambda: team.append_many(journal_attempts(n)))
            _timed(f"verify {n:,} entries (none imported)", team.verify)
            result = _timed(f"import {n:,} entries", lambda: import_history(file, team))
            report = _timed(f"verify {2 * n:,} entries ({n:,} imported)", team.verify)
            assert result.imported == n
            assert report.ok, report.message
            again = _timed(
                "import the same file again (all skipped)", lambda: import_history(file, team)
            )
            assert (again.imported, again.skipped) == (0, n)
            team.close()


if __name__ == "__main__":
    main()
