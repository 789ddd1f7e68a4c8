"""The write budget believes the server: a REQUEST_FREQUENCY_EXCEEDED answer lowers it for the
rest of the hour, the next write is refused locally (nothing sent), and the operator is told why.
Against the in-process sandbox with a hidden hourly cap lower than the profile's budget."""

from __future__ import annotations

import asyncio

import pytest
from office_helpers import MakeOffice

from ctrader_admin.api import ConnectionRefused, RateLimited
from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.services import partners
from ctrader_admin.services.budget import WINDOW_SECONDS, WriteBudget
from ctrader_admin.services.errors import WriteBudgetExhausted
from ctrader_admin.services.session import WriteIntent
from ctrader_admin.services.writes import UserTarget

MANAGER = TRAINING_MANAGERS[0]
USER = UserTarget(1000001)  # sandbox_main: the manager may write there


def test_a_rate_limit_answer_lowers_the_budget_and_the_next_write_is_not_sent(
    make_office: MakeOffice,
) -> None:
    sandbox = Sandbox(SandboxConfig(users=60, write_cap_per_hour=3))
    office = make_office(transport=lambda _profile: sandbox.transport())

    async def scenario() -> tuple[list[str], str]:
        session = await office.open("sandbox")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        outcomes: list[str] = []
        for n in range(4):
            try:
                await partners.set_partner(session, USER, f"AB-{n}", reason="t")
                outcomes.append("ok")
            except RateLimited:
                outcomes.append("rate limited")
        with pytest.raises(WriteBudgetExhausted) as refused:
            await partners.set_partner(session, USER, "AB-9", reason="t")
        assert session.budget.per_hour == 3
        assert session.budget.configured_per_hour == 1000
        await office.close()
        return outcomes, str(refused.value)

    try:
        outcomes, message = asyncio.run(scenario())
        writes = [r for r in sandbox.request_log if r.method == "PUT"]
    finally:
        sandbox.close()
    assert outcomes == ["ok", "ok", "ok", "rate limited"]
    assert "allows 3 writes per hour instead of 1000" in message
    assert "nothing was sent" in message
    assert len(writes) == 4  # the fifth write never left the app


def test_a_write_that_never_reached_the_backend_gives_back_its_own_slot(
    make_office: MakeOffice,
) -> None:
    """A bulk job's write (its slot taken while pacing) fails before reaching the backend while
    another write, which took a slot after it, was sent: the failed write's slot is freed, and
    the other write's slot is the one still counted."""
    sandbox = Sandbox(SandboxConfig(users=60))
    office = make_office(transport=lambda _profile: sandbox.transport())
    now = [1_000_000.0]

    async def scenario() -> float:
        session = await office.open("sandbox")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        session.budget = WriteBudget(2, clock=lambda: now[0])
        older = session.budget.try_acquire()  # the job's write, paced first
        assert older is not None
        now[0] += 600
        assert session.budget.try_acquire() is not None  # another write's, sent

        async def refused() -> None:
            raise ConnectionRefused("The server refused the connection.")

        intent = WriteIntent("set_partner", "user:1000001", None, "AB-1", reason="t")
        with pytest.raises(ConnectionRefused):
            await session.write(intent, refused, reserved=older)
        assert session.budget.remaining() == 1
        assert session.budget.try_acquire() is not None
        seconds = session.budget.seconds_until_free()
        await office.close()
        return seconds

    try:
        seconds = asyncio.run(scenario())
    finally:
        sandbox.close()
    # Both slots counted were taken at the later time: the first frees a full hour after it
    # (had the other write's slot been freed, the job's would free 600 s earlier).
    assert seconds == pytest.approx(WINDOW_SECONDS)
