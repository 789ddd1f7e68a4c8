"""The per-connection write budget (docs/design.md): every write the app makes, single or bulk,
takes a slot from one rolling-hour window, so a bulk job never burns the quota that the broker's
own CRM also needs.

Spotware does not publish its hourly cap and may tighten it. So when the server answers
REQUEST_FREQUENCY_EXCEEDED anyway, the budget believes the server: for the rest of that hour it
allows no more writes per hour than the server accepted, and says why (``lowered``).

Where the writes are counted is a ``Window``: this process's own (``LocalWindow``, the default),
or, in team mode, the team database's reservations (store/pg/budget.py ``TeamBudgetWindow``),
so every workstation on one broker connection draws from one budget. A window whose calls are
round trips to a server (``remote``) is called off the event loop by the ``*_async`` methods,
which the write gate and the views use."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from ctrader_admin.services.errors import ServiceError, WriteBudgetExhausted
from ctrader_admin.store.budget_limit import ServerLimit
from ctrader_admin.store.database import DatabaseError

T = TypeVar("T")
log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600.0
_RECHECK_AFTER = 0.01  # seconds: a slot seen free but taken by someone else meanwhile


class Window(Protocol):
    """The writes made in the last rolling hour, and the server's lowered limit, wherever they
    are kept."""

    # True when every call is a round trip to a server (the team database): then the budget's
    # async methods make it on a worker thread, never on the event loop.
    remote: bool

    def count(self) -> int: ...

    def take(self, allowed: int) -> int | None:
        """Record a write now if fewer than ``allowed`` are in the window (atomically): the
        slot's id, or None when the window is full."""
        ...

    def give_back(self, slot: int) -> None:
        """Forget the write recorded as ``slot`` (it was never sent); another write's slot,
        taken before or after it, stays counted."""
        ...

    def seconds_until_below(self, allowed: int) -> float:
        """How long until fewer than ``allowed`` writes are in the window (0: now)."""
        ...

    def current_limit(self) -> ServerLimit | None:
        """The server's lowered limit while it lasts (None: none, or it has lifted)."""
        ...

    def set_limit(self, accepted: int) -> None:
        """The server refused a write now, after ``accepted``: that many per hour for an hour
        (never raising a lower limit still in force)."""
        ...


class LocalWindow:
    """This process's writes, in memory."""

    remote = False

    def __init__(self, clock: Callable[[], float], history: Iterable[float] = ()) -> None:
        self._clock = clock
        self._ids = itertools.count(1)
        # (when, slot id), oldest first: a give-back finds its own slot by the id.
        self._stamps: deque[tuple[float, int]] = deque(
            (stamp, next(self._ids)) for stamp in sorted(history)
        )
        self._limit: ServerLimit | None = None

    def _expire(self) -> float:
        now = self._clock()
        while self._stamps and self._stamps[0][0] <= now - WINDOW_SECONDS:
            self._stamps.popleft()
        return now

    def count(self) -> int:
        self._expire()
        return len(self._stamps)

    def take(self, allowed: int) -> int | None:
        now = self._expire()
        if len(self._stamps) >= allowed:
            return None
        slot = next(self._ids)
        self._stamps.append((now, slot))
        return slot

    def give_back(self, slot: int) -> None:
        for taken in reversed(self._stamps):  # usually among the newest
            if taken[1] == slot:
                self._stamps.remove(taken)
                return

    def seconds_until_below(self, allowed: int) -> float:
        now = self._expire()
        if len(self._stamps) < allowed:
            return 0.0
        if allowed <= 0:
            return WINDOW_SECONDS
        # The write that must leave the window for the count to drop below the limit.
        return max(0.0, self._stamps[len(self._stamps) - allowed][0] + WINDOW_SECONDS - now)

    def current_limit(self) -> ServerLimit | None:
        if self._limit is not None and self._clock() >= self._limit.until:
            self._limit = None
        return self._limit

    def set_limit(self, accepted: int) -> None:
        current = self.current_limit()
        if current is not None:
            accepted = min(accepted, current.accepted)
        now = self._clock()
        self._limit = ServerLimit(at=now, until=now + WINDOW_SECONDS, accepted=accepted)


class BudgetUnavailable(ServiceError):
    """The team database that keeps the write budget cannot be reached: nothing was sent."""


@dataclass(frozen=True, slots=True)
class BudgetFigures:
    """What the status band shows, read at once."""

    remaining: int
    per_hour: int
    lowered: str | None
    next_free_in: float = 0.0  # seconds until a write may go (0 while ``remaining``)


@dataclass(slots=True)
class Reservation:
    """A slot taken from the budget for one write: by the write gate, or by a bulk job while
    pacing its writes (the gate then spends it instead of taking another; the job gives it back
    if no write came to spend it). ``slot``: the window's id of exactly this write's slot, so a
    give-back frees this one and never another write's."""

    slot: int
    spent: bool = False


class WriteBudget:
    def __init__(
        self,
        per_hour: int,
        *,
        clock: Callable[[], float] = time.time,
        history: Iterable[float] = (),
        window: Window | None = None,
    ) -> None:
        """``window``: where writes are counted (default: this process, seeded with
        ``history``)."""
        if per_hour < 1:
            raise ValueError("the write budget must allow at least one write per hour")
        self.configured_per_hour = per_hour
        self._clock = clock
        self._window = window if window is not None else LocalWindow(clock, history)

    @property
    def per_hour(self) -> int:
        """The writes allowed per rolling hour now: the configured budget, or less for the rest
        of an hour in which the server said its own limit was reached."""
        limit = self._current_server_limit()
        if limit is None:
            return self.configured_per_hour
        return min(self.configured_per_hour, limit.accepted)

    @property
    def lowered(self) -> str | None:
        """Why ``per_hour`` is below the configured budget, for the operator; None when not."""
        limit = self._current_server_limit()
        if limit is None or limit.accepted >= self.configured_per_hour:
            return None
        return (
            f"The server refused a write as over its hourly limit at {_clock_time(limit.at)}, "
            f"after {limit.accepted} accepted writes in the hour: until {_clock_time(limit.until)} "
            f"this connection allows {limit.accepted} writes per hour instead of "
            f"{self.configured_per_hour}."
        )

    def server_refused(self) -> None:
        """The server answered REQUEST_FREQUENCY_EXCEEDED: lower the budget to what it accepted
        in the last hour (the refused write's own slot excluded), for the rest of that hour.
        In team mode the whole team's budget is lowered, not only this workstation's."""
        self._window.set_limit(max(0, self._window.count() - 1))

    def _current_server_limit(self) -> ServerLimit | None:
        return self._window.current_limit()

    def remaining(self) -> int:
        return max(0, self.per_hour - self._window.count())

    def used(self) -> int:
        return self.per_hour - self.remaining()

    def seconds_until_free(self) -> float:
        """0 when a write may go now; else how long until enough writes leave the window, or the
        server's lower limit lifts, whichever comes first."""
        now = self._clock()
        wait = self._window.seconds_until_below(self.per_hour)
        if wait <= 0:
            return 0.0
        limit = self._current_server_limit()
        if limit is not None:
            wait = min(wait, limit.until - now)
        return max(0.0, wait)

    def try_acquire(self) -> Reservation | None:
        """Take a slot now if one is free."""
        slot = self._window.take(self.per_hour)
        return None if slot is None else Reservation(slot)

    def release_unused(self, reservation: Reservation) -> None:
        """Give back the slot of ``reservation``, for a write that was never sent."""
        self._window.give_back(reservation.slot)

    def take_or_wait(self) -> Reservation | float:
        """Take a slot now, else how long until one may be free (> 0): what a bulk job's pacing
        needs, in one call."""
        taken = self.try_acquire()
        if taken is not None:
            return taken
        # Another workstation may have taken the slot seen free in between: ask again soon.
        return max(_RECHECK_AFTER, self.seconds_until_free())

    # --- the same, for the event loop: off it when the window is a server's ---------------

    async def _off_loop(self, call: Callable[[], T]) -> T:
        if self._window.remote:
            return await asyncio.to_thread(call)
        return call()

    async def _reserving(self, call: Callable[[], T]) -> T:
        """A team budget that cannot be reached refuses the write, in words, before anything
        is sent (a write the team's budget never counted is never made)."""
        try:
            return await self._off_loop(call)
        except DatabaseError as exc:
            raise BudgetUnavailable(
                f"The write was not sent: the team's write budget could not be checked. {exc}"
            ) from None

    async def try_acquire_async(self) -> Reservation | None:
        return await self._reserving(self.try_acquire)

    async def take_or_wait_async(self) -> Reservation | float:
        return await self._reserving(self.take_or_wait)

    async def release_unused_async(self, reservation: Reservation) -> None:
        await self._off_loop(lambda: self.release_unused(reservation))

    async def give_back_unspent(self, reservation: Reservation) -> None:
        """The slot of a ``reservation`` no write spent (skipped, refused, stopped) is free
        again; a team database out of reach keeps it counted (the safe side) until the hour
        ends."""
        if reservation.spent:
            return
        reservation.spent = True
        try:
            await self.release_unused_async(reservation)
        except DatabaseError as exc:
            log.warning("An unused slot of the team's budget could not be given back: %s", exc)

    async def server_refused_async(self) -> str | None:
        """``server_refused``, then why the budget is lowered now (for the log)."""

        def refuse() -> str | None:
            self.server_refused()
            return self.lowered

        try:
            return await self._off_loop(refuse)
        except DatabaseError as exc:
            # The server's answer is what the caller must handle (its journal entry above all):
            # a team database that cannot take the lowered limit now must not replace it.
            log.warning("The team's budget could not be lowered: %s", exc)
            return None

    async def exhausted(self) -> WriteBudgetExhausted:
        """The refusal to raise when ``try_acquire_async`` found no slot free."""

        def refusal() -> WriteBudgetExhausted:
            return WriteBudgetExhausted(self.per_hour, self.seconds_until_free(), self.lowered)

        return await self._off_loop(refusal)

    @property
    def remote(self) -> bool:
        """True when reading the budget is a round trip (team mode): use ``figures()``."""
        return self._window.remote

    def figures_now(self) -> BudgetFigures:
        limit = self.per_hour
        remaining = max(0, limit - self._window.count())
        next_free_in = 0.0 if remaining else self.seconds_until_free()
        return BudgetFigures(remaining, limit, self.lowered, next_free_in)

    async def figures(self) -> BudgetFigures:
        return await self._off_loop(self.figures_now)

    def set_rate(self, per_hour: int) -> None:
        if per_hour < 1:
            raise ValueError("the write budget must allow at least one write per hour")
        self.configured_per_hour = per_hour


def _clock_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M")
