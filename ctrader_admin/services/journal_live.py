"""Live updates of the team journal for the views: the server tells (LISTEN/NOTIFY,
store/pg/watch.py) when any workstation appends; a thread of its own waits for that, so neither
the event loop nor the GUI thread ever blocks on it, and the database is never polled.

The views hear about it through ``on_append`` — called on that thread: the UI hands it over to
the GUI thread with a Qt signal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ctrader_admin.store.database import DatabaseError

if TYPE_CHECKING:
    from ctrader_admin.store.pg.database import PgDatabase
    from ctrader_admin.store.pg.watch import JournalWatcher

log = logging.getLogger(__name__)

# How long one wait for the server lasts: only how soon ``close`` is noticed (no query is made).
WAIT_SECONDS = 0.25
# After the connection is lost: how long before listening again, doubling up to the maximum
# while the server stays away (one connection attempt per wait: no hard polling).
RETRY_SECONDS = 5.0
RETRY_MAX_SECONDS = 60.0


class JournalUpdates:
    """Calls ``on_append(last_id)`` after entries were appended by anyone on the team, and
    ``on_link(True/False)`` when listening starts or the server goes away (``True`` also once
    at the start, when the server answers)."""

    def __init__(
        self,
        database: PgDatabase,
        on_append: Callable[[int], None],
        on_link: Callable[[bool], None] = lambda up: None,
    ) -> None:
        self._db = database
        self._on_append = on_append
        self._on_link = on_link
        self._stop = threading.Event()
        # Listening before this returns: an append made after it is never missed. A server the
        # database just failed to reach is tried by the thread instead (no wait here).
        self._watcher: JournalWatcher | None = self._listen() if database.reachable else None
        self._thread = threading.Thread(target=self._run, name="journal-updates", daemon=True)
        self._thread.start()

    def _listen(self) -> JournalWatcher | None:
        from ctrader_admin.store.pg.watch import JournalWatcher

        try:
            return JournalWatcher(self._db)
        except DatabaseError as exc:
            log.warning("Live journal updates paused: %s", exc)
            return None

    def _run(self) -> None:
        delay = RETRY_SECONDS
        if self._watcher is not None:
            self._on_link(True)
        while not self._stop.is_set():
            if self._watcher is None:
                if self._stop.wait(delay):
                    break
                self._watcher = self._listen()
                if self._watcher is None:
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
                    continue
                delay = RETRY_SECONDS
                self._on_link(True)
                # Whatever was appended while we were deaf: the views read it again.
                self._on_append(0)
                continue
            try:
                newest = self._watcher.wait(WAIT_SECONDS)
            except DatabaseError as exc:
                log.warning("Live journal updates lost their connection (%s); retrying.", exc)
                self._watcher.close()
                # At once: a server that is gone refuses the connection now, and the app says
                # so (a server restarted meanwhile takes us back as quickly).
                self._watcher = self._listen()
                if self._watcher is None:
                    self._on_link(False)
                else:
                    self._on_append(0)
                continue
            if newest is not None:
                self._on_append(newest)
        if self._watcher is not None:
            self._watcher.close()

    def close(self) -> None:
        """Stop listening (waits for the thread: at most one wait's length)."""
        self._stop.set()
        self._thread.join()
