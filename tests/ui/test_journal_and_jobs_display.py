"""What the Journal and Jobs tabs show (issue 12, "Journal, Jobs, menus"): words instead of codes,
the columns that matter on screen at the default size, headers that fit, local times, plurals."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.services import journal_ops, partners
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.ui.jobs.plan_model import TARGET
from ctrader_admin.ui.jobs.tab import JobsTab
from ctrader_admin.ui.journal_model import COLUMNS
from ctrader_admin.ui.journal_tab import JournalTab
from ctrader_admin.ui.main_window import MainWindow

USER = 1000002  # sandbox seed: AFF-EU-318 at user level
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def headers_that_do_not_fit(table: QTableView) -> list[str]:
    header = table.horizontalHeader()
    model = table.model()
    return [
        str(model.headerData(c, Qt.Orientation.Horizontal))
        for c in range(header.count())
        if header.sectionSize(c) < header.sectionSizeHint(c)
    ]


def test_the_journal_speaks_words_and_shows_reason_and_ticket_at_the_default_size(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    session = backoffice.session
    assert session is not None
    run_async(
        qtbot,
        partners.set_partner(
            session, UserTarget(USER), "IB-7", reason="partner claim", ticket="SUP-11"
        ),
    )
    window = MainWindow(backoffice, qsettings)  # the default size
    qtbot.addWidget(window)
    window.show()
    tab = window.show_tab("JournalTab")
    assert isinstance(tab, JournalTab)
    qtbot.waitUntil(lambda: tab.model.total == 1 and not tab.model.loading, timeout=10_000)
    model, table = tab.model, tab.table
    shown = [model.data(model.index(0, c)) for c in range(len(COLUMNS))]
    assert shown[COLUMNS.index("Action")] == "Set partnerId"
    assert not set(journal_ops.ACTION_NAMES) & set(shown)  # no internal code anywhere
    combo = [tab.action_combo.itemText(i) for i in range(tab.action_combo.count())]
    assert "Move to White Label" in combo
    assert not set(journal_ops.ACTION_NAMES) & set(combo)
    header = table.horizontalHeader()
    for name in ("Reason", "Ticket"):
        column = COLUMNS.index(name)
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        assert right <= table.viewport().width(), f"{name} is off-screen"
    assert shown[COLUMNS.index("Reason")] == "partner claim"
    assert headers_that_do_not_fit(table) == []


def opener(path: Path) -> Callable[..., Awaitable[str | None]]:
    async def choose(*_args: object) -> str | None:
        return str(path)

    return choose


def planned(qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings, source: Path) -> JobsTab:
    """The Jobs tab of a window at the default size, showing the plan of ``source``."""
    window = MainWindow(backoffice, qsettings)
    qtbot.addWidget(window)
    window.show()
    tab = window.show_tab("JobsTab")
    assert isinstance(tab, JobsTab)
    tab.choose_open_path = opener(source)
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        tab.open_csv_button.click()
    return tab


def test_a_plan_of_one_row_reads_naturally(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings, tmp_path: Path
) -> None:
    source = tmp_path / "one.csv"
    source.write_text(
        "level,userId,ctidTraderAccountId,partnerId\nuser,1000002,,IB-9\n", encoding="utf-8"
    )
    tab = planned(qtbot, backoffice, qsettings, source)
    summary = tab.plan_view.summary.text()
    assert "<b>Register partners in bulk: 1 row</b>" in summary
    assert "1 rows" not in summary
    assert "error: 0" in summary
    assert "<span style='color" not in summary  # nothing to alarm about: no red
    assert not ISO_TIME.search(summary)  # a local time, not the raw ISO stamp
    assert headers_that_do_not_fit(tab.plan_view.table) == []
    assert headers_that_do_not_fit(tab.job_list.table) == []


def test_a_long_target_is_shown_whole_in_its_tooltip(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings, tmp_path: Path
) -> None:
    source = tmp_path / "moves.csv"
    source.write_text(
        "login,environment,brokerName\n5200001,live,sandbox_eu\n"
        "3100001,a-very-long-environment-name-indeed,sandbox_eu\n",
        encoding="utf-8",
    )
    tab = planned(qtbot, backoffice, qsettings, source)
    model = tab.plan_view.model
    header = tab.plan_view.table.horizontalHeader()
    metrics = tab.plan_view.table.fontMetrics()
    for row in range(model.rowCount()):
        index = model.index(row, TARGET)
        text = model.data(index)
        assert model.data(index, Qt.ItemDataRole.ToolTipRole) == text
        if row == 0:  # a usual target fits its column
            assert metrics.horizontalAdvance(text) <= header.sectionSize(TARGET)
