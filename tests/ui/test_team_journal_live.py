"""In team mode the Journal tab and the band show what another workstation wrote, told by the
server (LISTEN/NOTIFY), without a refresh by the operator."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import PgServer
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from team_db import another_workstation_writes, desk_team
from ui_helpers import open_sandbox_office, run_async

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.history_import import run_import
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.journal_tab import JournalTab
from ctrader_admin.ui.main_window import MainWindow


@pytest.fixture
def team(pg_server: PgServer) -> tuple[TeamSettings, TeamSettings]:
    """A team database; the administrator's settings and an agent's."""
    return desk_team(pg_server)


@pytest.fixture
def team_office(
    paths: AppPaths,
    sandbox: Sandbox,
    team: tuple[TeamSettings, TeamSettings],
    event_loop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
) -> Iterator[Backoffice]:
    office = open_sandbox_office(
        qtbot, paths, sandbox, workstation="desk-1", team=PgDatabase(team[1], None)
    )
    yield office
    run_async(qtbot, office.shutdown())


def test_the_journal_tab_shows_another_workstations_write(
    qtbot: QtBot,
    team_office: Backoffice,
    team: tuple[TeamSettings, TeamSettings],
    window: QWidget,
) -> None:
    tab = JournalTab(UiContext(team_office, window))
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        tab.show()
    assert tab.model.total == 0

    another_workstation_writes(team[0], "user:1000001")

    def shown() -> bool:
        entry = tab.model.entry_at(0)
        return entry is not None and entry.workstation == "desk-2"

    qtbot.waitUntil(shown, timeout=10_000)
    assert tab.model.total == 1
    assert tab.count_label.text() == "1 entry"


def test_the_band_counts_the_teams_writes(
    qtbot: QtBot,
    team_office: Backoffice,
    team: tuple[TeamSettings, TeamSettings],
    qsettings: QSettings,
) -> None:
    main = MainWindow(team_office, qsettings)
    qtbot.addWidget(main)
    per_hour = team_office.profiles.get("sandbox").write_budget_per_hour
    qtbot.waitUntil(lambda: main.band.budget.text() == f"Writes left: {per_hour} / {per_hour}")

    session = team_office.session
    assert session is not None
    with PgDatabase(team[0], None) as db:  # another workstation reserves a slot and writes
        from ctrader_admin.store.pg.budget import TeamBudgetWindow

        TeamBudgetWindow(db, f"{session.profile.base_url}#{session.profile.manager_login}").take(
            per_hour
        )
    another_workstation_writes(team[0], "user:1000004")
    expected = f"Writes left: {per_hour - 1} / {per_hour}"
    qtbot.waitUntil(lambda: main.band.budget.text() == expected, timeout=10_000)
    assert "every workstation of the team" in main.band.budget.toolTip()


def test_views_say_the_team_server_is_gone_in_words(
    qtbot: QtBot,
    team_office: Backoffice,
    team: tuple[TeamSettings, TeamSettings],
    qsettings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crashes: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: crashes.append(exc))
    main = MainWindow(team_office, qsettings)
    qtbot.addWidget(main)
    main.show()
    tab = main.show_tab("JournalTab")
    assert isinstance(tab, JournalTab)
    qtbot.waitUntil(lambda: tab.count_label.text() == "0 entries", timeout=10_000)

    admin, agent = team
    with PgDatabase(admin, None) as db:
        # The agent can no longer connect (committed first: the app reconnects at once), and
        # every connection it had is cut.
        with db.transaction() as conn:
            conn.execute(f'ALTER ROLE "{agent.user}" NOLOGIN')
        with db.transaction() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ?",
                (agent.user,),
            )

    def cut() -> bool:  # pg_terminate_backend only signals: the backends end a moment later
        with PgDatabase(admin, None) as db, db.read() as conn:
            return not conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = ?", (agent.user,)
            ).fetchone()[0]

    qtbot.waitUntil(cut, timeout=10_000)
    tab.reload()
    qtbot.waitUntil(lambda: "team database" in tab.bar.text(), timeout=10_000)
    main.refresh_band()
    qtbot.waitUntil(lambda: main.band.budget.text() == "Writes left: unknown", timeout=10_000)
    assert "team database" in main.band.budget.toolTip()
    assert crashes == []
    with PgDatabase(admin, None) as db, db.transaction() as conn:
        conn.execute(f'ALTER ROLE "{agent.user}" LOGIN')  # the fixture's shutdown reconnects


def test_an_imported_entry_shows_where_it_came_from(
    qtbot: QtBot,
    team_office: Backoffice,
    team: tuple[TeamSettings, TeamSettings],
    window: QWidget,
    tmp_path: Path,
) -> None:
    workstation = tmp_path / "ctrader-admin.sqlite3"  # another computer's file, before team mode
    with Database(workstation) as db:
        local = Journal(db)
        draft = JournalDraft(
            operator="30005", profile_id="sandbox", profile_name="Sandbox", environment="demo",
            broker_name="sandbox", action="set_partner", target="user:1000002", after="WS3-1",
            reason="before team mode", workstation="WS-3",
        )  # fmt: skip
        original = local.complete(local.begin(draft), "ok")
        local.close()
    with PgDatabase(team[0], None) as db:
        assert run_import(workstation, db, dry_run=False).imported == 1  # type: ignore[union-attr]
    tab = JournalTab(UiContext(team_office, window))
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        tab.show()
    tab.table.selectRow(0)
    qtbot.waitUntil(lambda: "Imported:" in tab.details.toPlainText())
    details = tab.details.toPlainText()
    assert f"Imported:    from WS-3, #1 ({workstation})" in details
    assert f"by {team[0].user} at " in details
    assert f"Original:    {original.hash} (#1 on WS-3)" in details
    assert "Operator:    30005 on WS-3" in details  # the original operator, not the importer
