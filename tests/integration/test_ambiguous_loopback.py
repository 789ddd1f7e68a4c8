"""Writes whose first try was applied but whose answer was lost, then a 500, a rate-limit answer
or a dropped connection, over real loopback sockets (the sandbox's scripted faults): singles and
bulk rows are journaled "ok" once a read-back shows the change, "unknown" while it does not,
never "failed"; and the reverts put every target back."""

from __future__ import annotations

from collections import Counter

import pytest
from test_bulk_loopback import MANAGER, Env, play
from test_bulk_loopback import base_url as base_url
from test_bulk_loopback import env as env
from test_bulk_loopback import sandbox as sandbox

from ctrader_admin.api import OutcomeUnknown
from ctrader_admin.sandbox import Faults
from ctrader_admin.sandbox.faults import ScriptedFault
from ctrader_admin.services import journal_ops, partners
from ctrader_admin.services.bulk import ApplyOptions, JobResult, JobRunner, plan_csv, plan_revert
from ctrader_admin.services.errors import NotRevertible
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.store.journal import JournalEntry, JournalFilter

HEADER = "level,userId,ctidTraderAccountId,partnerId"
SEQUENCES: dict[str, list[ScriptedFault]] = {
    "then-500": ["stall_after", "error", "error"],
    "then-rate-limit": ["stall_after", "rate_limited"],
    "then-drop": ["stall_after", "error", "drop"],
}


def users(env: Env, count: int) -> list[int]:
    reach = set(MANAGER.broker_names)
    found = [
        u
        for u in range(1000001, 1000081)
        if (user := env.sandbox.user(u)) is not None and user["broker_name"] in reach
    ]
    return found[:count]


def stalls_short(env: Env) -> None:
    # Past the client's 0.5 s timeout, and short, so the server is soon done with it.
    env.sandbox.config.faults = Faults(stall_seconds=1.0)


async def set_partner(session: Session, user: int, value: str) -> JournalEntry:
    try:
        done = await partners.set_partner(session, UserTarget(user), value, reason="claim")
        journal_id = done.journal_id
    except OutcomeUnknown as exc:  # the operator is told; the journal is checked
        journal_id = exc.journal_id
    assert journal_id is not None
    entry = session.journal.entry(journal_id)
    assert entry is not None
    return entry


@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_a_single_write_applied_then_lost_is_ok_after_its_read_back_and_reverts(
    env: Env, sequence: str
) -> None:
    stalls_short(env)
    user = users(env, 1)[0]
    before = env.sandbox.referral(user_id=user)

    async def scenario(session: Session) -> JournalEntry:
        env.sandbox.script_faults(*SEQUENCES[sequence])
        entry = await set_partner(session, user, "LOST-1")
        assert env.sandbox.scripted_faults() == []  # each try met its fault
        env.clock.value += 3600  # a rate-limit answer lowered the budget for the hour
        await journal_ops.revert(session, entry.id, reason="undo", ticket="")
        return entry

    entry = play(env, scenario)

    assert entry.outcome == "ok"
    assert "shows LOST-1, the intended value" in (entry.response or "")
    assert env.sandbox.referral(user_id=user) == before


def test_a_single_write_lost_before_it_was_applied_stays_unknown(env: Env) -> None:
    stalls_short(env)
    user = users(env, 1)[0]
    before = env.sandbox.referral(user_id=user)

    async def scenario(session: Session) -> tuple[JournalEntry, str]:
        env.sandbox.script_faults("stall_before", "error", "error")
        entry = await set_partner(session, user, "NEVER-1")
        with pytest.raises(NotRevertible) as caught:
            await journal_ops.revert(session, entry.id, reason="undo", ticket="")
        return entry, caught.value.message

    entry, refusal = play(env, scenario)

    assert entry.outcome == "unknown"
    assert "not yet the intended value" in (entry.error or "")
    assert "apparently never applied" in refusal
    assert env.sandbox.referral(user_id=user) == before


def test_a_batch_with_lost_answers_journals_no_failure_and_its_revert_restores_all(
    env: Env,
) -> None:
    stalls_short(env)
    targets = users(env, 5)
    before = {u: env.sandbox.referral(user_id=u) for u in targets}
    text = "\n".join([HEADER, *(f"user,{u},,LB-{n}" for n, u in enumerate(targets))])
    one_at_a_time = ApplyOptions(concurrency=1, retry_backoff=0.05, progress_interval=0.05)

    async def scenario(session: Session) -> tuple[JobResult, JobResult]:
        plan = await plan_csv(session, text, source="lost.csv")
        env.sandbox.script_faults(*(f for name in sorted(SEQUENCES) for f in SEQUENCES[name]))
        runner = JobRunner.start(
            session,
            env.store,
            plan,
            reason="fix",
            ticket="",
            options=one_at_a_time,
            clock=env.clock,
        )
        done = await runner.run()
        revert = await plan_revert(session, done.job_id, store=env.store)
        undo = JobRunner.start(
            session, env.store, revert, reason="undo", ticket="", clock=env.clock
        )
        return done, await undo.run()

    done, undone = play(env, scenario)

    assert done.all_ok, done.counts
    entries = list(env.journal.iter_entries(JournalFilter(batch_id=done.job_id)))
    assert Counter(e.outcome for e in entries) == {"ok": len(targets)}
    assert sum("the intended value" in (e.response or "") for e in entries) == len(SEQUENCES)
    assert undone.all_ok, undone.counts
    assert {u: env.sandbox.referral(user_id=u) for u in targets} == before
    assert env.journal.verify().ok
