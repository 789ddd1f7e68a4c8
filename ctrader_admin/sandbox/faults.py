"""Fault injection: which fault, if any, strikes this request (one seeded draw per request)."""

from __future__ import annotations

import random
import threading

from .config import Faults
from .request_log import FaultName


class FaultDice:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, faults: Faults, *, is_write: bool) -> FaultName | None:
        """Cumulative bands over one uniform draw, so each fault's rate is exactly its share."""
        if not faults.any or (faults.writes_only and not is_write):
            return None  # no draw: a fault-free run does not consume the stream
        with self._lock:
            draw = self._rng.random()
        bands: tuple[tuple[FaultName, float], ...] = (
            ("error", faults.error_rate),
            ("drop", faults.drop_rate),
            ("stall_before", faults.stall_before_rate),
            ("stall_after", faults.stall_after_rate),
        )
        for name, rate in bands:
            if draw < rate:
                return name
            draw -= rate
        return None
