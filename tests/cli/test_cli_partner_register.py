"""``partner register`` and the work order of ``account link``, as an operator runs them, against
a loopback sandbox: a new partner (cTID user created), an email that already has a user (said
plainly), a code another partner carries (refused, nothing sent), account level, a code that does
not read back (exit 1), a read-only connection, no --yes without a terminal; and an account that
is already linked to another user (a work order printed and saved, nothing sent)."""

from __future__ import annotations

import dataclasses

from cli_env import PROFILE, Cli, add_profile

from ctrader_admin.store.directory import Directory

EMILY, DANIEL = 1000001, 1000004
EMILY_LIVE, DANIEL_LIVE = 5200001, 5200005
REGISTER = ("partner", "register")
WHY = ("--reason", "new partner", "--ticket", "CRM-7")


def writes(cli: Cli) -> list[str]:
    return [f"{r.method} {r.path}" for r in cli.sandbox.request_log if r.method != "GET"]


def import_directory(cli: Cli) -> None:
    """The office knows the plant's users and links (the CRM export, as the app imports it)."""
    database, _checkpoints, _journal = cli.store()
    try:
        directory = Directory(database)
        directory.import_rows(PROFILE, directory.preview_csv(cli.sandbox.crm_export_csv()).rows_ok)
    finally:
        database.close()


def test_a_new_partner_gets_a_ctid_user_and_a_code_that_reads_back(cli: Cli) -> None:
    code, doc = cli.json(*REGISTER, "--email", "fresh.ib@example.com", *WHY, "--yes")

    assert code == 0
    user = doc["user"]["userId"]
    assert doc["user"]["created"] is True
    assert doc["code"] == f"IB-{user}"
    assert doc["code_source"] == "proposed: the rule IB-<userId> (no CRM code is known)"
    assert (doc["read_back"], doc["matches"]) == (f"IB-{user}", True)
    assert doc["journal_id"] is not None
    assert cli.sandbox.referral(user_id=user) == f"IB-{user}"


def test_an_email_that_has_a_user_already_is_said_plainly(cli: Cli) -> None:
    cli.sandbox.config.dialect = dataclasses.replace(
        cli.sandbox.config.dialect, invite_enabled=False
    )  # no Invite user list: the email is not found by a search
    done = cli.run(
        *REGISTER, "--email", "emily.carter@example.com", "--code", "IB-1042", *WHY, "--yes"
    )

    assert done.returncode == 0, done.stderr
    assert f"This email already has cTID user {EMILY}; it will be used." in done.stdout
    assert "Read back from the server: IB-1042 — it matches." in done.stdout


def test_a_code_another_partner_carries_is_refused_and_nothing_is_sent(cli: Cli) -> None:
    assert cli.run("attribution", "pull", "--registry").returncode == 0  # learns Emily's codes
    cli.sandbox.clear_log()

    done = cli.run(*REGISTER, "--email", "copycat@example.com", "--code", "IB-1042", *WHY, "--yes")

    assert done.returncode == 2
    assert "IB-1042 is already carried by partner user 1000001 (at user level" in done.stderr
    assert "Traceback" not in done.stderr
    assert writes(cli) == []


def test_account_level_sets_the_code_on_the_chosen_link(cli: Cli) -> None:
    import_directory(cli)
    link = cli.sandbox.link(trader_login=DANIEL_LIVE)
    assert link is not None

    code, doc = cli.json(
        *REGISTER,
        "--user",
        str(DANIEL),
        "--account",
        str(DANIEL_LIVE),
        "--code",
        "AFF-9",
        *WHY,
        "--yes",
    )

    assert code == 0
    assert doc["target"]["level"] == "account"
    assert doc["target"]["login"] == DANIEL_LIVE
    assert doc["matches"] is True
    assert cli.sandbox.referral(ctid_trader_account_id=link["ctid_trader_account_id"]) == "AFF-9"
    assert cli.sandbox.referral(user_id=DANIEL) is None


def test_a_code_that_does_not_read_back_exits_1_and_says_so(cli: Cli) -> None:
    cli.sandbox.script_faults("ignored")

    done = cli.run(*REGISTER, "--user", str(DANIEL), "--code", "IB-GHOST", *WHY, "--yes")

    assert done.returncode == 1
    assert "reading it back shows (none), NOT IB-GHOST" in done.stdout


def test_a_read_only_connection_refuses_before_any_request(cli: Cli) -> None:
    add_profile(cli.home, cli.url, id="ro", name="Read-only loopback", read_only=True)
    cli.sandbox.clear_log()

    done = cli.run(*REGISTER, "--email", "fresh.ib@example.com", *WHY, "--yes", "--profile", "ro")

    assert done.returncode == 2
    assert "is read-only: nothing was sent" in done.stderr
    assert cli.sandbox.request_log == []


def test_without_yes_and_without_a_terminal_nothing_is_written(cli: Cli) -> None:
    done = cli.run(*REGISTER, "--email", "fresh.ib@example.com", *WHY)

    assert done.returncode == 2
    assert "Confirm with --yes" in done.stderr
    assert writes(cli) == []


def test_linking_an_account_linked_to_another_user_prints_and_saves_a_work_order(
    cli: Cli,
) -> None:
    import_directory(cli)
    cli.sandbox.clear_log()
    target = cli.home / "order.txt"

    done = cli.run(
        "account", "link", "--login", str(EMILY_LIVE), "--user", str(DANIEL),
        "--broker-name", "sandbox_main", "--environment", "live",
        "--reason", "duplicate cTID", "--ticket", "SUP-12", "--work-order", str(target),
    )  # fmt: skip

    assert done.returncode == 2
    assert "is already linked to cTID user 1000001" in done.stderr
    assert "WORK ORDER for cTrader Admin" in done.stdout
    assert "From:             cTID user 1000001" in done.stdout
    assert "To:               cTID user 1000004" in done.stdout
    assert target.read_text(encoding="utf-8") == done.stdout.rstrip("\n") + "\n"
    assert writes(cli) == []  # and no password was asked for
