"""Several processes of the app on one home at once, as a back office really works: a bulk apply
running, a second job started meanwhile, single writes in a loop, and ``status`` plus
``journal verify`` in a loop — at least 30 s together, against a sandbox on loopback.

Afterwards the SQLite file passes ``PRAGMA integrity_check``, the journal's chain verifies, no
entry is "unknown" (no process died, so none may be), nothing is left pending, the backend holds
exactly what the plans and the last single writes say, and every process exited as expected
without a traceback. Nothing here depends on timing luck: each loop runs until both jobs are
done *and* 30 s have passed, whatever the machine's speed; the assertions hold for any
interleaving.

Plus: a process killed with SIGKILL leaves intents that the next process recovers as "unknown",
while a live process's intents are left alone and complete normally."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cli_env import MANAGER, Cli, serve_cli

from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import RECOVERED_ERROR, Journal, JournalFilter

TOGETHER_SECONDS = 30.0
# Each request waits this long on the sandbox, and each job writes one row at a time: the first
# job's 60 writes alone take >= 30 s, so it overlaps everything else however fast the machine.
LATENCY_MS = 500
HEADER = "level,userId,ctidTraderAccountId,partnerId"


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """The CLI fixture with more users: two jobs and the single writes need disjoint targets."""
    with serve_cli(tmp_path, users=240) as served:
        yield served


@dataclass
class Ran:
    """One finished process: what it was, how it ended, what it said on stderr."""

    args: tuple[str, ...]
    code: int
    stderr: str


@dataclass
class Log:
    runs: list[Ran] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ran: Ran) -> None:
        with self.lock:
            self.runs.append(ran)


def users_in_reach(cli: Cli) -> list[int]:
    reach = set(MANAGER.broker_names)
    return [
        u
        for u in range(1000001, 1000001 + 240)
        if (cli.sandbox.user(u) or {}).get("broker_name") in reach
    ]


def make_plan(cli: Cli, name: str, values: dict[int, str]) -> Path:
    rows = "\n".join(f"user,{user},,{value}" for user, value in values.items())
    source = cli.write(f"{name}.csv", f"{HEADER}\n{rows}\n")
    done = cli.run("plan", str(source), "-o", f"{name}.plan.json")
    assert done.returncode == 0, done.stderr
    return cli.home / f"{name}.plan.json"


def start(cli: Cli, name: str, *args: str) -> tuple[subprocess.Popen[str], Path]:
    """A long-running process whose stderr goes to a file (a pipe could fill up and stall it)."""
    err = cli.home / f"{name}.stderr"
    with err.open("w", encoding="utf-8") as sink:  # the child keeps its own descriptor
        process = subprocess.Popen(
            cli.command(*args),
            env=cli.environ(),
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
            cwd=cli.home,
        )
    return process, err


def wait_for_line(process: subprocess.Popen[str], err: Path, words: tuple[str, ...]) -> None:
    """Until the process has said a line with all of ``words`` (or has ended)."""
    while process.poll() is None:
        if any(all(w in line for w in words) for line in err.read_text("utf-8").splitlines()):
            return
        time.sleep(0.05)


def loop_until(done: threading.Event, cli: Cli, log: Log, commands: list[tuple[str, ...]]) -> None:
    while not done.is_set():
        for args in commands:
            ran = cli.run(*args)
            log.add(Ran(args, ran.returncode, ran.stderr))


@pytest.mark.slow
def test_processes_sharing_one_home_never_corrupt_or_misrecord(cli: Cli) -> None:
    users = users_in_reach(cli)
    first_job = {u: f"MP1-{u}" for u in users[:60]}
    second_job = {u: f"MP2-{u}" for u in users[60:100]}
    singles = users[100:104]
    plan_1 = make_plan(cli, "first", first_job)
    plan_2 = make_plan(cli, "second", second_job)
    cli.sandbox.config.latency_ms = LATENCY_MS

    apply = ("--reason", "multi-process", "--ticket", "MP-1", "--yes", "--concurrency", "1")
    began = time.monotonic()
    job_1, err_1 = start(cli, "apply-1", "apply", str(plan_1), *apply)
    wait_for_line(job_1, err_1, ("job ", "started"))

    log = Log()
    done = threading.Event()
    last_single: dict[int, str] = {}
    single_lock = threading.Lock()

    def single_writes() -> None:
        n = 0
        while not done.is_set():
            user = singles[n % len(singles)]
            value = f"S-{n}"
            ran = cli.run("referral", "set", "--user", str(user), value, "--reason", "single")
            log.add(Ran(("referral", "set", str(user), value), ran.returncode, ran.stderr))
            if ran.returncode == 0:
                with single_lock:
                    last_single[user] = value
            n += 1

    loops = [
        threading.Thread(target=single_writes),
        threading.Thread(
            target=loop_until,
            args=(done, cli, log, [("status",), ("journal", "verify")]),
        ),
    ]
    for thread in loops:
        thread.start()
    # The second job starts while the first has writes in flight: its start-up recovery must
    # leave them alone (the first job would otherwise die on "No pending attempt").
    job_2, err_2 = start(cli, "apply-2", "apply", str(plan_2), *apply)
    try:
        for job in (job_1, job_2):
            job.wait(timeout=240)
        while time.monotonic() - began < TOGETHER_SECONDS:
            time.sleep(0.2)  # the loops keep going until 30 s of sharing have passed
    finally:
        done.set()
        for thread in loops:
            thread.join(timeout=240)
        for job in (job_1, job_2):
            if job.poll() is None:
                job.kill()
                job.wait()

    # Every process exited as expected, saying no traceback.
    for name, job, err in (("first", job_1, err_1), ("second", job_2, err_2)):
        text = err.read_text("utf-8")
        assert job.returncode == 0, f"{name} job: {text}"
        assert "Traceback" not in text, text
    assert log.runs, "the loops ran"
    kinds = {ran.args[:2] for ran in log.runs}
    assert {("status",), ("journal", "verify"), ("referral", "set")} <= kinds
    for ran in log.runs:
        assert ran.code == 0, f"{' '.join(ran.args)} -> {ran.code}: {ran.stderr}"
        assert "Traceback" not in ran.stderr, ran.stderr

    # The file is sound, and the journal tells the truth.
    with sqlite3.connect(cli.paths.database_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    verified = cli.run("journal", "verify")
    assert verified.returncode == 0, verified.stderr
    with Database.open(cli.paths) as database:
        journal = Journal(database)
        try:
            assert journal.verify().ok
            assert journal.pending_count() == 0
            assert journal.count(JournalFilter(outcome="unknown")) == 0  # nobody died
            assert journal.count(JournalFilter(outcome="failed")) == 0
            singles_ok = sum(1 for r in log.runs if r.args[:2] == ("referral", "set"))
            assert journal.count() == len(first_job) + len(second_job) + singles_ok
        finally:
            journal.close()

    # The backend holds what the plans and the last single writes say.
    for user, value in (first_job | second_job | last_single).items():
        assert cli.sandbox.referral(user_id=user) == value, user


# --- a killed process's intents are recovered, a live one's are not ------------------------------

HOLDER = """
import sys
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.paths import AppPaths

database = Database.open(AppPaths.from_environment())
journal = Journal(database)
draft = JournalDraft(
    operator="30001", profile_id="loop", profile_name="Loopback sandbox", environment="",
    broker_name="sandbox_main", action="set_partner", target=sys.argv[1], after="X",
    reason="holder",
)
intent = journal.begin(draft)  # sent, no answer yet: in flight
print(intent, flush=True)
sys.stdin.readline()  # until told the answer came
journal.complete(intent, "ok")
journal.close()
database.close()
print("completed", flush=True)
"""


def hold_an_intent(cli: Cli, target: str) -> tuple[subprocess.Popen[str], int]:
    """A process of the app's store with one write in flight, until told to complete it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, target],
        env=cli.environ(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cli.home,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def test_a_killed_process_is_recovered_and_a_live_one_is_not(cli: Cli) -> None:
    users = users_in_reach(cli)
    plan = make_plan(cli, "next", {users[0]: "NEXT-1"})
    killed, killed_intent = hold_an_intent(cli, "user:111")
    live, live_intent = hold_an_intent(cli, "user:222")
    killed.send_signal(signal.SIGKILL)
    killed.communicate()

    # The next process to start a job recovers what the killed one left, and only that.
    done = cli.run("apply", str(plan), "--reason", "next", "--yes")
    assert done.returncode == 0, done.stderr
    with Database.open(cli.paths) as database:
        journal = Journal(database)
        try:
            unknown = list(journal.iter_entries(JournalFilter(outcome="unknown")))
            assert [(e.target, e.error) for e in unknown] == [("user:111", RECOVERED_ERROR)]
            with database.read() as conn:
                pending = [r[0] for r in conn.execute("SELECT id FROM journal_intents")]
            assert pending == [live_intent]
            assert killed_intent not in pending
        finally:
            journal.close()

    out, err = live.communicate("answer\n", timeout=60)  # the live write completes normally
    assert live.returncode == 0, err
    assert out.strip() == "completed"
    with Database.open(cli.paths) as database:
        journal = Journal(database)
        try:
            assert journal.pending_count() == 0
            assert journal.verify().ok
            assert journal.count(JournalFilter(outcome="unknown")) == 1
        finally:
            journal.close()
