"""runtime.after_first_paint: start-up work runs once, after the window's first frame — or,
for a window nobody looks at (minimised, on another workspace), after a bound."""

from __future__ import annotations

from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from ctrader_admin.runtime import after_first_paint


class Counted(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        super().paintEvent(event)


def test_the_work_runs_once_after_the_first_frame(qtbot: QtBot) -> None:
    window = Counted()
    qtbot.addWidget(window)
    paints_seen: list[int] = []
    after_first_paint(window, lambda: paints_seen.append(window.paints), at_latest_ms=60_000)
    window.show()
    qtbot.waitUntil(lambda: bool(paints_seen))
    window.repaint()  # later frames start nothing more
    qtbot.wait(50)
    assert len(paints_seen) == 1
    assert paints_seen[0] >= 1


def test_a_window_never_painted_still_starts(qtbot: QtBot) -> None:
    window = Counted()  # never shown: no frame comes
    qtbot.addWidget(window)
    calls: list[int] = []
    after_first_paint(window, lambda: calls.append(window.paints), at_latest_ms=10)
    qtbot.waitUntil(lambda: bool(calls))
    window.show()  # a frame after the bound starts nothing more
    qtbot.waitExposed(window)
    qtbot.wait(50)
    assert calls == [0]
