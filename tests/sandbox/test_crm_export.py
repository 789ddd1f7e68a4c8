"""The sandbox's CRM export: every link and every user without one, in the import's columns,
then the CRM's partner programme (own code, referring partner, when)."""

from __future__ import annotations

import csv
import io

from ctrader_admin.sandbox import Sandbox


def test_the_export_lists_every_link_and_unlinked_user(sandbox: Sandbox) -> None:
    rows = list(csv.DictReader(io.StringIO(sandbox.crm_export_csv())))
    assert list(rows[0]) == [
        "userId",
        "email",
        "login",
        "ctidTraderAccountId",
        "brokerName",
        "environment",
        "partnerCode",
        "referredByPartnerCode",
        "referredAt",
    ]
    linked = [r for r in rows if r["ctidTraderAccountId"]]
    for row in linked:
        link = sandbox.link(ctid_trader_account_id=int(row["ctidTraderAccountId"]))
        assert link is not None
        assert (link["user_id"], link["trader_login"], link["environment"]) == (
            int(row["userId"]),
            int(row["login"]),
            row["environment"],
        )
    linked_logins = {int(r["login"]) for r in linked}
    assert linked_logins == set(sandbox.logins(linked=True))
    showcase = [r for r in rows if r["userId"] == "1000001"]
    assert {r["login"] for r in showcase} >= {"5200001"}


def test_partner_columns_repeat_on_every_row_of_a_user(sandbox: Sandbox) -> None:
    rows = list(csv.DictReader(io.StringIO(sandbox.crm_export_csv())))
    per_user: dict[str, set[tuple[str, str, str]]] = {}
    for row in rows:
        partner = (row["partnerCode"], row["referredByPartnerCode"], row["referredAt"])
        per_user.setdefault(row["userId"], set()).add(partner)
    assert all(len(values) == 1 for values in per_user.values())
    assert per_user["1000001"] == {("IB-1042", "", "")}
    ((own, referred_by, referred_at),) = per_user["1000004"]
    assert (own, referred_by) == ("", "IB-1042")
    assert referred_at.endswith("Z")


def test_the_directory_import_reads_the_export(sandbox: Sandbox) -> None:
    """The app's training profile imports this file on first start (wiring.py)."""
    from ctrader_admin.store.directory_csv import preview_csv

    preview = preview_csv(sandbox.crm_export_csv())
    assert preview.errors == []
    assert len(preview.rows_ok) == len(list(csv.DictReader(io.StringIO(sandbox.crm_export_csv()))))
