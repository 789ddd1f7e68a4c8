"""Users tab against the in-process sandbox: create, the existing-user answer, validation, backend
errors, a slow backend with Cancel, and a revoked token."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, run_async, wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.users_tab import UsersTab
from ctrader_admin.ui.widgets import is_marked_invalid

SEEDED_USERS = 120  # conftest: Sandbox(SandboxConfig(users=120)) → userIds 1000001…1000120
NEXT_USER_ID = 1_000_001 + SEEDED_USERS


def make_tab(qtbot: QtBot, ctx: UiContext) -> UsersTab:
    tab = UsersTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def confirm(qtbot: QtBot, reason: str = "new client", ticket: str = "SUP-7") -> None:
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    dialog.reason.setText(reason)  # type: ignore[attr-defined]
    dialog.ticket.setText(ticket)  # type: ignore[attr-defined]
    dialog.accept()


def create(qtbot: QtBot, tab: UsersTab, email: str, **confirm_args: str) -> None:
    """Fill the email, press Enter in it, confirm, and wait for the job to end."""
    tab.email.setText(email)
    tab.email.returnPressed.emit()
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        confirm(qtbot, **confirm_args)


def was_created(tab: UsersTab) -> bool:
    """Read afresh (not narrowed by an earlier assert on the same attribute)."""
    return tab.result is not None and tab.result.created


def no_dialog_open(name: str) -> bool:
    return not any(
        isinstance(w, QDialog) and w.objectName() == name and w.isVisible()
        for w in QApplication.topLevelWidgets()
    )


def test_create_user_shows_the_new_user_and_journals_it(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    tab.white_label.setCurrentText("sandbox_eu")
    tab.language.setCurrentText("de")
    create(qtbot, tab, "  new.client@example.com ", reason="new client", ticket="SUP-7")

    assert tab.result is not None
    assert tab.result.created
    assert tab.user_id.value() == str(NEXT_USER_ID)
    assert tab.outcome.text() == "✔ Created"
    assert tab.bar.level is Level.SUCCESS
    assert f"userId {NEXT_USER_ID}" in tab.bar.text()
    user = sandbox.user(NEXT_USER_ID)
    assert user is not None
    assert (user["email"], user["broker_name"], user["preferred_language"]) == (
        "new.client@example.com",
        "sandbox_eu",
        "de",
    )
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.target, entry.before, entry.after, entry.outcome) == (
        "create_user",
        "email:new.client@example.com",
        None,
        None,
        "ok",
    )
    assert (entry.reason, entry.ticket, entry.broker_name) == ("new client", "SUP-7", "sandbox_eu")
    # The directory now knows the user, so Lookup can find it by email.
    with qtbot.waitSignal(ctx.lookup_requested, timeout=1_000) as shown:
        tab.open_lookup.click()
    assert shown.args == [str(NEXT_USER_ID)]
    # "Link an account to this user": the Accounts tab's form, asked for with this userId.
    with qtbot.waitSignal(ctx.link_requested, timeout=1_000) as asked:
        tab.link_account.click()
    assert asked.args == [LinkRequest(user_id=NEXT_USER_ID)]


def test_an_existing_email_is_said_plainly_and_offered_in_lookup(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    existing = sandbox.user(1000001)
    assert existing is not None
    tab = make_tab(qtbot, ctx)
    create(qtbot, tab, existing["email"])

    assert tab.result is not None
    assert not tab.result.created
    assert tab.bar.level is Level.WARNING
    assert (
        "A user with this email already exists: userId 1000001. Nothing was created."
        in tab.bar.text()
    )
    assert "Already existed" in tab.outcome.text()
    assert "Created" not in tab.outcome.text()
    assert tab.user_id.value() == "1000001"
    assert sandbox.user(NEXT_USER_ID) is None  # nothing new on the server
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.target, entry.outcome) == (
        "create_user",
        f"email:{existing['email']}",
        "ok",
    )
    # The journal keeps what the server answered: the existing user, not a creation.
    assert '"created": false' in (entry.response or "")
    assert "1000001" in (entry.response or "")
    with qtbot.waitSignal(ctx.lookup_requested, timeout=1_000) as shown:
        tab.open_lookup.click()
    assert shown.args == ["1000001"]


@pytest.mark.parametrize(
    ("email", "language", "field", "problem"),
    [
        ("", "en", "Email", "is required"),
        ("not-an-email", "en", "Email", "is not a valid email address"),
        ("a@b.example", "xx", "Language", "ISO 639-1"),
        ("a@b.example", "english", "Language", "ISO 639-1"),
    ],
)
def test_invalid_input_names_the_field_and_sends_nothing(
    qtbot: QtBot,
    ctx: UiContext,
    sandbox: Sandbox,
    email: str,
    language: str,
    field: str,
    problem: str,
) -> None:
    tab = make_tab(qtbot, ctx)
    before = len(sandbox.request_log)
    tab.email.setText(email)
    tab.language.setCurrentText(language)
    tab.create_button.click()
    qtbot.waitUntil(lambda: tab.bar.isVisible())
    assert tab.bar.level is Level.ERROR
    assert f"{field}: " in tab.bar.text()
    assert problem in tab.bar.text()
    assert is_marked_invalid(tab.fields[field])  # the offending field is outlined
    qtbot.wait(50)
    assert no_dialog_open("confirmWriteDialog")  # not even asked: nothing to confirm
    assert len(sandbox.request_log) == before
    assert tab.create_button.isEnabled()


def test_declining_the_confirmation_sends_nothing(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    before = len(sandbox.request_log)
    tab.email.setText("someone@example.com")
    tab.create_button.click()
    wait_for_dialog(qtbot, "confirmWriteDialog").reject()
    qtbot.waitUntil(lambda: "nothing was sent" in tab.bar.text())
    assert len(sandbox.request_log) == before
    assert tab.create_button.isEnabled()


def test_no_rights_on_the_white_label_is_said_in_words_and_the_tab_stays_usable(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    # The profile lists a White Label the training manager has no rights on.
    profile = backoffice.profiles.get("sandbox")
    backoffice.profiles.update(
        profile.model_copy(update={"broker_names": [*profile.broker_names, "sandbox_offlimits"]})
    )
    run_async(qtbot, backoffice.open("sandbox"))
    run_async(qtbot, ctx.session.login(MANAGER.login, MANAGER.password, remember=False))
    tab = make_tab(qtbot, ctx)
    ctx.session_changed.emit()
    tab.white_label.setCurrentText("sandbox_offlimits")
    assert tab.white_label.currentText() == "sandbox_offlimits"
    create(qtbot, tab, "offlimits.client@example.com")

    assert tab.bar.level is Level.ERROR
    assert "no rights" in tab.bar.text()
    assert "(NOT_ENOUGH_RIGHTS)" in tab.bar.text()
    assert tab.result is None
    assert backoffice.journal.page(None, 0, 1)[0].outcome == "failed"
    # Still usable: the same email on a White Label it may touch.
    tab.white_label.setCurrentText("sandbox_main")
    create(qtbot, tab, "offlimits.client@example.com")
    assert was_created(tab)
    assert "User created" in tab.bar.text()


def test_a_slow_backend_can_be_cancelled_while_the_form_stays_responsive(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    sandbox.config.latency_ms = 3000
    try:
        tab.email.setText("slow.client@example.com")
        tab.create_button.click()
        confirm(qtbot)
        qtbot.waitUntil(lambda: tab.busy.isVisible())
        assert not tab.create_button.isEnabled()
        # The window keeps answering meanwhile.
        qtbot.keyClicks(tab.email, "x")  # type: ignore[no-untyped-call]
        qtbot.wait(300)
        assert tab.email.text() == "slow.client@example.comx"
        assert tab.busy.isVisible()
        with qtbot.waitSignal(tab.finished, timeout=2_000):
            tab.busy.cancel_button.click()
    finally:
        sandbox.config.latency_ms = 0
    assert not tab.busy.isVisible()
    assert tab.bar.level is Level.WARNING
    assert "Creating the user: cancelled" in tab.bar.text()
    assert tab.result is None
    assert tab.create_button.isEnabled()
    assert backoffice.journal.page(None, 0, 1)[0].outcome == "unknown"


def test_a_revoked_token_asks_to_log_in_and_retries(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    sandbox.invalidate_token(MANAGER.login)
    tab.email.setText("after.login@example.com")
    tab.create_button.click()
    confirm(qtbot)
    dialog = wait_for_dialog(qtbot, "loginDialog")
    dialog.password.setText(MANAGER.password)  # type: ignore[attr-defined]
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # type: ignore[attr-defined]
    assert tab.result is not None
    assert tab.result.created
    assert tab.user_id.value() == str(NEXT_USER_ID)
    user = sandbox.user(NEXT_USER_ID)
    assert user is not None
    assert user["email"] == "after.login@example.com"
    first_try, retry = backoffice.journal.page(None, 0, 2)[::-1]
    assert (first_try.outcome, retry.outcome) == ("failed", "ok")
