"""How a running job paces its writes: a pause for the backend's rate limit, the wait for a
budget slot, and the network slots (never more requests in flight than the concurrency)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from ctrader_admin.services.budget import Reservation
from ctrader_admin.services.bulk.clock import Clock
from ctrader_admin.services.bulk.jobs import ApplyOptions
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import JobRecord

log = logging.getLogger(__name__)

# How often each writer of a job waiting for the team's budget asks again (a few queries, off
# the event loop): soon enough to use a slot another workstation gave back.
_TEAM_RECHECK_SECONDS = 10.0


class JobPacing:
    """The pacing half of ``JobRunner`` (which sets these attributes)."""

    session: Session
    job: JobRecord
    options: ApplyOptions
    clock: Clock
    _slots: asyncio.Semaphore
    _stop_event: asyncio.Event
    _stopping: bool
    _paused_until: float
    _waiting_budget: int
    _message: str

    @contextlib.asynccontextmanager
    async def _network_slot(self) -> AsyncIterator[None]:
        """One of the ``concurrency`` requests in flight; a rate-limit pause that began while
        the write waited for its slot holds it back too."""
        async with self._slots:
            while self._paused_until > self.clock.now() and not self._stopping:
                await self._sleep_until(self._paused_until)
            yield

    def _pause(self, retry_after: float | None) -> None:
        delay = retry_after if retry_after is not None else self.options.rate_limit_backoff
        until = self.clock.now() + max(0.0, delay)
        if until > self._paused_until:
            self._paused_until = until
            self._message = "The backend's hourly write limit was reached: paused."
            log.info("Job %s paused for %.0f s (rate limit)", self.job.id, delay)

    async def _reserve(self) -> Reservation | None:
        """Through the rate-limit pause, then a budget slot taken for the next write; None when
        the job stops first. Taking the slot and learning how long to wait for one is one call,
        off the event loop when the budget is the team's (a round trip to its database)."""
        budget = self.session.budget
        while not self._stopping:
            if self._paused_until > self.clock.now():
                await self._sleep_until(self._paused_until)
                continue
            taken = await budget.take_or_wait_async()
            if isinstance(taken, Reservation):
                if self._stop_event.is_set():  # stopped during the call: no write needs it
                    await budget.give_back_unspent(taken)
                    return None
                return taken
            wait = taken
            if budget.remote:
                # Another workstation may give a slot back before the oldest write leaves.
                wait = min(wait, _TEAM_RECHECK_SECONDS)
            self._waiting_budget += 1
            try:
                await self._sleep_until(self.clock.now() + wait)
            finally:
                self._waiting_budget -= 1
        return None

    async def _sleep_until(self, moment: float) -> None:
        sleeper = asyncio.create_task(self.clock.sleep_until(moment))
        stopper = asyncio.create_task(self._stop_event.wait())
        try:
            await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
