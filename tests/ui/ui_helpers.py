"""Helpers for the pytest-qt tests (imported as ``ui_helpers``; tests/ui is on sys.path)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.database import Database
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import ProfileStore
from ctrader_admin.wiring import compose_backoffice, sandbox_transport

if TYPE_CHECKING:
    from ctrader_admin.store.pg.database import PgDatabase

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]


def run_async(qtbot: QtBot, awaitable: Awaitable[T], timeout: int = 10_000) -> T:
    """Run a coroutine on the qasync loop from a sync test, processing Qt events meanwhile."""
    task = asyncio.ensure_future(awaitable)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


def wait_for_dialog(qtbot: QtBot, name: str, timeout: int = 5_000) -> QDialog:
    """The visible dialog with this objectName (dialogs are opened with open(), not exec())."""
    found: list[QDialog] = []

    def visible() -> bool:
        found[:] = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QDialog) and w.objectName() == name and w.isVisible()
        ]
        return bool(found)

    qtbot.waitUntil(visible, timeout=timeout)
    return found[-1]


def answer(qtbot: QtBot, name: str, fill: Callable[[Any], None], accept: bool = True) -> None:
    """Wait for a dialog, let ``fill`` set its fields, then accept or reject it."""
    dialog = wait_for_dialog(qtbot, name)
    fill(dialog)
    if accept:
        dialog.accept()
    else:
        dialog.reject()


def clipped(dialog: QWidget) -> list[str]:
    """The visible labels and inputs of ``dialog`` that do not get the room they need."""
    problems: list[str] = []
    for label in dialog.findChildren(QLabel):
        if not label.isVisibleTo(dialog) or not label.text():
            continue
        if label.wordWrap():
            needed_height = label.heightForWidth(label.width())
            if needed_height > label.height():
                problems.append(f"{label.text()[:40]!r}: {label.height()} < {needed_height} px")
        else:
            hint = label.sizeHint()
            if hint.width() > label.width() or hint.height() > label.height():
                problems.append(f"{label.text()[:40]!r}: {label.size()} < {hint}")
    for field in dialog.findChildren(QLineEdit) + dialog.findChildren(QComboBox):
        if isinstance(field.parent(), QAbstractSpinBox | QComboBox):
            continue  # the editor inside a spin box or combo box is sized by its owner
        if field.isVisibleTo(dialog) and field.height() < field.sizeHint().height():
            problems.append(f"{field.objectName()}: {field.height()} px high, squashed")
    return problems


def open_sandbox_office(
    qtbot: QtBot,
    paths: AppPaths,
    sandbox: Sandbox,
    *,
    workstation: str = "test-workstation",
    team: PgDatabase | None = None,
) -> Backoffice:
    """A back office on the Sandbox profile, logged in as the training manager; its journal and
    budget in ``team`` when given (the caller shuts it down)."""
    office = compose_backoffice(
        Database.open(paths),
        ProfileStore(paths),
        transport=sandbox_transport(sandbox),
        workstation=workstation,
        team=team,
    )
    session = run_async(qtbot, office.open("sandbox"))
    run_async(qtbot, session.login(MANAGER.login, MANAGER.password, remember=False))
    return office


def app_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an app process of its own: offscreen, a throw-away home, no keyring."""
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "CTRADER_ADMIN_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        **extra,
    }


def run_app(code: str, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh process; it must exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=app_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done
