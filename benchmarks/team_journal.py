"""Single writes per second through the team store (issue 13's first figure), against one
process on SQLite, and the check of 0 lost / 0 duplicate entries.

- Team: N processes, each its own agent role and its own back office built as the app builds
  it (``wiring.build_backoffice`` → ``compose_backoffice``, its home connected to the team
  database, so every store — journal, write budget, directory, policies — is the team's), each
  making M single writes (``partners.set_partner``: the re-check read, a slot of the team's
  write budget, the journal's intent, the PUT, the journal's entry) to users of its own, over
  HTTP to a sandbox served in its own process on loopback (no latency, no write cap). The
  profile's budget is high enough never to wait.
- Baseline: ONE process making all N×M writes the same way on the local SQLite back office,
  against a fresh sandbox process of the same kind.

Both sides: 0 lost / 0 duplicate means the sandbox's log and the journal name the same (user,
partnerId) pairs — every write asked for, each once, each entry "ok" — with no intent left
pending and the chain verified. The team database is a durable PostgreSQL 15 cluster on
loopback (benchmarks/team_server.py: fsync on), SQLite is ``synchronous = FULL``.

    .venv/bin/python benchmarks/team_journal.py [--processes 5] [--writes 2000]
    .venv/bin/python benchmarks/team_journal.py --journal-only   # the journal alone

``--journal-only``: no sandbox, no budget: each write is the write gate's two journal steps
(``begin`` the intent, ``complete`` the entry) straight on the store — what the journal alone
costs of the figure above. The notice to another agent's Journal tab is team_latency.py's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bulk_apply import App, app_session, request_log, sandbox_process, users_in_reach
from proc_stats import cpu_seconds
from team_server import TeamServer, team_server

from ctrader_admin.services.partners import set_partner
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.sql import Store

BUDGET = 1_000_000  # writes an hour: the budget is taken and counted, and never makes a write wait
REFERRAL = "/cid/oauth2/ctid/referral"
Pair = tuple[int, str]  # (userId, partnerId): one write asked for


def _code(tag: str, user_id: int) -> str:
    return f"{tag}-{user_id}"


def _draft(agent: str, user_id: int, code: str) -> JournalDraft:
    return JournalDraft(
        operator=agent, profile_id="team", profile_name="Team", environment="demo",
        broker_name="sandbox_main", action="set_partner", target=f"user:{user_id}",
        after=code, reason="benchmark", ticket="B-1", workstation=agent,
    )  # fmt: skip


async def _set_partners(app: App, tag: str, user_ids: list[int]) -> Counter[str]:
    """One single write after another through the services; what went wrong, by type."""
    errors = Counter[str]()
    for user_id in user_ids:
        try:
            await set_partner(app.session, UserTarget(user_id), _code(tag, user_id),
                              reason="team benchmark", ticket="B-13")  # fmt: skip
        except Exception as exc:  # counted and printed: the run then shows it is not clean
            errors[type(exc).__name__] += 1
    return errors


def _journal_steps(store: Store, tag: str, user_ids: list[int]) -> Counter[str]:
    journal = Journal(store)
    for user_id in user_ids:
        code = _code(tag, user_id)
        journal.complete(journal.begin(_draft(tag, user_id, code)), "ok")
    journal.close()
    return Counter()


def _journal_check(journal: Journal) -> dict[str, Any]:
    """What the journal holds: each (user, code) entry with its outcome, the intents still
    pending, whether the chain verifies."""
    report = journal.verify()
    entries = [
        (int(e.target.removeprefix("user:")), e.after, e.outcome) for e in journal.iter_entries()
    ]
    return {"entries": entries, "pending": journal.pending_count(),
            "chain_ok": report.ok, "chain": report.message}  # fmt: skip


def worker() -> None:
    """One process of either side; its job as a JSON line on stdin, then ``go``; prints its
    timings (and, on SQLite, what its own journal holds) as one JSON line."""
    spec = json.loads(sys.stdin.readline())
    team = TeamSettings(**spec["team"], tls=False) if spec["team"] else None
    tag, user_ids = spec["tag"], spec["users"]
    result: dict[str, Any] = {"journal": None}
    if spec["journal_only"]:
        with tempfile.TemporaryDirectory() as folder:
            store: Store = PgDatabase(team, None) if team else Database(Path(folder) / "j.sqlite3")
            with store:
                print("ready", flush=True)
                sys.stdin.readline()
                cpu, started = time.process_time(), time.perf_counter()
                errors = _journal_steps(store, tag, user_ids)
                result.update(seconds=time.perf_counter() - started, cpu=time.process_time() - cpu)
                if team is None:
                    result["journal"] = _journal_check(Journal(store))
    else:
        with app_session(spec["url"], BUDGET, team) as app:
            print("ready", flush=True)
            sys.stdin.readline()
            cpu, started = time.process_time(), time.perf_counter()
            errors = app.run(_set_partners(app, tag, user_ids))
            result.update(seconds=time.perf_counter() - started, cpu=time.process_time() - cpu)
            if team is None:
                result["journal"] = _journal_check(app.session.journal)
    result["errors"] = dict(errors)
    print(json.dumps(result), flush=True)


def _run(jobs: list[dict[str, Any]]) -> tuple[float, list[dict[str, Any]]]:
    """Start one worker per job, let them all set up, then start them at once: the wall time
    from ``go`` until the last one is done, and each one's report."""
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in jobs
    ]
    try:
        for proc, job in zip(procs, jobs, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                sys.exit("a worker did not start (its error is above)")
        started = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate()[0] for proc in procs]
        wall = time.perf_counter() - started
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    if any(proc.returncode != 0 for proc in procs):
        sys.exit("a worker failed (its error is above)")
    return wall, [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def _jobs(shares: list[list[int]], tags: list[str], team: list[TeamSettings | None],
          journal_only: bool) -> list[dict[str, Any]]:  # fmt: skip
    return [
        {"url": None, "tag": tag, "users": share, "journal_only": journal_only,
         "team": None if settings is None else
         {k: getattr(settings, k) for k in ("host", "port", "database", "user")}}
        for share, tag, settings in zip(shares, tags, team, strict=True)
    ]  # fmt: skip


def _verdict(asked: set[Pair], journal: dict[str, Any], sent: list[Pair] | None) -> str:
    """Lost / duplicate against what was asked, in the journal and (full mode) the sandbox."""
    journaled = Counter((user, code) for user, code, _ in journal["entries"])
    outcomes = Counter(outcome for _, _, outcome in journal["entries"])
    lost = len(asked - set(journaled))
    duplicate = sum(n - 1 for n in journaled.values())
    stray = len(set(journaled) - asked)
    words = (f"lost {lost}, duplicate {duplicate}, stray {stray}; outcomes {dict(outcomes)}, "
             f"pending {journal['pending']}; chain: {journal['chain'].rstrip('.')}")  # fmt: skip
    if sent is not None:
        server = Counter(sent)
        words += (f"; sandbox PUTs {len(sent):,}, each journaled once: "
                  f"{server == journaled and max(server.values(), default=1) == 1}")  # fmt: skip
    return words


def _side(
    name: str, jobs: list[dict[str, Any]], users: int, journal_only: bool,
    team: TeamServer | None,
) -> tuple[float, str]:  # fmt: skip
    """One side's run: its writes per second and a line of figures, and its check."""
    total = sum(len(job["users"]) for job in jobs)
    asked = {(u, _code(job["tag"], u)) for job in jobs for u in job["users"]}
    cpu = {"clients": 0.0}  # seconds of CPU over the run, per kind of process

    def run() -> tuple[float, list[dict[str, Any]]]:
        database_before = team.cpu_seconds() if team else 0.0
        wall, results = _run(jobs)
        cpu["clients"] = sum(r["cpu"] for r in results)
        if team is not None:
            cpu["PostgreSQL"] = team.cpu_seconds() - database_before
        return wall, results

    if journal_only:
        wall, results = run()
        sent = None
    else:
        with sandbox_process(users, 0.0, 0) as server:
            for job in jobs:
                job["url"] = server.url
            sandbox_before = cpu_seconds(server.process.pid)
            wall, results = run()
            cpu["sandbox"] = cpu_seconds(server.process.pid) - sandbox_before
            sent = [
                (r["body"]["userId"], r["body"]["partnerId"])
                for r in request_log(server.url)
                if r["method"] == "PUT" and r["path"] == REFERRAL and r["applied"]
            ]
    if team is not None:
        with PgDatabase(team.admin, None) as db:
            journal = Journal(db)
            check = _journal_check(journal)
            journal.close()
    else:
        check = results[0]["journal"]
    errors = sum((Counter(r["errors"]) for r in results), Counter[str]())
    rate = total / wall
    per_write = ", ".join(f"{k} {v / total * 1000:.2f} ms" for k, v in cpu.items())
    line = f"  {name}: {rate:,.0f} writes/s ({total:,} in {wall:.1f} s wall); CPU per write: "
    line += f"{per_write}\n    {_verdict(asked, check, sent)}; errors {dict(errors)}"
    return rate, line


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--writes", type=int, default=2000, help="per process")
    parser.add_argument("--users", type=int, default=12_000, help="seeded users (in reach ≥ N×M)")
    parser.add_argument("--journal-only", action="store_true", help="the journal steps alone")
    args = parser.parse_args()
    total = args.processes * args.writes
    candidates = users_in_reach(args.users)[:total]
    if len(candidates) < total:
        sys.exit(f"--users {args.users} gives {len(candidates)} users in reach; need {total}")
    shares = [candidates[i * args.writes : (i + 1) * args.writes] for i in range(args.processes)]
    tags = [f"T{i}" for i in range(args.processes)]

    if args.journal_only:
        print("journal steps (begin + complete) straight on the store, no sandbox")
    else:
        print("single writes through the write gate (set_partner: re-check read, budget slot, "
              "journal intent, PUT, journal entry), sandbox in its own process on loopback, "
              "no latency")  # fmt: skip
    solo_rate, solo = _side(
        f"baseline, 1 process × {total:,} on SQLite",
        _jobs([candidates], ["S"], [None], args.journal_only),
        args.users, args.journal_only, None,
    )  # fmt: skip
    with team_server(args.processes) as server:
        team_rate, team = _side(
            f"team, {args.processes} processes × {args.writes:,} on PostgreSQL",
            _jobs(shares, tags, [server.settings(a) for a in server.agents],
                  args.journal_only),
            args.users, args.journal_only, server,
        )  # fmt: skip
    print(team)
    print(solo)
    print(f"  ratio team ÷ SQLite: {team_rate / solo_rate:.2f}×")


if __name__ == "__main__":
    main()
