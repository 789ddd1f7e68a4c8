"""How a running job paces its writes: a pause for the backend's rate limit, the wait for a
budget slot, and the network slots (never more requests in flight than the concurrency)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from ctrader_admin.services.bulk.clock import Clock
from ctrader_admin.services.bulk.jobs import ApplyOptions
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import JobRecord

log = logging.getLogger(__name__)


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

    async def _wait_until_writable(self) -> None:
        """Through the rate-limit pause and until the budget has a slot (without taking it)."""
        while not self._stopping:
            now = self.clock.now()
            if self._paused_until > now:
                await self._sleep_until(self._paused_until)
                continue
            wait = self.session.budget.seconds_until_free()
            if wait <= 0:
                return
            self._waiting_budget += 1
            try:
                await self._sleep_until(now + wait)
            finally:
                self._waiting_budget -= 1

    async def _sleep_until(self, moment: float) -> None:
        sleeper = asyncio.create_task(self.clock.sleep_until(moment))
        stopper = asyncio.create_task(self._stop_event.wait())
        try:
            await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
