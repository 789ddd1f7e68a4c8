"""A single partnerId write whose first try was applied but whose answer was lost, followed by a
500, a rate-limit answer or a dropped connection: never journaled "failed". A read-back that
shows the intended value settles it "ok" (and says so); otherwise it stays "unknown", and the
revert reads the target to decide. A backend scripted with respx: no network, no waiting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
import pytest
import respx
from office_helpers import MakeOffice

from ctrader_admin.api import (
    OutcomeUnknown,
    RetryPolicy,
    ServerError,
)
from ctrader_admin.services import journal_ops, partners, writes
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.errors import NotRevertible
from ctrader_admin.services.session import Session, WriteIntent
from ctrader_admin.services.writes import Applied, PartnerCode, UserTarget
from ctrader_admin.store.journal import Journal, JournalEntry
from ctrader_admin.store.tokens import TokenStore
from ctrader_admin.wiring import client_factory

T = TypeVar("T")
USER = 1000002
BEFORE, AFTER = "AFF-EU-318", "IB-7"
REFERRAL = "/cid/oauth2/ctid/referral"
RATE_LIMIT = {"error": {"errorCode": "REQUEST_FREQUENCY_EXCEEDED", "description": "Hourly cap"}}

# What one PUT try meets: applied then its answer lost, lost without being applied, a 500, a
# rate-limit answer, a connection cut before any answer (not applied), or a clean 200.
APPLIED_TIMEOUT, LOST_TIMEOUT, ERROR, LIMITED, DROP = (
    "applied+timeout",
    "timeout",
    "500",
    "429",
    "drop",
)


@dataclass
class Backend:
    """One user's partnerId, a script of what the next PUT tries meet, and failing reads."""

    value: str | None = BEFORE
    script: list[str] = field(default_factory=list)
    failing_reads_after_a_put: int = 0  # reads answered 503 once a PUT was made
    puts: int = 0

    def put(self, request: httpx.Request) -> httpx.Response:
        self.puts += 1
        step = self.script.pop(0) if self.script else "ok"
        partner = json.loads(request.content)["partnerId"]
        if step == APPLIED_TIMEOUT:
            self.value = partner
            raise httpx.ReadTimeout("timed out", request=request)
        if step == LOST_TIMEOUT:
            raise httpx.ReadTimeout("timed out", request=request)
        if step == DROP:
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        if step == ERROR:
            return httpx.Response(500, json={"error": {"errorCode": "UNKNOWN_ERROR"}})
        if step == LIMITED:
            return httpx.Response(400, json=RATE_LIMIT)
        self.value = partner
        return httpx.Response(200, json={"userId": USER})

    def get(self, request: httpx.Request) -> httpx.Response:
        if self.puts and self.failing_reads_after_a_put:
            self.failing_reads_after_a_put -= 1
            return httpx.Response(503)
        if self.value is None:
            return httpx.Response(200)
        return httpx.Response(200, json={"userId": USER, "partnerId": self.value})

    def delete(self, request: httpx.Request) -> httpx.Response:
        self.value = None
        return httpx.Response(200)


@dataclass
class Env:
    backend: Backend
    office: Backoffice
    journal: Journal
    clock: list[float]  # the write budget's time, moved by hand


@pytest.fixture
def env(make_office: MakeOffice) -> Env:
    backend = Backend()
    clock = [1_900_000_000.0]
    router = respx.MockRouter(assert_all_called=False)
    router.put(path=REFERRAL).mock(side_effect=backend.put)
    router.get(path=REFERRAL).mock(side_effect=backend.get)
    router.delete(path=REFERRAL).mock(side_effect=backend.delete)

    async def no_wait(seconds: float) -> None:
        return None

    clients = client_factory(
        TokenStore(),
        transport=lambda _profile: httpx.MockTransport(router.async_handler),
        sleep=no_wait,
        retry=RetryPolicy(max_attempts=3),
    )
    office = make_office(clients=clients, clock=lambda: clock[0])
    return Env(backend, office, office.journal, clock)


def play(env: Env, scenario: Callable[[Session], Awaitable[T]]) -> T:
    async def main() -> T:
        session = await env.office.open("sandbox")
        session.client.token = "tok-unit"
        try:
            return await scenario(session)
        finally:
            await env.office.close()

    return asyncio.run(main())


def set_after(env: Env) -> JournalEntry:
    """``set_partner`` to AFTER as an operator would; the journal entry it left."""

    async def scenario(session: Session) -> JournalEntry:
        # The operator is told the outcome is unknown; the journal is what this test checks.
        try:
            done = await partners.set_partner(session, UserTarget(USER), AFTER, reason="claim")
            journal_id = done.journal_id
        except OutcomeUnknown as exc:
            journal_id = exc.journal_id  # the failure names the entry that records it
        assert journal_id is not None
        entry = session.journal.entry(journal_id)
        assert entry is not None
        return entry

    return play(env, scenario)


def revert(env: Env, entry: JournalEntry) -> None:
    # An hour later: a rate-limit answer has lowered this connection's budget until then.
    env.clock[0] += 3600

    async def scenario(session: Session) -> None:
        await journal_ops.revert(session, entry.id, reason="undo", ticket="")

    play(env, scenario)


AMBIGUOUS = [
    [APPLIED_TIMEOUT, ERROR, ERROR],
    [APPLIED_TIMEOUT, LIMITED],
    [APPLIED_TIMEOUT, ERROR, DROP],
    [DROP, APPLIED_TIMEOUT, ERROR],
]
IDS = ["then-500-500", "then-rate-limit", "then-500-drop", "drop-then-applied-then-500"]


@pytest.mark.parametrize("script", AMBIGUOUS, ids=IDS)
def test_an_applied_write_whose_answer_was_lost_is_settled_ok_by_the_read_back(
    env: Env, script: list[str]
) -> None:
    env.backend.script = list(script)

    entry = set_after(env)

    assert env.backend.puts == len(script)
    assert env.backend.value == AFTER
    assert entry.outcome == "ok"
    assert "reading the target back just after shows IB-7, the intended value" in (
        entry.response or ""
    )
    assert "may or may not have been applied" in (entry.response or "")
    revert(env, entry)
    assert env.backend.value == BEFORE
    assert env.journal.verify().ok


@pytest.mark.parametrize("script", AMBIGUOUS, ids=IDS)
def test_when_the_read_back_fails_too_it_stays_unknown_and_the_revert_reads_first(
    env: Env, script: list[str]
) -> None:
    env.backend.script = list(script)
    env.backend.failing_reads_after_a_put = 3  # every try of the read-back

    entry = set_after(env)

    assert entry.outcome == "unknown"
    assert "may or may not have been applied" in (entry.error or "")
    assert "Reading the target back failed too" in (entry.error or "")
    assert env.backend.value == AFTER
    revert(env, entry)  # reads AFTER, so it writes BEFORE back
    assert env.backend.value == BEFORE


def test_a_lost_write_that_was_not_applied_stays_unknown_and_needs_no_revert(env: Env) -> None:
    env.backend.script = [LOST_TIMEOUT, ERROR, LIMITED]

    entry = set_after(env)

    assert entry.outcome == "unknown"
    assert "not yet the intended value" in (entry.error or "")
    assert env.backend.value == BEFORE

    async def scenario(session: Session) -> str:
        with pytest.raises(NotRevertible) as caught:
            await journal_ops.revert(session, entry.id, reason="undo", ticket="")
        return caught.value.message

    assert "apparently never applied" in play(env, scenario)
    assert env.backend.value == BEFORE


def test_answers_that_prove_nothing_was_applied_are_failed(env: Env) -> None:
    env.backend.script = [ERROR, ERROR, ERROR]

    async def scenario(session: Session) -> JournalEntry:
        with pytest.raises(ServerError) as failed:
            await partners.set_partner(session, UserTarget(USER), AFTER, reason="x")
        assert failed.value.journal_id is not None
        entry = session.journal.entry(failed.value.journal_id)
        assert entry is not None
        return entry

    assert play(env, scenario).outcome == "failed"
    assert env.backend.value == BEFORE


def test_a_retry_refused_as_over_the_limit_lowers_the_budget_even_when_settled(env: Env) -> None:
    env.backend.script = [APPLIED_TIMEOUT, LIMITED]

    async def scenario(session: Session) -> str | None:
        await partners.set_partner(session, UserTarget(USER), AFTER, reason="claim")
        return session.budget.lowered

    lowered = play(env, scenario)

    assert lowered is not None
    assert "refused a write as over its hourly limit" in lowered


def test_a_confirmed_write_whose_read_back_fails_is_still_ok_and_says_the_read_failed(
    env: Env,
) -> None:
    env.backend.failing_reads_after_a_put = 3  # every try of the read-back

    async def scenario(session: Session) -> Applied:
        prepared = await writes.prepare(session, PartnerCode(UserTarget(USER), AFTER))
        return await writes.apply(session, prepared, reason="claim", confirm=True)

    applied = play(env, scenario)

    assert applied.check is not None
    assert not applied.check.matches
    assert applied.entry is not None
    assert applied.entry.outcome == "ok"  # the backend answered success
    assert "Read back just after: the read failed" in (applied.entry.response or "")
    assert env.journal.count() == 1  # the read-back is in the write's entry, not one of its own


def test_a_write_cancelled_during_its_confirming_read_is_journaled_ok(env: Env) -> None:
    async def answered() -> None:
        return None

    async def cancelled_read() -> str | None:
        raise asyncio.CancelledError

    async def scenario(session: Session) -> list[JournalEntry]:
        intent = WriteIntent("set_partner", f"user:{USER}", BEFORE, AFTER, reason="claim")
        with pytest.raises(asyncio.CancelledError):
            await session.write(intent, answered, read_back=cancelled_read, confirm=True)
        return list(session.journal.iter_entries())

    entries = play(env, scenario)

    assert [(e.action, e.outcome) for e in entries] == [("set_partner", "ok")]
