"""The Approvals view as two agents on one team database see it (each their own database role and
connection): Anna's change appears in Bob's view, Bob approves it with a comment; Anna cannot
decide her own; a decision on a stale screen is refused in words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pg_cluster import PgServer
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot
from team_db import team_of_two
from ui_helpers import clipped, open_sandbox_office, run_async

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.approvals import Approvals, ChangeBody
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.approvals import ApprovalStore
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.profiles import builtin_sandbox_profile
from ctrader_admin.ui.approvals_view import OWN_CHANGE, ApprovalsView
from ctrader_admin.ui.main_window import TABS, MainWindow

PROFILE = builtin_sandbox_profile()
CHANGE = ChangeBody("account:5200005", "move_wl", "sandbox_main", "sandbox_eu", PROFILE.id, "live")


@dataclass
class Agents:
    anna: Approvals
    bob: Approvals
    anna_name: str
    bob_name: str


@pytest.fixture
def agents(pg_server: PgServer) -> Iterator[Agents]:
    _, anna, bob = team_of_two(pg_server)
    names = (anna.user, bob.user)
    databases = [PgDatabase(each, None) for each in (anna, bob)]
    try:
        yield Agents(*(Approvals(ApprovalStore(db)) for db in databases), *names)
    finally:
        for database in databases:
            database.close()


def _view(qtbot: QtBot, approvals: Approvals) -> ApprovalsView:
    view = ApprovalsView(None, approvals=approvals)
    qtbot.addWidget(view)
    view.resize(1100, 420)
    view.show()
    return view


def _refreshed(qtbot: QtBot, view: ApprovalsView, rows: int) -> None:
    view.count_label.clear()
    view.refresh()
    # The count is written when the read has come back (an empty table is no proof of that).
    said = f"{rows} approval" + ("" if rows == 1 else "s")
    qtbot.waitUntil(lambda: view.count_label.text() == said, timeout=10_000)
    assert view.table.rowCount() == rows


def test_anna_submits_bob_approves_and_anna_cannot_decide_her_own(
    qtbot: QtBot, event_loop: object, agents: Agents
) -> None:
    number = agents.anna.submit(CHANGE, reason="client asked", ticket="SUP-9", profile=PROFILE)
    anna_view, bob_view, stale_view = (
        _view(qtbot, agents.anna), _view(qtbot, agents.bob), _view(qtbot, agents.bob),
    )  # fmt: skip
    for view in (anna_view, bob_view, stale_view):
        _refreshed(qtbot, view, 1)

    anna_view.table.selectRow(0)
    assert not anna_view.approve_button.isEnabled()
    assert not anna_view.reject_button.isEnabled()
    assert anna_view.status_line.text() == OWN_CHANGE

    bob_view.table.selectRow(0)
    row = [bob_view.table.item(0, c).text() for c in range(bob_view.table.columnCount())]
    assert row[:4] == [
        str(number), "Waiting for a decision",
        "Move to White Label account:5200005: sandbox_main → sandbox_eu",
        f"{PROFILE.id} / live",
    ]  # fmt: skip
    assert row[4].startswith(agents.anna_name + ", ")
    assert row[5] == "client asked · SUP-9"
    assert bob_view.approve_button.isEnabled()
    assert clipped(bob_view) == []
    bob_view.comment_edit.setText("checked the client's request")
    bob_view.approve_button.click()
    qtbot.waitUntil(lambda: bob_view.status_line.text().startswith("✔"), timeout=10_000)
    assert bob_view.status_line.text() == (
        f"✔ Approval {number}: approved — Move to White Label account:5200005: "
        "sandbox_main → sandbox_eu."
    )
    qtbot.waitUntil(lambda: bob_view.table.rowCount() == 0, timeout=10_000)  # none pending

    # Bob's other window still shows it pending: deciding again is refused, in words.
    stale_view.table.selectRow(0)
    stale_view.comment_edit.setText("no")
    stale_view.reject_button.click()
    qtbot.waitUntil(lambda: stale_view.status_line.text().startswith("✖"), timeout=10_000)
    assert stale_view.status_line.text() == (
        f"✖ Approval {number} was already approved by {agents.bob_name}: "
        "it cannot be decided again."
    )

    anna_view.state_combo.setCurrentIndex(1)  # decided
    qtbot.waitUntil(
        lambda: anna_view.table.rowCount() == 1 and anna_view.table.item(0, 1).text() == "Approved",
        timeout=10_000,
    )
    assert anna_view.table.item(0, 6).text() == agents.bob_name
    assert anna_view.table.item(0, 7).text() == "checked the client's request"
    anna_view.table.selectRow(0)
    assert not anna_view.approve_button.isEnabled()


def test_a_rejection_without_a_comment_is_refused_in_words(
    qtbot: QtBot, event_loop: object, agents: Agents
) -> None:
    agents.anna.submit(CHANGE, reason="r", ticket="", profile=PROFILE)
    view = _view(qtbot, agents.bob)
    _refreshed(qtbot, view, 1)
    view.table.selectRow(0)
    view.reject_button.click()
    qtbot.waitUntil(lambda: view.status_line.text().startswith("✖"), timeout=10_000)
    assert "Comment: say why the change is rejected" in view.status_line.text()
    assert agents.anna.list("pending")[0].state == "pending"


def test_another_agents_submission_appears_without_a_refresh(
    qtbot: QtBot, event_loop: object, agents: Agents
) -> None:
    view = _view(qtbot, agents.bob)
    _refreshed(qtbot, view, 0)
    view.start_live_updates()
    try:
        agents.anna.submit(CHANGE, reason="r", ticket="", profile=PROFILE)
        # Told by the server (LISTEN/NOTIFY): no click, no timer.
        qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=10_000)
        assert view.table.item(0, 4).text().startswith(agents.anna_name)
    finally:
        view.stop_live_updates()


def _tab_titles(main: MainWindow) -> list[str]:
    return [main.tabs.tabText(i) for i in range(main.tabs.count())]


def test_the_main_window_on_the_team_database_has_a_live_approvals_tab_on_its_alt_n(
    qtbot: QtBot,
    event_loop: object,
    pg_server: PgServer,
    paths: AppPaths,
    sandbox: Sandbox,
    qsettings: QSettings,
) -> None:
    _, anna, bob = team_of_two(pg_server)
    office = open_sandbox_office(qtbot, paths, sandbox, team=PgDatabase(bob, None))
    try:
        main = MainWindow(office, qsettings)
        qtbot.addWidget(main)
        main.show()
        assert _tab_titles(main)[-1] == "Approvals"
        view = main.approvals_view
        assert view is not None
        # Go → "N Approvals" on Alt+N, the number after every tab of the local path.
        go = next(a.menu() for a in main.menuBar().actions() if a.text() == "&Go")
        assert isinstance(go, QMenu)
        entries = {a.text().replace("&", ""): a for a in go.actions() if a.shortcut().count()}
        number = len(TABS) + 1
        assert entries[f"{number} Approvals"].shortcut().toString() == f"Alt+{number}"
        qtbot.waitExposed(main)
        main.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is main)
        qtbot.keyClick(main, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.AltModifier)
        assert main.tabs.currentWidget() is view  # from the keyboard, as every other tab
        with PgDatabase(anna, None) as db:
            Approvals(ApprovalStore(db)).submit(CHANGE, reason="r", ticket="", profile=PROFILE)
        # Told by the server: Bob's tab shows Anna's change without a click.
        qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=10_000)
        assert view.table.item(0, 4).text().startswith(anna.user)
        view.stop_live_updates()
    finally:
        run_async(qtbot, office.shutdown())


def test_the_main_window_on_the_local_database_has_no_approvals_tab(
    qtbot: QtBot, event_loop: object, paths: AppPaths, sandbox: Sandbox, qsettings: QSettings
) -> None:
    office = open_sandbox_office(qtbot, paths, sandbox)
    try:
        main = MainWindow(office, qsettings)
        qtbot.addWidget(main)
        assert "Approvals" not in _tab_titles(main)
        assert main.approvals_view is None
    finally:
        run_async(qtbot, office.shutdown())
