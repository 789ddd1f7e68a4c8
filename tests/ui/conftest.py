"""pytest-qt against the in-process sandbox (docs/platform-notes.md, "qasync + pytest-qt").

One qasync loop for the session; each test gets a fresh sandbox, stores and Backoffice on the
built-in Sandbox profile, logged in as the training manager."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

# Helpers live in a uniquely named module: with several conftest.py files in one run,
# "from conftest import …" would resolve to whichever conftest was imported last.
from ui_helpers import open_sandbox_office, run_async

from ctrader_admin.runtime import mark_running_loop
from ctrader_admin.sandbox import Sandbox, SandboxConfig
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.ui.context import UiContext


@pytest.fixture(scope="session")
def event_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.stop()
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def _loop_running_only_in_ui_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """qasync (already_running=True) marks its loop as the thread's running loop for good; the
    tests that run after tests/ui in the same process (tests/unit) call asyncio.run(), which
    refuses to start while a loop is marked running. So the mark is set for each UI test that
    uses the loop and cleared after it."""
    if "event_loop" not in request.fixturenames:
        yield
        return
    loop = request.getfixturevalue("event_loop")
    mark_running_loop(loop)
    yield
    mark_running_loop(None)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(SandboxConfig(users=120))
    yield box
    box.close()


@pytest.fixture
def paths(app_home: Path) -> AppPaths:
    return AppPaths.under(app_home)


@pytest.fixture
def backoffice(
    paths: AppPaths, sandbox: Sandbox, event_loop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> Iterator[Backoffice]:
    office = open_sandbox_office(qtbot, paths, sandbox)
    yield office
    run_async(qtbot, office.shutdown())


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    """A plain parent window for dialogs and tabs under test."""
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def ctx(backoffice: Backoffice, window: QWidget) -> UiContext:
    return UiContext(backoffice, window)


@pytest.fixture
def qsettings(paths: AppPaths) -> QSettings:
    return QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
