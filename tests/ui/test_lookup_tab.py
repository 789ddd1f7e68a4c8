"""Lookup against the in-process sandbox: the case, mismatches, actions in place."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from ui_helpers import answer, wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.lookup_tab import LookupTab
from ctrader_admin.ui.notify import Level

SHOWCASE_USER = 1000001  # sandbox seed: IB-1042 at user level, IB-2077 on live account 5200001


def make_tab(qtbot: QtBot, ctx: UiContext) -> LookupTab:
    tab = LookupTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def search(qtbot: QtBot, tab: LookupTab, text: str) -> None:
    tab.search.setText(text)
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.search_button.click()


def test_email_lookup_shows_the_user_and_flags_the_mismatch(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    user = sandbox.user(SHOWCASE_USER)
    assert user is not None
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, user["email"])
    qtbot.waitUntil(lambda: tab.case is not None)
    assert tab.user_id.value() == str(SHOWCASE_USER)
    assert tab.user_partner.text().startswith("IB-1042")
    # The Invite user list was read into the directory, but no link is known yet.
    assert "No linked account is known here" in tab.notes.text()


def test_userid_lookup_after_import_shows_accounts_side_by_side(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    link = sandbox.link(trader_login=5200001)
    assert link is not None
    backoffice.directory.upsert_link(
        "sandbox",
        link["ctid_trader_account_id"],
        user_id=SHOWCASE_USER,
        login=5200001,
        environment="live",
        source="test",
    )
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, str(SHOWCASE_USER))
    assert tab.case is not None
    (row,) = tab.model.rows
    assert row.login == 5200001
    assert row.partner_id == "IB-2077"
    assert row.flags == ("differs from the user level (IB-1042)",)
    trader = sandbox.trader(5200001)
    assert trader is not None
    assert row.broker_name == trader["brokerName"]
    assert "⚠ 1 account(s) carry a partnerId that differs from the user's" in tab.notes.text()


def test_invalid_input_sends_nothing(qtbot: QtBot, ctx: UiContext, sandbox: Sandbox) -> None:
    tab = make_tab(qtbot, ctx)
    before = len(sandbox.request_log)
    search(qtbot, tab, "login:abc")
    assert tab.bar.level is Level.ERROR
    assert "must be a whole number" in tab.bar.text()
    assert len(sandbox.request_log) == before


def test_set_user_partner_in_place_asks_and_journals(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, f"user:{SHOWCASE_USER}")
    tab.set_user_partner.click()
    answer(qtbot, "valueDialog", lambda d: d.editor.setText("IB-2077"))
    confirm = wait_for_dialog(qtbot, "confirmWriteDialog")
    confirm.reason.setText("partner claim, CRM shows IB-2077")
    confirm.ticket.setText("SUP-1")
    confirm.accept()
    qtbot.waitUntil(lambda: tab.bar.level is Level.SUCCESS, timeout=10_000)
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-2077"
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.before, entry.after, entry.outcome) == (
        "set_partner",
        "IB-1042",
        "IB-2077",
        "ok",
    )
    assert entry.reason == "partner claim, CRM shows IB-2077"
    qtbot.waitUntil(lambda: tab.user_partner.text().startswith("IB-2077"))
