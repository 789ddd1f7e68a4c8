"""What keeps the window's thread free while a job runs (benchmarks/gui_stall.py measures it):
a new progress text re-lays out only its own line — checked on what the operator sees."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QTabWidget
from pytestqt.qtbot import QtBot
from test_jobs_tab import make_tab

from ctrader_admin.services.bulk import Progress
from ctrader_admin.services.job_summary import progress_text
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.jobs.tab import JobsTab


class EventLog(QObject):
    """Events of some types delivered to the watched widgets, in order."""

    def __init__(self, kinds: set[QEvent.Type]) -> None:
        super().__init__()
        self.kinds = kinds
        self.seen: list[tuple[QObject, QEvent.Type]] = []

    def watch(self, *widgets: QObject) -> None:
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in self.kinds:
            self.seen.append((watched, event.type()))
        return False


def progress(done: int, eta: float | None, ok: int) -> Progress:
    return Progress(
        job_id="job-1",
        total=10_000,
        done=done,
        counts={"ok": ok},
        eta_seconds=eta,
        writes_left=20_000 - ok,
        writes_per_hour=20_000,
        phase="running",
    )


def settle(app: QApplication) -> None:
    for _ in range(10):  # a layout request climbs one level per pass
        app.processEvents()


def test_a_new_progress_text_lays_out_its_line_only(
    qtbot: QtBot, ctx: UiContext, qapp: QApplication
) -> None:
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tab = JobsTab(ctx)
    tabs.addTab(tab, "Jobs")
    tabs.resize(1200, 760)
    tabs.show()
    panel = tab.plan_view.progress
    panel.start(10_000, "Applying attributions.csv")
    settle(qapp)
    log = EventLog({QEvent.Type.LayoutRequest})
    log.watch(tabs, tab, tab.plan_view.top, panel)
    reports = [progress(999, 70.0, 999), progress(1_000, 9.0, 1_000), progress(4_321, None, 7)]
    for report in reports:
        panel.show_progress(report)
        settle(qapp)
        # What the operator reads: the whole line, in the room the bar and Stop leave.
        assert panel.label.text() == progress_text(report)
        assert panel.label.isVisible()
        label = panel.label.geometry().translated(panel.label.parentWidget().pos())
        assert label.left() >= panel.bar.geometry().right()
        assert label.right() < panel.stop_button.geometry().left()
        assert label.width() > 400
        assert panel.label.height() >= panel.label.sizeHint().height()
    # ...and no layout above the line was asked to recompute (each was ~4 ms of the window's
    # thread at every report: the tab widget repainted itself whole).
    assert log.seen == []
    assert panel.bar.value() == 4_321


def test_the_progress_line_follows_a_larger_font(
    qtbot: QtBot, ctx: UiContext, qapp: QApplication
) -> None:
    tab = make_tab(qtbot, ctx)
    panel = tab.plan_view.progress
    panel.start(100, "Applying")
    panel.show_progress(progress(1, 5.0, 1))
    settle(qapp)
    before = panel.label.height()
    font = QFont(panel.font())
    font.setPointSizeF(font.pointSizeF() * 2)
    panel.setFont(font)  # the label inherits it
    settle(qapp)
    assert panel.label.height() > before
    assert panel.label.height() >= panel.label.sizeHint().height()
