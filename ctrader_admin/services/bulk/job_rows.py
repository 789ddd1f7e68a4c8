"""The pieces a running job is built from: one row's state, the failure that stops every worker,
rows waiting out a back-off, and the clean-up that must finish even when cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ctrader_admin.services.bulk.model import PlanRow
from ctrader_admin.services.writes import Target
from ctrader_admin.store.checkpoints import RowState

T = TypeVar("T")


@dataclass(eq=False)
class JobRow:
    plan: PlanRow
    target: Target | None  # None: a row that could not be understood (never written)
    state: RowState
    attempts: int = 0  # writes sent for this row (in every run of the job)
    error: str | None = None
    journal_id: int | None = None
    observed: str | None = None
    owner: int | None = None  # an account link: the userId its record named at the re-check
    attempted: bool = False  # a write of this job may have reached the backend
    verify: bool = False  # a WL move answered OK: read it back before calling it ok
    tries: int = 0  # writes in this run that did not end cleanly (rate limits excepted)
    checks: int = 0  # re-reads in this run that failed


class Fatal(Exception):
    """The job cannot go on (token refused, connection read-only…): every worker stops."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class RowTimers:
    """Rows waiting out a back-off before their next re-check."""

    def __init__(self) -> None:
        self._waiting: dict[asyncio.TimerHandle, JobRow] = {}

    def later(self, delay: float, row: JobRow, callback: Callable[[JobRow], None]) -> None:
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._waiting.pop(handle, None)
            callback(row)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._waiting[handle] = row

    def cancel(self) -> list[JobRow]:
        """Cancel every wait; the rows that were waiting."""
        rows = list(self._waiting.values())
        for handle in self._waiting:
            handle.cancel()
        self._waiting.clear()
        return rows


async def off_loop_to_the_end(work: Callable[[], T]) -> tuple[T, bool]:
    """``work`` on a worker thread, awaited to its end even if this task is cancelled meanwhile
    (a thread cannot be stopped: a checkpoint save must land before anything saved after it);
    True with it if that happened."""
    future = asyncio.ensure_future(asyncio.to_thread(work))
    interrupted = False
    while True:
        try:
            return await asyncio.shield(future), interrupted
        except asyncio.CancelledError:
            if future.cancelled():
                raise
            interrupted = True


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> bool:
    """Cancel the tasks and wait for them, cancelling again any that swallowed it (Python
    3.11's asyncio.wait_for can, e.g. in the in-process sandbox transport). True if the
    caller itself was cancelled meanwhile: the clean-up still finished."""
    interrupted = False
    while pending := [task for task in tasks if not task.done()]:
        for task in pending:
            task.cancel()
        try:
            await asyncio.wait(pending, timeout=0.5)
        except asyncio.CancelledError:
            interrupted = True
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: the job's failure was taken from them already
    return interrupted
