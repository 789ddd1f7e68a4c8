"""Throughput and latency of the sandbox served by ``ctrader-admin sandbox`` in its own process.

32 concurrent clients (asyncio tasks, each with its own ``httpx.AsyncClient`` and keep-alive
connection) drive a read-heavy mix of Spotware endpoints; as the baseline, in the same run, the
same clients drive the trivial ``/_sandbox/health`` endpoint of the same server (the floor of
the HTTP stack: uvicorn + h11 + Starlette routing). Measured phases alternate between the two
targets so that drift in machine load hits both alike.

    .venv/bin/python benchmarks/sandbox_throughput.py   # ~27 s: 10 s measured per target
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

import httpx
from proc_stats import cpu_seconds

from ctrader_admin.sandbox import BROKER_CRM_NAME, TRAINING_MANAGERS, Sandbox, SandboxConfig

# The server seeds from these; the load generator rebuilds the same plant locally to learn
# which logins, userIds and ctidTraderAccountIds exist (seeding is deterministic).
SEED = 20260101
USERS = 300
MANAGER = TRAINING_MANAGERS[0]
PARTNER_IDS = ("IB-1042", "IB-2077", "IB-3105", "IB-4410")
# Read-heavy: look-ups dominate, ~10 % are referral writes (weights in percent).
MIX: tuple[tuple[str, int], ...] = (
    ("GET traders/{login}", 45),
    ("GET referral ?userId", 25),
    ("GET referral ?ctidTraderAccountId", 20),
    ("PUT referral", 10),
)
HEALTH = "GET /_sandbox/health"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
LEAD_IN_S = 0.2  # a measured phase starts its clock once every client is sending


@dataclass(frozen=True)
class Plant:
    logins: list[int]
    user_ids: list[int]
    ctids: list[int]


@dataclass(frozen=True)
class Request:
    op: str
    method: str
    path: str
    params: dict[str, Any]
    body: dict[str, Any] | None = None


@dataclass
class Stats:
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    by_op: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    handled: int = 0  # every answer of a measured phase, lead-in and drain included
    rps_per_phase: list[float] = field(default_factory=list)
    wall_s: float = 0.0  # whole phases, the span of the CPU figures
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


def _plant() -> Plant:
    """What the manager can reach on the seeded plant, so that no request is a 403/404."""
    reach = set(MANAGER.broker_names)
    box = Sandbox(SandboxConfig(seed=SEED, users=USERS))
    try:
        logins = [login for name in MANAGER.broker_names for login in box.logins(broker_name=name)]
        links = [link for login in logins if (link := box.link(trader_login=login))]
        user_ids = sorted(
            {
                link["user_id"]
                for link in links
                if (user := box.user(link["user_id"])) and user["broker_name"] in reach
            }
        )
        ctids = sorted(link["ctid_trader_account_id"] for link in links)
    finally:
        box.close()
    if not (logins and user_ids and ctids):
        raise SystemExit("the seeded plant has nothing to read")
    return Plant(sorted(logins), user_ids, ctids)


def _request_factory(plant: Plant, rng: random.Random) -> Callable[[], Request]:
    token = {"token": MANAGER.token}
    ops = [op for op, _ in MIX]
    weights = [weight for _, weight in MIX]

    def next_request() -> Request:
        op = rng.choices(ops, weights)[0]
        if op == "GET traders/{login}":
            return Request(op, "GET", f"/v2/webserv/traders/{rng.choice(plant.logins)}", token)
        if op == "GET referral ?userId":
            query = {"brokerCrmName": BROKER_CRM_NAME, "userId": rng.choice(plant.user_ids)}
            return Request(op, "GET", "/cid/oauth2/ctid/referral", {**query, **token})
        if op == "GET referral ?ctidTraderAccountId":
            query = {
                "brokerCrmName": BROKER_CRM_NAME,
                "ctidTraderAccountId": rng.choice(plant.ctids),
            }
            return Request(op, "GET", "/cid/oauth2/ctid/referral", {**query, **token})
        target = (
            {"userId": rng.choice(plant.user_ids)}
            if rng.random() < 0.5
            else {"ctidTraderAccountId": rng.choice(plant.ctids)}
        )
        body = {"brokerCrmName": BROKER_CRM_NAME, **target, "partnerId": rng.choice(PARTNER_IDS)}
        return Request(op, "PUT", "/cid/oauth2/ctid/referral", token, body)

    return next_request


def _health_factory() -> Callable[[], Request]:
    request = Request(HEALTH, "GET", "/_sandbox/health", {})
    return lambda: request


# --- the server process --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _command(port: int) -> list[str]:
    # The venv's own script, so the server runs the same code as the load generator imports.
    script = shutil.which("ctrader-admin", path=str(Path(sys.executable).parent))
    base = [script] if script else [sys.executable, "-m", "ctrader_admin"]
    options = ["--port", str(port), "--write-cap", "0", "--quiet"]
    return [*base, "sandbox", *options, "--seed", str(SEED), "--users", str(USERS)]


def _output(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace").strip()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sandbox exited with {process.returncode}:\n{_output(log)}")
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1.0, trust_env=False).is_success:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.05)
    raise SystemExit(f"the sandbox did not answer /_sandbox/health within {START_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[bytes]) -> int:
    """SIGINT first: the CLI treats it as Ctrl+C (uvicorn drains, the database is closed)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


@contextmanager
def sandbox_process(port: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server in its own process (its own GIL); stopped on exit, also on Ctrl+C."""
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        # Own session: a Ctrl+C in the terminal reaches only us, and we stop the server in order.
        process = subprocess.Popen(
            _command(port), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_healthy(url, process, log)
            yield url, process
        finally:
            exited_early = process.poll() is not None  # already reported by _wait_healthy
            code = _stop(process)
            if code != 0 and not exited_early:
                print(f"note: the sandbox exited with {code}:\n{_output(log)}", file=sys.stderr)


# --- the load ------------------------------------------------------------------------------------


async def _worker(
    client: httpx.AsyncClient,
    next_request: Callable[[], Request],
    record_from: float,
    stop_at: float,
    stats: Stats,
) -> None:
    """Back-to-back requests on one connection until ``stop_at``; record what completes in
    [record_from, stop_at), which in steady state is the server's throughput."""
    while time.perf_counter() < stop_at:
        request = next_request()
        started = time.perf_counter()
        error: str | None = None
        try:
            response = await client.request(
                request.method, request.path, params=request.params, json=request.body
            )
            if not response.is_success:
                error = f"HTTP {response.status_code} {request.op}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__} {request.op}"
        ended = time.perf_counter()
        stats.handled += 1
        if error:
            stats.errors[error] += 1  # lead-in and drain included: an error is never noise
            continue
        if not record_from <= ended < stop_at:
            continue
        latency_ms = (ended - started) * 1000
        stats.latencies_ms.append(latency_ms)
        stats.by_op.setdefault(request.op, []).append(latency_ms)


async def _phase(
    clients: list[httpx.AsyncClient],
    factories: list[Callable[[], Request]],
    seconds: float,
    stats: Stats,
    server_pid: int,
) -> None:
    start = time.perf_counter()
    record_from, stop_at = start + LEAD_IN_S, start + LEAD_IN_S + seconds
    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    before = len(stats.latencies_ms)
    await asyncio.gather(
        *(
            _worker(client, factory, record_from, stop_at, stats)
            for client, factory in zip(clients, factories, strict=True)
        )
    )
    stats.seconds += seconds
    stats.rps_per_phase.append((len(stats.latencies_ms) - before) / seconds)
    # Lead-in and drain included, in the CPU time as in ``handled``.
    stats.server_cpu_s += cpu_seconds(server_pid) - server_cpu
    stats.client_cpu_s += time.process_time() - client_cpu
    stats.wall_s += time.perf_counter() - start


async def _floor_latency(url: str, seconds: float = 1.0) -> list[float]:
    """One client, one request at a time, on the trivial endpoint: the round trip with no
    queueing anywhere. Much more than a millisecond here is waiting, not work."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, trust_env=False) as client:
        await client.get("/_sandbox/health")  # connect outside the measurement
        stop_at = time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            (await client.get("/_sandbox/health")).raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def _drive(
    url: str, server_pid: int, plant: Plant, *, clients: int, seconds: float, rounds: int
) -> tuple[Stats, Stats, Stats, list[float]]:
    api, health, warm_up = Stats(), Stats(), Stats()
    # One connection per client, kept alive for the whole run; no proxies from the environment.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [
        httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0, trust_env=False)
        for _ in range(clients)
    ]
    try:
        api_load = [_request_factory(plant, random.Random(SEED + i)) for i in range(clients)]
        health_load = [_health_factory()] * clients
        # Warm-up: open the 32 connections, fill the server's caches, settle the CPU clock.
        await _phase(pool, api_load, 1.5, warm_up, server_pid)
        await _phase(pool, health_load, 0.5, warm_up, server_pid)
        floor = await _floor_latency(url)
        per_phase = seconds / rounds
        for r in range(rounds):
            order = [(api_load, api), (health_load, health)]
            for load, stats in order if r % 2 == 0 else reversed(order):
                await _phase(pool, load, per_phase, stats, server_pid)
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    return api, health, warm_up, floor


# --- report --------------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "too few samples"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49]:.2f} ms, p95 {cuts[94]:.2f} ms, p99 {cuts[98]:.2f} ms"


def _server_us(stats: Stats) -> float:
    return stats.server_cpu_s / stats.handled * 1e6 if stats.handled else float("nan")


def _report(name: str, stats: Stats) -> None:
    errors = sum(stats.errors.values())
    per_phase = ", ".join(f"{rps:.0f}" for rps in stats.rps_per_phase)
    print(
        f"{name}: {stats.rps:.0f} requests/s, {_percentiles(stats.latencies_ms)}, "
        f"{errors} errors ({len(stats.latencies_ms)} ok in {stats.seconds:.1f} s; "
        f"per phase {per_phase} req/s)"
    )
    for op, latencies in sorted(stats.by_op.items()):
        if op != HEALTH:
            print(f"    {op:36} {len(latencies):6} ok, {_percentiles(latencies)}")
    for error, count in stats.errors.most_common(5):
        print(f"    error: {error} x{count}")
    # Utilisation tells who limits the figures; CPU per request is the server's cost, which
    # holds even when the load generator, not the server, is the bottleneck.
    print(
        f"    CPU: server {stats.server_cpu_s / stats.wall_s:.0%} of a core "
        f"({_server_us(stats):.0f} µs per request), "
        f"load generator {stats.client_cpu_s / stats.wall_s:.0%} of a core"
    )


def _on_sigterm(signum: int, frame: object) -> NoReturn:
    # Turn a plain `kill` into an exception, so the finally blocks stop the server too.
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured s per target (10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations api/health (2)")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _on_sigterm)

    plant = _plant()
    port = args.port or _free_port()
    with sandbox_process(port) as (url, process):
        command = _command(port)
        shown = shlex.join([Path(command[0]).name, *command[1:]])
        print(
            f"server: {shown} (pid {process.pid}); {args.clients} clients, "
            f"{args.seconds:g} s measured per target in {args.rounds} alternating rounds"
        )
        api, health, warm_up, floor = asyncio.run(
            _drive(
                url,
                process.pid,
                plant,
                clients=args.clients,
                seconds=args.seconds,
                rounds=args.rounds,
            )
        )
    if warm_up.errors:
        print(f"warm-up errors: {dict(warm_up.errors)}")
    mix = ", ".join(f"{op} {weight}%" for op, weight in MIX)
    _report(f"api mix ({mix})", api)
    _report("baseline /_sandbox/health", health)
    ratio = health.rps / api.rps if api.rps else float("inf")
    print(
        f"throughput ratio health/api: {ratio:.2f}× "
        f"({health.rps:.0f} / {api.rps:.0f} requests/s); server CPU per request api/health: "
        f"{_server_us(api) / _server_us(health):.2f}×"
    )
    print(
        f"floor: 1 client, sequential, {HEALTH}: p50 {statistics.median(floor):.2f} ms "
        f"({len(floor)} requests in 1 s)"
    )
    print(
        f"note: the load generator (one Python process, {args.clients} asyncio tasks) shares "
        f"this {os.cpu_count()}-core machine with the server; latencies include its own "
        "event-loop queueing, and a generator near 100% of a core caps the figures."
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # The server was already stopped on the way out of sandbox_process.
        print("interrupted; the sandbox process was stopped", file=sys.stderr)
        sys.exit(130)
