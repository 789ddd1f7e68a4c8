"""The manager login typed in the log-in dialog goes through the one id parser
(ctrader_admin/ids.py): a numeral int() would refuse or misread is said in words and nothing is
sent — before, "３０００１" logged in as 30001 and "３０００²" raised a traceback."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import LoginDialog
from ctrader_admin.ui.notify import Level

DIGITS = "must be a whole number made of the digits 0–9"


@pytest.mark.parametrize(
    ("login", "words"),
    [
        ("3000²", f"The manager login {DIGITS} (not '²', U+00B2)."),
        ("３０００１", f"The manager login {DIGITS} (not '３', U+FF13)."),
        ("٣٠٠٠١", f"The manager login {DIGITS} (not '٣', U+0663)."),
        ("+30001", f"The manager login {DIGITS} (not '+')."),
        ("0", "The manager login must be a positive number."),
        ("3" * 5000, "The manager login is too long: at most 19 digits."),
        ("  ", "The manager login is required."),
    ],
)
def test_a_bad_manager_login_is_said_in_words_and_nothing_is_sent(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, login: str, words: str
) -> None:
    dialog = LoginDialog(None, ctx.session)
    qtbot.addWidget(dialog)
    dialog.show()
    sandbox.clear_log()
    dialog.login.setText(login)
    dialog.password.setText(MANAGER.password)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.bar.isVisible())
    assert dialog.bar.level is Level.ERROR
    assert dialog.bar.text() == words
    assert dialog.password.text() == ""  # emptied whatever happens
    qtbot.wait(50)
    assert sandbox.request_log == []
