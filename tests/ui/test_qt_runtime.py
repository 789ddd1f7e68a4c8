"""The Qt binding must survive a working day: PySide6 6.12.0 on Python 3.11 dropped a reference to
None on every void call and aborted the process after a few thousand of them."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


def test_void_qt_calls_do_not_leak_references_to_none(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(20_000):
        label.setText("x")
        label.hide()
    # Immortal None (Python ≥ 3.12) reports a huge constant; otherwise the count must not sink.
    assert sys.getrefcount(None) >= before - 100
