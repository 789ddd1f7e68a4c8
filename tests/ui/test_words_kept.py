"""Redaction never rewrites the app's own words: a manager whose password is an ordinary word
("password", "manager", …) still reads "The manager login or password is wrong.", and the journal
keeps the backend's refusal in words (redaction.py: secrets are kept out by construction)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from PySide6.QtWidgets import QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, run_async

from ctrader_admin import redaction
from ctrader_admin.api import BadRequest
from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services import accounts
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.dialogs import LoginDialog
from ctrader_admin.ui.notify import Level


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A word registered as a secret stays in this test (the registry is process-wide)."""
    monkeypatch.setattr(redaction, "_known_secrets", set(redaction._known_secrets))


@pytest.mark.parametrize("password", ["password", "login", "the", "manager", "is wrong."])
def test_a_wrong_password_that_is_a_word_is_refused_in_the_apps_words(
    qtbot: QtBot, backoffice: Backoffice, window: QWidget, password: str
) -> None:
    session = backoffice.session
    assert session is not None
    dialog = LoginDialog(window, session)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password.setText(password)

    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    qtbot.waitUntil(dialog.bar.isVisible)
    assert dialog.bar.level is Level.ERROR
    assert dialog.bar.text() == "The manager login or password is wrong."
    assert dialog.password.text() == ""


def test_the_journal_keeps_the_refusal_in_words(
    qtbot: QtBot, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    session = backoffice.session
    assert session is not None
    redaction.register_secret("password")  # as if the manager's password were "password"
    login = sandbox.logins(broker_name=MANAGER.broker_names[0], linked=False)[0]

    with pytest.raises(BadRequest):
        run_async(
            qtbot,
            accounts.link_account(
                session,
                login=login,
                password=SecretStr("not-the-password"),
                user_id=1000001,
                broker_name=MANAGER.broker_names[0],
                environment="demo",
                reason="customer lost the password",
            ),
        )

    (entry,) = backoffice.journal.page(None, 0, 1)
    assert entry.outcome == "failed"
    assert entry.error is not None
    assert entry.error.startswith("The trading account password is wrong. (WRONG_PASSWORD)")
    # The reason is the operator's text, where a typed secret is masked (the last line of
    # defence): the registered word goes, the rest stays.
    assert entry.reason == "customer lost the ***"


def test_a_crash_report_keeps_the_apps_words_and_masks_what_came_from_elsewhere() -> None:
    from ctrader_admin.api import InvalidCredentials
    from ctrader_admin.ui.crash import crash_report

    token = "-".join(["tok", "c0ffee", "42"])
    redaction.register_secret("password")  # the manager's password, a word
    redaction.register_secret(token)
    try:
        try:
            raise InvalidCredentials("The manager login or password is wrong.")
        except InvalidCredentials as refused:
            raise RuntimeError(f"a library said: password {token} rejected") from refused
    except RuntimeError as crash:
        report = crash_report(type(crash), crash, crash.__traceback__)

    assert "InvalidCredentials: The manager login or password is wrong." in report
    assert "RuntimeError: a library said: *** *** rejected" in report
    assert 'raise InvalidCredentials("The manager login or password is wrong.")' in report
    assert token not in report
