"""Bulk apply against the sandbox over real loopback sockets, with faults on: 500s, stalls past
the client timeout with the write applied and with it not applied, dropped connections, and
rate-limit answers (a small hourly cap; the sandbox and the job share a clock the test moves, so
an hour's wait is instant). The job must finish with the sandbox exactly as planned, and no
White Label move (a POST) may reach the backend again once it was applied."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from ctrader_admin.sandbox import (
    DIALECTS,
    TRAINING_MANAGERS,
    Faults,
    LoggedRequest,
    Sandbox,
    SandboxConfig,
)
from ctrader_admin.sandbox.server import serve_in_thread
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.bulk import ApplyOptions, JobResult, JobRunner, Plan, plan_csv
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalFilter
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.wiring import compose_backoffice

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]
MOVE = "/cid/ctid/changeCtidTraderAccount"
FAULTS = Faults(
    error_rate=0.05,
    stall_after_rate=0.02,
    stall_before_rate=0.02,
    drop_rate=0.02,
    stall_seconds=1.0,
)
CLIENT_TIMEOUT = 0.5  # below stall_seconds: a stall is a timeout


class FakeClock:
    """Time that moves only when the job waits. ``settle``: real seconds a wait lasts before the
    jump, so requests already on the wire arrive before the hour they were sent in is over."""

    def __init__(self) -> None:
        self.value = time.time()
        self.settle = 0.0

    def __call__(self) -> float:
        return self.value

    def now(self) -> float:
        return self.value

    async def sleep_until(self, moment: float) -> None:
        await asyncio.sleep(self.settle)
        self.value = max(self.value, moment)

    async def sleep(self, seconds: float) -> None:
        self.value += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class Env:
    sandbox: Sandbox
    office: Backoffice
    store: CheckpointStore
    journal: Journal
    clock: FakeClock


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Overrides the module-wide one of conftest.py: every test starts from the seed.
    box = Sandbox(SandboxConfig(users=80, write_cap_per_hour=None))
    yield box
    box.close()


@pytest.fixture
def base_url(sandbox: Sandbox) -> Iterator[str]:
    with serve_in_thread(sandbox) as url:
        yield url


@pytest.fixture
def env(sandbox: Sandbox, base_url: str, tmp_path: Path) -> Iterator[Env]:
    clock = FakeClock()
    sandbox.config.clock = clock
    database = Database(tmp_path / "app.sqlite3")
    profiles = ProfileStore(AppPaths.under(tmp_path / "home"))
    profiles.add(
        Profile(
            id="loopback",
            name="Loopback sandbox",
            base_url=base_url,
            broker_names=list(MANAGER.broker_names),
            broker_crm_name="sandbox_crm",
            manager_login=MANAGER.login,
            write_budget_per_hour=100_000,
            timeout_seconds=CLIENT_TIMEOUT,
        )
    )

    # Over the network (loopback); retry back-offs in fake time.
    office = compose_backoffice(
        database, profiles, sleep=clock.sleep, workstation="test-workstation", clock=clock
    )
    yield Env(sandbox, office, office.checkpoints, office.journal, clock)
    office.close_stores()


def play(env: Env, scenario: Callable[[Session], Awaitable[T]]) -> T:
    async def main() -> T:
        session = await env.office.open("loopback")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        try:
            return await scenario(session)
        finally:
            await env.office.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def partner_csv(sandbox: Sandbox) -> str:
    """Every partner row kind, on users and links the manager may touch."""
    reach = set(MANAGER.broker_names)
    lines = ["level,userId,ctidTraderAccountId,partnerId"]
    users = [
        u for u in range(1000001, 1000081) if (sandbox.user(u) or {}).get("broker_name") in reach
    ]
    for n, user in enumerate(users[:24]):
        value = "" if n % 4 == 3 else f"U-{n}"  # every fourth: delete
        lines.append(f"user,{user},,{value}")
    links = [
        link
        for login in sandbox.logins(linked=True)
        if (trader := sandbox.trader(login))
        and trader["brokerName"] in reach
        and (link := sandbox.link(trader_login=login))
    ]
    for n, link in enumerate(links[:24]):
        ctid = link["ctid_trader_account_id"]
        value = "" if n % 4 == 3 else f"A-{n}"
        lines.append(f"account,{link['user_id']},{ctid},{value}")
    return "\n".join(lines)


def wl_csv(sandbox: Sandbox) -> str:
    lines = ["login,environment,brokerName"]
    for environment, count in (("demo", 5), ("live", 3)):
        for login in sandbox.logins(broker_name="sandbox_main", environment=environment)[:count]:
            lines.append(f"{login},{environment},sandbox_eu")
        for login in sandbox.logins(broker_name="sandbox_eu", environment=environment)[:count]:
            lines.append(f"{login},{environment},sandbox_main")
    return "\n".join(lines)


def apply_with_faults(env: Env, text: str, dialect: str, cap: int) -> tuple[Plan, JobResult]:
    async def scenario(session: Session) -> tuple[Plan, JobResult]:
        plan = await plan_csv(session, text, source="t.csv")  # planned on a healthy backend
        env.sandbox.config.dialect = DIALECTS[dialect]
        env.sandbox.config.faults = FAULTS
        env.sandbox.config.write_cap_per_hour = cap
        env.sandbox.clear_log()
        options = ApplyOptions(concurrency=6, retry_backoff=0.05, rate_limit_backoff=900.0)
        runner = JobRunner.start(
            session, env.store, plan, reason="chaos", ticket="", options=options, clock=env.clock
        )
        result = await runner.run()
        env.sandbox.config.faults = Faults()
        return plan, result

    return play(env, scenario)


def assert_state_is_the_plan(sandbox: Sandbox, plan: Plan) -> None:
    for row in plan.rows:
        if row.status == "error":
            continue
        if row.op == "move_wl":
            assert row.login is not None
            trader = sandbox.trader(row.login)
            assert trader is not None
            assert trader["brokerName"] == row.proposed, row
        elif row.level == "user":
            assert sandbox.referral(user_id=row.user_id) == row.proposed, row
        else:
            assert sandbox.referral(ctid_trader_account_id=row.ctid) == row.proposed, row


def drained_log(sandbox: Sandbox) -> list[LoggedRequest]:
    """The request log once the server has finished what it still had in hand: a request that
    stalls after applying its write is logged only when it answers, after the job is done."""
    assert sandbox.wait_until_idle(), "the sandbox still serves requests long after the job"
    return sandbox.request_log


def assert_clean_journal(env: Env, result: JobResult) -> None:
    assert env.journal.verify().ok
    assert env.journal.pending_count() == 0
    entries = list(env.journal.iter_entries(JournalFilter(batch_id=result.job_id)))
    assert entries
    assert {e.batch_id for e in entries} == {result.job_id}


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["default", "variant"])
def test_partner_job_under_faults_and_rate_limits_ends_exactly_as_planned(
    env: Env, dialect: str
) -> None:
    plan, result = apply_with_faults(env, partner_csv(env.sandbox), dialect, cap=15)
    assert plan.counts()["error"] == 0
    assert result.state == "finished", result
    assert result.all_ok, result.counts
    assert_state_is_the_plan(env.sandbox, plan)
    assert_clean_journal(env, result)
    log = drained_log(env.sandbox)
    assert any(e.fault == "rate_limited" for e in log)  # the cap did bite
    assert any(e.fault in ("stall_after", "stall_before", "drop", "error") for e in log)


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["default", "variant"])
def test_white_label_job_never_sends_an_applied_move_again(env: Env, dialect: str) -> None:
    plan, result = apply_with_faults(env, wl_csv(env.sandbox), dialect, cap=8)
    assert plan.counts()["write"] == 16
    assert result.state == "finished"
    assert result.all_ok, result.counts
    assert_state_is_the_plan(env.sandbox, plan)
    assert_clean_journal(env, result)
    posts: dict[int, list[bool]] = defaultdict(list)
    for entry in drained_log(env.sandbox):
        if entry.method == "POST" and entry.path == MOVE:
            posts[entry.body["traderLogin"]].append(entry.applied)
    for login, applied in posts.items():
        assert applied.count(True) == 1, (login, applied)
        # Stricter: once a move was applied, no further POST for that login reached the server.
        assert applied.index(True) == len(applied) - 1, (login, applied)


@pytest.mark.slow
def test_white_label_moves_whose_answers_are_lost_are_read_before_any_resend(env: Env) -> None:
    # Most moves stall past the client timeout, half of them after applying the move: every
    # one is an "outcome unknown" the job must settle by reading the account, never by resending.
    chaos = Faults(stall_after_rate=0.4, stall_before_rate=0.4, stall_seconds=1.0, writes_only=True)

    async def scenario(session: Session) -> tuple[Plan, JobResult]:
        plan = await plan_csv(session, wl_csv(env.sandbox), source="wl.csv")
        env.sandbox.config.faults = chaos
        env.sandbox.clear_log()
        options = ApplyOptions(concurrency=8, retry_backoff=0.05, max_attempts=20)
        runner = JobRunner.start(
            session, env.store, plan, reason="chaos", ticket="", options=options, clock=env.clock
        )
        result = await runner.run()
        env.sandbox.config.faults = Faults()
        return plan, result

    plan, result = play(env, scenario)
    assert result.all_ok, result.counts
    assert_state_is_the_plan(env.sandbox, plan)
    posts: dict[int, list[tuple[bool, str | None]]] = defaultdict(list)
    for entry in drained_log(env.sandbox):
        if entry.method == "POST" and entry.path == MOVE:
            posts[entry.body["traderLogin"]].append((entry.applied, entry.fault))
    faults = [fault for attempts in posts.values() for _, fault in attempts]
    assert faults.count("stall_after") >= 2
    assert faults.count("stall_before") >= 2
    for login, attempts in posts.items():
        applied = [a for a, _ in attempts]
        assert applied.count(True) == 1, (login, attempts)
        assert applied[-1], (login, attempts)  # no POST once the move was applied
    unknown = list(
        env.journal.iter_entries(JournalFilter(batch_id=result.job_id, outcome="unknown"))
    )
    assert unknown  # the lost answers are journaled as such, then settled by the read-back


def max_in_an_hour(stamps: list[float]) -> int:
    """The most stamps any rolling hour [t, t + 3600) holds."""
    stamps = sorted(stamps)
    most, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamps[start] <= stamp - 3600:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.slow
def test_the_write_budget_keeps_every_rolling_hour_within_the_cap(env: Env) -> None:
    # Cap and budget W; a plan of more than 3·W writes: it takes hours of (fake) time, and the
    # server's log — every write that arrived, refused or not — never holds more than W an hour.
    cap = 7
    env.clock.settle = 0.3
    profile = env.office.profiles.get("loopback")
    env.office.profiles.update(profile.model_copy(update={"write_budget_per_hour": cap}))
    text = partner_csv(env.sandbox)

    async def scenario(session: Session) -> JobResult:
        plan = await plan_csv(session, text, source="t.csv")
        env.sandbox.config.write_cap_per_hour = cap
        env.sandbox.clear_log()
        options = ApplyOptions(concurrency=4, retry_backoff=0.05)
        runner = JobRunner.start(
            session, env.store, plan, reason="budget", ticket="", options=options, clock=env.clock
        )
        return await runner.run()

    result = play(env, scenario)
    assert result.all_ok, result.counts
    writes = [e for e in env.sandbox.request_log if e.method != "GET" and "token" in e.query]
    assert len(writes) >= 3 * cap
    assert max_in_an_hour([e.at for e in writes]) <= cap
    assert not [e for e in writes if e.fault == "rate_limited"]  # the budget came first
    assert max(e.at for e in writes) - min(e.at for e in writes) >= 3 * 3600
