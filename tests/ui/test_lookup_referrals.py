"""A partner's case in Lookup shows every referral attributed to them, from each source, with
counts per source, a filter and CSV export — the same widget as the Partners tab's browser
(issue 11, "A partner's case shows ... every referral attributed to them")."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from test_lookup_tab import make_tab, search
from test_partner_registry import fill
from test_partner_registry import make_tab as make_partners_tab

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services import attribution
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.lookup_tab import LookupTab
from ctrader_admin.ui.referrals_view import PAGE, ReferralsView

EMILY, DANIEL = 1000001, 1000004  # the sandbox's starting partner and client cases


def filled(qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path) -> None:
    """Every source pulled as an agent does it, from the Partners tab; more Invite rows for
    Emily than one page holds."""
    sandbox.add_invitations(PAGE + 50, partner_user_id=EMILY)
    fill(qtbot, make_partners_tab(qtbot, ctx), sandbox, tmp_path)


def referrals_of(qtbot: QtBot, tab: LookupTab, text: str) -> ReferralsView:
    search(qtbot, tab, text)
    view = tab.referrals
    assert view is not None
    assert tab.referrals_box.isVisible()
    qtbot.waitUntil(lambda: view.case is not None and view.model.rowCount() > 0, timeout=10_000)
    return view


def refiltered(qtbot: QtBot, view: ReferralsView, change: object) -> None:
    view.case = None  # set again by the reload the filter starts
    change()  # type: ignore[operator]
    qtbot.waitUntil(lambda: view.case is not None, timeout=10_000)


def test_the_starting_partner_case_lists_its_referrals_with_counts_filter_and_export(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled(qtbot, ctx, sandbox, tmp_path)
    tab = make_tab(qtbot, ctx)
    tab.resize(1100, 1000)
    view = referrals_of(qtbot, tab, f"user:{EMILY}")
    counts = attribution.partner_case(ctx.backoffice.ledger, "sandbox", user_id=EMILY).counts
    total = sum(counts.values())
    assert total > PAGE
    assert counts["invite"] > PAGE
    assert counts["crm"] > 0
    title = view.title.text()
    assert title.startswith(f"Referrals of user {EMILY}: {total:,} (cTrader Invite ")
    assert f"CRM export {counts['crm']:,}" in title
    # The newest page first; scrolling down reads the next one.
    assert view.model.rowCount() == PAGE
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() > PAGE)

    # Filter by source: only the CRM's rows, all of them.
    refiltered(qtbot, view, lambda: view.source.setCurrentIndex(view.source.findText("CRM export")))
    assert {r.source for r in view.model.rows} == {"crm"}
    assert view.model.rowCount() == counts["crm"]

    # Text: Daniel's rows only (the CRM says Emily, like Invite once did).
    refiltered(qtbot, view, lambda: view.text.setText(str(DANIEL)))
    assert [r.client_user_id for r in view.model.rows] == [DANIEL]
    refiltered(qtbot, view, lambda: view.source.setCurrentIndex(0))
    assert {r.client_user_id for r in view.model.rows} == {DANIEL}
    assert {r.source for r in view.model.rows} >= {"invite", "crm"}

    # Conflicts only: the referrals whose client the conflict report names.
    refiltered(qtbot, view, lambda: view.text.setText(""))
    refiltered(qtbot, view, lambda: view.conflicts_only.setChecked(True))
    flagged = {
        c.client_user_id
        for c in attribution.conflicts(ctx.backoffice.ledger, "sandbox", period_days=90)
    }
    everyone = attribution.partner_case(
        ctx.backoffice.ledger, "sandbox", user_id=EMILY, limit=10_000
    ).referrals
    shown = {r.client_user_id for r in view.model.rows}
    assert shown == {r.client_user_id for r in everyone} & flagged
    assert 0 < view.model.rowCount() < PAGE

    # Export: every row the filter keeps, with its source, as CSV.
    target = tmp_path / "emily.csv"

    async def save_to(*_args: object) -> str:
        return str(target)

    monkeypatch.setattr("ctrader_admin.ui.referrals_view.choose_save_path", save_to)
    view.export_button.click()
    qtbot.waitUntil(lambda: "written to emily.csv" in tab.bar.text(), timeout=10_000)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == view.model.rowCount()
    assert {int(r["client userId"]) for r in rows} == shown
    # Without the filter, the export holds every referral.
    refiltered(qtbot, view, lambda: view.conflicts_only.setChecked(False))
    view.export_button.click()
    qtbot.waitUntil(lambda: f"{total:,} referrals written" in tab.bar.text(), timeout=10_000)
    assert len(target.read_text(encoding="utf-8").splitlines()) == total + 1


def test_a_partner_found_by_code_shows_referrals_and_a_client_s_case_does_not(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    filled(qtbot, ctx, sandbox, tmp_path)
    tab = make_tab(qtbot, ctx)
    view = referrals_of(qtbot, tab, "partner:IB-1042")
    assert view.title.text().startswith(f"Referrals of user {EMILY}:")
    search(qtbot, tab, f"user:{DANIEL}")
    assert not tab.referrals_box.isVisible()  # a client: no referrals table
