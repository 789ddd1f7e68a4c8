"""cTrader Invite pull (issue 11): N attributions from the sandbox in its own process, on
loopback, with a fixed latency, into the app's attribution ledger (services/attribution.py).

Prints, in one run:
  1. wall time of the pull ÷ the ideal pages × the measured round trip of one full page on the
     idle server (goal ≤ 1.2×);
  2. the process's resident memory growth over the pull (goal ≤ 60 MB);
  3. the round trips of a second pull with nothing new (goal ≤ 2), from the server's log.

    .venv/bin/python benchmarks/invite_pull.py                   # 200 000 rows, 50 ms: ~20 s
    .venv/bin/python benchmarks/invite_pull.py --rows 20000
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import httpx
from bulk_apply import app_session, sandbox_process

from ctrader_admin.services import attribution
from ctrader_admin.store.attribution import AttributionLedger

PARTNER = 1000001  # the sandbox's partner case: every new invitation is visible to the manager
INVITE_PATH = "/v1/social/invitedUsers"


def rss_mb() -> float:
    """The resident set now (Linux /proc), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()

    with sandbox_process(users=300, latency_ms=0.0, cap=1_000_000) as server:
        control = httpx.Client(base_url=server.url, timeout=120, trust_env=False)
        added = control.post(
            "/_sandbox/invitations", json={"count": args.rows, "partnerUserId": PARTNER}
        )
        added.raise_for_status()
        control.post("/_sandbox/knobs", json={"latency_ms": args.latency_ms}).raise_for_status()
        with app_session(server.url, budget=1000) as app:
            session = app.session
            ledger = AttributionLedger(session.journal.database)

            async def page() -> float:
                started = time.perf_counter()
                await session.client.list_invited_users(0, args.page_size, 0)
                return time.perf_counter() - started

            app.run(page())  # connect outside the measurement
            round_trip = statistics.median(app.run(page()) for _ in range(5))

            before, started = rss_mb(), time.perf_counter()
            first = app.run(attribution.pull_invite(session, ledger, page_size=args.page_size))
            wall = time.perf_counter() - started
            growth = peak_rss_mb() - before

            control.delete("/_sandbox/log").raise_for_status()
            second = app.run(attribution.pull_invite(session, ledger, page_size=args.page_size))
            log = control.get("/_sandbox/log").json()["requests"]
            again = sum(1 for entry in log if entry["path"] == INVITE_PATH)

    ideal = first.pages * round_trip
    print(f"rows pulled:        {first.fetched:,} in {first.pages:,} pages of {args.page_size:,}")
    print(f"round trip of a page (idle, median of 5): {round_trip * 1000:.1f} ms")
    print(
        f"1. wall {wall:.2f} s ÷ ideal {ideal:.2f} s (pages × round trip) = "
        f"{wall / ideal:.2f}×   (goal ≤ 1.2×)"
    )
    print(f"2. RSS growth over the pull: {growth:.1f} MB   (goal ≤ 60 MB)")
    print(f"3. second pull: {second.fetched} new rows in {again} round trip(s)   (goal ≤ 2)")


if __name__ == "__main__":
    main()
