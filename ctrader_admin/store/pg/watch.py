"""Live updates from the team journal: another workstation's appends, told by the server
(LISTEN/NOTIFY) instead of polled. The foundation of the Journal view's live refresh (not wired
to a view yet: docs/team-mode.md).

Each append transaction notifies ``JOURNAL_CHANNEL`` with its last id when it commits (a rolled
back append tells nothing); a watcher holds its own connection, so waiting never blocks the
store's.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ctrader_admin.store.pg.journal_engine import JOURNAL_CHANNEL

if TYPE_CHECKING:
    import psycopg

    from ctrader_admin.store.pg.database import PgDatabase


class JournalWatcher:
    def __init__(self, database: PgDatabase) -> None:
        self._conn: psycopg.Connection[Any] = database.connect()
        self._lock = threading.Lock()
        try:
            self._conn.execute(f"LISTEN {JOURNAL_CHANNEL}")
        except BaseException:
            self._conn.close()
            raise

    def wait(self, timeout: float) -> int | None:
        """The highest entry id announced within ``timeout`` seconds of the first announcement
        (those queued already included); None when nothing was appended meanwhile."""
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

    def close(self) -> None:
        self._conn.close()
