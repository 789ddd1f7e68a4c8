"""White Label tab against the in-process sandbox: read (from → to), move with the read-back
verdict (confirmed / did NOT change / could not read back), validation, backend errors, a slow
backend with Cancel, and a revoked token."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, run_async, wait_for_dialog

from ctrader_admin.api import ApiTimeoutError
from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui import actions
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.white_label_tab import WhiteLabelTab
from ctrader_admin.ui.widgets import is_marked_invalid


def make_tab(qtbot: QtBot, ctx: UiContext) -> WhiteLabelTab:
    tab = WhiteLabelTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def demo_login(sandbox: Sandbox, broker_name: str = "sandbox_main") -> int:
    return sandbox.logins(broker_name=broker_name, environment="demo")[0]


def read(qtbot: QtBot, tab: WhiteLabelTab, login: int | str) -> None:
    tab.login.setText(str(login))
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.login.returnPressed.emit()  # Enter reads


def confirm(qtbot: QtBot, reason: str = "WL restructuring", ticket: str = "OPS-3") -> None:
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    dialog.reason.setText(reason)  # type: ignore[attr-defined]
    dialog.ticket.setText(ticket)  # type: ignore[attr-defined]
    dialog.accept()


def move(qtbot: QtBot, tab: WhiteLabelTab) -> None:
    tab.move_button.click()
    confirm(qtbot)
    qtbot.waitUntil(lambda: not tab._working, timeout=10_000)


def writes(sandbox: Sandbox) -> list[str]:
    return [f"{e.method} {e.path}" for e in sandbox.request_log if e.method != "GET"]


def test_read_shows_where_the_account_is_and_the_planned_move(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    login = demo_login(sandbox)
    trader = sandbox.trader(login)
    assert trader is not None
    tab = make_tab(qtbot, ctx)
    tab.target.setCurrentText("sandbox_main")
    before = writes(sandbox)
    read(qtbot, tab, login)
    assert tab.account_box.isVisible()
    assert tab.current_wl.text() == "sandbox_main" == trader["brokerName"]
    assert tab.group.text() == trader["groupName"]
    assert tab.name.text() == f"{trader['name']} {trader['lastName']}"
    # "To" moved off the White Label the account is already on.
    assert tab.target.currentText() == "sandbox_eu"
    assert tab.plan.text() == "sandbox_main → sandbox_eu"
    assert writes(sandbox) == before  # reading changes nothing
    # Another login typed: what is shown no longer belongs to it.
    tab.login.setText(str(login + 1))
    assert not tab.account_box.isVisible()


def test_move_is_confirmed_by_reading_it_back(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    login = demo_login(sandbox)
    tab = make_tab(qtbot, ctx)
    read(qtbot, tab, login)
    move(qtbot, tab)

    trader = sandbox.trader(login)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_eu"
    assert tab.last_move is not None
    assert tab.last_move.confirmed
    assert tab.verdict.isVisible()
    assert tab.verdict.text().startswith("✔ Moved")
    assert "is now on sandbox_eu (was sandbox_main)" in tab.verdict.text()
    assert tab.current_wl.text() == "sandbox_eu"
    assert tab.bar.level is Level.SUCCESS
    assert "really changed" in tab.bar.text()
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.target, entry.before, entry.after, entry.outcome) == (
        "move_wl",
        f"login:{login}@demo",
        "sandbox_main",
        "sandbox_eu",
        "ok",
    )
    assert (entry.reason, entry.ticket) == ("WL restructuring", "OPS-3")
    # The last request was the read-back, after the write.
    methods = [(e.method, e.path) for e in sandbox.request_log][-2:]
    assert methods == [
        ("POST", "/cid/ctid/changeCtidTraderAccount"),
        ("GET", f"/v2/webserv/traders/{login}"),
    ]


def test_a_move_that_did_not_happen_is_shown_as_not_changed(
    qtbot: QtBot,
    ctx: UiContext,
    backoffice: Backoffice,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def accepted_but_ignored(request: Any) -> None:
        return None  # the backend answered OK without moving anything

    monkeypatch.setattr(ctx.session.client, "change_white_label", accepted_but_ignored)
    login = demo_login(sandbox)
    tab = make_tab(qtbot, ctx)
    read(qtbot, tab, login)
    move(qtbot, tab)

    trader = sandbox.trader(login)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_main"
    assert tab.last_move is not None
    assert not tab.last_move.confirmed
    assert tab.verdict.text().startswith("✖ Did NOT change")
    assert "still on sandbox_main" in tab.verdict.text()
    assert tab.current_wl.text() == "sandbox_main"
    assert tab.bar.level is Level.ERROR
    assert "did NOT change" in tab.bar.text()
    # The journal has the attempt as sent; the verdict comes from the read-back.
    assert backoffice.journal.page(None, 0, 1)[0].action == "move_wl"


def test_a_move_that_cannot_be_read_back_says_so(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ctx.session.client
    real_move, real_read = client.change_white_label, client.get_trader
    sent: list[bool] = []

    async def move_then_flag(request: Any) -> Any:
        result = await real_move(request)
        sent.append(True)
        return result

    async def read_unless_moved(login: int) -> Any:
        if sent:
            raise ApiTimeoutError("The server did not answer in time.")
        return await real_read(login)

    monkeypatch.setattr(client, "change_white_label", move_then_flag)
    monkeypatch.setattr(client, "get_trader", read_unless_moved)
    login = demo_login(sandbox)
    tab = make_tab(qtbot, ctx)
    read(qtbot, tab, login)
    move(qtbot, tab)
    assert tab.last_move is not None
    assert tab.last_move.after is None
    assert tab.verdict.text().startswith("? Could not read account")
    assert tab.bar.level is Level.WARNING
    assert "reading it back failed" in tab.bar.text()


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("", "Login: is required"),
        ("31000x", "Login: must be a whole number made of the digits 0–9 (not 'x')"),
        ("310000²", "Login: must be a whole number made of the digits 0–9 (not '²', U+00B2)"),
        ("٣١٠٠٠٠١", "Login: must be a whole number made of the digits 0–9 (not '٣', U+0663)"),
        (
            "３１００００１",
            "Login: must be a whole number made of the digits 0–9 (not '３', U+FF13)",
        ),
        ("+3100001", "Login: must be a whole number made of the digits 0–9 (not '+')"),
        ("-3100001", "Login: must be a positive number"),
        ("3" * 5000, "Login: is too long: at most 19 digits"),
    ],
)
def test_invalid_login_is_named_and_nothing_is_sent(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, login: str, message: str
) -> None:
    tab = make_tab(qtbot, ctx)
    before = len(sandbox.request_log)
    for button in (tab.read_button, tab.move_button):
        tab.bar.hide()
        tab.login.setText(login)
        button.click()
        qtbot.waitUntil(lambda: tab.bar.isVisible())
        assert tab.bar.level is Level.ERROR
        assert message in tab.bar.text()
        assert is_marked_invalid(tab.login)
    qtbot.wait(50)
    assert len(sandbox.request_log) == before


def test_reading_an_unknown_or_forbidden_account_is_said_in_words(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    read(qtbot, tab, 999_999)
    assert tab.bar.level is Level.ERROR
    assert "No trading account with this login. (TRADER_NOT_FOUND)" in tab.bar.text()
    assert not tab.account_box.isVisible()
    read(qtbot, tab, demo_login(sandbox, "sandbox_offlimits"))
    assert "no rights" in tab.bar.text()
    assert "(NOT_ENOUGH_RIGHTS)" in tab.bar.text()
    assert not tab.account_box.isVisible()
    # Still usable.
    read(qtbot, tab, demo_login(sandbox))
    assert tab.account_box.isVisible()
    assert tab.bar.text() == ""


def test_moving_to_a_white_label_without_rights_is_refused_in_words(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    profile = backoffice.profiles.get("sandbox")
    backoffice.profiles.update(
        profile.model_copy(update={"broker_names": [*profile.broker_names, "sandbox_offlimits"]})
    )
    run_async(qtbot, backoffice.open("sandbox"))
    run_async(qtbot, ctx.session.login(MANAGER.login, MANAGER.password, remember=False))
    login = demo_login(sandbox)
    tab = make_tab(qtbot, ctx)
    read(qtbot, tab, login)
    tab.target.setCurrentText("sandbox_offlimits")
    assert tab.plan.text() == "sandbox_main → sandbox_offlimits"
    move(qtbot, tab)
    assert tab.bar.level is Level.ERROR
    assert "(NOT_ENOUGH_RIGHTS)" in tab.bar.text()
    assert not tab.verdict.isVisible()
    trader = sandbox.trader(login)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_main"
    assert backoffice.journal.page(None, 0, 1)[0].outcome == "failed"
    assert tab.move_button.isEnabled()
    assert tab.read_button.isEnabled()


def test_a_slow_backend_can_be_cancelled_while_the_form_stays_responsive(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    tab.login.setText(str(demo_login(sandbox)))
    sandbox.config.latency_ms = 3000
    try:
        tab.read_button.click()
        qtbot.waitUntil(lambda: tab.busy.isVisible())
        assert not tab.read_button.isEnabled()
        assert not tab.move_button.isEnabled()
        tab.target.setCurrentText("sandbox_main")  # other widgets keep working
        qtbot.wait(300)
        assert tab.target.currentText() == "sandbox_main"
        with qtbot.waitSignal(tab.finished, timeout=2_000):
            tab.busy.cancel_button.click()
    finally:
        sandbox.config.latency_ms = 0
    assert not tab.busy.isVisible()
    assert "Reading the account: cancelled" in tab.bar.text()
    assert tab.read_button.isEnabled()
    assert tab.move_button.isEnabled()


def test_a_revoked_token_asks_to_log_in_and_retries(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    login = demo_login(sandbox)
    tab = make_tab(qtbot, ctx)
    sandbox.invalidate_token(MANAGER.login)
    tab.login.setText(str(login))
    tab.read_button.click()
    dialog = wait_for_dialog(qtbot, "loginDialog")
    dialog.password.setText(MANAGER.password)  # type: ignore[attr-defined]
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: tab.account is not None, timeout=10_000)
    assert tab.current_wl.text() == "sandbox_main"
    # And the move after it works with the new token.
    move(qtbot, tab)
    assert tab.last_move is not None
    assert tab.last_move.confirmed


def test_a_white_label_or_environment_the_profile_does_not_list_is_refused_before_asking(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    """The move prompt (WL tab, Lookup) checks what the planner checks, before the confirmation
    dialog and before any write: the same function (services/validation.py)."""
    tab = make_tab(qtbot, ctx)
    login = demo_login(sandbox)
    for environment, target, words in (
        ("demo", "sandbox_offlimits", "White Label: 'sandbox_offlimits' is not one this"),
        ("staging", "sandbox_eu", "Environment: 'staging' is not one of demo, live"),
    ):
        sandbox.clear_log()
        moved = run_async(
            qtbot,
            actions.move_account(
                ctx, tab.runner, login=login, environment=environment, target=target
            ),
        )
        assert moved is None
        assert tab.bar.level is Level.ERROR
        assert words in tab.bar.text()
        assert sandbox.request_log == []  # refused when prepared: before any request
    trader = sandbox.trader(login)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_main"
