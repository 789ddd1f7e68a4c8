"""Lookup acts on the account that was searched for, says what it did right under the box, and
shows a stable, honest case (issue 12 "Acting on the wrong thing", "Lookup messages"; issue 11:
a client without a partnerId is normal)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel, QTableView, QWidget
from pytestqt.qtbot import QtBot
from test_lookup_tab import make_tab, search
from ui_helpers import answer, wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.lookup_tab import LookupTab
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.tab_pages import LOOKUP
from ctrader_admin.wiring import SANDBOX_STARTING_CASES

EMILY = 1000001  # sandbox seed: IB-1042 at user level; live 5200001 (IB-2077), demo 3100001
LIVE, DEMO, UNLINKED = 5200001, 3100001, 5200002


def import_crm_export(backoffice: Backoffice, sandbox: Sandbox) -> None:
    """What the training sandbox's profile starts with (wiring.training_sandbox_opener)."""
    preview = backoffice.directory.preview_csv(sandbox.crm_export_csv())
    backoffice.directory.import_rows("sandbox", preview.rows_ok)


def link_ctid(sandbox: Sandbox, login: int) -> int:
    link = sandbox.link(trader_login=login)
    assert link is not None
    return int(link["ctid_trader_account_id"])


def selected_login(tab: LookupTab) -> int | None:
    rows = tab.table.selectionModel().selectedRows()
    return tab.model.rows[rows[0].row()].login if rows else None


def test_a_login_search_selects_that_account_and_says_what_it_detected(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    import_crm_export(backoffice, sandbox)
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, f"login:{LIVE}")
    assert [row.login for row in tab.model.rows] == [DEMO, LIVE]  # the demo account comes first
    assert selected_login(tab) == LIVE
    assert tab.detected.text() == "Detected: login"
    search(qtbot, tab, str(DEMO))
    assert selected_login(tab) == DEMO
    assert tab.detected.text() == "Detected: login"
    search(qtbot, tab, f"ctid:{link_ctid(sandbox, LIVE)}")
    assert selected_login(tab) == LIVE
    assert tab.detected.text() == "Detected: ctidTraderAccountId"
    # A user's case selects no account: an account-level action waits for the operator's pick.
    search(qtbot, tab, f"user:{EMILY}")
    assert selected_login(tab) is None
    assert not tab.set_account_partner.isEnabled()


def test_after_a_write_the_same_account_stays_selected_and_dialogs_name_it(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    import_crm_export(backoffice, sandbox)
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, f"login:{LIVE}")
    ctid = link_ctid(sandbox, LIVE)
    tab.set_account_partner.click()
    value = wait_for_dialog(qtbot, "valueDialog")
    assert f"account {LIVE}, live (link {ctid})" in value.windowTitle()
    answer(qtbot, "valueDialog", lambda d: d.editor.setText("IB-1042"))
    confirm = wait_for_dialog(qtbot, "confirmWriteDialog")
    shown = " ".join(label.text() for label in confirm.findChildren(QLabel))
    assert f"account {LIVE}, live (link {ctid})" in shown
    confirm.reason.setText("partner's codes aligned")
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        confirm.accept()
    qtbot.waitUntil(lambda: not tab.busy.busy and tab.model.rows[1].partner_id == "IB-1042")
    assert sandbox.referral(ctid_trader_account_id=ctid) == "IB-1042"
    assert selected_login(tab) == LIVE  # not row 0 (the demo account)
    assert tab.bar.level is Level.SUCCESS
    assert "IB-1042" in tab.bar.text()
    # Delete acts on the same account too.
    tab.delete_account_partner.click()
    confirm = wait_for_dialog(qtbot, "confirmWriteDialog")
    shown = " ".join(label.text() for label in confirm.findChildren(QLabel))
    assert f"account {LIVE}, live" in shown
    confirm.reason.setText("cleanup")
    confirm.accept()
    qtbot.waitUntil(lambda: sandbox.referral(ctid_trader_account_id=ctid) is None)
    qtbot.waitUntil(lambda: not tab.busy.busy and tab.model.rows[1].partner_id is None)
    assert selected_login(tab) == LIVE
    assert sandbox.referral(ctid_trader_account_id=link_ctid(sandbox, DEMO)) is None
    # Move to White Label: the same account, named by login and environment.
    tab.move_wl.click()
    move = wait_for_dialog(qtbot, "valueDialog")
    assert f"account {LIVE} (live)" in move.windowTitle()
    move.reject()


def test_a_ctid_search_with_an_empty_directory_shows_the_user_the_backend_named(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    ctid = link_ctid(sandbox, LIVE)  # its referral record (IB-2077) names Emily
    assert backoffice.directory.link_count("sandbox") == 0
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, f"ctid:{ctid}")
    assert tab.case is not None
    assert tab.case.user_id == EMILY
    assert tab.user_id.value() == str(EMILY)
    rows = tab.table.selectionModel().selectedRows()
    assert len(rows) == 1
    row = tab.model.rows[rows[0].row()]
    assert (row.ctid_trader_account_id, row.partner_id) == (ctid, "IB-2077")
    assert f"names user {EMILY}" in tab.notes.text()
    assert backoffice.directory.user("sandbox", EMILY) is not None  # what the backend said


def test_a_client_account_without_a_partner_id_is_not_flagged(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    import_crm_export(backoffice, sandbox)
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, f"user:{EMILY}")
    assert tab.case is not None
    flags = {row.login: row.flags for row in tab.model.rows}
    assert flags[DEMO] == ()  # no code on the demo account: normal, not "missing"
    assert flags[LIVE] == ("differs from the user level (IB-1042)",)  # a partner's conflict
    assert "missing" not in tab.notes.text()
    client = next(  # a seeded client: no partnerId anywhere
        user
        for user in range(1000004, 1000060)
        if sandbox.referral(user_id=user) is None and sandbox.user(user) is not None
    )
    search(qtbot, tab, f"user:{client}")
    assert tab.case is not None
    assert tab.case.problem_count == 0
    assert "⚠" not in tab.notes.text() + tab.user_partner.text()
    assert all(tab.model.text(row, 8) == "" for row in tab.model.rows)


def test_messages_appear_right_under_the_search_box(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, f"user:{EMILY}")  # the case area is built with the first case
    search(qtbot, tab, "login:abc")
    assert tab.bar.isVisible()
    # The accounts (and a partner's referrals) share a splitter below the user.
    order = [tab.body.indexOf(w) for w in (tab.bar, tab.notes, tab.user_box, tab.case_split)]
    assert -1 not in order
    assert order == sorted(order)
    gap = tab.bar.mapTo(tab, tab.bar.rect().topLeft()).y() - tab.search.geometry().bottom()
    assert 0 < gap < 80  # just below the box, not at the bottom of the window


def test_a_too_long_search_says_so_and_sends_nothing(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    before = len(sandbox.request_log)
    for text in ("1" * 10_000, "a" * 10_000 + "@example.com", "login:" + "9" * 30):
        search(qtbot, tab, text)
        assert tab.bar.level is Level.ERROR
        assert "too long" in tab.bar.text()
        assert "whole number" not in tab.bar.text()
    assert len(sandbox.request_log) == before


def test_an_unlinked_account_is_shown_apart_with_a_link_action(
    qtbot: QtBot, backoffice: Backoffice, sandbox: Sandbox, qsettings: QSettings
) -> None:
    import_crm_export(backoffice, sandbox)
    window = MainWindow(backoffice, qsettings)
    qtbot.addWidget(window)
    window.show()
    tab = window.show_tab("LookupTab")
    assert isinstance(tab, LookupTab)
    search(qtbot, tab, f"login:{UNLINKED}")
    assert tab.accounts_box.title() == "Account — no cTID user known here"
    assert not tab.user_box.isVisible()
    assert tab.unlinked_note.isVisible()
    assert selected_login(tab) == UNLINKED
    assert tab.link_account.isVisible()
    assert tab.link_account.isEnabled()
    assert tab.model.text(tab.model.rows[0], 2) == "no link known"
    tab.link_account.click()
    accounts = window.show_tab("AccountsTab")  # the tab the click opened, already filled in
    assert accounts.isVisible()
    trader = sandbox.trader(UNLINKED)
    assert trader is not None
    assert accounts.login.text() == str(UNLINKED)  # type: ignore[attr-defined]
    assert accounts.white_label.currentText() == trader["brokerName"]  # type: ignore[attr-defined]
    assert accounts.user_id.hasFocus()  # type: ignore[attr-defined]
    # A linked account's case has no such action.
    window.show_tab("LookupTab")
    search(qtbot, tab, f"login:{LIVE}")
    assert tab.accounts_box.title() == "Linked accounts"
    assert not tab.link_account.isVisible()


def test_the_white_label_of_a_user_does_not_depend_on_earlier_lookups(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    import_crm_export(backoffice, sandbox)  # the CRM export names no WL for users with links
    user = sandbox.user(EMILY)
    assert user is not None
    tab = make_tab(qtbot, ctx)
    for text in (f"user:{EMILY}", f"login:{LIVE}", user["email"], f"user:{EMILY}"):
        search(qtbot, tab, text)
        assert tab.user_wl.text() == user["broker_name"], text


def test_an_empty_lookup_offers_recent_cases_tips_and_the_sandbox_cases(
    qtbot: QtBot, backoffice: Backoffice, sandbox: Sandbox, qsettings: QSettings, window: QWidget
) -> None:
    backoffice.starting_cases = {"sandbox": SANDBOX_STARTING_CASES}
    ctx = UiContext(backoffice, window, qsettings)  # as MainWindow makes it
    tab = make_tab(qtbot, ctx)
    tab.on_session_changed()
    assert tab.home.isVisible()
    assert "Tips:" in tab.home.tips.text()
    starting = [b.text() for b in tab.home.buttons if b.objectName() == "startingCase"]
    assert starting[0].startswith("user:1000001")
    assert not [b for b in tab.home.buttons if b.objectName() == "recentCase"]

    with qtbot.waitSignal(tab.finished, timeout=10_000):
        next(b for b in tab.home.buttons if b.text().startswith("user:1000001")).click()
    assert tab.case is not None
    assert not tab.home.isVisible()
    search(qtbot, tab, f"login:{UNLINKED}")

    # Kept on this computer: a new tab (the next start) lists them, newest first.
    again = make_tab(qtbot, ctx)
    again.on_session_changed()
    recent = [b.text() for b in again.home.buttons if b.objectName() == "recentCase"]
    assert [text.split()[0] for text in recent] == [f"login:{UNLINKED}", f"user:{EMILY}"]
    with qtbot.waitSignal(again.finished, timeout=10_000):
        next(b for b in again.home.buttons if b.text().startswith("login:")).click()
    assert selected_login(again) == UNLINKED
    # Per profile: another profile has its own (none yet).
    assert again.recent.entries("another-profile") == []


def test_the_case_area_is_built_with_the_first_case_and_keeps_the_operator_s_columns(
    qtbot: QtBot, backoffice: Backoffice, sandbox: Sandbox, qsettings: QSettings
) -> None:
    """The first screen is Lookup's home page: the case (its user, accounts table, referrals)
    is built when the first case comes, and its table still has the columns as the operator
    left them at the last start."""
    import_crm_export(backoffice, sandbox)

    def first_case_in_a_new_window() -> tuple[MainWindow, QTableView]:
        window = MainWindow(backoffice, qsettings)
        qtbot.addWidget(window)
        window.show()
        lookup = window.page(LOOKUP)
        assert window.findChild(QTableView, "caseAccounts") is None
        assert lookup.home.isVisible()
        with qtbot.waitSignal(lookup.finished, timeout=10_000):
            window.show_in_lookup(f"login:{LIVE}")
        table = window.findChild(QTableView, "caseAccounts")
        assert table is not None
        assert table.isVisible()
        assert not lookup.home.isVisible()
        assert [row.login for row in lookup.model.rows] == [DEMO, LIVE]
        assert selected_login(lookup) == LIVE
        return window, table

    first, table = first_case_in_a_new_window()
    table.horizontalHeader().moveSection(3, 0)  # White Label first
    first.close()
    _second, again = first_case_in_a_new_window()
    assert again.horizontalHeader().logicalIndex(0) == 3


def test_a_move_never_guesses_the_environment_of_an_account(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    """Before: an account whose environment is not known here was moved as the profile's first
    environment (demo) — a live account included."""
    tab = make_tab(qtbot, ctx)
    search(qtbot, tab, f"login:{UNLINKED}")  # live, but nothing here says so
    assert tab.model.text(tab.model.rows[0], 1) == "not known"
    before = len(sandbox.request_log)
    tab.move_wl.click()
    qtbot.waitUntil(lambda: tab.bar.isVisible())
    assert tab.bar.level is Level.ERROR
    assert "environment of account 5200002 is not known here" in tab.bar.text()
    assert len(sandbox.request_log) == before
