"""Applying plans against the in-process sandbox: results, drift, the journal and checkpoints,
White Label moves, revert, stop/cancel/resume, rate-limit pauses and the write budget (with a
clock the test moves, so nothing here waits for real time)."""

from __future__ import annotations

import asyncio
import csv
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from office_helpers import MakeOffice

from ctrader_admin.api import Unauthorized
from ctrader_admin.sandbox import DIALECTS, TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.budget import LocalWindow, WriteBudget
from ctrader_admin.services.bulk import (
    ApplyOptions,
    JobResult,
    JobRunner,
    Plan,
    Progress,
    export_results_csv,
    job_results,
    plan_csv,
    plan_revert,
)
from ctrader_admin.services.errors import NotRevertible
from ctrader_admin.services.session import Session
from ctrader_admin.store.budget_limit import ServerLimit
from ctrader_admin.store.checkpoints import (
    FINAL_STATES,
    CheckpointStore,
    JobState,
    RowCheckpoint,
)
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalFilter

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]
HEADER = "level,userId,ctidTraderAccountId,partnerId"
REFERRAL = "/cid/oauth2/ctid/referral"
MOVE = "/cid/ctid/changeCtidTraderAccount"
START = 1_900_000_000.0


class FakeClock:
    """Time that moves only when someone waits: a pause or a budget wait of an hour is instant."""

    def __init__(self) -> None:
        self.now_value = START
        self.lag = 0.0  # real seconds each wait also takes, so a progress view can see it

    def __call__(self) -> float:
        return self.now_value

    def now(self) -> float:
        return self.now_value

    async def sleep_until(self, moment: float) -> None:
        await asyncio.sleep(self.lag)
        self.now_value = max(self.now_value, moment)

    async def sleep(self, seconds: float) -> None:
        self.now_value += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class Env:
    sandbox: Sandbox
    office: Backoffice
    store: CheckpointStore
    journal: Journal
    clock: FakeClock = field(default_factory=FakeClock)


@pytest.fixture
def env(make_office: MakeOffice) -> Iterator[Env]:
    clock = FakeClock()
    sandbox = Sandbox(SandboxConfig(users=60, clock=clock, write_cap_per_hour=None))
    office = make_office(
        transport=lambda _profile: sandbox.transport(), sleep=clock.sleep, clock=clock
    )
    yield Env(sandbox, office, office.checkpoints, office.journal, clock)
    sandbox.close()


def play(env: Env, scenario: Callable[[Session], Awaitable[T]]) -> T:
    async def main() -> T:
        session = await env.office.open("sandbox")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        try:
            return await scenario(session)
        finally:
            await env.office.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


FAST = ApplyOptions(concurrency=4, retry_backoff=0.01, progress_interval=0.01)


def start(
    env: Env,
    session: Session,
    plan: Plan,
    *,
    reason: str = "bulk fix",
    options: ApplyOptions = FAST,
    on_progress: Callable[[Progress], None] | None = None,
) -> JobRunner:
    return JobRunner.start(
        session,
        env.store,
        plan,
        reason=reason,
        ticket="SUP-1",
        options=options,
        clock=env.clock,
        on_progress=on_progress,
    )


def user_rows(env: Env, count: int) -> list[int]:
    """Users the training manager may touch, from the seed."""
    reach = set(MANAGER.broker_names)
    users = [
        u
        for u in range(1000001, 1000061)
        if (found := env.sandbox.user(u)) is not None and found["broker_name"] in reach
    ]
    return users[:count]


def writes(env: Env, method: str = "PUT") -> list[object]:
    return [
        e
        for e in env.sandbox.request_log
        if e.method == method and e.path != "/v2/webserv/managers/token"
    ]


def test_apply_writes_every_row_journals_it_and_reports_progress(env: Env, tmp_path: Path) -> None:
    users = user_rows(env, 6)
    unchanged = f"user,{users[5]},,{env.sandbox.referral(user_id=users[5]) or ''}"
    text = "\n".join(
        [HEADER, *(f"user,{u},,NEW-{n}" for n, u in enumerate(users[:5])), "user,bad,,X", unchanged]
    )
    seen: list[Progress] = []

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        return await start(env, session, plan, on_progress=seen.append).run()

    result = play(env, scenario)
    assert result.state == "finished"
    assert (result.counts["ok"], result.counts["skipped"], result.counts["failed"]) == (5, 1, 1)
    assert not result.all_ok  # the bad line
    for n, user in enumerate(users[:5]):
        assert env.sandbox.referral(user_id=user) == f"NEW-{n}"
    entries = list(env.journal.iter_entries(JournalFilter(batch_id=result.job_id)))
    assert sorted(e.target for e in entries) == sorted(f"user:{u}" for u in users[:5])
    assert {(e.outcome, e.reason, e.ticket, e.action) for e in entries} == {
        ("ok", "bulk fix", "SUP-1", "set_partner")
    }
    assert env.journal.verify().ok
    job = env.store.job(result.job_id)
    assert job is not None
    assert job.state == "finished"
    rows = {r.row: r for r in job_results(env.store, job)}
    assert rows[1].outcome == "ok"
    assert rows[1].journal_id in {e.id for e in entries}
    assert rows[6].outcome == "failed"
    assert rows[6].error.startswith("not sent — invalid")
    assert rows[7].outcome == "skipped"
    final = seen[-1]
    assert (final.phase, final.done, final.total) == ("finished", 7, 7)
    assert final.writes_left == final.writes_per_hour - 5
    assert final.counts["ok"] == 5
    assert final.fraction == 1.0
    assert all(0 <= p.done <= p.total == 7 for p in seen)
    export = tmp_path / "results.csv"
    assert export_results_csv(job_results(env.store, job), export) == 7
    with export.open(encoding="utf-8-sig") as file:
        table = list(csv.DictReader(file))
    assert [r["outcome"] for r in table] == ["ok"] * 5 + ["failed", "skipped"]


def test_targets_changed_since_planning_are_drift_and_not_written(env: Env) -> None:
    first, second, third = user_rows(env, 3)

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(
            session,
            f"{HEADER}\nuser,{first},,A\nuser,{second},,B\nuser,{third},,C\n",
            source="t.csv",
        )
        # Someone else changes two targets between planning and applying.
        from ctrader_admin.services import partners
        from ctrader_admin.services.writes import UserTarget

        await partners.set_partner(session, UserTarget(first), "OTHER", reason="x")
        await partners.set_partner(session, UserTarget(third), "C", reason="x")
        env.sandbox.clear_log()
        return await start(env, session, plan).run()

    result = play(env, scenario)
    assert env.sandbox.referral(user_id=first) == "OTHER"  # not overwritten
    assert env.sandbox.referral(user_id=second) == "B"
    assert env.sandbox.referral(user_id=third) == "C"
    job = env.store.job(result.job_id)
    assert job is not None
    outcome = {r.target: r for r in job_results(env.store, job)}
    assert outcome[f"user:{first}"].outcome == "drift"
    assert "now OTHER; not written" in outcome[f"user:{first}"].error
    assert outcome[f"user:{second}"].outcome == "ok"
    assert outcome[f"user:{third}"].outcome == "skipped"  # already as planned: nothing sent
    sent = [e.body["userId"] for e in writes(env)]  # type: ignore[attr-defined]
    assert sent == [second]
    # The write model refused the drifted row: the journal records it, as for a single write.
    batch = list(env.journal.iter_entries(JournalFilter(batch_id=result.job_id)))
    refused = [e for e in batch if e.outcome == "refused"]
    assert [(e.target, e.after) for e in refused] == [(f"user:{first}", "A")]
    assert "not sent: the value changed since it was confirmed" in (refused[0].error or "")
    assert "now OTHER" in (refused[0].error or "")
    assert outcome[f"user:{first}"].journal_id == refused[0].id


def test_white_label_moves_are_read_back_and_reverted(env: Env) -> None:
    logins = env.sandbox.logins(broker_name="sandbox_main", environment="demo")[:3]

    async def scenario(session: Session) -> tuple[JobResult, Plan, JobResult]:
        text = "\n".join(f"{login},demo,sandbox_eu" for login in logins)
        plan = await plan_csv(session, text, source="wl.csv")
        moved = await start(env, session, plan).run()
        revert = await plan_revert(session, moved.job_id, store=env.store)
        back = await start(env, session, revert, reason="undo").run()
        return moved, revert, back

    moved, revert, back = play(env, scenario)
    assert moved.counts["ok"] == 3
    assert back.counts["ok"] == 3
    for login in logins:
        trader = env.sandbox.trader(login)
        assert trader is not None
        assert trader["brokerName"] == "sandbox_main"
    posts = Counter(e.body["traderLogin"] for e in writes(env, "POST") if e.path == MOVE)  # type: ignore[attr-defined]
    assert posts == dict.fromkeys(logins, 2)  # once there, once back
    assert [(r.op, r.current, r.proposed) for r in revert.rows] == [
        ("move_wl", "sandbox_eu", "sandbox_main")
    ] * 3
    undone = list(env.journal.iter_entries(JournalFilter(batch_id=back.job_id)))
    originals = {e.id for e in env.journal.iter_entries(JournalFilter(batch_id=moved.job_id))}
    assert {e.reverts_id for e in undone} == originals
    assert all(e.before == "sandbox_eu" and e.after == "sandbox_main" for e in undone)


def test_revert_of_a_whole_batch_or_chosen_rows(env: Env) -> None:
    users = user_rows(env, 4)
    before = {u: env.sandbox.referral(user_id=u) for u in users}
    text = "\n".join([HEADER, *(f"user,{u},,NEW-{n}" for n, u in enumerate(users))])

    async def scenario(session: Session) -> list[Plan]:
        plan = await plan_csv(session, text, source="t.csv")
        batch = (await start(env, session, plan).run()).job_id
        # Someone changes the fourth target after the batch: its revert is refused.
        from ctrader_admin.services import partners
        from ctrader_admin.services.writes import UserTarget

        await partners.set_partner(session, UserTarget(users[3]), "LATER", reason="x")
        only_first = await plan_revert(session, batch, rows=[1], store=env.store)
        by_target = await plan_revert(session, batch, rows=[f"user:{users[1]}"])
        await start(env, session, only_first, reason="undo one").run()
        whole = await plan_revert(session, batch, store=env.store)
        await start(env, session, whole, reason="undo all").run()
        with pytest.raises(NotRevertible):
            await plan_revert(session, "no-such-batch")
        return [only_first, by_target, whole]

    only_first, by_target, whole = play(env, scenario)
    assert [r.target for r in only_first.rows] == [f"user:{users[0]}"]
    assert [r.target for r in by_target.rows] == [f"user:{users[1]}"]
    verdicts = {r.target: (r.status, r.problem) for r in whole.rows}
    assert verdicts[f"user:{users[0]}"] == ("skip", None)  # already reverted
    assert verdicts[f"user:{users[3]}"] == ("error", "changed")
    for user in users[:3]:
        assert env.sandbox.referral(user_id=user) == before[user]  # set back, or deleted
    assert env.sandbox.referral(user_id=users[3]) == "LATER"
    assert whole.kind == "revert"
    assert whole.reverts_batch is not None
    assert env.journal.verify().ok


def test_stop_then_resume_writes_each_row_once(env: Env) -> None:
    env.sandbox.config.latency_ms = 20
    users = user_rows(env, 24)
    text = "\n".join([HEADER, *(f"user,{u},,S-{n}" for n, u in enumerate(users))])

    async def scenario(session: Session) -> tuple[JobResult, JobResult]:
        plan = await plan_csv(session, text, source="t.csv")
        runner = start(env, session, plan, options=ApplyOptions(concurrency=2))
        task = asyncio.ensure_future(runner.run())
        while len(writes(env)) < 4:
            await asyncio.sleep(0.01)
        runner.stop()
        stopped = await task
        resumed = JobRunner.resume(
            session, env.store, stopped.job_id, options=FAST, clock=env.clock
        )
        return stopped, await resumed.run()

    stopped, resumed = play(env, scenario)
    assert stopped.state == "stopped"
    assert stopped.counts["pending"] > 0
    assert "resume" in (stopped.message or "")
    assert resumed.state == "finished"
    assert resumed.counts["ok"] == 24
    assert [env.sandbox.referral(user_id=u) for u in users] == [f"S-{n}" for n in range(24)]
    assert Counter(e.body["userId"] for e in writes(env)) == dict.fromkeys(users, 1)  # type: ignore[attr-defined]


def test_cancel_stops_at_once_and_resume_rereads_the_rows_in_flight(env: Env) -> None:
    env.sandbox.config.latency_ms = 30
    users = user_rows(env, 20)
    text = "\n".join([HEADER, *(f"user,{u},,C-{n}" for n, u in enumerate(users))])

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        task = asyncio.ensure_future(start(env, session, plan).run())
        while len(writes(env)) < 6:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        job = env.store.jobs()[0]
        assert job.state == "stopped"
        resumed = JobRunner.resume(session, env.store, job.id, options=FAST, clock=env.clock)
        return await resumed.run()

    result = play(env, scenario)
    assert result.state == "finished"
    assert result.all_ok
    assert [env.sandbox.referral(user_id=u) for u in users] == [f"C-{n}" for n in range(20)]
    outcomes = Counter(
        e.outcome for e in env.journal.iter_entries(JournalFilter(batch_id=result.job_id))
    )
    assert outcomes["ok"] + outcomes["unknown"] >= 20
    assert env.journal.pending_count() == 0
    assert env.journal.verify().ok


class LateSaveStore(CheckpointStore):
    """The first periodic save that holds a row not yet final is slow to reach the database
    (a busy machine, the journal's commit holding the lock): it waits until the job is marked
    finished. Released after a while anyway, so a runner that waits for that save goes on."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.finished = threading.Event()
        self.held = False

    def save_rows(self, job_id: str, rows: Sequence[RowCheckpoint]) -> None:
        if not self.held and any(r.state not in FINAL_STATES for r in rows):
            self.held = True
            self.finished.wait(timeout=1.0)
        super().save_rows(job_id, rows)

    def set_state(self, job_id: str, state: JobState, message: str | None = None) -> None:
        super().set_state(job_id, state, message)
        if state == "finished":
            self.finished.set()


def test_a_checkpoint_save_late_to_the_database_never_overwrites_the_final_rows(env: Env) -> None:
    # Seen under load in the crash-resume CLI test: the job was "finished" but a row's
    # checkpoint read "pending", as the save the ticker had started landed after the final one.
    env.sandbox.config.latency_ms = 20
    users = user_rows(env, 12)
    text = "\n".join([HEADER, *(f"user,{u},,LS-{n}" for n, u in enumerate(users))])
    store = LateSaveStore(env.journal.store)
    options = ApplyOptions(concurrency=2, progress_interval=0.005, checkpoint_interval=0.005)

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        runner = JobRunner.start(
            session, store, plan, reason="late save", ticket="SUP-1", options=options
        )
        return await runner.run()

    result = play(env, scenario)
    assert store.held  # the slow save did happen while rows were still open
    assert result.state == "finished"
    assert result.counts["ok"] == 12
    assert store.counts(result.job_id)["ok"] == 12, store.counts(result.job_id)
    assert {r.state for r in store.rows(result.job_id)} == {"ok"}


@pytest.mark.parametrize("dialect", ["default", "variant"])
def test_a_rate_limit_pauses_the_job_and_fails_no_row(env: Env, dialect: str) -> None:
    # The backend allows 5 writes an hour; our budget thinks 1000. The 429 dialect says when to
    # come back (Retry-After); the 400 one does not (the back-off applies). Time is fake.
    env.sandbox.config.dialect = DIALECTS[dialect]
    env.sandbox.config.write_cap_per_hour = 5
    users = user_rows(env, 12)
    text = "\n".join([HEADER, *(f"user,{u},,R-{n}" for n, u in enumerate(users))])
    phases: list[str] = []
    options = ApplyOptions(concurrency=3, rate_limit_backoff=600.0, progress_interval=0.001)

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        runner = start(
            env, session, plan, options=options, on_progress=lambda p: phases.append(p.phase)
        )
        return await runner.run()

    result = play(env, scenario)
    assert result.all_ok
    assert result.counts["ok"] == 12
    assert [env.sandbox.referral(user_id=u) for u in users] == [f"R-{n}" for n in range(12)]
    limited = [e for e in writes(env) if e.fault == "rate_limited"]  # type: ignore[attr-defined]
    assert limited  # the backend did refuse some, and they were sent again later
    assert env.clock.now() - START >= 3600  # it took (fake) hours: the job waited
    entries = list(env.journal.iter_entries(JournalFilter(batch_id=result.job_id)))
    assert {e.outcome for e in entries} == {"ok", "failed"}  # the refusals are journaled too


def test_the_budget_holds_the_job_within_its_hourly_rate(env: Env) -> None:
    env.office.profiles.update(
        env.office.profiles.get("sandbox").model_copy(update={"write_budget_per_hour": 4})
    )
    users = user_rows(env, 10)
    text = "\n".join([HEADER, *(f"user,{u},,B-{n}" for n, u in enumerate(users))])
    seen: list[Progress] = []
    env.clock.lag = 0.05

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        return await start(env, session, plan, on_progress=seen.append).run()

    result = play(env, scenario)
    assert result.all_ok
    stamps = sorted(e.at for e in writes(env))  # type: ignore[attr-defined]
    assert len(stamps) == 10
    assert all(
        sum(1 for s in stamps if t <= s < t + 3600) <= 4 for t in stamps
    )  # never more than the budget in any rolling hour
    assert any(p.phase == "waiting_for_budget" for p in seen)
    waiting = [p for p in seen if p.phase == "waiting_for_budget"]
    assert any(p.writes_left == 0 for p in waiting)
    assert any((p.eta_seconds or 0) >= 3600 for p in waiting)


class TeamLikeWindow(LocalWindow):
    """A window whose every call would be a round trip to the team database: it notes the
    thread each call runs on."""

    remote = True

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(clock)
        self.threads: list[int] = []

    def count(self) -> int:
        self.threads.append(threading.get_ident())
        return super().count()

    def take(self, allowed: int) -> int | None:
        self.threads.append(threading.get_ident())
        return super().take(allowed)

    def seconds_until_below(self, allowed: int) -> float:
        self.threads.append(threading.get_ident())
        return super().seconds_until_below(allowed)

    def current_limit(self) -> ServerLimit | None:
        self.threads.append(threading.get_ident())
        return super().current_limit()


def test_a_job_on_the_teams_budget_never_reads_it_on_the_event_loop(env: Env) -> None:
    users = user_rows(env, 5)
    text = "\n".join([HEADER, *(f"user,{u},,TB-{n}" for n, u in enumerate(users))])
    window = TeamLikeWindow(env.clock)
    seen: list[Progress] = []
    loop_threads: list[int] = []

    async def scenario(session: Session) -> JobResult:
        loop_threads.append(threading.get_ident())
        session.budget = WriteBudget(4, clock=env.clock, window=window)
        plan = await plan_csv(session, text, source="t.csv")
        return await start(env, session, plan, on_progress=seen.append).run()

    result = play(env, scenario)
    assert result.all_ok  # the fifth write waited an hour for the first slot to leave
    stamps = sorted(e.at for e in writes(env))  # type: ignore[attr-defined]
    assert len(stamps) == 5
    assert stamps[4] >= START + 3600  # an hour after the first slot was taken, at the earliest
    assert any(p.phase == "waiting_for_budget" for p in seen)
    final = seen[-1]  # the budget as it stands at the end, read for the last report
    assert (final.phase, final.writes_left) == ("finished", 4 - window.count())
    assert window.threads  # the budget was read (taken, counted) …
    assert loop_threads[0] not in window.threads  # … always on a worker thread


class OthersWinWindow(LocalWindow):
    """The team's budget as another workstation keeps it: each slot this job sees free is taken
    by someone else before this job can take it."""

    def seconds_until_below(self, allowed: int) -> float:
        return 0.0

    def take(self, allowed: int) -> int | None:
        return None


def test_a_job_that_loses_the_free_slots_to_others_still_stops_with_its_rows_pending(
    env: Env,
) -> None:
    users = user_rows(env, 2)
    text = "\n".join([HEADER, *(f"user,{u},,LOST-{n}" for n, u in enumerate(users))])

    async def scenario(session: Session) -> JobResult:
        session.budget = WriteBudget(4, clock=env.clock, window=OthersWinWindow(env.clock))
        plan = await plan_csv(session, text, source="t.csv")
        reports: list[Progress] = []

        def stop_after_a_few(progress: Progress) -> None:
            reports.append(progress)
            if len(reports) == 3:
                runner.stop()

        runner = start(env, session, plan, on_progress=stop_after_a_few)
        return await asyncio.wait_for(runner.run(), 30)

    result = play(env, scenario)
    assert result.state == "stopped"
    assert result.counts["pending"] == 2  # nothing sent, nothing in flight: resumable as is
    assert writes(env) == []


@pytest.mark.parametrize("keyring_delay", [0.0, 0.3], ids=["quick keyring", "slow keyring"])
def test_a_refused_token_stops_the_job_and_it_can_be_resumed(
    env: Env, keyring_delay: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow keyring (D-Bus) keeps the refused write in its log-out while the other writers
    # find no token: the job must still name the refusal, not their "not logged in".
    forget = env.office.tokens.delete

    def slow_delete(profile_id: str, manager_login: int) -> None:
        time.sleep(keyring_delay)
        forget(profile_id, manager_login)

    monkeypatch.setattr(env.office.tokens, "delete", slow_delete)
    env.sandbox.config.latency_ms = 10
    users = user_rows(env, 12)
    text = "\n".join([HEADER, *(f"user,{u},,T-{n}" for n, u in enumerate(users))])

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        runner = start(env, session, plan)
        task = asyncio.ensure_future(runner.run())
        while len(writes(env)) < 3:
            await asyncio.sleep(0.005)
        env.sandbox.invalidate_token(MANAGER.login)
        with pytest.raises(Unauthorized):
            await task
        job = env.store.job(runner.job_id)
        assert job is not None
        assert job.state == "stopped"
        assert "Stopped" in (job.message or "")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        return await JobRunner.resume(
            session, env.store, job.id, options=FAST, clock=env.clock
        ).run()

    result = play(env, scenario)
    assert result.all_ok
    assert [env.sandbox.referral(user_id=u) for u in users] == [f"T-{n}" for n in range(12)]


def test_rows_queued_over_several_turns_are_each_written_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big job's rows reach the readers' queue a batch per turn of the loop (the window keeps
    answering); the readers start on the first batch, and every row is written, once."""
    from ctrader_admin.services.bulk import runner

    monkeypatch.setattr(runner, "_QUEUED_PER_TURN", 3)
    users = user_rows(env, 20)
    text = "\n".join([HEADER, *(f"user,{u},,Q-{n}" for n, u in enumerate(users))])

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        return await start(env, session, plan).run()

    result = play(env, scenario)
    assert result.state == "finished"
    assert result.counts["ok"] == 20
    assert [env.sandbox.referral(user_id=u) for u in users] == [f"Q-{n}" for n in range(20)]
    assert Counter(e.body["userId"] for e in writes(env)) == dict.fromkeys(users, 1)  # type: ignore[attr-defined]
