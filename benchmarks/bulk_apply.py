"""Bulk apply (issue #4): N partnerId writes through the whole engine — plan re-check, write
budget, journal, checkpoints — against the sandbox served by ``ctrader-admin sandbox`` in its
own process, on loopback, with a fixed latency and no write cap.

Prints, in one run:
  1. wall time of the apply ÷ the ideal N·latency/concurrency (goal ≤ 1.15×), against the
     configured latency and against the measured round trip of one write on the idle server;
  2. a naive sequential loop's time ÷ ours (goal ≥ 14×). The naive loop is the single-write
     service (``partners.set_partner``: read, then write, journaled) called row after row; it is
     measured on --naive-rows rows and scaled per row to N (said so in the output);
  3. with a cap of W writes/hour (a second server with ``--write-cap W`` and the profile budget
     W): the job runs until the budget stops it; the server's request log must show no rolling
     hour with more than W writes and no rate-limit answer (tests/integration/test_bulk_loopback.py
     runs the same check over several hours with a fake clock).

    .venv/bin/python benchmarks/bulk_apply.py                 # ~4 min on a 2-core box
    .venv/bin/python benchmarks/bulk_apply.py --rows 2000 --naive-rows 100
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import httpx
import keyring
from keyring.backends import null
from proc_stats import cpu_seconds

from ctrader_admin.api import ReferralQuery, SetReferralRequest
from ctrader_admin.sandbox import TRAINING_MANAGERS
from ctrader_admin.sandbox.seed import generate
from ctrader_admin.services import partners
from ctrader_admin.services.bulk import ApplyOptions, JobRunner, Progress, plan_csv
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.wiring import SandboxHost, build_backoffice

if TYPE_CHECKING:  # the local runs never load the team database's modules
    from ctrader_admin.store.pg.settings import TeamSettings

SEED = 20260101
MANAGER = TRAINING_MANAGERS[0]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
HOUR = 3600.0
T = TypeVar("T")


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]


# --- the sandbox process -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _command(port: int, users: int, latency_ms: float, cap: int) -> list[str]:
    options = [
        "sandbox",
        "--port",
        str(port),
        "--latency-ms",
        f"{latency_ms:g}",
        "--write-cap",
        str(cap),
        "--quiet",
        "--seed",
        str(SEED),
        "--users",
        str(users),
    ]
    script = shutil.which("ctrader-admin", path=str(Path(sys.executable).parent))
    base = [script] if script else [sys.executable, "-m", "ctrader_admin"]
    return [*base, *options]


@contextmanager
def sandbox_process(users: int, latency_ms: float, cap: int) -> Iterator[Server]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            _command(port, users, latency_ms, cap),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_healthy(url, process, log)
            yield Server(url, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the sandbox exited:\n{log.read().decode(errors='replace')}")
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1.0, trust_env=False).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the sandbox did not start within {START_TIMEOUT_S:g} s")


def request_log(url: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/_sandbox/log", timeout=60.0, trust_env=False)
    response.raise_for_status()
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


def _clear_log(url: str) -> None:
    httpx.delete(f"{url}/_sandbox/log", timeout=10.0, trust_env=False).raise_for_status()


# --- the app side --------------------------------------------------------------------------------


def users_in_reach(users: int) -> list[int]:
    """The seed is deterministic: rebuild it here to know which users the manager may touch."""
    reach = set(MANAGER.broker_names)
    return [user.user_id for user in generate(SEED, users).users if user.broker_name in reach]


@dataclass(frozen=True)
class App:
    session: Session
    store: CheckpointStore
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)


@contextmanager
def app_session(url: str, budget: int, team: TeamSettings | None = None) -> Iterator[App]:
    """The app's own composition root on a temporary home, a profile for this server; with
    ``team``, the home is connected to that team database (``ctrader-admin team connect``
    writes the same file), so every store is the team's."""
    keyring.set_keyring(null.Keyring())  # never the real keyring: the token stays in memory
    with tempfile.TemporaryDirectory(prefix="bulk-bench-") as home:
        paths = AppPaths.under(Path(home))
        if team is not None:
            from ctrader_admin.store.pg.team_config import save_team_settings

            save_team_settings(paths, team)
        ProfileStore(paths).add(
            Profile(
                id="bench",
                name="Benchmark",
                base_url=url,
                broker_names=list(MANAGER.broker_names),
                broker_crm_name="sandbox_crm",
                manager_login=MANAGER.login,
                write_budget_per_hour=budget,
                timeout_seconds=30.0,
            )
        )
        host = SandboxHost(paths)
        office = build_backoffice(paths, host)
        loop = asyncio.new_event_loop()
        try:
            session = loop.run_until_complete(office.open("bench"))
            loop.run_until_complete(session.login(MANAGER.login, MANAGER.password, False))
            yield App(session, office.checkpoints, loop)  # one database per process
            loop.run_until_complete(office.shutdown())
        finally:
            loop.close()
            host.close()


def csv_for(user_ids: list[int], tag: str) -> str:
    return "\n".join(
        ["level,userId,ctidTraderAccountId,partnerId"]
        + [f"user,{user_id},,{tag}-{n}" for n, user_id in enumerate(user_ids)]
    )


async def _round_trips(session: Session, user_id: int, count: int = 20) -> tuple[float, float]:
    """Median seconds of one GET and one PUT of a referral, sequential, on the idle server."""
    crm = session.profile.broker_crm_name
    query = ReferralQuery(broker_crm_name=crm, user_id=user_id)
    request = SetReferralRequest(broker_crm_name=crm, user_id=user_id, partner_id="RTT")
    gets: list[float] = []
    puts: list[float] = []
    await session.client.get_referral(query)  # connect outside the measurement
    for _ in range(count):
        started = time.perf_counter()
        await session.client.get_referral(query)
        gets.append(time.perf_counter() - started)
        started = time.perf_counter()
        await session.client.set_referral(request)
        puts.append(time.perf_counter() - started)
    return statistics.median(gets), statistics.median(puts)


async def _naive(session: Session, user_ids: list[int]) -> float:
    """Seconds per row of the single-write service called row after row."""
    started = time.perf_counter()
    for n, user_id in enumerate(user_ids):
        await partners.set_partner(
            session, UserTarget(user_id), f"NAIVE-{n}", reason="benchmark naive loop"
        )
    return (time.perf_counter() - started) / len(user_ids)


def _progress_printer(label: str) -> Any:
    last = [0.0]

    def show(progress: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < 5.0 and progress.phase not in ("finished", "stopped"):
            return
        last[0] = now
        eta = f"{progress.eta_seconds:.0f} s" if progress.eta_seconds is not None else "?"
        print(
            f"    {label}: {progress.done}/{progress.total} rows, {progress.phase}, ETA {eta}, "
            f"writes left this hour {progress.writes_left}",
            flush=True,
        )

    return show


def max_writes_in_an_hour(stamps: list[float]) -> int:
    """The most writes any rolling hour [t, t+3600) holds (two pointers over sorted times)."""
    stamps = sorted(stamps)
    most = 0
    start = 0
    for end, stamp in enumerate(stamps):
        while stamps[start] <= stamp - HOUR:
            start += 1
        most = max(most, end - start + 1)
    return most


# --- the measurements ----------------------------------------------------------------------------


def main_run(args: argparse.Namespace) -> None:
    need = args.rows + args.naive_rows + 1
    candidates = users_in_reach(args.users)
    if len(candidates) < need:
        raise SystemExit(f"--users {args.users} gives {len(candidates)} users; need {need}")
    bulk_users = candidates[: args.rows]
    naive_users = candidates[args.rows : args.rows + args.naive_rows]
    rtt_user = candidates[args.rows + args.naive_rows]
    print(
        f"server: ctrader-admin sandbox --latency-ms {args.latency_ms:g} --write-cap 0 "
        f"--users {args.users}; client concurrency {args.concurrency} writes, "
        f"{args.read_concurrency or args.concurrency} re-checks in flight",
        flush=True,
    )
    with (
        sandbox_process(args.users, args.latency_ms, 0) as server,
        app_session(server.url, budget=10 * args.rows + 1000) as app,
    ):
        session = app.session
        get_rtt, put_rtt = app.run(_round_trips(session, rtt_user))
        print(
            f"idle server, sequential: GET referral {get_rtt * 1000:.1f} ms, "
            f"PUT referral {put_rtt * 1000:.1f} ms (configured latency {args.latency_ms:g} ms)",
            flush=True,
        )
        started = time.perf_counter()
        plan = app.run(plan_csv(session, csv_for(bulk_users, "BENCH"), source="bench.csv"))
        plan_s = time.perf_counter() - started
        counts = plan.counts()
        print(
            f"plan: {len(plan.rows)} rows read in {plan_s:.1f} s "
            f"({counts['write']} to write, {counts['skip']} skip, {counts['error']} errors)",
            flush=True,
        )
        _clear_log(server.url)
        options = ApplyOptions(concurrency=args.concurrency, read_concurrency=args.read_concurrency)
        runner = JobRunner.start(
            session,
            app.store,
            plan,
            reason="benchmark",
            ticket="",
            options=options,
            on_progress=_progress_printer("apply"),
        )
        server_cpu, client_cpu = cpu_seconds(server.process.pid), time.process_time()
        started = time.perf_counter()
        result = app.run(runner.run())
        wall = time.perf_counter() - started
        server_cpu = cpu_seconds(server.process.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        log = request_log(server.url)
        writes = [e for e in log if e["method"] == "PUT"]
        failed = [e for e in writes if e["status"] != 200]
        naive_per_row = app.run(_naive(session, naive_users))
    n = counts["write"]
    ideal = n * args.latency_ms / 1000 / args.concurrency
    ideal_measured = n * put_rtt / args.concurrency
    naive_total = naive_per_row * n
    print(
        f"apply: {n} writes in {wall:.1f} s ({n / wall:.0f} writes/s); job {result.state}, "
        f"ok {result.counts['ok']}, failed {result.counts['failed']}; server log: "
        f"{len(writes)} PUTs, {len(failed)} not 200",
        flush=True,
    )
    print(
        f"    CPU during the apply: this process {client_cpu / wall:.0%} of a core "
        f"({client_cpu / n * 1000:.2f} ms per row), the sandbox {server_cpu / wall:.0%} "
        f"({server_cpu / n * 1000:.2f} ms per row: a GET and a PUT); machine load "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"RATIO wall / ideal (N·latency/concurrency = {n}·{args.latency_ms:g} ms/"
        f"{args.concurrency} = {ideal:.1f} s): {wall / ideal:.2f}× (goal ≤ 1.15×)"
    )
    print(
        f"      wall / ideal with the measured write round trip ({put_rtt * 1000:.1f} ms → "
        f"{ideal_measured:.1f} s): {wall / ideal_measured:.2f}×"
    )
    print(
        f"RATIO naive / ours: {naive_total / wall:.1f}× (goal ≥ 14×) — the naive loop "
        f"(partners.set_partner row after row) measured on {len(naive_users)} rows: "
        f"{naive_per_row * 1000:.1f} ms/row, scaled to {n} rows = {naive_total:.0f} s"
    )


def capped_run(args: argparse.Namespace) -> None:
    cap = args.cap
    rows = cap + max(20, cap // 5)
    users = users_in_reach(args.users)[:rows]
    print(
        f"capped: a new server with --write-cap {cap}, the profile budget {cap}/hour, a plan of "
        f"{rows} writes; the job runs until the budget holds it, then {args.hold:g} s more",
        flush=True,
    )
    with (
        sandbox_process(args.users, args.latency_ms, cap) as server,
        app_session(server.url, budget=cap) as app,
    ):
        session = app.session
        plan = app.run(plan_csv(session, csv_for(users, "CAP"), source="cap.csv"))
        _clear_log(server.url)
        seen: list[Progress] = []
        exhausted = asyncio.Event()

        def watch(progress: Progress) -> None:
            seen.append(progress)
            if progress.writes_left == 0:
                exhausted.set()

        runner = JobRunner.start(
            session,
            app.store,
            plan,
            reason="benchmark cap",
            ticket="",
            options=ApplyOptions(concurrency=args.concurrency),
            on_progress=watch,
        )

        async def hold() -> None:
            task = asyncio.ensure_future(runner.run())
            flag = asyncio.ensure_future(exhausted.wait())
            await asyncio.wait([task, flag], return_when=asyncio.FIRST_COMPLETED)
            flag.cancel()
            await asyncio.sleep(args.hold)
            runner.stop()
            await task

        app.run(hold())
        log = request_log(server.url)
    writes = [e for e in log if e["method"] != "GET"]
    limited = [e for e in writes if e["error_code"] == "REQUEST_FREQUENCY_EXCEEDED"]
    most = max_writes_in_an_hour([e["at"] for e in writes])
    waiting = [p for p in seen if p.phase == "waiting_for_budget"]
    eta = max((p.eta_seconds or 0.0 for p in waiting), default=0.0)
    print(
        f"CAP {cap}/hour: {len(writes)} writes sent, most in any rolling hour {most} "
        f"(must be ≤ {cap}: {'ok' if most <= cap else 'EXCEEDED'}), rate-limit answers "
        f"{len(limited)}; the job then waited for the budget ({len(waiting)} progress reports "
        f"'waiting_for_budget', ETA up to {eta / 60:.0f} min) and was stopped"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=12_000, help="seeded users (≥ rows)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=ApplyOptions().concurrency)
    parser.add_argument("--read-concurrency", type=int, default=ApplyOptions().read_concurrency)
    parser.add_argument("--naive-rows", type=int, default=200)
    parser.add_argument("--cap", type=int, default=200, help="W for the capped run (0: skip)")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds held by the budget")
    args = parser.parse_args(argv)
    main_run(args)
    if args.cap:
        capped_run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
