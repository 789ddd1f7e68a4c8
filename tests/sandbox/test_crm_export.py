"""The sandbox's CRM export: every link and every user without one, in the import's columns."""

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
