"""What opening a team database adds to a start: import time and max RSS of the PostgreSQL
driver, against SQLAlchemy Core (+ its psycopg dialect, + Alembic's runtime), for
docs/team-mode.md's decision. Each case is a fresh interpreter; medians of --runs.

    .venv/bin/python benchmarks/team_drivers.py [--python PATH] [--runs 9]

SQLAlchemy and Alembic are not dependencies of the app: point --python at a venv that has them
(`python -m venv /tmp/sa && /tmp/sa/bin/pip install sqlalchemy alembic 'psycopg[binary]'`);
cases whose packages are missing are reported as such.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CASES = {
    "interpreter only": "pass",
    "psycopg": "import psycopg",
    "sqlalchemy (Core)": "import sqlalchemy",
    # The dialect imports the driver lazily; a connection needs it, so it is counted.
    "sqlalchemy + dialect + psycopg": (
        "import sqlalchemy, sqlalchemy.dialects.postgresql.psycopg, psycopg"
    ),
    "... + alembic runtime": (
        "import sqlalchemy, sqlalchemy.dialects.postgresql.psycopg, psycopg, "
        "alembic.runtime.migration, alembic.operations"
    ),
}
PROBE = (
    "import time, resource\n"
    "t = time.perf_counter()\n"
    "{stmt}\n"
    "d = time.perf_counter() - t\n"
    "print(d * 1000, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    print(f"import cost in fresh interpreters ({args.python}), median of {args.runs}")
    for name, stmt in CASES.items():
        times, rss = [], []
        for _ in range(args.runs):
            done = subprocess.run(
                [args.python, "-c", PROBE.format(stmt=stmt)], capture_output=True, text=True
            )
            if done.returncode != 0:
                break
            ms, mb = map(float, done.stdout.split())
            times.append(ms)
            rss.append(mb)
        if not times:
            print(f"  {name:32s} not installed")
            continue
        print(
            f"  {name:32s} {statistics.median(times):6.1f} ms   "
            f"max RSS {statistics.median(rss):5.1f} MB"
        )


if __name__ == "__main__":
    main()
