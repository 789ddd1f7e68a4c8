"""Live updates of the Jobs tab's list in team mode: another agent's job appears, moves and ends
in the list within a second, told by the team database (LISTEN/NOTIFY on the jobs' channel, as
the Approvals view listens on its own): Qt wakes on the watcher's socket — no polling, no
thread. Notices are coalesced: one reload of the list for all that came in ``COALESCE_MS``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from ctrader_admin.errors import ExpectedError

if TYPE_CHECKING:
    from ctrader_admin.store.checkpoints import CheckpointStore
    from ctrader_admin.store.pg.watch import ChannelWatcher


# How long notices are gathered before the list is read again: a running job saves its
# progress a few times a second, and several may run at once.
COALESCE_MS = 250


class JobsLive(QObject):
    """Emits ``changed`` with the ids of the jobs that anyone created, advanced or ended (this
    workstation's own running job excluded: its tab follows it already)."""

    changed = Signal(frozenset)
    lost = Signal(str)  # the listening connection is gone: why, in words

    def __init__(self, own_job: Callable[[], str | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._own_job = own_job
        self._watcher: ChannelWatcher | None = None
        self._notifier: QSocketNotifier | None = None
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._flush)

    @property
    def listening(self) -> bool:
        return self._watcher is not None

    async def start(self, store: CheckpointStore) -> None:
        """Listen to ``store``'s jobs (nothing on the local file: only this process runs jobs
        there). The connection is opened off the event loop; a team database out of reach:
        ``lost`` says so, and the list stays as read."""
        self.stop()
        try:
            watcher = await asyncio.to_thread(store.watch)
        except ExpectedError as exc:
            self.lost.emit(f"Live updates of the jobs list are off: {exc.message}")
            return
        if watcher is None:
            return
        if self._watcher is not None:  # started twice meanwhile: one listener is enough
            watcher.close()
            return
        self._watcher = watcher
        self.destroyed.connect(watcher.close)  # the tab closed: its connection too
        self._notifier = QSocketNotifier(watcher.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._told)

    def stop(self) -> None:
        self._timer.stop()
        self._pending.clear()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def _told(self) -> None:
        if self._watcher is None:
            return
        payloads = self._watcher.drain_payloads()
        if payloads is None:  # the connection is gone: its socket would wake us forever
            self.stop()
            self.lost.emit(
                "Live updates of the jobs list stopped: the connection to the team database was "
                "lost. Refresh reads the list again."
            )
            return
        own = self._own_job()
        self._pending.update(job for job in payloads if job != own)
        if self._pending and not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        jobs, self._pending = frozenset(self._pending), set()
        if jobs:
            self.changed.emit(jobs)
