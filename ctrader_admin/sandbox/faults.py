"""Fault injection: which fault, if any, strikes this request.

Two sources, scripted first: a script of faults for the next writes, in order (tests that need
one exact sequence), then one seeded draw per request over the configured rates."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable
from typing import Literal, get_args

from .config import Faults
from .request_log import FaultName

# "none" lets one write through untouched; "rate_limited" answers REQUEST_FREQUENCY_EXCEEDED;
# "ignored" answers as a success but changes nothing (a backend that lost the write after saying
# yes, or someone undoing it at once): only a read-back shows it.
ScriptedFault = Literal[
    "error", "drop", "stall_before", "stall_after", "rate_limited", "ignored", "none"
]
SCRIPTED_FAULTS: tuple[ScriptedFault, ...] = get_args(ScriptedFault)


class FaultScript:
    """Faults for the next write requests (non-GET, not the token endpoint), one each, in order:
    e.g. ``["stall_after", "error"]`` — this PUT is applied then stalls past the client's
    timeout, its retry gets a 500. Random rates cannot promise such a sequence. An empty script
    leaves the rates in charge. A scripted rate-limit refusal still counts against the cap."""

    def __init__(self) -> None:
        self._next: deque[ScriptedFault] = deque()
        self._lock = threading.Lock()

    def replace(self, faults: Iterable[object]) -> None:
        """The new script, checked whole first: a bad name changes nothing."""
        chosen = deque(_scripted(name) for name in faults)
        with self._lock:
            self._next = chosen

    def pending(self) -> list[ScriptedFault]:
        with self._lock:
            return list(self._next)

    def take(self) -> ScriptedFault | None:
        """The next scripted fault, or None when the script is empty."""
        with self._lock:
            return self._next.popleft() if self._next else None


def _scripted(name: object) -> ScriptedFault:
    for known in SCRIPTED_FAULTS:
        if name == known:
            return known
    raise ValueError(f"scripted faults must be among {list(SCRIPTED_FAULTS)}, not {name!r}")


class FaultDice:
    def __init__(self, seed: int, script: FaultScript | None = None) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.script = script or FaultScript()

    def draw(self, faults: Faults, *, is_write: bool) -> FaultName | None:
        """The scripted fault of a write, if any; else cumulative bands over one uniform draw,
        so each fault's rate is exactly its share."""
        scripted = self.script.take() if is_write else None
        if scripted is not None:
            return None if scripted == "none" else scripted
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
