"""Time for bulk jobs: when a rate-limit pause or the write budget ends. Injectable, so tests
can jump over an hour instead of waiting for it."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (the write budget's clock)."""
        ...

    async def sleep_until(self, moment: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep_until(self, moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - time.time()))
