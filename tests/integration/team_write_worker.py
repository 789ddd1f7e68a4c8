"""One agent's workstation writing partner codes through the write gate, its journal and write
budget in the team database, against a loopback sandbox (tests/integration/test_team_writes.py).

    python team_write_worker.py SANDBOX_URL HOST PORT DATABASE USER BUDGET USER_ID…

Prints ``ready``, waits for ``go`` on stdin, then one JSON line: writes done, writes the budget
refused, anything else that went wrong (by type).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from ctrader_admin.api import ApiClient, ConnectionConfig
from ctrader_admin.sandbox import TRAINING_MANAGERS
from ctrader_admin.services.budget import WriteBudget
from ctrader_admin.services.errors import WriteBudgetExhausted
from ctrader_admin.services.partners import set_partner
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.store.database import Database
from ctrader_admin.store.directory import Directory
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.pg.budget import TeamBudgetWindow
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.profiles import Profile
from ctrader_admin.store.tokens import TokenStore

MANAGER = TRAINING_MANAGERS[0]


async def main() -> None:
    url, host, port, database, user, budget_text, *user_ids = sys.argv[1:]
    profile = Profile(
        id="team-loopback", name="Team loopback sandbox", base_url=url,
        broker_names=list(MANAGER.broker_names), broker_crm_name="sandbox_crm",
        manager_login=MANAGER.login, write_budget_per_hour=int(budget_text), timeout_seconds=5.0,
    )  # fmt: skip
    team = PgDatabase(TeamSettings(host=host, port=int(port), database=database, user=user,
                                   tls=False), None)  # fmt: skip
    # One budget per broker connection: the server and the manager, whoever writes.
    window = TeamBudgetWindow(team, f"{profile.base_url}#{profile.manager_login}")
    with tempfile.TemporaryDirectory() as folder, Database(Path(folder) / "local.sqlite3") as local:
        session = Session(
            profile, ApiClient(ConnectionConfig(base_url=url, timeout=5.0)),
            tokens=TokenStore(), journal=Journal(team), directory=Directory(local),
            budget=WriteBudget(profile.write_budget_per_hour, window=window), workstation=user,
        )  # fmt: skip
        session.client.token = MANAGER.token
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        done, refused, other = 0, 0, Counter[str]()
        for user_id in user_ids:
            try:
                await set_partner(
                    session, UserTarget(int(user_id)), f"T-{user}-{user_id}",
                    reason="team budget test", ticket="T-13",
                )  # fmt: skip
                done += 1
            except WriteBudgetExhausted:
                refused += 1
            except Exception as exc:  # reported, and the test fails on it
                other[type(exc).__name__] += 1
        await session.client.aclose()
        session.journal.close()
    team.close()
    print(json.dumps({"done": done, "refused": refused, "other": dict(other)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
