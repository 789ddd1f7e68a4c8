"""The team database's server stops: the app starts (and keeps working) read-only — reads from
the broker go on, every write is refused in words before anything is sent, the Journal tab shows
the last state this computer saw, the window says since when — and when the server is started
again the app reconnects by itself and is back in full mode, the views reloaded from the team.

A real PostgreSQL server of the test's own (``pg_outage``) is stopped and started."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import Outage
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox
from ctrader_admin.services import journal_live
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.lookup import Case, lookup
from ctrader_admin.services.session import WriteIntent
from ctrader_admin.services.team_link import LAST_STATE_FILE, TeamUnreachable
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.profiles import ProfileStore
from ctrader_admin.ui.journal_tab import JournalTab
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.wiring import compose_backoffice, sandbox_transport

BAND = re.compile(
    r"Team database unreachable since \d\d:\d\d — read-only, last state from \d\d:\d\d; retrying"
)


@pytest.fixture
def team(pg_outage: Outage) -> tuple[TeamSettings, TeamSettings]:
    server = pg_outage.server
    database = server.create_database()

    def settings(user: str) -> TeamSettings:
        return TeamSettings(
            host=server.host, port=server.port, database=database, user=user, tls=False
        )

    admin = settings(server.superuser)
    agent = f"desk1_{uuid.uuid4().hex[:6]}"
    with PgDatabase(admin, None) as db:
        init_team(db)
        add_member(db, agent, None)
    return admin, settings(agent)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # The backoff (5 s doubling up to 60 s in the app): short here, so that however long the
    # server stays away on a loaded machine, it is noticed back within a second.
    monkeypatch.setattr(journal_live, "RETRY_SECONDS", 0.2)
    monkeypatch.setattr(journal_live, "RETRY_MAX_SECONDS", 0.8)


def _another_workstation_writes(admin: TeamSettings, target: str) -> None:
    with PgDatabase(admin, None) as db:
        journal = Journal(db)
        try:
            draft = JournalDraft(
                operator="30017", profile_id="sandbox", profile_name="Sandbox",
                environment="demo", broker_name="sandbox", action="set_partner",
                target=target, after="DESK-2", reason="from desk 2", workstation="desk-2",
            )  # fmt: skip
            journal.complete(journal.begin(draft), "ok")
        finally:
            journal.close()


def _office(qtbot: QtBot, paths: AppPaths, sandbox: Sandbox, agent: TeamSettings) -> Backoffice:
    """The app's back office as ``build_backoffice`` makes it (team database opened even when
    its server is away), on the sandbox profile, logged in."""
    office = compose_backoffice(
        Database.open(paths),
        ProfileStore(paths),
        transport=sandbox_transport(sandbox),
        workstation="desk-1",
        team=PgDatabase(agent, None, unreachable_ok=True),
        data_dir=paths.ensure_data_dir(),
    )
    session = run_async(qtbot, office.open("sandbox"))
    manager = TRAINING_MANAGERS[0]
    run_async(qtbot, session.login(manager.login, manager.password, remember=False))
    return office


@pytest.fixture
def main_window(
    qtbot: QtBot, qsettings: QSettings, event_loop: asyncio.AbstractEventLoop
) -> Iterator[list[MainWindow]]:
    made: list[MainWindow] = []
    yield made
    run_async(qtbot, _close(made))  # after a failure (a passing test closes them itself)


async def _close(windows: list[MainWindow]) -> None:
    """The back offices stopped and the windows' own tasks (the band's budget, a view's
    refresh) ended, before pytest-qt deletes the windows."""
    for window in windows:
        await window.backoffice.shutdown()
    windows.clear()
    await _settled()


async def _settled() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.gather(*others, return_exceptions=True)


def _show(qtbot: QtBot, office: Backoffice, qsettings: QSettings) -> tuple[MainWindow, JournalTab]:
    window = MainWindow(office, qsettings)
    qtbot.addWidget(window)
    window.show()
    tab = window.show_tab("JournalTab")
    assert isinstance(tab, JournalTab)
    return window, tab


def test_started_while_the_team_server_is_down_then_back(
    qtbot: QtBot,
    paths: AppPaths,
    sandbox: Sandbox,
    qsettings: QSettings,
    team: tuple[TeamSettings, TeamSettings],
    pg_outage: Outage,
    main_window: list[MainWindow],
) -> None:
    admin, agent = team
    _another_workstation_writes(admin, "user:1000001")
    _another_workstation_writes(admin, "user:1000004")

    # A first run on this computer sees the team's journal and keeps its last state.
    office = _office(qtbot, paths, sandbox, agent)
    window, tab = _show(qtbot, office, qsettings)
    qtbot.waitUntil(lambda: tab.count_label.text() == "2 entries", timeout=10_000)
    last_state = paths.data_dir / LAST_STATE_FILE
    qtbot.waitUntil(last_state.exists, timeout=10_000)
    assert not window.team_status.isVisible()
    window.hide()  # that run ends (its window goes with the test)
    main_window.append(window)
    run_async(qtbot, _settled())
    run_async(qtbot, office.shutdown())

    pg_outage.halt()
    office = _office(qtbot, paths, sandbox, agent)
    main_window.append(office_window := _show(qtbot, office, qsettings)[0])
    window, tab = office_window, office_window.show_tab("JournalTab")
    assert isinstance(tab, JournalTab)

    # The window says it, in words, and the Journal shows the last state seen.
    assert BAND.fullmatch(window.team_status.text()), window.team_status.text()
    assert window.band.read_only.isVisible()
    qtbot.waitUntil(lambda: tab.count_label.text() == "2 entries", timeout=10_000)
    assert {tab.model.entry_at(i).target for i in range(2)} == {"user:1000001", "user:1000004"}

    # Reads from the broker work; a write is refused before anything is recorded or sent.
    session = office.session
    assert session is not None
    assert session.opened_offline
    case = run_async(qtbot, lookup(session, "1000001"))  # Lookup, through the broker's API
    assert isinstance(case, Case)
    assert case.user_id == 1000001
    assert case.partner_id == "IB-1042"
    sent: list[str] = []

    async def send() -> str:
        sent.append("sent")
        return "sent"

    before = len(sandbox.request_log)
    with pytest.raises(TeamUnreachable, match=r"cannot be reached since \d\d:\d\d"):
        run_async(
            qtbot,
            session.write(WriteIntent("set_partner", "user:1000001", None, "X", reason="r"), send),
        )
    assert sent == []
    assert sandbox.request_log[before:] == []
    with Database.open(paths) as local:  # nothing written locally either
        journal = Journal(local)
        assert journal.count() == 0
        journal.close()

    # The server comes back: the app reconnects by itself, full mode, views from the team.
    pg_outage.resume()
    _another_workstation_writes(admin, "user:1000002")
    qtbot.waitUntil(lambda: not window.team_status.isVisible(), timeout=20_000)
    qtbot.waitUntil(
        lambda: office.session is not None and not office.session.opened_offline, timeout=10_000
    )
    qtbot.waitUntil(lambda: tab.count_label.text() == "3 entries", timeout=10_000)
    assert tab.model.journal is office.journal
    assert not window.band.read_only.isVisible()
    run_async(qtbot, _close(main_window))


def test_losing_the_team_server_mid_session_says_so_and_keeps_the_view(
    qtbot: QtBot,
    paths: AppPaths,
    sandbox: Sandbox,
    qsettings: QSettings,
    team: tuple[TeamSettings, TeamSettings],
    pg_outage: Outage,
    main_window: list[MainWindow],
) -> None:
    admin, agent = team
    _another_workstation_writes(admin, "user:1000001")
    office = _office(qtbot, paths, sandbox, agent)
    window, tab = _show(qtbot, office, qsettings)
    main_window.append(window)
    qtbot.waitUntil(lambda: tab.count_label.text() == "1 entry", timeout=10_000)

    pg_outage.halt()
    qtbot.waitUntil(lambda: BAND.fullmatch(window.team_status.text()) is not None, timeout=20_000)
    assert tab.count_label.text() == "1 entry"  # the view keeps what it shows
    session = office.session
    assert session is not None
    with pytest.raises(TeamUnreachable):
        session.check_can_write("r", "")

    pg_outage.resume()
    qtbot.waitUntil(lambda: not window.team_status.isVisible(), timeout=20_000)
    session = office.session
    assert session is not None
    session.check_can_write("r", "")  # full mode again
    run_async(qtbot, _close(main_window))


def test_no_last_state_is_said_too(tmp_path: Path) -> None:
    from ctrader_admin.services.team_link import TeamLink

    class Away:
        path = "anna@db.example.com:5432/team"
        unreachable_since = 0.0
        reachable = False

    link = TeamLink(Away(), tmp_path)  # type: ignore[arg-type]
    text = link.band_text()
    assert text is not None
    assert text.endswith("read-only, no last state on this computer; retrying")
    with pytest.raises(TeamUnreachable, match=re.escape("anna@db.example.com:5432/team")):
        link.refuse_writes()
