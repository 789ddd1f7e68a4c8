"""The team's write budget: one rolling-hour window per broker connection, counted across every
workstation in the team database (services/budget.py ``Window``).

Reserving is one transaction: an advisory lock per connection key (so two workstations cannot
both see the last free slot), the count of the last hour, the insert. Times are the server's
clock, never a workstation's, so machines whose clocks differ still share one window.
"""

from __future__ import annotations

import zlib

from ctrader_admin.store.budget_limit import ServerLimit
from ctrader_admin.store.pg.database import LOCK_CLASS, PgDatabase

WINDOW_SECONDS = 3600.0
LOCK_BUDGET = LOCK_CLASS + 1  # the advisory lock class of budget windows; the key: the connection
# Every time is the server's: extract(epoch FROM clock_timestamp()).


def connection_lock_key(connection_key: str) -> int:
    """A 32-bit key for the advisory lock (a collision only makes two windows queue together)."""
    return zlib.crc32(connection_key.encode()) - 2**31


class TeamBudgetWindow:
    """The writes of every workstation on one broker connection (``connection_key``: the base URL
    and the manager login, say) in the last hour."""

    remote = True  # every call is a round trip: the budget makes it off the event loop

    def __init__(self, database: PgDatabase, connection_key: str) -> None:
        self._db = database
        self._key = connection_key
        self._lock_key = connection_lock_key(connection_key)

    def count(self) -> int:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM budget_reservations WHERE connection_key = ? "
                "AND at > extract(epoch FROM clock_timestamp()) - ?",
                (self._key, WINDOW_SECONDS),
            ).fetchone()
        return int(row[0])

    def take(self, allowed: int) -> int | None:
        with self._db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?, ?)", (LOCK_BUDGET, self._lock_key))
            row = conn.execute(
                "SELECT count(*) FROM budget_reservations WHERE connection_key = ? "
                "AND at > extract(epoch FROM clock_timestamp()) - ?",
                (self._key, WINDOW_SECONDS),
            ).fetchone()
            if int(row[0]) >= allowed:
                return None
            taken = conn.execute(
                # ``at``: the server's clock, by the column's default (agents cannot set it).
                "INSERT INTO budget_reservations (connection_key) VALUES (?) RETURNING id",
                (self._key,),
            ).fetchone()
        return int(taken[0])

    def give_back(self, slot: int) -> None:
        # The database lets only the role that took a slot (or an administrator) delete it.
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM budget_reservations WHERE id = ? AND connection_key = ?",
                (slot, self._key),
            )

    def current_limit(self) -> ServerLimit | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT at, until, accepted FROM budget_limits WHERE connection_key = ? "
                "AND until > extract(epoch FROM clock_timestamp())",
                (self._key,),
            ).fetchone()
        return None if row is None else ServerLimit(float(row[0]), float(row[1]), int(row[2]))

    def set_limit(self, accepted: int) -> None:
        # For the whole team, by the database's rules (a lower limit in force is never raised;
        # the hour restarts on the server's clock): schema step 9, ``ctrader_lower_budget_limit``.
        with self._db.transaction() as conn:
            conn.execute("SELECT ctrader_lower_budget_limit(?, ?)", (self._key, accepted))

    def seconds_until_below(self, allowed: int) -> float:
        if allowed <= 0:
            return WINDOW_SECONDS
        with self._db.read() as conn:
            # The write that must leave the window for the count to drop below ``allowed``.
            row = conn.execute(
                "SELECT at + ? - extract(epoch FROM clock_timestamp()) FROM budget_reservations "
                "WHERE connection_key = ? AND at > extract(epoch FROM clock_timestamp()) - ? "
                "ORDER BY at DESC OFFSET ? LIMIT 1",
                (WINDOW_SECONDS, self._key, WINDOW_SECONDS, allowed - 1),
            ).fetchone()
        return 0.0 if row is None else max(0.0, float(row[0]))
