"""Partners tab against the in-process sandbox: read, set and delete at user and account level,
validation, backend errors in words, a slow backend with Cancel, and a revoked token."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.partners_tab import PartnersTab
from ctrader_admin.ui.widgets import is_marked_invalid

SHOWCASE_USER = 1000001  # sandbox seed: IB-1042 at user level, IB-2077 on live account 5200001
SHOWCASE_LINK = 9000001  # the link of 5200001
OFFLIMITS_USER = 1000003  # registered on sandbox_offlimits
UNATTRIBUTED_USER = 1000005  # on sandbox_main or sandbox_eu, no user-level partnerId


def make_tab(qtbot: QtBot, ctx: UiContext) -> PartnersTab:
    tab = PartnersTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def target(tab: PartnersTab, level: str, target_id: int | str, owner: int | str = "") -> None:
    (tab.user_level if level == "user" else tab.account_level).setChecked(True)
    tab.target_id.setText(str(target_id))
    tab.owner.setText(str(owner))


def read(qtbot: QtBot, tab: PartnersTab) -> None:
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.target_id.returnPressed.emit()  # Enter reads


def confirm(qtbot: QtBot, reason: str = "partner claim", ticket: str = "SUP-11") -> None:
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    dialog.reason.setText(reason)  # type: ignore[attr-defined]
    dialog.ticket.setText(ticket)  # type: ignore[attr-defined]
    dialog.accept()


def until_done(qtbot: QtBot, tab: PartnersTab) -> None:
    qtbot.waitUntil(lambda: not tab._working, timeout=10_000)


def writes(sandbox: Sandbox) -> list[str]:
    return [e.method for e in sandbox.request_log if e.method in ("PUT", "POST", "DELETE")]


def test_read_shows_the_value_at_user_and_at_account_level(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    target(tab, "user", SHOWCASE_USER)
    read(qtbot, tab)
    assert tab.current_box.isVisible()
    assert tab.shown_what.text() == f"user {SHOWCASE_USER}"
    assert tab.partner_id.text() == "IB-1042"
    target(tab, "account", SHOWCASE_LINK)
    assert not tab.current_box.isVisible()  # another target: the old value is not shown
    assert tab.id_label.text() == "ctidTraderAccount&Id:"
    read(qtbot, tab)
    assert tab.partner_id.text() == "IB-2077"
    assert tab.shown_owner.text() == str(SHOWCASE_USER)
    assert tab.owner.text() == str(SHOWCASE_USER)  # the record named the owner
    assert writes(sandbox) == ["POST"]  # only the fixture's log-in


def test_set_at_user_level_shows_the_current_value_asks_and_journals(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    target(tab, "user", SHOWCASE_USER)
    tab.set_button.click()
    dialog = wait_for_dialog(qtbot, "valueDialog")
    assert "IB-1042" in [label.text() for label in dialog.findChildren(type(tab.partner_id))]
    dialog.editor.setText("IB-2077")  # type: ignore[attr-defined]
    dialog.accept()
    confirm(qtbot, reason="CRM shows IB-2077", ticket="SUP-11")
    until_done(qtbot, tab)

    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-2077"
    assert tab.bar.level is Level.SUCCESS
    assert tab.partner_id.text() == "IB-2077"
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.target, entry.before, entry.after, entry.outcome) == (
        "set_partner",
        f"user:{SHOWCASE_USER}",
        "IB-1042",
        "IB-2077",
        "ok",
    )
    assert (entry.reason, entry.ticket) == ("CRM shows IB-2077", "SUP-11")


def test_delete_at_account_level_finds_the_owner_when_the_link_is_not_known_locally(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    assert backoffice.directory.link_by_ctid("sandbox", SHOWCASE_LINK) is None
    tab = make_tab(qtbot, ctx)
    target(tab, "account", SHOWCASE_LINK)
    tab.delete_button.click()
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    summary = " ".join(label.text() for label in dialog.findChildren(type(tab.partner_id)))
    assert "IB-2077 → (none)" in summary
    confirm(qtbot, reason="wrong attribution")
    until_done(qtbot, tab)

    assert sandbox.referral(ctid_trader_account_id=SHOWCASE_LINK) is None
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"  # the user level untouched
    assert tab.owner.text() == str(SHOWCASE_USER)
    assert tab.partner_id.text() == "(none)"
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.target, entry.before, entry.after, entry.outcome) == (
        "delete_partner",
        f"account:{SHOWCASE_LINK}",
        "IB-2077",
        None,
        "ok",
    )
    assert entry.reason == "wrong attribution"


def test_delete_where_there_is_nothing_sends_no_delete(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    user = UNATTRIBUTED_USER
    assert sandbox.referral(user_id=user) is None
    tab = make_tab(qtbot, ctx)
    target(tab, "user", user)
    tab.delete_button.click()
    qtbot.waitUntil(lambda: "nothing to delete" in tab.bar.text(), timeout=10_000)
    assert writes(sandbox) == ["POST"]  # only the fixture's log-in


DIGITS = "must be a whole number made of the digits 0–9"


@pytest.mark.parametrize(
    ("level", "target_id", "owner", "message"),
    [
        ("user", "", "", "userId: is required"),
        ("user", "-5", "", "userId: must be a positive number"),
        ("user", "0", "", "userId: must be a positive number"),
        ("user", "+1000001", "", f"userId: {DIGITS} (not '+')"),
        ("user", "100000²", "", f"userId: {DIGITS} (not '²', U+00B2)"),
        ("user", "٣٤٥", "", f"userId: {DIGITS} (not '٣', U+0663)"),
        ("user", "１０００００１", "", f"userId: {DIGITS} (not '１', U+FF11)"),
        ("user", "1" * 5000, "", "userId: is too long: at most 19 digits"),
        ("user", "9223372036854775808", "", "userId: is too large: at most 9223372036854775807"),
        ("account", "abc", "", f"ctidTraderAccountId: {DIGITS}"),
        ("account", "9000001", "x1", f"Owner userId: {DIGITS}"),
    ],
)
def test_invalid_ids_are_named_and_nothing_is_sent(
    qtbot: QtBot,
    ctx: UiContext,
    sandbox: Sandbox,
    level: str,
    target_id: str,
    owner: str,
    message: str,
) -> None:
    tab = make_tab(qtbot, ctx)
    before = len(sandbox.request_log)
    target(tab, level, target_id, owner)
    for button in (tab.read_button, tab.set_button, tab.delete_button):
        tab.bar.hide()
        button.click()
        qtbot.waitUntil(lambda: tab.bar.isVisible())
        assert tab.bar.level is Level.ERROR
        assert message in tab.bar.text()
        assert is_marked_invalid(tab.fields[message.split(":")[0]])
    qtbot.wait(50)
    assert len(sandbox.request_log) == before


def test_an_invalid_partner_id_is_refused_before_any_write(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    target(tab, "user", SHOWCASE_USER)
    tab.set_button.click()
    dialog = wait_for_dialog(qtbot, "valueDialog")
    dialog.editor.setText(" IB 1 ")  # type: ignore[attr-defined]
    # Said in place, and OK (or Enter) cannot send it.
    assert dialog.problem.text() == "partnerId: must not start or end with spaces"  # type: ignore[attr-defined]
    dialog.accept()
    assert dialog.isVisible()
    dialog.reject()
    until_done(qtbot, tab)
    assert writes(sandbox) == ["POST"]
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"


@pytest.mark.parametrize(
    ("level", "target_id", "words"),
    [
        ("user", 9_999_999, "No cTID user with this userId. (USER_NOT_FOUND)"),
        ("account", 8_888_888, "No account link with this ctidTraderAccountId."),
        ("user", OFFLIMITS_USER, "(NOT_ENOUGH_RIGHTS)"),
    ],
)
def test_backend_refusals_are_said_in_words_and_the_tab_stays_usable(
    qtbot: QtBot, ctx: UiContext, level: str, target_id: int, words: str
) -> None:
    tab = make_tab(qtbot, ctx)
    target(tab, level, target_id)
    read(qtbot, tab)
    assert tab.bar.level is Level.ERROR
    assert words in tab.bar.text()
    assert not tab.current_box.isVisible()
    target(tab, "user", SHOWCASE_USER)
    read(qtbot, tab)
    assert tab.partner_id.text() == "IB-1042"


def test_setting_on_a_user_without_rights_is_refused_and_journaled_as_failed(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    target(tab, "user", OFFLIMITS_USER)
    tab.set_button.click()
    # The current value cannot even be read: no dialog, the refusal in words, nothing written.
    qtbot.waitUntil(lambda: tab.bar.isVisible(), timeout=10_000)
    until_done(qtbot, tab)
    assert "(NOT_ENOUGH_RIGHTS)" in tab.bar.text()
    assert writes(sandbox) == ["POST"]
    assert backoffice.journal.page(None, 0, 1) == []


def test_a_slow_backend_can_be_cancelled_while_the_form_stays_responsive(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    target(tab, "user", SHOWCASE_USER)
    sandbox.config.latency_ms = 3000
    try:
        tab.read_button.click()
        qtbot.waitUntil(lambda: tab.busy.isVisible())
        assert not tab.set_button.isEnabled()
        assert not tab.delete_button.isEnabled()
        qtbot.keyClicks(tab.target_id, "12")  # type: ignore[no-untyped-call]
        qtbot.wait(300)
        assert tab.target_id.text() == f"{SHOWCASE_USER}12"
        with qtbot.waitSignal(tab.finished, timeout=2_000):
            tab.busy.cancel_button.click()
    finally:
        sandbox.config.latency_ms = 0
    assert "Reading the partnerId: cancelled" in tab.bar.text()
    assert not tab.busy.isVisible()
    assert tab.read_button.isEnabled()
    assert tab.set_button.isEnabled()


def test_a_revoked_token_asks_to_log_in_and_retries(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    sandbox.invalidate_token(MANAGER.login)
    target(tab, "user", SHOWCASE_USER)
    tab.read_button.click()
    dialog = wait_for_dialog(qtbot, "loginDialog")
    dialog.password.setText(MANAGER.password)  # type: ignore[attr-defined]
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # type: ignore[attr-defined]
    assert tab.partner_id.text() == "IB-1042"
    assert tab.bar.level is Level.INFO
