"""A throwaway team database for the team benchmarks: a durable PostgreSQL cluster on loopback
(tests/pg_cluster.py: fsync on, as a real server), set up by ``init_team``, with agent roles
(loopback is trusted: no passwords)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pg_cluster import Cluster, bin_dir
from proc_stats import stat_fields

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
    postmaster: int  # the server's process id

    def cpu_seconds(self) -> float:
        """CPU time the server has used (Linux /proc): the postmaster, its processes now
        running, and those it has reaped (the backends of connections already closed)."""
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat_fields(stat)
            except OSError:  # the process ended meanwhile
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == self.postmaster:
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            elif ppid == self.postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

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
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        yield TeamServer(port, admin, names, postmaster)
    finally:
        cluster.stop()
