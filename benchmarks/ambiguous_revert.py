"""Ambiguous writes (issue 9): a batch of N partnerId writes over loopback while the sandbox
stalls some writes past the client's timeout *after* applying them and answers many retries
with 500s; then the batch's revert plan is applied. Not a test: it prints, per seed, the job's
row counts, the journal's outcomes, and how many targets the revert left changed (goal 0: every
applied write is journaled "ok" once a read-back shows it, or "unknown", so the revert covers
it; before issue 9, a stalled try followed by a 500 was journaled "failed" and skipped).

    .venv/bin/python benchmarks/ambiguous_revert.py                 # ~1 min, 2 seeds × 472 rows
    .venv/bin/python benchmarks/ambiguous_revert.py --rows 200 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections import Counter
from pathlib import Path

from ctrader_admin.sandbox import TRAINING_MANAGERS, Faults, Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import serve_in_thread
from ctrader_admin.services.bulk import ApplyOptions, JobRunner, plan_csv, plan_revert
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import JournalFilter
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.wiring import compose_backoffice

MANAGER = TRAINING_MANAGERS[0]
FAULTS = Faults(stall_after_rate=0.03, error_rate=0.5, stall_seconds=0.6, writes_only=True)
CLIENT_TIMEOUT = 0.3


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)  # retry back-offs cost no wall time here


def one_run(seed: int, rows: int, home: Path) -> str:
    sandbox = Sandbox(SandboxConfig(users=rows + 250, write_cap_per_hour=None, seed=seed))
    with serve_in_thread(sandbox) as url:
        database = Database(home / f"app-{seed}.sqlite3")
        profiles = ProfileStore(AppPaths.under(home / f"home-{seed}"))
        profiles.add(
            Profile(
                id="loopback",
                name="Loopback",
                base_url=url,
                broker_names=list(MANAGER.broker_names),
                broker_crm_name="sandbox_crm",
                manager_login=MANAGER.login,
                write_budget_per_hour=1_000_000,
                timeout_seconds=CLIENT_TIMEOUT,
            )
        )
        office = compose_backoffice(database, profiles, sleep=_no_wait, workstation="benchmark")
        journal, store = office.journal, office.checkpoints
        reach = set(MANAGER.broker_names)
        users = [
            u
            for u in range(1_000_001, 1_000_001 + rows + 250)
            if (found := sandbox.user(u)) is not None and found["broker_name"] in reach
        ][:rows]
        before = {u: sandbox.referral(user_id=u) for u in users}
        text = "level,userId,ctidTraderAccountId,partnerId\n" + "\n".join(
            f"user,{u},,AMB-{n}" for n, u in enumerate(users)
        )

        async def main() -> str:
            session = await office.open("loopback")
            await session.login(MANAGER.login, MANAGER.password, remember=False)
            plan = await plan_csv(session, text, source="ambiguous.csv")
            sandbox.config.faults = FAULTS
            options = ApplyOptions(concurrency=8, retry_backoff=0.05, max_attempts=20)
            done = await JobRunner.start(
                session, store, plan, reason="bench", ticket="", options=options
            ).run()
            sandbox.config.faults = Faults()
            await asyncio.sleep(FAULTS.stall_seconds + 0.5)  # stalled requests end on the server
            batch = JournalFilter(batch_id=done.job_id)
            outcomes = Counter(e.outcome for e in journal.iter_entries(batch))
            revert = await plan_revert(session, done.job_id, store=store)
            await JobRunner.start(session, store, revert, reason="undo", ticket="").run()
            left = sum(sandbox.referral(user_id=u) != before[u] for u in users)
            stalls = sum(1 for e in sandbox.request_log if e.fault == "stall_after")
            await office.close()
            ok_rows = done.counts["ok"]
            return (
                f"seed {seed}: {len(users)} rows, {ok_rows} ok; {stalls} writes applied then "
                f"stalled; journal {dict(outcomes)}; revert plan {len(revert.rows)} rows; "
                f"targets left changed after the revert: {left}"
            )

        try:
            return asyncio.run(main())
        finally:
            database.close()
            sandbox.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=472)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("CTRADER_ADMIN_HOME", str(Path(folder) / "app-home"))
        os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        for seed in args.seeds:
            print(one_run(seed, args.rows, Path(folder)), flush=True)


if __name__ == "__main__":
    main()
