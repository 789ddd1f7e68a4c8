"""Dialogs that never clip their content, log-in prompts that tell the truth, messages that go with
their cause, and value prompts that check in place (issue 12, "Dialogs and messages")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, clipped, run_async, wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui import actions
from ctrader_admin.ui.accounts_tab import AccountsTab
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import LoginDialog
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.partners_tab import PartnersTab
from ctrader_admin.ui.runner import BusyPanel
from ctrader_admin.wiring import sandbox_hint

T = TypeVar("T")
SHOWCASE_USER = 1000001  # sandbox seed: partnerId IB-1042 at user level
LIVE_ACCOUNT = 5200001  # sandbox seed: a live account on sandbox_main


def smallest(qtbot: QtBot, dialog: QDialog) -> None:
    """Shrink the dialog as far as the operator can."""
    dialog.resize(1, 1)
    qtbot.wait(20)


def test_the_login_dialog_grows_to_show_an_error_and_clips_nothing(
    qtbot: QtBot, backoffice: Backoffice, window: QWidget
) -> None:
    session = backoffice.session
    assert session is not None
    dialog = LoginDialog(
        window,
        session,
        why="The server did not accept the token for Sandbox (it may have expired or been "
        "revoked, e.g. after a password change). Log in again; the action is then retried.",
        credentials=sandbox_hint(),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.wait(20)
    assert clipped(dialog) == []
    dialog.login.setText(str(MANAGER.login))
    dialog.password.setText("not the password")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(dialog.bar.isVisible, timeout=10_000)
    qtbot.wait(20)
    assert "wrong" in dialog.bar.text()
    assert clipped(dialog) == []
    smallest(qtbot, dialog)
    assert clipped(dialog) == []
    dialog.resize(dialog.minimumWidth(), 1)  # as narrow and as low as it goes
    qtbot.wait(20)
    assert clipped(dialog) == []


def test_the_sandbox_password_is_never_broken_across_lines(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice
) -> None:
    backoffice.login_hints["sandbox"] = sandbox_hint()
    task = run_async_later(ctx.login_prompt("Log in with your cTrader manager account."))
    dialog = wait_for_dialog(qtbot, "loginDialog")
    try:
        smallest(qtbot, dialog)
        shown = [
            label
            for label in dialog.findChildren(QLabel)
            if MANAGER.password in label.text() and label.isVisible()
        ]
        assert len(shown) == 1
        label = shown[0]
        assert not label.wordWrap()  # a wrapped label breaks "sandbox-manager" at the hyphen
        assert label.width() >= label.sizeHint().width()
    finally:
        dialog.reject()
        qtbot.waitUntil(task.done)


def run_async_later(awaitable: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Start a coroutine that waits for a dialog; the test answers the dialog meanwhile."""
    return asyncio.ensure_future(awaitable)


def partners_dialog(
    qtbot: QtBot, ctx: UiContext, button: str, dialog: str
) -> tuple[PartnersTab, QDialog]:
    """A Partners tab on the showcase user, after ``button`` opened ``dialog``."""
    tab = PartnersTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    tab.target_id.setText(str(SHOWCASE_USER))
    getattr(tab, button).click()
    return tab, wait_for_dialog(qtbot, dialog)


def test_a_first_log_in_does_not_speak_of_a_saved_token_and_logging_in_clears_not_logged_in(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice
) -> None:
    session = backoffice.session
    assert session is not None
    run_async(qtbot, session.logout())
    tab, dialog = partners_dialog(qtbot, ctx, "read_button", "loginDialog")
    why = dialog.why.text()  # type: ignore[attr-defined]
    assert "saved token" not in why
    assert "did not accept" not in why
    assert "Log in to Sandbox" in why
    dialog.reject()
    qtbot.waitUntil(lambda: tab.bar.isVisible() and not tab._working, timeout=10_000)
    assert "Not logged in" in tab.bar.text()

    # The operator logs in from the band: the message goes with its cause.
    task = run_async_later(ctx.login_prompt())
    dialog = wait_for_dialog(qtbot, "loginDialog")
    dialog.login.setText(str(MANAGER.login))  # type: ignore[attr-defined]
    dialog.password.setText(MANAGER.password)  # type: ignore[attr-defined]
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # type: ignore[attr-defined]
    qtbot.waitUntil(task.done, timeout=10_000)
    assert task.result() is True
    assert not tab.bar.isVisible()


def accounts_tab(
    qtbot: QtBot, ctx: UiContext, *, login: str, password: str, user_id: str
) -> AccountsTab:
    tab = AccountsTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    tab.login.setText(login)
    tab.password.setText(password)
    tab.user_id.setText(user_id)
    return tab


def test_a_corrected_field_loses_its_error_and_the_message_goes_when_all_are_fixed(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = accounts_tab(qtbot, ctx, login="12ab", password="x", user_id="-4")
    tab.link_button.click()
    qtbot.waitUntil(tab.bar.isVisible)
    assert "Login" in tab.bar.text()
    assert "userId" in tab.bar.text()
    tab.login.clear()
    qtbot.keyClicks(tab.login, "5200009")
    assert "Login" not in tab.bar.text()  # fixed: no longer named
    assert "userId" in tab.bar.text()  # still wrong: still said
    assert tab.login.toolTip() == tab.login.property("normalToolTip")
    tab.user_id.clear()
    qtbot.keyClicks(tab.user_id, "1000002")
    assert not tab.bar.isVisible()


def test_a_new_link_attempt_hides_the_result_of_the_last_one(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    from ctrader_admin.sandbox import trading_password

    login = sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)[0]
    tab = accounts_tab(
        qtbot, ctx, login=str(login), password=trading_password(login), user_id="1000002"
    )
    tab.white_label.setCurrentText("sandbox_main")
    tab.environment.setCurrentText("demo")
    tab.link_button.click()
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        confirm = wait_for_dialog(qtbot, "confirmWriteDialog")
        confirm.reason.setText("client asked")  # type: ignore[attr-defined]
        confirm.ticket.setText("SUP-1")  # type: ignore[attr-defined]
        confirm.accept()
    assert tab.result_box.isVisible()
    tab.login.setText("not a login")
    tab.password.setText("x")
    tab.link_button.click()
    qtbot.waitUntil(lambda: tab.bar.level is Level.ERROR and tab.bar.isVisible())
    assert not tab.result_box.isVisible()  # no "✔ Linked" above the failed attempt


def test_the_set_partner_prompt_checks_in_place_in_the_rules_words(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab, dialog = partners_dialog(qtbot, ctx, "set_button", "valueDialog")
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)  # type: ignore[attr-defined]
    problem: QLabel = dialog.problem  # type: ignore[attr-defined]
    editor: QLineEdit = dialog.editor  # type: ignore[attr-defined]
    assert not ok.isEnabled()  # empty
    qtbot.keyClicks(editor, "X" * 65)
    assert not ok.isEnabled()
    assert problem.isVisible()
    assert problem.text() == "partnerId: must be at most 64 characters"
    assert "String should" not in problem.text() + ok.toolTip()
    qtbot.wait(20)  # the layout follows the message
    assert clipped(dialog) == []
    editor.setText(" IB 1 ")
    assert problem.text() == "partnerId: must not start or end with spaces"
    editor.clear()
    assert not ok.isEnabled()
    qtbot.keyClicks(editor, "IB-9")
    assert ok.isEnabled()
    assert not problem.isVisible()
    dialog.reject()
    qtbot.waitUntil(lambda: not tab._working)
    assert not tab.bar.isVisible() or tab.bar.level is not Level.ERROR
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"


def test_the_move_prompt_offers_the_connections_white_labels_only(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    session = backoffice.session
    assert session is not None
    bar, busy = MessageBar(), BusyPanel()
    runner = ctx.runner(bar, busy)
    task = run_async_later(
        actions.move_account(ctx, runner, login=LIVE_ACCOUNT, environment="live")
    )
    dialog = wait_for_dialog(qtbot, "valueDialog", timeout=10_000)
    combo = dialog.editor  # type: ignore[attr-defined]
    assert isinstance(combo, QComboBox)
    assert not combo.isEditable()
    offered = [combo.itemText(i) for i in range(combo.count())]
    trader = sandbox.trader(LIVE_ACCOUNT)
    assert trader is not None
    current = trader["brokerName"]
    assert offered == [wl for wl in session.profile.broker_names if wl != current]
    assert str(LIVE_ACCOUNT) in dialog.windowTitle()
    assert "live" in dialog.windowTitle()
    dialog.reject()
    qtbot.waitUntil(task.done, timeout=10_000)
    assert task.result() is None


@pytest.mark.parametrize(
    "name", ["confirm", "confirm-long", "value", "revert", "import", "about", "crash"]
)
def test_no_dialog_clips_its_content_even_at_its_smallest(
    qtbot: QtBot, backoffice: Backoffice, window: QWidget, name: str
) -> None:
    from ctrader_admin.store.paths import AppPaths
    from ctrader_admin.store.profiles import builtin_sandbox_profile
    from ctrader_admin.ui.about_dialog import AboutDialog
    from ctrader_admin.ui.crash import CrashDialog
    from ctrader_admin.ui.dialogs import ConfirmWriteDialog
    from ctrader_admin.ui.import_dialog import ImportDialog
    from ctrader_admin.ui.jobs.revert_dialog import RevertDialog

    makers: dict[str, Callable[[], QDialog]] = {
        "confirm": lambda: ConfirmWriteDialog(
            window,
            profile=builtin_sandbox_profile().model_copy(update={"live": True}),
            title="Set partnerId",
            changes=[("Target", "user 1000001"), ("partnerId", "IB-1042 → IB-2077 (overwrites)")],
            type_to_confirm="live",
        ),
        # A value that wraps onto several lines (an approval's change, a book of accounts).
        "confirm-long": lambda: ConfirmWriteDialog(
            window,
            profile=builtin_sandbox_profile(),
            title="Move to White Label",
            changes=[
                (
                    "Change",
                    "Move 7 accounts ("
                    + ", ".join(map(str, range(5200001, 5200008)))
                    + ") from acme-demo to acme-pro-demo-white-label",
                ),
                ("Account", "5200001 (demo)"),
            ],
        ),
        "value": lambda: actions.ValueDialog(
            window, title="Set partnerId", label="New partnerId", current="IB-1042"
        ),
        "revert": lambda: RevertDialog(window, batch="0123abcd"),
        "import": lambda: ImportDialog(window, backoffice),
        "about": lambda: AboutDialog(
            window, paths=AppPaths.from_environment(), keyring="conftest MemoryKeyring"
        ),
        "crash": lambda: CrashDialog("Traceback (most recent call last):\nRuntimeError: x"),
    }
    dialog = makers[name]()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.wait(20)
    assert clipped(dialog) == []
    smallest(qtbot, dialog)
    assert clipped(dialog) == []


def test_a_new_create_attempt_hides_the_result_of_the_last_one(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    from ctrader_admin.ui.users_tab import UsersTab

    tab = UsersTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    tab.email.setText("fresh.client@example.com")
    tab.create_button.click()
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        confirm = wait_for_dialog(qtbot, "confirmWriteDialog")
        confirm.reason.setText("new client")  # type: ignore[attr-defined]
        confirm.accept()
    assert tab.result_box.isVisible()
    assert "Created" in tab.outcome.text()
    tab.email.setText("not an email")
    tab.create_button.click()
    qtbot.waitUntil(lambda: tab.bar.level is Level.ERROR and tab.bar.isVisible())
    assert not tab.result_box.isVisible()  # no "✔ Created" over the new error
