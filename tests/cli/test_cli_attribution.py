"""The attribution ledger from the command line, against a loopback sandbox: pull Invite
incrementally, import the CRM export, list conflicts, show a partner, export a client's rows."""

from __future__ import annotations

import csv

from cli_env import Cli

EMILY, DANIEL = 1000001, 1000004


def test_pull_import_conflicts_show_and_export(cli: Cli) -> None:
    code, first = cli.json("attribution", "pull", "--registry", "--page-size", "25")
    assert code == 0
    assert first["invite_enabled"] is True
    assert first["fetched"] == first["invite_rows"] > 0
    code, again = cli.json("attribution", "pull")
    assert (code, again["fetched"]) == (0, 0)

    export = cli.write("crm.csv", cli.sandbox.crm_export_csv())
    done = cli.run("attribution", "import", str(export))
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout

    code, report = cli.json("attribution", "conflicts")
    assert code == 0
    kinds = {c["kind"] for c in report["conflicts"]}
    assert {"sources_disagree", "self_referral", "unknown_code", "crm_differs"} <= kinds
    code, selves = cli.json("attribution", "conflicts", "--kind", "self_referral")
    assert code == 0
    assert selves["conflicts"] == [c for c in report["conflicts"] if c["kind"] == "self_referral"]

    code, partner = cli.json("partner", "show", "IB-1042")
    assert (code, partner["partner_user_id"]) == (0, EMILY)
    assert partner["counts"]["invite"] > 0
    assert DANIEL in {r["client_user_id"] for r in partner["referrals"]}

    target = cli.home / "daniel.csv"
    done = cli.run("attribution", "export", "--client", str(DANIEL), "-o", str(target))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(target.read_text(encoding="utf-8").splitlines()))
    assert {r["source"] for r in rows} == {"cTrader Invite", "CRM export"}
    assert all(r["read at"] for r in rows)


def test_a_crm_export_with_bad_lines_names_them_and_exits_1(cli: Cli) -> None:
    bad = cli.write(
        "crm.csv",
        "userId,login,partnerCode,referredByPartnerCode,referredAt\n"
        "1000007,,,IB-1042,\n"
        "²,,,IB-1042,\n",
    )
    done = cli.run("attribution", "import", str(bad), "--dry-run")
    assert done.returncode == 1
    assert (
        "line 3: userId '²' must be a whole number made of the digits 0–9 (not '²', U+00B2)."
        in done.stderr
    )
    assert "nothing imported" in done.stdout
    assert "Traceback" not in done.stderr


def test_invite_not_enabled_is_said_plainly(cli: Cli) -> None:
    cli.sandbox.config.dialect.invite_enabled = False
    done = cli.run("attribution", "pull")
    assert done.returncode == 0, done.stderr
    assert "cTrader Invite is not enabled for this broker" in done.stdout
