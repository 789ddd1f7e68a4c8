"""What keeps the window's thread free while a job runs (benchmarks/gui_stall.py measures it):
a new progress text re-lays out only its own line, a job starting on the plan on screen repaints
no row, the plan is counted once however often the buttons are refreshed, the controls the
confirmation turned off stay off until the job ends, and the job's report appears in room kept
for it — each checked on what the operator sees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QPushButton, QTabWidget
from pytestqt.qtbot import QtBot
from test_jobs_tab import HEADER, confirm, make_tab, plan_file, reachable_users
from ui_helpers import wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.bulk import Plan, Progress
from ctrader_admin.services.job_summary import progress_text
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.jobs.plan_model import PlanRowsModel
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


def _plan(tmp_path: Path, qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, rows: int) -> JobsTab:
    users = reachable_users(sandbox, rows)
    source = tmp_path / "attributions.csv"
    lines = [HEADER] + [f"user,{user},,SMOOTH-{n}" for n, user in enumerate(users)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tab = make_tab(qtbot, ctx)
    plan_file(qtbot, tab, source)
    assert tab.plan is not None
    return tab


def test_a_plan_shown_again_announces_states_only_when_it_had_some(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    tab = _plan(tmp_path, qtbot, ctx, sandbox, 6)
    plan = tab.plan
    assert plan is not None
    model: PlanRowsModel = tab.plan_view.model
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    model.set_plan(plan)  # as a job starts on the diff on screen: nothing to clear
    assert changed == []
    assert resets == []
    assert model.rowCount() == 6

    model.update_states([(0, "ok", None), (3, "failed", "HTTP 500")])
    changed.clear()
    model.set_plan(plan)  # a job started again on rows that show states: they are cleared
    assert changed == [(0, 5)]
    assert resets == []
    assert model.states() == [None] * 6
    assert model.text(3, 6) == ""  # the Detail column no longer says HTTP 500


def test_refreshing_the_buttons_counts_the_plan_once(
    qtbot: QtBot,
    ctx: UiContext,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tab = _plan(tmp_path, qtbot, ctx, sandbox, 4)
    walks: list[str] = []
    counts = Plan.counts

    def counting(plan: Plan) -> dict[str, int]:
        walks.append("counts")
        return counts(plan)

    def to_write(plan: Plan) -> int:
        walks.append("to_write")
        return sum(1 for row in plan.rows if row.status == "write")

    monkeypatch.setattr(Plan, "counts", counting)
    monkeypatch.setattr(Plan, "to_write", property(to_write))
    plan = tab.plan
    assert plan is not None
    tab.show_plan(plan.model_copy())  # another plan object: counted afresh, once
    for _ in range(5):
        tab.refresh_buttons()
    assert walks == ["counts"]
    assert tab.plan_view.apply_button.isEnabled()
    assert "ok (to write): 4" in tab.plan_view.summary.text()


class SwitchedOn(QObject):
    """Controls turned on while ``until`` is still false."""

    def __init__(self, until: Callable[[], bool]) -> None:
        super().__init__()
        self.until = until
        self.names: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.EnabledChange and not self.until():
            assert isinstance(watched, QPushButton)
            if watched.isEnabled():
                self.names.append(watched.objectName())
        return False


def test_the_controls_stay_off_from_the_confirmation_to_the_jobs_end(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    tab = _plan(tmp_path, qtbot, ctx, sandbox, 4)
    controls = [
        tab.open_csv_button,
        tab.open_plan_button,
        tab.revert_button,
        tab.plan_view.apply_button,
        tab.plan_view.save_button,
        tab.job_list.refresh_button,
    ]
    tab.plan_view.apply_button.click()
    wait_for_dialog(qtbot, "confirmWriteDialog")  # the confirmation is up: every control is off
    assert not any(control.isEnabled() for control in controls)
    # From the confirmation until the job's result is in, none of them may come on, not even
    # for a moment (each change is a repaint in the job's busiest turn).
    switched_on = SwitchedOn(until=lambda: tab.last_result is not None)
    for control in controls:
        control.installEventFilter(switched_on)
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        confirm(qtbot, tab)
    result = tab.last_result
    assert result is not None
    assert result.counts["ok"] == 4
    assert switched_on.names == []
    assert tab.open_csv_button.isEnabled()  # on again once the job ended


def test_the_jobs_report_appears_without_moving_the_tables(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    tab = _plan(tmp_path, qtbot, ctx, sandbox, 3)
    tables = (tab.plan_view.table, tab.job_list.table)
    sandbox.config.latency_ms = 30  # time to look at the running job
    tab.plan_view.apply_button.click()
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        confirm(qtbot, tab)
        qtbot.waitUntil(lambda: tab.running and tab.plan_view.progress.isVisible())
        settle(QApplication.instance())  # type: ignore[arg-type]
        assert not tab.bar.isVisible()
        before = [(table.mapTo(tab, table.rect().topLeft()), table.size()) for table in tables]
    qtbot.waitUntil(tab.bar.isVisible)
    assert "finished: ok 3" in tab.bar.label.text()
    # The message line had its room already: the report shows under the tables, which neither
    # shrank nor moved (laying the whole tab out again was ~10 ms in the job's last turn).
    after = [(table.mapTo(tab, table.rect().topLeft()), table.size()) for table in tables]
    assert after == before
    bar = tab.bar.geometry()
    assert bar.top() >= tab.splitter.geometry().bottom()
    assert bar.bottom() <= tab.rect().bottom()
    label = tab.bar.label
    assert label.height() >= label.heightForWidth(label.width())  # the whole text, not clipped
