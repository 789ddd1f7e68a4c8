"""Accounts tab against the in-process sandbox: link, the password never kept, validation, backend
errors in words, a slow backend with Cancel, and a revoked token."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, wait_for_dialog

from ctrader_admin.sandbox import Sandbox, md5_hex, trading_password
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.accounts_tab import AccountsTab
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.widgets import is_marked_invalid

OWNER = 1000002  # a seeded user on sandbox_eu; any user may own an account of any WL


def make_tab(qtbot: QtBot, ctx: UiContext) -> AccountsTab:
    tab = AccountsTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def free_login(sandbox: Sandbox, environment: str = "demo") -> int:
    return sandbox.logins(broker_name="sandbox_main", environment=environment, linked=False)[0]


def fill(
    tab: AccountsTab,
    *,
    login: int | str,
    password: str,
    user_id: int | str = OWNER,
    white_label: str = "sandbox_main",
    environment: str = "demo",
) -> None:
    tab.login.setText(str(login))
    tab.password.setText(password)
    tab.user_id.setText(str(user_id))
    tab.white_label.setCurrentText(white_label)
    tab.environment.setCurrentText(environment)


def confirm(qtbot: QtBot, reason: str = "client asked", ticket: str = "SUP-9") -> None:
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    dialog.reason.setText(reason)  # type: ignore[attr-defined]
    dialog.ticket.setText(ticket)  # type: ignore[attr-defined]
    dialog.accept()


def link(qtbot: QtBot, tab: AccountsTab, **confirm_args: str) -> None:
    """Press Enter in the password field, confirm, wait for the job to end."""
    tab.password.returnPressed.emit()
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        confirm(qtbot, **confirm_args)


def test_declining_the_confirmation_links_nothing_and_asks_for_the_password_again(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    login = free_login(sandbox)
    tab = make_tab(qtbot, ctx)
    fill(tab, login=login, password=trading_password(login))
    before = len(sandbox.request_log)
    tab.password.returnPressed.emit()
    wait_for_dialog(qtbot, "confirmWriteDialog").reject()
    qtbot.waitUntil(lambda: "Not linked: nothing was sent" in tab.bar.text())
    assert "type it again" in tab.bar.text()
    assert len(sandbox.request_log) == before
    assert sandbox.link(trader_login=login) is None
    assert tab.password.text() == ""
    assert tab.link_button.isEnabled()
    assert not tab.result_box.isVisible()


def test_link_shows_the_new_id_records_it_and_forgets_the_password(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    login = free_login(sandbox)
    password = trading_password(login)
    tab = make_tab(qtbot, ctx)
    assert tab.password.echoMode() is QLineEdit.EchoMode.Password
    assert "MD5" in tab.password_note.text()
    assert "never stored" in tab.password_note.text()
    fill(tab, login=login, password=password)
    link(qtbot, tab, reason="client asked", ticket="SUP-9")

    server = sandbox.link(trader_login=login)
    assert server is not None
    assert server["user_id"] == OWNER
    ctid = server["ctid_trader_account_id"]
    assert tab.ctid.value() == str(ctid)
    assert "recorded in the local directory" in tab.recorded.text()
    assert tab.bar.level is Level.SUCCESS
    assert f"ctidTraderAccountId {ctid}" in tab.bar.text()
    assert tab.password.text() == ""
    local = backoffice.directory.link_by_ctid("sandbox", ctid)
    assert local is not None
    assert (local.user_id, local.login) == (OWNER, login)
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.target, entry.before, entry.after, entry.outcome) == (
        "link_account",
        f"login:{login}@demo",
        None,
        f"user:{OWNER}",
        "ok",
    )
    assert (entry.reason, entry.ticket, entry.environment, entry.broker_name) == (
        "client asked",
        "SUP-9",
        "demo",
        "sandbox_main",
    )
    # Neither the password nor its hash is kept in the journal.
    assert password not in entry.request
    assert md5_hex(password) not in entry.request
    with qtbot.waitSignal(ctx.lookup_requested, timeout=1_000) as shown:
        tab.open_lookup.click()
    assert shown.args == [str(OWNER)]


def test_prefill_fills_the_user_and_puts_the_cursor_on_login(qtbot: QtBot, ctx: UiContext) -> None:
    tab = make_tab(qtbot, ctx)
    tab.login.setText("123")
    tab.password.setText("left over")
    tab.activateWindow()
    tab.prefill(LinkRequest(user_id=1000007))
    assert tab.user_id.text() == "1000007"
    assert tab.login.text() == ""
    assert tab.password.text() == ""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is tab.login)


@pytest.mark.parametrize(
    ("login", "password", "user_id", "message"),
    [
        ("", "secret", OWNER, "Login: is required"),
        (
            "52O0001",
            "secret",
            OWNER,
            "Login: must be a whole number made of the digits 0–9 (not 'O')",
        ),
        (
            "520000²",
            "secret",
            OWNER,
            "Login: must be a whole number made of the digits 0–9 (not '²', U+00B2)",
        ),
        (
            "5200001",
            "secret",
            "١٠٠٠٠٠١",
            "userId: must be a whole number made of the digits 0–9 (not '١', U+0661)",
        ),
        (
            "5200001",
            "secret",
            "１０００００１",
            "userId: must be a whole number made of the digits 0–9 (not '１', U+FF11)",
        ),
        (
            "5200001",
            "secret",
            "+1000001",
            "userId: must be a whole number made of the digits 0–9 (not '+')",
        ),
        ("5" * 5000, "secret", OWNER, "Login: is too long: at most 19 digits"),
        ("5200001", "", OWNER, "Account password: is required"),
        ("5200001", "secret", "", "userId: is required"),
        ("5200001", "secret", "0", "userId: must be a positive number"),
    ],
)
def test_invalid_input_names_the_field_and_sends_nothing(
    qtbot: QtBot,
    ctx: UiContext,
    sandbox: Sandbox,
    login: str,
    password: str,
    user_id: str,
    message: str,
) -> None:
    tab = make_tab(qtbot, ctx)
    before = len(sandbox.request_log)
    fill(tab, login=login, password=password, user_id=user_id)
    tab.link_button.click()
    qtbot.waitUntil(lambda: tab.bar.isVisible())
    assert tab.bar.level is Level.ERROR
    assert message in tab.bar.text()
    field = message.split(":")[0]
    assert is_marked_invalid(tab.fields[field])  # outlined
    qtbot.wait(50)
    assert len(sandbox.request_log) == before
    assert tab.password.text() == ""  # emptied whatever happens
    assert tab.link_button.isEnabled()
    # Editing the field takes the outline away.
    qtbot.keyClicks(tab.fields[field], "1")  # type: ignore[no-untyped-call]
    assert not is_marked_invalid(tab.fields[field])


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("wrong password", "The trading account password is wrong. (WRONG_PASSWORD)"),
        ("unknown login", "No trading account with this login. (TRADER_NOT_FOUND)"),
        ("unknown user", "No cTID user with this userId. (USER_NOT_FOUND)"),
    ],
)
def test_backend_refusals_are_said_in_words_and_the_tab_stays_usable(
    qtbot: QtBot,
    ctx: UiContext,
    backoffice: Backoffice,
    sandbox: Sandbox,
    case: str,
    words: str,
) -> None:
    login = free_login(sandbox)
    tab = make_tab(qtbot, ctx)
    if case == "wrong password":
        fill(tab, login=login, password="not-the-password")
    elif case == "unknown login":
        fill(tab, login=999_999, password="whatever")
    else:
        fill(tab, login=login, password=trading_password(login), user_id=9_999_999)
    link(qtbot, tab)
    assert tab.bar.level is Level.ERROR
    assert words in tab.bar.text()
    assert tab.result is None
    assert not tab.result_box.isVisible()
    assert tab.password.text() == ""
    assert backoffice.journal.page(None, 0, 1)[0].outcome == "failed"
    # Usable afterwards: the right input links.
    fill(tab, login=login, password=trading_password(login))
    link(qtbot, tab)
    assert "linked to user" in tab.bar.text()
    assert sandbox.link(trader_login=login) is not None


def test_a_slow_backend_can_be_cancelled_while_the_form_stays_responsive(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    login = free_login(sandbox)
    tab = make_tab(qtbot, ctx)
    sandbox.config.latency_ms = 3000
    try:
        fill(tab, login=login, password=trading_password(login))
        tab.link_button.click()
        confirm(qtbot)
        qtbot.waitUntil(lambda: tab.busy.isVisible())
        assert not tab.link_button.isEnabled()
        assert tab.password.text() == ""  # gone before the request even left
        qtbot.keyClicks(tab.user_id, "9")  # type: ignore[no-untyped-call]
        qtbot.wait(300)
        assert tab.user_id.text() == f"{OWNER}9"
        with qtbot.waitSignal(tab.finished, timeout=2_000):
            tab.busy.cancel_button.click()
    finally:
        sandbox.config.latency_ms = 0
    assert not tab.busy.isVisible()
    assert "Linking the account: cancelled" in tab.bar.text()
    assert tab.link_button.isEnabled()
    assert backoffice.journal.page(None, 0, 1)[0].outcome == "unknown"


def test_a_revoked_token_asks_to_log_in_and_retries(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    login = free_login(sandbox, "live")
    tab = make_tab(qtbot, ctx)
    sandbox.invalidate_token(MANAGER.login)
    fill(tab, login=login, password=trading_password(login), environment="live")
    tab.link_button.click()
    confirm(qtbot)
    dialog = wait_for_dialog(qtbot, "loginDialog")
    dialog.password.setText(MANAGER.password)  # type: ignore[attr-defined]
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # type: ignore[attr-defined]
    # The retry still had the (hashed) password: the field was emptied, the request was not.
    server = sandbox.link(trader_login=login)
    assert server is not None
    assert server["user_id"] == OWNER
    assert tab.ctid.value() == str(server["ctid_trader_account_id"])
    assert tab.bar.level is Level.SUCCESS
    assert tab.password.text() == ""
