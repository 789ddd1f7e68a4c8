"""Peak memory of planning a very large CSV (issue 9): goal ≤ 600 MB RSS for 1 000 000 rows, or
a refusal up front with a clear limit.

Runs the real command, ``ctrader-admin plan BIG.csv -o BIG.plan.json``, as a child process on the
built-in sandbox profile (in-process sandbox, no latency) in a throw-away CTRADER_ADMIN_HOME, and
reads the child's peak RSS from the kernel (``os.wait4``'s ``ru_maxrss``). Two runs:

  1. --rows (default 1 000 000) user-level partnerId rows: what the issue asks;
  2. exactly the largest file a plan takes (csv_input.MAX_PLAN_ROWS): the worst accepted case,
     every row read from the sandbox, the plan sealed and written.

    .venv/bin/python benchmarks/plan_memory.py                    # ~2 min on a 2-core box
    .venv/bin/python benchmarks/plan_memory.py --rows 20000 --skip-limit
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ctrader_admin.services.bulk.csv_input import MAX_PLAN_ROWS

GOAL_MB = 600.0
FIRST_USER_ID = 1_000_001  # the sandbox's seeded users start here; later ids are not found


@dataclass(frozen=True)
class Run:
    rows: int
    exit_code: int
    seconds: float
    peak_rss_mb: float
    first_line: str


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("level,userId,ctidTraderAccountId,partnerId\n")
        for i in range(rows):
            handle.write(f"user,{FIRST_USER_ID + i},,IB-{i % 977}\n")


def plan_in_child(folder: Path, rows: int) -> Run:
    source = folder / f"plan-{rows}.csv"
    write_csv(source, rows)
    env = dict(
        os.environ,
        CTRADER_ADMIN_HOME=str(folder / f"home-{rows}"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    command = [sys.executable, "-m", "ctrader_admin", "plan", str(source), "-o"]
    command.append(str(folder / f"plan-{rows}.plan.json"))
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert child.stdout is not None
    first = child.stdout.readline().strip()
    for _ in child.stdout:  # drain: one line per problem row
        pass
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    source.unlink()
    return Run(rows, child.returncode, seconds, usage.ru_maxrss / 1024, first)


def report(run: Run) -> None:
    print(f"  {run.rows:>9,} rows: exit {run.exit_code}, {run.seconds:6.1f} s wall, ", end="")
    print(f"peak RSS {run.peak_rss_mb:6.0f} MB = {run.peak_rss_mb / GOAL_MB:.2f}× the goal")
    print(f"      {run.first_line[:160]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-limit", action="store_true", help="only the --rows run")
    args = parser.parse_args()
    print(f"ctrader-admin plan, in-process sandbox, goal ≤ {GOAL_MB:.0f} MB peak RSS")
    print(f"(a plan takes at most {MAX_PLAN_ROWS:,} rows: services/bulk/csv_input.py)")
    with tempfile.TemporaryDirectory(prefix="plan-memory-") as tmp:
        folder = Path(tmp)
        report(plan_in_child(folder, args.rows))
        if not args.skip_limit and args.rows != MAX_PLAN_ROWS:
            report(plan_in_child(folder, MAX_PLAN_ROWS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
