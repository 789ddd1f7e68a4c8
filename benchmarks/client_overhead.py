"""Per-call cost of the typed ``ApiClient`` against the in-process sandbox, vs bare httpx.

Both clients talk to the same ``Sandbox`` through its in-process transport, read the same
logins / userIds in the same order, and are created once. Blocks of calls alternate between
the two clients (ABBA order across rounds) so that drift in machine load hits both alike; the
figure is the median over blocks of process CPU time per call, wall time alongside.
Goal (the issue): ours / bare <= 1.20x.

    .venv/bin/python benchmarks/client_overhead.py            # ~25 s on a quiet 2-core box
    .venv/bin/python benchmarks/client_overhead.py --profile  # then cProfile our calls
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from ctrader_admin.api.client import ApiClient, ConnectionConfig
from ctrader_admin.api.models import ReferralQuery
from ctrader_admin.sandbox import BROKER_CRM_NAME, TRAINING_MANAGERS, Sandbox, SandboxConfig

GOAL = 1.20
SEED = 20260101
BASE_URL = "http://sandbox.local"  # never resolved: the transport is in-process
BROKER = "sandbox_main"
WARMUP_CALLS = 300
PROFILE_CALLS = 1000
# In-process and single-threaded, wall ~= CPU time on a quiet machine; beyond this, say so.
BUSY_WALL_OVER_CPU = 1.25
MIN_ROUNDS = 10

Call = Callable[[int], Awaitable[object]]


@dataclass
class Row:
    name: str
    ours: Call
    bare: Call
    args: list[int]  # the logins / userIds, cycled in this fixed order by both clients


@dataclass
class Samples:
    """µs/call, one value per block."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


@dataclass
class Result:
    name: str
    ours: Samples = field(default_factory=Samples)
    bare: Samples = field(default_factory=Samples)


async def _block(call: Call, args: Sequence[int], n: int, into: Samples | None = None) -> None:
    """``n`` sequential calls; µs/call of wall and of process CPU time appended to ``into``."""
    # Start each block from the same heap state, so that a collection due to the other
    # client's garbage is not billed to this one.
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        await call(args[i % len(args)])
    if into is not None:
        into.wall.append((time.perf_counter() - wall) / n * 1e6)
        # Everything runs on this one thread: CPU time leaves out the time that other
        # processes on this shared 2-core box held the CPU.
        into.cpu.append((time.process_time() - cpu) / n * 1e6)


def _rows(sandbox: Sandbox, api: ApiClient, bare: httpx.AsyncClient, token: str) -> list[Row]:
    rng = random.Random(SEED)
    logins = sandbox.logins(broker_name=BROKER)
    rng.shuffle(logins)
    # Users whose user-level referral exists, so both clients decode a real JSON body
    # (an absent record is an empty body, which bare ``r.json()`` would reject).
    user_ids = sorted(
        {
            link["user_id"]
            for login in logins
            if (link := sandbox.link(trader_login=login)) is not None
            and (user := sandbox.user(link["user_id"])) is not None
            and user["broker_name"] == BROKER
            and sandbox.referral(user_id=link["user_id"]) is not None
        }
    )
    rng.shuffle(user_ids)
    if not logins or not user_ids:
        raise SystemExit("the seeded sandbox has no logins / referrals to read")

    async def ours_trader(login: int) -> object:
        return await api.get_trader(login)

    async def bare_trader(login: int) -> object:
        r = await bare.get(f"/v2/webserv/traders/{login}", params={"token": token})
        return r.json()

    async def ours_referral(user_id: int) -> object:
        # The query model is built per call: that is what a caller of the typed API pays.
        return await api.get_referral(
            ReferralQuery(broker_crm_name=BROKER_CRM_NAME, user_id=user_id)
        )

    async def bare_referral(user_id: int) -> object:
        r = await bare.get(
            "/cid/oauth2/ctid/referral",
            params={"brokerCrmName": BROKER_CRM_NAME, "userId": user_id, "token": token},
        )
        return r.json()

    return [
        Row("get_trader", ours_trader, bare_trader, logins),
        Row("get_referral(userId)", ours_referral, bare_referral, user_ids),
    ]


async def _check(row: Row) -> None:
    """Every argument must read a real record on both sides, or the comparison means nothing
    (a 403 or an empty body is cheaper than a real answer)."""
    for arg in row.args:
        ours, bare = await row.ours(arg), await row.bare(arg)
        known = isinstance(bare, dict) and ("partnerId" in bare or "login" in bare)
        if ours is None or not known:
            raise SystemExit(f"{row.name}({arg}): unexpected answers: {ours!r} / {bare!r}")


async def _measure(rows: list[Row], rounds: int, block: int, budget_s: float) -> list[Result]:
    for row in rows:
        await _check(row)
        # Warm-up: imports, pydantic validators, connection-pool and route caches.
        await _block(row.ours, row.args, WARMUP_CALLS)
        await _block(row.bare, row.args, WARMUP_CALLS)
    # Seed data, modules and caches are long-lived: out of the collector's way, so that the
    # collections inside a block walk only what the calls themselves allocate.
    gc.collect()
    gc.freeze()
    results = [Result(row.name) for row in rows]
    deadline = time.monotonic() + budget_s
    for r in range(rounds):
        # A busy machine stretches every block: stop early rather than run for minutes, but
        # only after enough rounds for a median (an even number keeps ABBA balanced).
        if r >= MIN_ROUNDS and r % 2 == 0 and time.monotonic() > deadline:
            print(f"time budget of {budget_s:g} s reached after {r} rounds")
            break
        for row, result in zip(rows, results, strict=True):
            # ABBA: whichever went second in a round goes first in the next; short blocks, so
            # both clients see nearly the same machine load.
            pair = [(row.ours, result.ours), (row.bare, result.bare)]
            for call, into in pair if r % 2 == 0 else reversed(pair):
                await _block(call, row.args, block, into)
    return results


async def _profile(row: Row, calls: int = PROFILE_CALLS) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    await _block(row.ours, row.args, calls)
    profiler.disable()
    print(f"\n--- cProfile of {calls} x ours {row.name} (top 25 by own time) ---")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)


def _spread(values: list[float]) -> str:
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    low, high = min(values), max(values)
    return f"min {low:.0f} / q1 {q1:.0f} / median {q2:.0f} / q3 {q3:.0f} / max {high:.0f}"


def _report(result: Result) -> None:
    # Headline on process CPU time: everything runs on this thread, so it is the cost of the
    # call without the time other processes held the CPU (this box is shared). Wall time
    # follows, with the paired per-round ratio, which cancels slow drift in machine load.
    ours, bare = statistics.median(result.ours.cpu), statistics.median(result.bare.cpu)
    ratio = ours / bare
    verdict = "ok" if ratio <= GOAL else "OVER GOAL"
    print(
        f"client overhead, {result.name}: ours {ours:.0f} µs/call, bare httpx {bare:.0f} µs/call, "
        f"ratio {ratio:.2f}× (goal ≤ {GOAL:.2f}×) {verdict}  [CPU time]"
    )
    ours_wall, bare_wall = statistics.median(result.ours.wall), statistics.median(result.bare.wall)
    paired = [o / b for o, b in zip(result.ours.wall, result.bare.wall, strict=True)]
    # The sandbox's own handling is inside both figures: the difference is what our client adds.
    print(
        f"    ours - bare: {ours - bare:+.0f} µs/call CPU, {ours_wall - bare_wall:+.0f} µs/call "
        f"wall; wall: ours {ours_wall:.0f} / bare {bare_wall:.0f} µs/call, ratio "
        f"{ours_wall / bare_wall:.2f}×, paired per-round ratio {statistics.median(paired):.2f}"
    )
    for name, samples in (("ours", result.ours), ("bare", result.bare)):
        print(f"    raw {name} CPU  µs/call: {_spread(samples.cpu)}")
        print(f"    raw {name} wall µs/call: {_spread(samples.wall)}")
    busy = (ours_wall + bare_wall) / (ours + bare)
    if busy > BUSY_WALL_OVER_CPU:
        print(
            f"    note: wall time is {busy:.1f}x CPU time: other processes held the CPU during "
            "this run; the wall figures are noisy, the CPU-time figures less so"
        )


async def _main(rounds: int, block: int, budget_s: float, profile: bool) -> None:
    token = TRAINING_MANAGERS[0].token
    # Defaults otherwise (no faults, no latency). A short request log: the default keeps 100k
    # entries, and a heap that grows all run long makes later blocks pay for bigger collections.
    sandbox = Sandbox(SandboxConfig(seed=SEED, write_cap_per_hour=None, request_log_limit=1000))
    api = ApiClient(ConnectionConfig(base_url=BASE_URL), transport=sandbox.transport(), token=token)
    bare = httpx.AsyncClient(transport=sandbox.transport(), base_url=BASE_URL)
    try:
        rows = _rows(sandbox, api, bare, token)
        print(
            f"in-process sandbox (seed {SEED}), {len(rows[0].args)} logins / "
            f"{len(rows[1].args)} userIds; {rounds} rounds x {block} calls per client, "
            "ABBA-interleaved, median of blocks"
        )
        for result in await _measure(rows, rounds, block, budget_s):
            _report(result)
        if profile:
            for row in rows:
                await _profile(row)
    finally:
        await api.aclose()
        await bare.aclose()
        sandbox.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="alternating rounds (default 40)")
    parser.add_argument("--block", type=int, default=100, help="calls per block (default 100)")
    parser.add_argument(
        "--budget", type=float, default=40.0, help="stop after this many s of rounds (40)"
    )
    parser.add_argument("--profile", action="store_true", help="then cProfile 1000 calls of ours")
    args = parser.parse_args()
    asyncio.run(_main(args.rounds, args.block, args.budget, args.profile))


if __name__ == "__main__":
    main()
