"""Every CLI subcommand's happy path, its exit codes (0 all ok, 1 rows failed/drift/unknown,
2 could not run) and its --json output."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from cli_env import MANAGER, Cli, add_profile

from ctrader_admin.sandbox import trading_password

HEADER = "level,userId,ctidTraderAccountId,partnerId"
EMILY, LUKAS = 1000001, 1000002
EMILY_DEMO_LINK = 9000002


def plan_file(cli: Cli, rows: str, name: str = "p") -> Path:
    source = cli.write(f"{name}.csv", f"{HEADER}\n{rows}")
    done = cli.run("plan", str(source), "-o", f"{name}.plan.json")
    assert done.returncode in (0, 1), done.stderr
    return cli.home / f"{name}.plan.json"


def test_plan_then_apply_then_status(cli: Cli) -> None:
    source = cli.write(
        "fix.csv", f"{HEADER}\nuser,{EMILY},,IB-NEW\naccount,,{EMILY_DEMO_LINK},ACC\n"
    )
    done = cli.run("plan", str(source), "-o", "fix.plan.json")
    assert done.returncode == 0, done.stderr
    assert "2 to write, 0 to skip" in done.stdout
    assert "IB-1042 → IB-NEW" in done.stdout
    assert "PUT /cid/oauth2/ctid/referral" in done.stdout
    assert MANAGER.token not in done.stdout + done.stderr
    assert cli.sandbox.referral(user_id=EMILY) == "IB-1042"  # a dry run

    code, result = cli.json(
        "apply", "fix.plan.json", "--reason", "CRM fix", "--ticket", "T-7", "--yes"
    )
    assert code == 0
    assert result["state"] == "finished"
    assert result["counts"]["ok"] == 2
    assert [row["outcome"] for row in result["rows"]] == ["ok", "ok"]
    assert cli.sandbox.referral(user_id=EMILY) == "IB-NEW"
    assert cli.sandbox.referral(ctid_trader_account_id=EMILY_DEMO_LINK) == "ACC"

    code, status = cli.json("status", result["job"][:8])
    assert (code, status["job"], status["reason"], status["ticket"]) == (
        0,
        result["job"],
        "CRM fix",
        "T-7",
    )
    code, listing = cli.json("status")
    assert code == 0
    assert [job["job"] for job in listing["jobs"]] == [result["job"]]
    done = cli.run("status", result["job"], "--results", "out.csv")
    assert done.returncode == 0
    with (cli.home / "out.csv").open(encoding="utf-8-sig") as file:
        assert [row["outcome"] for row in csv.DictReader(file)] == ["ok", "ok"]
    # Resuming a finished job does nothing and says all is well.
    assert cli.run("resume", result["job"], "--yes").returncode == 0


def test_plan_exit_codes(cli: Cli) -> None:
    code, result = cli.json(
        "plan",
        str(cli.write("bad.csv", f"{HEADER}\nuser,x,,A\nuser,{EMILY},,B\n")),
        "-o",
        "bad.json",
    )
    assert code == 1
    assert result["counts"] == {"write": 1, "skip": 0, "error": 1}
    assert result["problems"] == {"invalid": 1}
    assert len(result["rows"]) == 2
    code, result = cli.json("plan", "missing.csv", "-o", "x.json")
    assert code == 2
    assert "Cannot read" in result["error"]
    code, result = cli.json("plan", str(cli.write("junk.csv", "hello,world\n")), "-o", "x.json")
    assert code == 2
    assert "neither a header nor a row" in result["error"]


def test_apply_exit_codes(cli: Cli) -> None:
    with_errors = plan_file(cli, f"user,{EMILY},,NEW\nuser,9999999,,X\n", "errors")
    code, result = cli.json("apply", str(with_errors), "--reason", "r", "--yes")
    assert code == 1  # ran, but one row failed
    assert [row["outcome"] for row in result["rows"]] == ["ok", "failed"]

    clean = plan_file(cli, f"user,{LUKAS},,NEW\n", "clean")
    assert cli.run("apply", str(clean), "--yes").returncode == 2  # the profile wants a reason
    assert "Reason" in cli.run("apply", str(clean), "--yes").stderr
    refused = cli.run("apply", str(clean), "--reason", "r")  # no terminal to ask on
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    text = clean.read_text(encoding="utf-8")
    clean.write_text(text.replace('"NEW"', '"EVIL"'), encoding="utf-8")
    code, result = cli.json("apply", str(clean), "--reason", "r", "--yes")
    assert code == 2
    assert "changed after it was made" in result["error"]
    assert cli.sandbox.referral(user_id=LUKAS) == "AFF-EU-318"


def test_drift_is_reported_with_exit_code_1(cli: Cli) -> None:
    plan = plan_file(cli, f"user,{EMILY},,MINE\nuser,{LUKAS},,ALSO\n")
    assert (
        cli.run("referral", "set", "--user", str(EMILY), "THEIRS", "--reason", "x").returncode == 0
    )
    code, result = cli.json("apply", str(plan), "--reason", "r", "--yes")
    assert code == 1
    assert [row["outcome"] for row in result["rows"]] == ["drift", "ok"]
    assert "now THEIRS" in result["rows"][0]["error"]
    assert cli.sandbox.referral(user_id=EMILY) == "THEIRS"


def test_a_live_profile_needs_the_environment_name(cli: Cli) -> None:
    add_profile(cli.home, cli.url, id="live", name="Live", live=True)
    plan = cli.home / "live.plan.json"
    source = cli.write("l.csv", f"{HEADER}\nuser,{EMILY},,LIVE-1\n")
    assert cli.run("plan", str(source), "-o", str(plan), "--profile", "live").returncode == 0
    refused = cli.run("apply", str(plan), "--reason", "r", "--yes", "--profile", "live")
    assert refused.returncode == 2
    assert "--confirm-env live" in refused.stderr
    wrong = cli.run(
        "apply", str(plan), "--reason", "r", "--confirm-env", "demo", "--profile", "live"
    )
    assert wrong.returncode == 2
    assert cli.sandbox.referral(user_id=EMILY) == "IB-1042"
    done = cli.run(
        "apply", str(plan), "--reason", "r", "--confirm-env", "live", "--profile", "live"
    )
    assert done.returncode == 0, done.stderr
    assert cli.sandbox.referral(user_id=EMILY) == "LIVE-1"


def test_revert_a_batch_or_some_rows(cli: Cli) -> None:
    plan = plan_file(
        cli, f"user,{EMILY},,NEW-1\nuser,{LUKAS},,NEW-2\naccount,,{EMILY_DEMO_LINK},NEW-3\n"
    )
    code, result = cli.json("apply", str(plan), "--reason", "r", "--yes")
    assert code == 0
    batch = result["job"]
    code, revert = cli.json("revert", batch, "--rows", "2", "-o", "one.json")
    assert code == 0
    assert [(row["target"], row["proposed"]) for row in revert["rows"]] == [
        (f"user:{LUKAS}", "AFF-EU-318")
    ]
    code, revert = cli.json("revert", batch[:6], "-o", "all.json")
    assert code == 0
    assert revert["kind"] == "revert"
    assert [row["op"] for row in revert["rows"]] == ["set_partner", "set_partner", "delete_partner"]
    code, undone = cli.json("apply", "all.json", "--reason", "undo", "--yes")
    assert code == 0
    assert undone["counts"]["ok"] == 3
    assert cli.sandbox.referral(user_id=EMILY) == "IB-1042"
    assert cli.sandbox.referral(user_id=LUKAS) == "AFF-EU-318"
    assert cli.sandbox.referral(ctid_trader_account_id=EMILY_DEMO_LINK) is None
    assert cli.run("revert", "nope", "-o", "x.json").returncode == 2
    assert cli.run("revert", batch, "--rows", "a-b", "-o", "x.json").returncode == 2


def test_journal_verify_and_export(cli: Cli) -> None:
    plan = plan_file(cli, f"user,{EMILY},,J-1\nuser,{LUKAS},,J-2\n")
    code, result = cli.json("apply", str(plan), "--reason", "r", "--yes")
    assert code == 0
    assert cli.run("referral", "set", "--user", str(EMILY), "J-3", "--reason", "x").returncode == 0
    code, verified = cli.json("journal", "verify")
    assert (code, verified["ok"], verified["checked"]) == (0, True, 3)
    code, exported = cli.json("journal", "export", "--batch", result["job"], "-o", "batch.csv")
    assert (code, exported["entries"]) == (0, 2)
    with (cli.home / "batch.csv").open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert {row["target"] for row in rows} == {f"user:{EMILY}", f"user:{LUKAS}"}
    assert {row["batch_id"] for row in rows} == {result["job"]}
    assert cli.run("journal", "export", "-o", "all.csv").returncode == 0
    refused = cli.run("journal", "export", "-o", "no-such-folder/all.csv")
    assert refused.returncode == 2
    assert "The journal could not be written to no-such-folder/all.csv" in refused.stderr
    assert "Traceback" not in refused.stderr
    # Tamper with an entry behind the app's back: verify says so, exit code 1.
    # The batch writes concurrently: find J-1's entry rather than assume it is the first.
    with sqlite3.connect(cli.paths.database_file) as conn:
        (tampered,) = conn.execute("SELECT id FROM journal WHERE body LIKE '%J-1%'").fetchone()
        conn.execute("DROP TRIGGER journal_no_update")
        conn.execute(
            "UPDATE journal SET body = replace(body, 'J-1', 'J-X') WHERE id = ?", (tampered,)
        )
    code, verified = cli.json("journal", "verify")
    assert (code, verified["ok"], verified["first_bad_id"]) == (1, False, tampered)


def test_referral_get_set_delete(cli: Cli) -> None:
    code, read = cli.json("referral", "get", "--user", str(EMILY))
    assert (code, read["partnerId"]) == (0, "IB-1042")
    code, changed = cli.json(
        "referral", "set", "--account", str(EMILY_DEMO_LINK), "ACC-9", "--reason", "r"
    )
    assert (code, changed["before"], changed["after"], changed["changed"]) == (
        0,
        None,
        "ACC-9",
        True,
    )
    assert changed["journal_id"] == 1
    code, same = cli.json(
        "referral", "set", "--account", str(EMILY_DEMO_LINK), "ACC-9", "--reason", "r"
    )
    assert (code, same["changed"]) == (0, False)
    code, deleted = cli.json(
        "referral",
        "delete",
        "--account",
        str(EMILY_DEMO_LINK),
        "--owner",
        str(EMILY),
        "--reason",
        "r",
    )
    assert (code, deleted["before"], deleted["after"]) == (0, "ACC-9", None)
    assert cli.sandbox.referral(ctid_trader_account_id=EMILY_DEMO_LINK) is None
    code, failed = cli.json("referral", "set", "--user", "9999999", "X", "--reason", "r")
    assert code == 1  # the backend said no
    assert "USER_NOT_FOUND" in failed["error"]
    assert cli.run("referral", "set", "--user", str(EMILY), "X").returncode == 2  # no reason


def test_without_a_token_nothing_runs(cli: Cli) -> None:
    done = cli.run("referral", "get", "--user", str(EMILY), CTRADER_ADMIN_TOKEN="")
    assert done.returncode == 2
    assert "CTRADER_ADMIN_TOKEN" in done.stderr
    done = cli.run("referral", "get", "--user", str(EMILY), CTRADER_ADMIN_TOKEN="not-a-token")
    assert done.returncode == 2
    assert cli.run("referral", "get", "--user", "1", "--profile", "nope").returncode == 2


def test_user_create_account_link_and_move(cli: Cli) -> None:
    code, created = cli.json("user", "create", "--email", "new.person@example.com", "--reason", "r")
    assert (code, created["created"]) == (0, True)
    user = created["userId"]
    code, again = cli.json("user", "create", "--email", "new.person@example.com", "--reason", "r")
    assert (code, again["created"], again["userId"]) == (0, False, user)

    login = next(
        login
        for login in cli.sandbox.logins(
            broker_name="sandbox_main", environment="demo", linked=False
        )
    )
    link = ["account", "link", "--login", str(login), "--user", str(user)]
    link += ["--broker-name", "sandbox_main", "--environment", "demo", "--reason", "r"]
    refused = cli.run(*link)  # no password: never an argument, and no terminal to ask on
    assert refused.returncode == 2
    assert "CTRADER_ADMIN_ACCOUNT_PASSWORD" in refused.stderr
    password = trading_password(login)
    done = cli.run(*link, "--json", CTRADER_ADMIN_ACCOUNT_PASSWORD=password)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ctidTraderAccountId"] is not None
    assert password not in done.stdout + done.stderr
    linked = cli.sandbox.link(trader_login=login)
    assert linked is not None
    assert linked["user_id"] == user

    code, moved = cli.json(
        "account",
        "move-wl",
        "--login",
        str(login),
        "--environment",
        "demo",
        "--to",
        "sandbox_eu",
        "--reason",
        "r",
    )
    assert (code, moved["before"], moved["after"], moved["confirmed"]) == (
        0,
        "sandbox_main",
        "sandbox_eu",
        True,
    )
    code, failed = cli.json(
        "account",
        "move-wl",
        "--login",
        str(login),
        "--environment",
        "demo",
        "--to",
        "sandbox_eu",
        "--reason",
        "r",
    )
    assert code == 2  # already there: refused before sending
    assert "already" in failed["error"]


@pytest.mark.parametrize(
    "args", [["status", "nope"], ["resume", "nope", "--yes"], ["apply", "missing.json", "--yes"]]
)
def test_unknown_jobs_and_files_cannot_run(cli: Cli, args: list[str]) -> None:
    code, result = cli.json(*args)
    assert code == 2
    assert result["exit_code"] == 2


def test_single_commands_refuse_what_the_planner_refuses_and_send_nothing(cli: Cli) -> None:
    """A White Label or environment the profile does not list is refused before any request,
    with the planner's words (services/validation.py): exit 2, nothing read or written."""
    login = next(iter(cli.sandbox.logins(broker_name="sandbox_main", environment="demo")))
    cli.sandbox.clear_log()
    move = ["account", "move-wl", "--login", str(login), "--reason", "r"]
    code, refused = cli.json(*move, "--environment", "demo", "--to", "sandbox_offlimits")
    assert code == 2
    assert (
        "White Label: 'sandbox_offlimits' is not one this connection handles" in (refused["error"])
    )
    code, refused = cli.json(*move, "--environment", "staging", "--to", "sandbox_eu")
    assert code == 2
    assert "Environment: 'staging' is not one of demo, live" in refused["error"]
    link = ["account", "link", "--login", str(login), "--user", str(EMILY), "--reason", "r"]
    done = cli.run(
        *link,
        "--broker-name",
        "sandbox_main",
        "--environment",
        "staging",
        CTRADER_ADMIN_ACCOUNT_PASSWORD=trading_password(login),
    )
    assert done.returncode == 2
    assert "Environment: 'staging' is not one of demo, live" in done.stderr
    assert [f"{e.method} {e.path}" for e in cli.sandbox.request_log] == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("100000²", "must be a whole number made of the digits 0–9 (not '²', U+00B2)"),
        ("١٠٠٠٠٠١", "must be a whole number made of the digits 0–9 (not '١', U+0661)"),
        ("１０００００１", "must be a whole number made of the digits 0–9 (not '１', U+FF11)"),
        ("+1000001", "must be a whole number made of the digits 0–9 (not '+')"),
        ("-1000001", "must be a positive number"),
        ("0", "must be a positive number"),
        ("9" * 5000, "is too long: at most 19 digits"),
    ],
)
def test_bad_numerals_in_arguments_are_refused_before_anything_runs(
    cli: Cli, value: str, reason: str
) -> None:
    cli.sandbox.clear_log()
    done = cli.run("referral", "set", "--user", value, "IB-1", "--reason", "r")
    assert done.returncode == 2
    assert f"argument --user: {reason}" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr) < 2000  # the 5 000 digits are not echoed back
    assert cli.sandbox.request_log == []
