"""The attribution ledger from the command line, against a loopback sandbox: pull Invite
incrementally, import the CRM export, list conflicts, show a partner, export a client's rows."""

from __future__ import annotations

import csv
import re

from cli_env import PROFILE, Cli

from ctrader_admin.services import attribution
from ctrader_admin.store.attribution import AttributionLedger
from ctrader_admin.store.database import Database

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


def test_partner_show_speaks_as_the_partner_s_case_and_conflicts_help_names_each_kind(
    cli: Cli,
) -> None:
    assert cli.run("attribution", "pull", "--registry").returncode == 0
    export = cli.write("crm.csv", cli.sandbox.crm_export_csv())
    assert cli.run("attribution", "import", str(export)).returncode == 0

    done = cli.run("partner", "show", "IB-1042")
    assert done.returncode == 0, done.stderr
    database = Database.open(cli.paths)
    try:
        case = attribution.partner_case(AttributionLedger(database), PROFILE, code="IB-1042")
    finally:
        database.close()
    # The same sentences as the partner's case in Lookup and the evidence pack.
    summary = attribution.partner_summary(f"Partner user {EMILY}", case)
    assert "Code IB-1042 at user level, as cTrader says it." in summary
    lines = done.stdout.splitlines()
    assert lines[: len(summary)] == summary

    # --kind takes the kinds the ledger defines, and its help says what each one means.
    shown = re.sub(r"\s+", " ", cli.run("attribution", "conflicts", "--help").stdout)
    for kind, name in attribution.CONFLICT_NAMES.items():
        assert f"{kind} ({name})" in shown


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
