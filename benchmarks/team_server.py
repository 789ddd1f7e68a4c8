"""A throwaway team database for the team benchmarks: a durable PostgreSQL cluster on loopback
(tests/pg_cluster.py: fsync on, as a real server), set up by ``init_team``, with agent roles
(loopback is trusted: no passwords)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pg_cluster import Cluster, bin_dir

from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings

HOST = "127.0.0.1"
DATABASE = "postgres"


@dataclass(frozen=True)
class TeamServer:
    port: int
    admin: TeamSettings  # the cluster's superuser
    agents: list[str]  # login roles in the agents' group

    def settings(self, user: str) -> TeamSettings:
        return TeamSettings(host=HOST, port=self.port, database=DATABASE, user=user, tls=False)


@contextmanager
def team_server(agents: int, prefix: str = "agent") -> Iterator[TeamServer]:
    found = bin_dir()
    if found is None:
        sys.exit("PostgreSQL's server binaries are not installed (apt-get install postgresql).")
    cluster = Cluster(found, durable=True)
    try:
        cluster.init()
        port = cluster.start()
        admin = TeamSettings(
            host=HOST, port=port, database=DATABASE, user=cluster.superuser, tls=False
        )
        names = [f"{prefix}{i}_{uuid.uuid4().hex[:4]}" for i in range(agents)]
        with PgDatabase(admin, None) as db:
            init_team(db)
            for name in names:
                add_member(db, name, None)
        yield TeamServer(port, admin, names)
    finally:
        cluster.stop()
