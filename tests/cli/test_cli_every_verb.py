"""Every CLI verb × every kind of target it takes, run as an operator runs it (issue 12:
``referral get --account N`` crashed with "'Namespace' object has no attribute 'owner'"), and
``--profile``: an id or a name, for that command only, an unknown one is exit code 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cli_env import PROFILE, Cli, add_profile

from ctrader_admin.sandbox import trading_password
from ctrader_admin.store.profiles import ProfileStore

EMILY, LUKAS = 1000001, 1000002  # sandbox seed: IB-1042 / AFF-EU-318 at user level
EMILY_LIVE_LOGIN = 5200001  # linked to Emily, IB-2077 on its account link
EMILY_DEMO_LINK = 9000002  # linked to Emily, no partnerId
PROFILE_NAME = "Loopback sandbox"  # cli_env.add_profile's name for the id "loop"
HEADER = "level,userId,ctidTraderAccountId,partnerId"

Case = Callable[[Cli], tuple[list[str], Callable[[dict[str, Any]], None], dict[str, str]]]


def live_link(cli: Cli) -> int:
    link = cli.sandbox.link(trader_login=EMILY_LIVE_LOGIN)
    assert link is not None
    return int(link["ctid_trader_account_id"])


def unlinked_demo_login(cli: Cli) -> int:
    logins = cli.sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)
    return next(iter(logins))


def applied_job(cli: Cli) -> str:
    source = cli.write("j.csv", f"{HEADER}\nuser,{LUKAS},,JOB-1\n")
    assert cli.run("plan", str(source), "-o", "j.plan.json").returncode == 0
    code, result = cli.json("apply", "j.plan.json", "--reason", "r", "--yes")
    assert code == 0
    return str(result["job"])


def referral_get_user(cli: Cli) -> Any:
    def check(out: dict[str, Any]) -> None:
        assert out["partnerId"] == "IB-1042"

    return ["referral", "get", "--user", str(EMILY)], check, {}


def referral_get_account(cli: Cli) -> Any:
    def check(out: dict[str, Any]) -> None:
        assert out["partnerId"] == "IB-2077"

    return ["referral", "get", "--account", str(live_link(cli))], check, {}


def referral_set_user(cli: Cli) -> Any:
    def check(out: dict[str, Any]) -> None:
        assert (out["before"], out["after"]) == ("AFF-EU-318", "NEW-U")
        assert cli.sandbox.referral(user_id=LUKAS) == "NEW-U"

    return ["referral", "set", "--user", str(LUKAS), "NEW-U", "--reason", "r"], check, {}


def referral_set_account(cli: Cli) -> Any:
    def check(out: dict[str, Any]) -> None:
        assert (out["before"], out["after"]) == (None, "NEW-A")
        assert cli.sandbox.referral(ctid_trader_account_id=EMILY_DEMO_LINK) == "NEW-A"

    args = ["referral", "set", "--account", str(EMILY_DEMO_LINK), "NEW-A", "--reason", "r"]
    return args, check, {}


def referral_delete_user(cli: Cli) -> Any:
    def check(out: dict[str, Any]) -> None:
        assert (out["before"], out["after"]) == ("IB-1042", None)
        assert cli.sandbox.referral(user_id=EMILY) is None

    return ["referral", "delete", "--user", str(EMILY), "--reason", "r"], check, {}


def referral_delete_account(cli: Cli) -> Any:
    link = live_link(cli)

    def check(out: dict[str, Any]) -> None:
        assert (out["before"], out["after"]) == ("IB-2077", None)
        assert cli.sandbox.referral(ctid_trader_account_id=link) is None

    args = ["referral", "delete", "--account", str(link), "--owner", str(EMILY), "--reason", "r"]
    return args, check, {}


def user_create(cli: Cli) -> Any:
    def check(out: dict[str, Any]) -> None:
        assert out["created"] is True

    return ["user", "create", "--email", "every.verb@example.com", "--reason", "r"], check, {}


def account_link(cli: Cli) -> Any:
    login = unlinked_demo_login(cli)

    def check(out: dict[str, Any]) -> None:
        assert out["userId"] == EMILY
        linked = cli.sandbox.link(trader_login=login)
        assert linked is not None
        assert linked["user_id"] == EMILY

    args = ["account", "link", "--login", str(login), "--user", str(EMILY)]
    args += ["--broker-name", "sandbox_main", "--environment", "demo", "--reason", "r"]
    return args, check, {"CTRADER_ADMIN_ACCOUNT_PASSWORD": trading_password(login)}


def account_move_wl(cli: Cli) -> Any:
    login = unlinked_demo_login(cli)

    def check(out: dict[str, Any]) -> None:
        assert (out["before"], out["after"], out["confirmed"]) == (
            "sandbox_main",
            "sandbox_eu",
            True,
        )

    args = ["account", "move-wl", "--login", str(login), "--environment", "demo"]
    return [*args, "--to", "sandbox_eu", "--reason", "r"], check, {}


def journal_verify(cli: Cli) -> Any:
    applied_job(cli)

    def check(out: dict[str, Any]) -> None:
        assert (out["ok"], out["checked"]) == (True, 1)

    return ["journal", "verify"], check, {}


def journal_export(cli: Cli) -> Any:
    applied_job(cli)

    def check(out: dict[str, Any]) -> None:
        assert out["entries"] == 1

    return ["journal", "export", "-o", "all.csv"], check, {}


def plan(cli: Cli) -> Any:
    source = cli.write("p.csv", f"{HEADER}\nuser,{EMILY},,P-1\naccount,,{EMILY_DEMO_LINK},P-2\n")

    def check(out: dict[str, Any]) -> None:
        assert out["counts"] == {"write": 2, "skip": 0, "error": 0}

    return ["plan", str(source), "-o", "p.plan.json"], check, {}


def apply(cli: Cli) -> Any:
    source = cli.write("a.csv", f"{HEADER}\nuser,{EMILY},,A-1\naccount,,{EMILY_DEMO_LINK},A-2\n")
    assert cli.run("plan", str(source), "-o", "a.plan.json").returncode == 0

    def check(out: dict[str, Any]) -> None:
        assert out["counts"]["ok"] == 2

    return ["apply", "a.plan.json", "--reason", "r", "--yes"], check, {}


def status_list(cli: Cli) -> Any:
    job = applied_job(cli)

    def check(out: dict[str, Any]) -> None:
        assert [j["job"] for j in out["jobs"]] == [job]

    return ["status"], check, {}


def status_job(cli: Cli) -> Any:
    job = applied_job(cli)

    def check(out: dict[str, Any]) -> None:
        assert (out["job"], out["state"]) == (job, "finished")

    return ["status", job[:8]], check, {}


def resume(cli: Cli) -> Any:
    job = applied_job(cli)

    def check(out: dict[str, Any]) -> None:
        assert (out["job"], out["state"]) == (job, "finished")

    return ["resume", job, "--yes"], check, {}


def connection_test(cli: Cli) -> Any:
    def check(out: dict[str, Any]) -> None:
        assert (out["profile"], out["ok"]) == (PROFILE, True)

    return ["connection", "test"], check, {}


def revert(cli: Cli) -> Any:
    job = applied_job(cli)

    def check(out: dict[str, Any]) -> None:
        assert [(r["target"], r["proposed"]) for r in out["rows"]] == [
            (f"user:{LUKAS}", "AFF-EU-318")
        ]

    return ["revert", job, "-o", "undo.plan.json"], check, {}


CASES: list[Case] = [
    referral_get_user,
    referral_get_account,
    referral_set_user,
    referral_set_account,
    referral_delete_user,
    referral_delete_account,
    user_create,
    account_link,
    account_move_wl,
    journal_verify,
    journal_export,
    plan,
    apply,
    status_list,
    status_job,
    resume,
    revert,
    connection_test,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
@pytest.mark.parametrize("profile", [PROFILE, PROFILE_NAME], ids=["by-id", "by-name"])
def test_every_verb_and_target_kind(cli: Cli, case: Case, profile: str) -> None:
    args, check, env = case(cli)
    done = cli.run(*args, "--profile", profile, "--json", **env)
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    check(json.loads(done.stdout))


# One set of arguments per command; they parse, and the profile is checked before anything runs.
EVERY_COMMAND = [
    ["plan", "x.csv", "-o", "x.plan.json"],
    ["apply", "x.plan.json", "--yes"],
    ["status"],
    ["status", "JOB"],
    ["resume", "JOB", "--yes"],
    ["revert", "BATCH", "-o", "x.plan.json"],
    ["journal", "verify"],
    ["journal", "export", "-o", "x.csv"],
    ["referral", "get", "--user", "1"],
    ["referral", "get", "--account", "1"],
    ["referral", "set", "--user", "1", "X", "--reason", "r"],
    ["referral", "delete", "--account", "1", "--reason", "r"],
    ["user", "create", "--email", "a@example.com", "--reason", "r"],
    ["account", "link", "--login", "1", "--user", "1", "--broker-name", "w", "--environment", "d"],
    ["account", "move-wl", "--login", "1", "--environment", "demo", "--to", "w"],
    ["connection", "test"],
    ["attribution", "pull"],
    ["attribution", "conflicts"],
    ["partner", "show", "IB-1042"],
    ["partner", "register", "--email", "a@example.com", "--reason", "r", "--yes"],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=[" ".join(a[:2]) for a in EVERY_COMMAND])
def test_an_unknown_profile_stops_every_command_with_exit_2(cli: Cli, args: list[str]) -> None:
    before = len(cli.sandbox.request_log)
    done = cli.run(*args, "--profile", "nosuch")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "There is no profile 'nosuch'" in done.stderr
    assert "Loopback sandbox" in done.stderr  # it says which profiles exist
    assert done.stdout == ""
    assert len(cli.sandbox.request_log) == before


def test_an_unknown_profile_before_the_command_is_refused_too(cli: Cli) -> None:
    done = cli.run("--profile", "nosuch", "status")
    assert done.returncode == 2
    assert "There is no profile 'nosuch'" in done.stderr


def test_a_profile_given_for_one_command_does_not_become_the_default(cli: Cli) -> None:
    """A failed one-off read on the live profile made every later command use it."""
    add_profile(cli.home, cli.url, id="acme-live", name="ACME live", live=True)
    ProfileStore(cli.paths).set_last_profile(PROFILE)
    failed = cli.run(
        "referral", "get", "--user", "9999999", "--profile", "acme-live", CTRADER_ADMIN_TOKEN="bad"
    )
    assert failed.returncode == 2
    done = cli.run("referral", "get", "--user", str(EMILY), "--profile", "ACME live")
    assert done.returncode == 0, done.stderr
    assert ProfileStore(cli.paths).load().last_profile_id == PROFILE
