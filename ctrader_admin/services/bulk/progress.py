"""What a running job reports to its UI: done/total, outcome counts, ETA, the write budget."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ctrader_admin.store.checkpoints import RowState

Phase = Literal["running", "paused", "waiting_for_budget", "stopping", "finished", "stopped"]
_WINDOW_SECONDS = 30.0


@dataclass(frozen=True)
class Progress:
    job_id: str
    total: int  # rows in the plan
    done: int  # rows in a final state (ok, skipped, drift, failed, unknown)
    counts: Mapping[RowState, int]
    eta_seconds: float | None  # None until there is a rate to go by
    writes_left: int  # in the connection's budget for the rolling hour
    writes_per_hour: int
    phase: Phase
    paused_seconds: float = 0.0  # left of a pause after a rate-limit answer
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class EtaEstimator:
    """Remaining time from the recent rate of finished rows, and from the write budget when the
    rows left need more writes than the hour has left."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> None:
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and self._samples[0][0] < now - _WINDOW_SECONDS:
            self._samples.popleft()

    def eta(
        self,
        left: int,
        writes_needed: int,
        writes_left: int,
        per_hour: int,
        next_slot_in: float = 0.0,
    ) -> float | None:
        if left <= 0:
            return 0.0
        budget_wait = 0.0
        if writes_needed > writes_left:
            # The first write over the budget waits for the oldest slot to free; the rest go at
            # the hourly rate at best.
            beyond = writes_needed - writes_left - 1
            budget_wait = next_slot_in + beyond / per_hour * 3600.0
        if len(self._samples) < 2:
            return budget_wait or None
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        if t1 <= t0 or d1 <= d0:
            return budget_wait or None
        return max(left / ((d1 - d0) / (t1 - t0)), budget_wait)
