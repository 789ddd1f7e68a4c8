"""Bulk writes whose answers were lost, against the in-process sandbox with scripted faults: no
applied write is journaled "failed", unknown entries are reverted by what the target reads now,
and a revert plan lists its rows in the batch's own order."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from test_bulk_apply import FAST, HEADER, Env, play, start, user_rows, writes
from test_bulk_apply import env as env

from ctrader_admin.api import ApiClient, ConnectionConfig
from ctrader_admin.sandbox import DIALECTS, Faults
from ctrader_admin.sandbox.faults import ScriptedFault
from ctrader_admin.services.bulk import (
    ApplyOptions,
    JobResult,
    Plan,
    plan_csv,
    plan_revert,
)
from ctrader_admin.services.session import Session
from ctrader_admin.store.journal import JournalAttempt, JournalDraft, JournalFilter

ONE_AT_A_TIME = ApplyOptions(concurrency=1, retry_backoff=0.01, progress_interval=0.01)


def patient_client(env: Env, session: Session, timeout: float) -> None:
    """The session's client with a read timeout the stalled requests will hit."""
    session.client = ApiClient(
        ConnectionConfig(base_url=session.profile.base_url, timeout=timeout),
        transport=env.sandbox.transport(),
        sleep=env.clock.sleep,
        token=session.client.token,
    )


def batch_text(users: list[int]) -> str:
    return "\n".join([HEADER, *(f"user,{u},,AMB-{n}" for n, u in enumerate(users))])


@pytest.mark.parametrize("dialect", ["default", "variant"])
def test_applied_writes_whose_retries_failed_are_never_failed_and_are_reverted(
    env: Env, dialect: str
) -> None:
    env.sandbox.config.dialect = DIALECTS[dialect]
    users = user_rows(env, 5)
    before = {u: env.sandbox.referral(user_id=u) for u in users}
    # One write at a time, so each sequence belongs to one call: applied then timed out, then
    # 500 and 500 / a rate-limit answer / 500 and a dropped connection. Then two clean rows.
    # The 429 variant names a Retry-After, which the client waits for in-line: a third try.
    limited: tuple[ScriptedFault, ...] = ("rate_limited",) * (2 if dialect == "variant" else 1)
    script: list[ScriptedFault] = [
        *("stall_after", "error", "error"),
        *("stall_after", *limited),
        *("stall_after", "error", "drop"),
    ]

    async def scenario(session: Session) -> tuple[JobResult, JobResult]:
        patient_client(env, session, timeout=1.0)
        plan = await plan_csv(session, batch_text(users), source="amb.csv")
        env.sandbox.script_faults(*script)
        done = await start(env, session, plan, options=ONE_AT_A_TIME).run()
        assert env.sandbox.scripted_faults() == []
        revert = await plan_revert(session, done.job_id, store=env.store)
        assert [r.status for r in revert.rows] == ["write"] * len(users)
        return done, await start(env, session, revert, reason="undo").run()

    done, undone = play(env, scenario)

    assert done.all_ok, done.counts
    entries = list(env.journal.iter_entries(JournalFilter(batch_id=done.job_id)))
    assert Counter(e.outcome for e in entries) == {"ok": len(users)}
    settled = [e for e in entries if "reading the target back just after" in (e.response or "")]
    assert len(settled) == 3
    assert undone.all_ok, undone.counts
    assert {u: env.sandbox.referral(user_id=u) for u in users} == before
    assert env.journal.verify().ok


def test_unknown_entries_are_reverted_by_what_the_target_reads_now(env: Env) -> None:
    users = user_rows(env, 6)
    before = {u: env.sandbox.referral(user_id=u) for u in users}
    env.sandbox.config.faults = Faults(stall_seconds=60.0)

    async def scenario(session: Session) -> tuple[str, Plan, JobResult]:
        patient_client(env, session, timeout=30.0)
        plan = await plan_csv(session, batch_text(users), source="amb.csv")
        # Two writes in flight, both stalled: one applied first, one not. Then the job is cancelled:
        # both are journaled unknown.
        env.sandbox.script_faults("stall_after", "stall_before")
        options = ApplyOptions(concurrency=2, retry_backoff=0.01, progress_interval=0.01)
        task = asyncio.ensure_future(start(env, session, plan, options=options).run())
        changed = False
        while env.sandbox.scripted_faults() or not changed:
            await asyncio.sleep(0.01)
            changed = any(env.sandbox.referral(user_id=u) != before[u] for u in users)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        batch = env.store.jobs()[0].id
        revert = await plan_revert(session, batch, store=env.store)
        return batch, revert, await start(env, session, revert, reason="undo").run()

    batch, revert, undone = play(env, scenario)

    entries = list(env.journal.iter_entries(JournalFilter(batch_id=batch)))
    outcomes = Counter(e.outcome for e in entries)
    assert outcomes["unknown"] >= 2
    assert outcomes["ok"] == 0
    for entry in entries:  # writers cancelled before sending: failed, and truly nothing sent
        if entry.outcome == "failed":
            assert "nothing was sent" in (entry.error or "")
    # The applied one reads its new value: written back. The others read their old one.
    statuses = Counter(r.status for r in revert.rows)
    assert statuses == {"write": 1, "skip": outcomes["unknown"] - 1}
    assert undone.all_ok, undone.counts
    assert {u: env.sandbox.referral(user_id=u) for u in users} == before


def test_a_revert_plan_lists_rows_in_the_batch_order_not_the_journal_order(env: Env) -> None:
    users = user_rows(env, 4)

    async def scenario(session: Session) -> Plan:
        plan = await plan_csv(session, batch_text(users), source="order.csv")
        batch = start(env, session, plan).job_id  # recorded, not run
        # Concurrent writers journal rows in whatever order they finish: here, backwards.
        env.journal.append_many(
            JournalAttempt(
                JournalDraft(
                    operator=session.operator,
                    profile_id=session.profile.id,
                    profile_name=session.profile.name,
                    environment="",
                    broker_name="",
                    action="set_partner",
                    target=f"user:{u}",
                    before=env.sandbox.referral(user_id=u),
                    after=f"AMB-{n}",
                    batch_id=batch,
                ),
                "ok",
            )
            for n, u in reversed(list(enumerate(users)))
        )
        return await plan_revert(session, batch, store=env.store)

    revert = play(env, scenario)
    assert [r.target for r in revert.rows] == [f"user:{u}" for u in users]


def test_without_the_job_the_rows_follow_the_journal_order(env: Env) -> None:
    users = user_rows(env, 3)

    async def scenario(session: Session) -> tuple[str, Plan]:
        plan = await plan_csv(session, batch_text(users), source="order.csv")
        done = await start(env, session, plan, options=FAST).run()
        return done.job_id, await plan_revert(session, done.job_id)

    batch, revert = play(env, scenario)
    first_written = {}
    for entry in env.journal.iter_entries(JournalFilter(batch_id=batch)):
        first_written.setdefault(entry.target, entry.id)
    assert [r.target for r in revert.rows] == sorted(first_written, key=first_written.__getitem__)
    assert len(writes(env)) == len(users)
