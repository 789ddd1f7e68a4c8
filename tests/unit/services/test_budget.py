"""The write budget: a rolling hour shared by every write of a connection."""

from __future__ import annotations

import asyncio

import pytest

from ctrader_admin.services.budget import WINDOW_SECONDS, BudgetFigures, Reservation, WriteBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_slots_are_taken_until_the_hourly_budget_is_used() -> None:
    clock = Clock()
    budget = WriteBudget(3, clock=clock)
    assert [budget.try_acquire() is not None for _ in range(4)] == [True, True, True, False]
    assert budget.remaining() == 0
    assert budget.used() == 3


def test_the_window_rolls_the_oldest_write_out_after_an_hour() -> None:
    clock = Clock()
    budget = WriteBudget(2, clock=clock)
    budget.try_acquire()
    clock.now += 600
    budget.try_acquire()
    assert budget.seconds_until_free() == pytest.approx(WINDOW_SECONDS - 600)
    clock.now += WINDOW_SECONDS - 600
    assert budget.remaining() == 1
    assert budget.try_acquire()
    assert not budget.try_acquire()


def test_history_from_the_journal_counts_against_the_budget() -> None:
    clock = Clock()
    budget = WriteBudget(5, clock=clock, history=[clock.now - 10, clock.now - 20, clock.now - 4000])
    assert budget.remaining() == 3  # the write of 4000 s ago is outside the hour


def test_a_write_never_sent_gives_its_slot_back() -> None:
    budget = WriteBudget(1, clock=Clock())
    taken = budget.try_acquire()
    assert taken is not None
    budget.release_unused(taken)
    assert budget.remaining() == 1


def test_giving_back_the_older_of_two_slots_keeps_the_newer_writes_time() -> None:
    clock = Clock()
    budget = WriteBudget(2, clock=clock)
    older = budget.try_acquire()
    clock.now += 600
    assert budget.try_acquire() is not None  # the newer write, sent
    assert older is not None
    budget.release_unused(older)  # the older write was never sent
    assert budget.try_acquire() is not None
    # Both slots counted now were taken at the later time: the first frees a full hour later
    # (had the newer slot been freed instead, the older's time would free one 600 s earlier).
    assert budget.seconds_until_free() == pytest.approx(WINDOW_SECONDS)


def test_take_or_wait_takes_a_free_slot_or_says_how_long_until_one() -> None:
    clock = Clock()
    budget = WriteBudget(2, clock=clock)
    assert isinstance(budget.take_or_wait(), Reservation)
    clock.now += 600
    assert isinstance(budget.take_or_wait(), Reservation)
    assert budget.remaining() == 0
    assert budget.take_or_wait() == pytest.approx(WINDOW_SECONDS - 600)  # the first must leave
    assert budget.remaining() == 0  # waiting took nothing
    clock.now += WINDOW_SECONDS - 600
    assert isinstance(budget.take_or_wait(), Reservation)
    assert budget.figures_now() == BudgetFigures(0, 2, None, 600.0)


def test_an_unspent_reservation_is_given_back_once() -> None:
    budget = WriteBudget(1, clock=Clock())
    reservation = budget.take_or_wait()
    assert isinstance(reservation, Reservation)

    async def main() -> None:
        await budget.give_back_unspent(reservation)
        await budget.give_back_unspent(reservation)

    asyncio.run(main())
    assert budget.remaining() == 1
    spent = budget.take_or_wait()
    assert isinstance(spent, Reservation)
    spent.spent = True  # a journaled write's slot
    asyncio.run(budget.give_back_unspent(spent))
    assert budget.remaining() == 0


def test_a_budget_must_allow_one_write() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WriteBudget(0)


def test_a_server_refusal_lowers_the_budget_to_what_it_accepted_for_the_rest_of_the_hour() -> None:
    clock = Clock()
    budget = WriteBudget(10, clock=clock)
    for _ in range(5):
        assert budget.try_acquire()
        clock.now += 60
    budget.server_refused()  # the 5th write was refused: the server took 4 this hour
    assert budget.per_hour == 4
    assert budget.configured_per_hour == 10
    assert budget.remaining() == 0
    assert not budget.try_acquire()
    assert budget.lowered is not None
    assert "allows 4 writes per hour instead of 10" in budget.lowered
    # The oldest write leaves the window one hour after it was sent; then one slot is free.
    assert budget.seconds_until_free() == pytest.approx(WINDOW_SECONDS - 5 * 60 + 60)
    clock.now += WINDOW_SECONDS - 5 * 60 + 60
    assert budget.remaining() == 1  # 2 of the 5 left the window: 3 of the 4 allowed are used
    # After the hour the configured budget is back.
    clock.now += 5 * 60
    assert budget.per_hour == 10
    assert budget.lowered is None
    assert budget.remaining() == 10


def test_a_refusal_with_nothing_accepted_waits_for_the_limit_to_lift() -> None:
    clock = Clock()
    budget = WriteBudget(10, clock=clock)
    assert budget.try_acquire()
    budget.server_refused()  # someone else (the broker's CRM) used the server's quota
    assert budget.per_hour == 0
    assert budget.seconds_until_free() == pytest.approx(WINDOW_SECONDS)
    clock.now += WINDOW_SECONDS
    assert budget.try_acquire()


def test_a_second_refusal_never_raises_the_lowered_limit() -> None:
    clock = Clock()
    budget = WriteBudget(10, clock=clock)
    for _ in range(3):
        budget.try_acquire()
    budget.server_refused()
    assert budget.per_hour == 2
    clock.now += 10
    budget.server_refused()
    assert budget.per_hour == 2
