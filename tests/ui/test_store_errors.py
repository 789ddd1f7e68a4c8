"""Store failures (a busy database, a journal or checkpoint refusal, a profile problem) reach the
operator as a sentence in the message bar — from a form's action and from a bare async slot —
never as a crash dialog or a traceback."""

from __future__ import annotations

import asyncio
import sys
from types import TracebackType

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from ctrader_admin.errors import ExpectedError
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.checkpoints import CheckpointError
from ctrader_admin.store.database import BUSY_MESSAGE, DatabaseBusyError
from ctrader_admin.store.journal import JournalError
from ctrader_admin.store.profiles import ProfileError
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import report_failure

STORE_ERRORS: list[tuple[ExpectedError, Level]] = [
    (DatabaseBusyError(), Level.WARNING),  # try again in a moment: not the operator's mistake
    (JournalError("Entry 12 does not exist, so it cannot be reverted."), Level.ERROR),
    (CheckpointError("Job 1a2b is being run by another process."), Level.ERROR),
    (ProfileError("A profile named 'Live' already exists."), Level.ERROR),
]


@pytest.fixture
def crashes(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """What would have reached the crash dialog."""
    seen: list[BaseException] = []

    def hook(_t: type[BaseException], exc: BaseException, _tb: TracebackType | None) -> None:
        seen.append(exc)

    monkeypatch.setattr(sys, "excepthook", hook)
    return seen


def make_window(qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings) -> MainWindow:
    window = MainWindow(backoffice, qsettings)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.mark.parametrize(("error", "level"), STORE_ERRORS, ids=lambda e: type(e).__name__)
def test_a_store_error_in_an_action_is_shown_in_words(
    qtbot: QtBot,
    backoffice: Backoffice,
    qsettings: QSettings,
    crashes: list[BaseException],
    error: ExpectedError,
    level: Level,
) -> None:
    tab = make_window(qtbot, backoffice, qsettings).current_tab()
    assert tab is not None

    async def fails() -> None:
        raise error

    task = asyncio.ensure_future(tab.runner.run("Saving", fails))
    qtbot.waitUntil(task.done)
    assert task.result() is None
    assert tab.bar.text() == error.message
    assert tab.bar.level is level
    assert crashes == []


def test_a_store_error_in_a_bare_slot_reaches_the_message_bar(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings, crashes: list[BaseException]
) -> None:
    window = make_window(qtbot, backoffice, qsettings)
    tab = window.current_tab()
    assert tab is not None

    async def opens_a_profile() -> None:  # e.g. the budget's journal read while busy
        raise DatabaseBusyError

    task = asyncio.ensure_future(opens_a_profile())
    task.add_done_callback(report_failure)
    qtbot.waitUntil(lambda: tab.bar.text() == BUSY_MESSAGE)
    assert crashes == []


def test_a_bug_still_goes_to_the_crash_dialog(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings, crashes: list[BaseException]
) -> None:
    make_window(qtbot, backoffice, qsettings)

    async def bug() -> None:
        raise KeyError("not an expected error")

    task = asyncio.ensure_future(bug())
    task.add_done_callback(report_failure)
    qtbot.waitUntil(lambda: bool(crashes))
    assert isinstance(crashes[0], KeyError)
