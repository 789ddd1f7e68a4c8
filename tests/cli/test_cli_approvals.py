"""``ctrader-admin approvals …`` as two agents run it on their own computers (their own homes,
their own database roles) against one team database and a loopback sandbox."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from cli_env import PROFILE, Cli
from pg_cluster import PgServer
from team_db import team_of_two

from ctrader_admin.store.pg.settings import TeamSettings

HEADER = "level,userId,ctidTraderAccountId,partnerId"
DANIEL = 1000004


def _connect(cli: Cli, home: Path, settings: TeamSettings) -> None:
    done = _run(cli, home, "team", "connect", "--host", settings.host, "--port",
                str(settings.port), "--database", settings.database, "--user", settings.user,
                "--no-tls")  # fmt: skip
    assert done.returncode == 0, done.stderr


def _run(cli: Cli, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli.command(*args), env=cli.environ(CTRADER_ADMIN_HOME=str(home)), capture_output=True,
        text=True, timeout=120, check=False, cwd=home, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def agents(cli: Cli, pg_server: PgServer, tmp_path: Path) -> tuple[Path, Path, str, str]:
    """Anna works in the CLI fixture's home (its profile, its sandbox); Bob in his own."""
    _, anna, bob = team_of_two(pg_server)
    bob_home = tmp_path / "bob"
    bob_home.mkdir()
    _connect(cli, cli.home, anna)
    _connect(cli, bob_home, bob)
    return cli.home, bob_home, anna.user, bob.user


def test_a_plan_is_submitted_approved_by_another_agent_never_by_its_author(
    cli: Cli, agents: tuple[Path, Path, str, str]
) -> None:
    anna_home, bob_home, anna, bob = agents
    source = cli.write("fix.csv", f"{HEADER}\nuser,{DANIEL},,IB-77\n")
    done = cli.run("plan", str(source), "-o", "fix.plan.json")
    assert done.returncode == 0, done.stderr

    done = _run(cli, anna_home, "approvals", "submit", "--plan", "fix.plan.json",
                "--profile", PROFILE, "--reason", "CRM export", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    submitted = json.loads(done.stdout)
    number = submitted["id"]
    assert (submitted["state"], submitted["submitted_by"], submitted["kind"]) == (
        "pending", anna, "plan",
    )  # fmt: skip
    assert json.loads(submitted["body"])["rows"] == 1

    done = _run(cli, bob_home, "approvals", "list")
    assert done.returncode == 0, done.stderr
    listed = "Waiting for a decision: Register partners in bulk, plan fix.plan.json: 1 row to write"
    assert f"#{number} {listed}" in done.stdout
    assert f"submitted by {anna}" in done.stdout

    done = _run(cli, anna_home, "approvals", "approve", str(number))
    assert done.returncode == 2
    assert f"You submitted approval {number}: another person must approve it." in done.stderr
    assert "Traceback" not in done.stderr

    done = _run(cli, bob_home, "approvals", "approve", str(number), "--comment", "ok", "--json")
    assert done.returncode == 0, done.stderr
    decided = json.loads(done.stdout)
    assert (decided["state"], decided["decided_by"], decided["comment"]) == ("approved", bob, "ok")

    done = _run(cli, bob_home, "approvals", "reject", str(number), "--comment", "no")
    assert done.returncode == 2
    assert f"already approved by {bob}" in done.stderr
    done = _run(cli, anna_home, "approvals", "list", "--json")
    assert json.loads(done.stdout) == {"approvals": []}
    done = _run(cli, anna_home, "approvals", "list", "--state", "decided")
    assert f"#{number} Approved:" in done.stdout
    assert f"approved by {bob}: ok" in done.stdout


def test_refusals_in_words_and_nothing_submitted(
    cli: Cli, agents: tuple[Path, Path, str, str]
) -> None:
    anna_home, bob_home, _, _ = agents
    cases = [
        (("submit", "--target", "1000004", "--action", "set_partner", "--to", "IB-1",
          "--environment", "live", "--reason", "r"), "Target: This app does not know"),
        (("submit", "--target", "user:1000004", "--action", "set_partner", "--to", "IB-1",
          "--environment", "mars", "--reason", "r"), "Environment"),
        (("submit", "--target", "user:1000004", "--action", "set_partner", "--to", "IB-1",
          "--environment", "live"), "Reason: is required"),
        (("submit", "--plan", "nowhere.plan.json", "--reason", "r"), "is not a file"),
        (("reject", "1"), "--comment"),
        (("approve", "x"), "not an approval number"),
        (("approve", "999"), "There is no approval 999"),
    ]  # fmt: skip
    for args, said in cases:
        done = _run(cli, anna_home, "approvals", *args)
        assert done.returncode == 2, (args, done.stdout)
        assert said in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    done = _run(cli, bob_home, "approvals", "list", "--state", "all", "--json")
    assert json.loads(done.stdout) == {"approvals": []}

    done = _run(cli, anna_home, "approvals", "submit", "--target", f"user:{DANIEL}",
                "--action", "set_partner", "--to", "IB-1", "--environment", "live",
                "--reason", "r")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Submitted as approval 1: Set partnerId user:1000004: " in done.stdout
    assert " → IB-1. Another person must approve it" in done.stdout


def test_without_a_team_database_it_says_how_to_connect(cli: Cli) -> None:
    done = cli.run("approvals", "list")
    assert done.returncode == 2
    assert "run `ctrader-admin team connect` first" in done.stderr


def test_apply_under_an_approval_without_a_team_database_refuses_in_words(cli: Cli) -> None:
    source = cli.write("fix.csv", f"{HEADER}\nuser,{DANIEL},,IB-NOTEAM\n")
    assert cli.run("plan", str(source), "-o", "fix.plan.json").returncode == 0
    cli.sandbox.clear_log()

    done = cli.run("apply", "fix.plan.json", "--reason", "r", "--yes", "--approval", "1")
    assert done.returncode == 2
    assert (
        "Approvals are kept in the team database, and this computer is not connected to one: "
        "nothing was sent." in done.stderr
    )
    assert "Traceback" not in done.stderr
    writes = [e for e in cli.sandbox.request_log if e.method != "GET"]
    assert [f"{e.method} {e.path}" for e in writes] == []
    database, checkpoints, journal = cli.store()
    try:  # nothing journaled, no job recorded
        assert journal.count() == 0
        assert checkpoints.jobs() == []
    finally:
        journal.close()
        checkpoints.close()
        database.close()
    done = cli.run("referral", "get", "--user", str(DANIEL), "--json")
    assert json.loads(done.stdout)["partnerId"] != "IB-NOTEAM"


def test_the_administrator_sets_a_policy_an_agent_only_reads_it(
    cli: Cli, pg_server: PgServer, tmp_path: Path
) -> None:
    admin, anna, _ = team_of_two(pg_server)
    admin_home = tmp_path / "admin"
    admin_home.mkdir()
    _connect(cli, admin_home, admin)
    _connect(cli, cli.home, anna)

    done = _run(cli, cli.home, "team", "policy", PROFILE)
    assert done.returncode == 0, done.stderr
    assert "No team policy for 'loop'" in done.stdout
    done = _run(cli, admin_home, "team", "policy", PROFILE, "--set", "--require-ticket",
                "--budget", "200", "--approve", "plans", "--approve", "wl-moves",
                "--live-only")  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = (
        "Team policy for 'loop': writes allowed; at most 200 writes per hour; reason required; "
        "ticket required; approval needed for bulk plans, White Label moves (live profiles only)."
    )
    assert done.stdout.strip() == said

    done = _run(cli, admin_home, "team", "policy", PROFILE, "--read-only")
    assert done.returncode == 2
    assert "Add --set to replace the policy" in done.stderr
    done = _run(cli, cli.home, "team", "policy", PROFILE, "--set", "--no-reason")
    assert done.returncode == 2
    assert "has not granted it to this user" in done.stderr
    assert "Traceback" not in done.stderr
    done = _run(cli, cli.home, "team", "policy", PROFILE, "--json")
    assert json.loads(done.stdout)["policy"]["require_ticket"] is True

    # the team's rule holds on the workstation whose own profile does not ask for a ticket
    done = _run(cli, cli.home, "approvals", "submit", "--target", f"user:{DANIEL}",
                "--action", "set_partner", "--to", "IB-1", "--environment", "live",
                "--reason", "r")  # fmt: skip
    assert done.returncode == 2
    assert "Ticket: is required on this connection" in done.stderr


def test_an_approved_write_is_applied_once_exactly_as_approved(
    cli: Cli, agents: tuple[Path, Path, str, str]
) -> None:
    anna_home, bob_home, anna, bob = agents
    done = cli.run("referral", "get", "--user", str(DANIEL), "--json")
    assert done.returncode == 0, done.stderr
    now = json.loads(done.stdout)["partnerId"]
    submit = [
        "approvals",
        "submit",
        "--target",
        f"user:{DANIEL}",
        "--action",
        "set_partner",
        "--to",
        "IB-APPROVED",
        "--environment",
        "live",
        "--reason",
        "CRM fix",
        "--json",
    ]
    number = json.loads(_run(cli, anna_home, *submit).stdout)["id"]
    stale = json.loads(_run(cli, anna_home, *submit[:-1], "--to", "IB-STALE", "--json").stdout)
    # what was approved includes the value the target held when it was submitted
    assert json.loads(stale["body"])["before"] == now

    done = _run(cli, anna_home, "approvals", "apply", str(number), "--confirm-env", "live")
    assert done.returncode == 2
    assert f"Approval {number} is still pending: it cannot be applied." in done.stderr
    for approval in (number, stale["id"]):
        assert _run(cli, bob_home, "approvals", "approve", str(approval)).returncode == 0

    done = _run(cli, anna_home, "approvals", "apply", str(number), "--confirm-env", "live")
    assert done.returncode == 0, done.stderr
    assert f"Approval {number} applied: Set partnerId user:{DANIEL}" in done.stdout
    assert f"submitted by {anna}, approved by {bob}" in done.stdout
    done = cli.run("referral", "get", "--user", str(DANIEL), "--json")
    assert json.loads(done.stdout)["partnerId"] == "IB-APPROVED"
    # the journal entry names both people
    assert cli.run("journal", "export", "-o", "journal.csv").returncode == 0
    exported = (cli.home / "journal.csv").read_text(encoding="utf-8")
    assert f"CRM fix (approval {number}: submitted by {anna}, approved by {bob})" in exported

    done = _run(cli, bob_home, "approvals", "apply", str(number), "--confirm-env", "live")
    assert done.returncode == 2
    assert f"already applied by {anna}" in done.stderr
    # approved against a value the target no longer holds: refused, nothing sent
    done = _run(cli, anna_home, "approvals", "apply", str(stale["id"]), "--confirm-env", "live")
    assert done.returncode == 2
    assert "holds IB-APPROVED now" in done.stderr
    done = cli.run("referral", "get", "--user", str(DANIEL), "--json")
    assert json.loads(done.stdout)["partnerId"] == "IB-APPROVED"


def test_a_plan_the_policy_sends_for_approval_is_applied_once_under_it(
    cli: Cli, pg_server: PgServer, tmp_path: Path
) -> None:
    admin, anna_settings, bob_settings = team_of_two(pg_server)
    admin_home, bob_home = tmp_path / "admin", tmp_path / "bob"
    for home, settings in ((admin_home, admin), (bob_home, bob_settings)):
        home.mkdir()
        _connect(cli, home, settings)
    _connect(cli, cli.home, anna_settings)
    anna, bob = anna_settings.user, bob_settings.user
    done = _run(cli, admin_home, "team", "policy", PROFILE, "--set", "--approve", "plans")
    assert done.returncode == 0, done.stderr
    source = cli.write("fix.csv", f"{HEADER}\nuser,{DANIEL},,IB-PLAN\n")
    assert cli.run("plan", str(source), "-o", "fix.plan.json").returncode == 0
    other = cli.write("other.csv", f"{HEADER}\nuser,{DANIEL},,IB-OTHER\n")
    assert cli.run("plan", str(other), "-o", "other.plan.json").returncode == 0
    apply = ["apply", "fix.plan.json", "--reason", "CRM fix", "--yes"]

    # without an approval: refused in words, saying how to submit it; nothing sent
    done = _run(cli, cli.home, *apply)
    assert done.returncode == 2
    assert "needs a second person's approval on" in done.stderr
    assert "`ctrader-admin approvals submit --plan FILE`" in done.stderr
    assert "Traceback" not in done.stderr
    done = _run(cli, cli.home, "approvals", "submit", "--plan", "fix.plan.json", "--reason",
                "CRM export", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    number = json.loads(done.stdout)["id"]
    done = _run(cli, cli.home, *apply, "--approval", str(number))
    assert done.returncode == 2
    assert f"Approval {number} is still pending: it cannot be applied." in done.stderr
    done = _run(cli, bob_home, "approvals", "approve", str(number), "--comment", "checked")
    assert done.returncode == 0, done.stderr

    # another plan (what an edited and re-made plan is) does not ride on this approval
    done = _run(cli, cli.home, "apply", "other.plan.json", "--reason", "r", "--yes",
                "--approval", str(number))  # fmt: skip
    assert done.returncode == 2
    assert f"not the one approved in approval {number}: nothing was sent" in done.stderr
    # a plan file edited by hand: refused by its seal
    plan_file = cli.home / "fix.plan.json"
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(text.replace("IB-PLAN", "IB-EVIL"), encoding="utf-8")
    done = _run(cli, cli.home, *apply, "--approval", str(number))
    assert done.returncode == 2
    assert "was changed after it was made" in done.stderr
    plan_file.write_text(text, encoding="utf-8")
    done = cli.run("referral", "get", "--user", str(DANIEL), "--json")
    assert json.loads(done.stdout)["partnerId"] not in ("IB-PLAN", "IB-OTHER", "IB-EVIL")

    done = _run(cli, cli.home, *apply, "--approval", str(number), "--json")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert (job["state"], job["counts"]["ok"]) == ("finished", 1)
    assert job["reason"] == f"CRM fix (approval {number}: submitted by {anna}, approved by {bob})"
    done = cli.run("referral", "get", "--user", str(DANIEL), "--json")
    assert json.loads(done.stdout)["partnerId"] == "IB-PLAN"
    done = _run(cli, bob_home, "approvals", "list", "--state", "decided")
    assert f"#{number} Applied: Register partners in bulk" in done.stdout
    assert f"approved by {bob}: checked; applied by {anna}" in done.stdout

    # used once: the same plan again is refused, and the write was sent once
    done = _run(cli, cli.home, *apply, "--approval", str(number))
    assert done.returncode == 2
    assert f"already applied by {anna}" in done.stderr
    # its job resumed (as after a crash) goes on under the approval: not asked again, nothing resent
    done = _run(cli, cli.home, "resume", job["job"], "--yes")
    assert done.returncode == 0, done.stderr
    assert cli.run("journal", "export", "-o", "journal.csv").returncode == 0
    with (cli.home / "journal.csv").open(encoding="utf-8-sig", newline="") as exported:
        sent = [e for e in csv.DictReader(exported) if e["after"] == "IB-PLAN"]
    assert [(e["outcome"], e["reason"]) for e in sent] == [
        ("ok", f"CRM fix (approval {number}: submitted by {anna}, approved by {bob})")
    ]
