"""Live updates from the team database: another workstation's journal appends and approvals,
told by the server (LISTEN/NOTIFY) instead of polled. The Approvals view listens; the Journal
view does not yet (docs/team-mode.md).

Each append transaction notifies ``JOURNAL_CHANNEL`` with its last id when it commits (a rolled
back append tells nothing); a watcher holds its own connection, so waiting never blocks the
store's.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ctrader_admin.store.database import DatabaseUnreachable
from ctrader_admin.store.pg.errors import summary
from ctrader_admin.store.pg.journal_engine import JOURNAL_CHANNEL

if TYPE_CHECKING:
    import psycopg

    from ctrader_admin.store.pg.database import PgDatabase


class ChannelWatcher:
    """LISTEN on one channel, on a connection of its own. ``fileno`` lets an event loop (Qt's
    socket notifier) wake up when the server speaks; ``drain`` then takes what arrived."""

    def __init__(self, database: PgDatabase, channel: str) -> None:
        self._conn: psycopg.Connection[Any] = database.connect()
        self._lock = threading.Lock()
        try:
            self._conn.execute(f"LISTEN {channel}")
        except BaseException:
            self._conn.close()
            raise

    def fileno(self) -> int:
        return self._conn.fileno()

    def drain(self) -> int:
        """How many notifications arrived (without waiting); 0 once the connection is gone."""
        return len(self.drain_payloads() or ())

    def drain_payloads(self) -> list[str] | None:
        """The payloads of the notifications that arrived (without waiting); None once the
        connection is gone (make a new watcher to listen again)."""
        import psycopg

        with self._lock:
            try:
                return [notice.payload for notice in self._conn.notifies(timeout=0)]
            except psycopg.Error:
                return None

    def close(self) -> None:
        self._conn.close()


class JournalWatcher(ChannelWatcher):
    def __init__(self, database: PgDatabase) -> None:
        super().__init__(database, JOURNAL_CHANNEL)

    def wait(self, timeout: float) -> int | None:
        """The highest entry id announced within ``timeout`` seconds of the first announcement
        (those queued already included); None when nothing was appended meanwhile. A lost
        connection: a DatabaseError (make a new watcher to listen again)."""
        import psycopg

        try:
            return self._wait(timeout)
        except psycopg.Error as exc:
            raise DatabaseUnreachable(
                f"The team database stopped telling this workstation about new journal entries "
                f"({summary(exc)})."
            ) from None

    def _wait(self, timeout: float) -> int | None:
        with self._lock:
            newest: int | None = None
            for notice in self._conn.notifies(timeout=timeout, stop_after=1):
                newest = int(notice.payload)
            if newest is None:
                return None
            # Others that arrived with it: take them now, without waiting again.
            for notice in self._conn.notifies(timeout=0):
                newest = max(newest, int(notice.payload))
            return newest
