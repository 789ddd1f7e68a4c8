"""One workstation of a team test, as its own process (run by tests/unit/store/test_team_*.py).

    python team_worker.py MODE HOST PORT DATABASE USER [ARGS…]

Every mode connects, prints ``ready``, waits for a ``go`` line on stdin (so that all workers start
together), does its part and prints one JSON line. ``hold`` begins a write and never finishes it:
it prints its session's server pid and waits to be killed.
"""

from __future__ import annotations

import json
import sys

from ctrader_admin.services.budget import WriteBudget
from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.pg.budget import TeamBudgetWindow
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.journal_engine import PgSessionOwner
from ctrader_admin.store.pg.settings import TeamSettings


def _draft(agent: str, n: int) -> JournalDraft:
    return JournalDraft(
        operator=agent, profile_id="team", profile_name="Team", environment="demo",
        broker_name="sandbox_main", action="set_partner", target=f"user:{n}",
        before=None, after=f"IB-{agent}-{n}", reason="team test", ticket="T-1",
        workstation=agent,
    )  # fmt: skip


def main() -> None:
    mode, host, port, database, user, *args = sys.argv[1:]
    settings = TeamSettings(host=host, port=int(port), database=database, user=user, tls=False)
    db = PgDatabase(settings, None)
    db.check_schema()
    journal = Journal(db)
    print("ready", flush=True)
    sys.stdin.readline()
    if mode == "journal":
        ids = []
        for n in range(int(args[0])):
            intent = journal.begin(_draft(user, n))
            ids.append(journal.complete(intent, "ok").id)
        print(json.dumps({"ids": ids}), flush=True)
    elif mode == "budget":
        per_hour, tries = int(args[1]), int(args[2])
        budget = WriteBudget(per_hour, window=TeamBudgetWindow(db, args[0]))
        taken = sum(budget.try_acquire() is not None for _ in range(tries))
        print(json.dumps({"taken": taken}), flush=True)
    elif mode == "import":
        from pathlib import Path

        from ctrader_admin.services.history_import import import_history

        result = import_history(Path(args[0]), journal)
        print(json.dumps({"imported": result.imported}), flush=True)
    elif mode == "hold":
        intent = journal.begin(_draft(user, 0))
        owner = journal.owner
        assert isinstance(owner, PgSessionOwner)
        print(json.dumps({"intent": intent, "pid": owner.backend_pid}), flush=True)
        sys.stdin.readline()  # killed before this returns
    journal.close()
    db.close()


if __name__ == "__main__":
    main()
