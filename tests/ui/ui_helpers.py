"""Helpers for the pytest-qt tests (imported as ``ui_helpers``; tests/ui is on sys.path)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

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

from ctrader_admin.sandbox import TRAINING_MANAGERS

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
