"""The per-connection write budget (design.md): every write the app makes, single or bulk, takes
a slot from one rolling-hour window, so a bulk job never burns the quota that the broker's own
CRM also needs."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable

WINDOW_SECONDS = 3600.0


class WriteBudget:
    def __init__(
        self,
        per_hour: int,
        *,
        clock: Callable[[], float] = time.time,
        history: Iterable[float] = (),
    ) -> None:
        if per_hour < 1:
            raise ValueError("the write budget must allow at least one write per hour")
        self.per_hour = per_hour
        self._clock = clock
        self._stamps: deque[float] = deque(sorted(history))

    def _expire(self, now: float) -> None:
        while self._stamps and self._stamps[0] <= now - WINDOW_SECONDS:
            self._stamps.popleft()

    def remaining(self) -> int:
        self._expire(self._clock())
        return max(0, self.per_hour - len(self._stamps))

    def used(self) -> int:
        return self.per_hour - self.remaining()

    def seconds_until_free(self) -> float:
        """0 when a write may go now; else how long until the oldest write leaves the window."""
        now = self._clock()
        self._expire(now)
        if len(self._stamps) < self.per_hour:
            return 0.0
        return max(0.0, self._stamps[0] + WINDOW_SECONDS - now)

    def try_acquire(self) -> bool:
        """Take a slot now if one is free."""
        now = self._clock()
        self._expire(now)
        if len(self._stamps) >= self.per_hour:
            return False
        self._stamps.append(now)
        return True

    def release_unused(self) -> None:
        """Give back the last slot taken, for a write that was never sent."""
        if self._stamps:
            self._stamps.pop()

    async def acquire(self, *, poll: float = 1.0) -> None:
        """Wait until a slot is free and take it (for bulk jobs)."""
        # Polling, not an Event: slots free up by the clock, not by anything we could signal.
        while not self.try_acquire():  # noqa: ASYNC110
            await asyncio.sleep(min(poll, max(0.01, self.seconds_until_free())))

    def set_rate(self, per_hour: int) -> None:
        if per_hour < 1:
            raise ValueError("the write budget must allow at least one write per hour")
        self.per_hour = per_hour
