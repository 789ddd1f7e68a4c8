"""The team database's server stops: the app starts (and keeps working) read-only — reads from
the broker go on, every write is refused in words before anything is sent, the Journal tab shows
the last state this computer saw, the window says since when — and when the server is started
again the app reconnects by itself and is back in full mode, the views reloaded from the team.

A real PostgreSQL server of the test's own (``pg_outage``) is stopped and started."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pg_cluster import Outage
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from team_db import another_workstation_writes, desk_team
from ui_helpers import run_async

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox
from ctrader_admin.services import journal_live
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.bulk import JobRunner, plan_csv
from ctrader_admin.services.lookup import Case, lookup
from ctrader_admin.services.session import WriteIntent
from ctrader_admin.services.team_link import LAST_JOBS_FILE, LAST_STATE_FILE, TeamUnreachable
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.profiles import ProfileStore
from ctrader_admin.ui.jobs.tab import JobsTab
from ctrader_admin.ui.journal_tab import JournalTab
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.wiring import compose_backoffice, sandbox_transport

LAST_JOBS = re.compile(
    r"Last state from \d\d:\d\d: the team database cannot be reached, so this list is "
    r"read-only — no job can be started, resumed or stopped from it until the database answers\."
)
BAND = re.compile(
    r"Team database unreachable since \d\d:\d\d — read-only, last state from \d\d:\d\d; retrying"
)


@pytest.fixture
def team(pg_outage: Outage) -> tuple[TeamSettings, TeamSettings]:
    """A team database; the administrator's settings and an agent's."""
    return desk_team(pg_outage.server)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # The backoff (5 s doubling up to 60 s in the app): short here, so that however long the
    # server stays away on a loaded machine, it is noticed back within a second.
    monkeypatch.setattr(journal_live, "RETRY_SECONDS", 0.2)
    monkeypatch.setattr(journal_live, "RETRY_MAX_SECONDS", 0.8)


@dataclass
class Desk:
    """This workstation (desk 1) on the team database of a server the test stops and starts."""

    qtbot: QtBot
    paths: AppPaths
    sandbox: Sandbox
    qsettings: QSettings
    admin: TeamSettings
    agent: TeamSettings
    server: Outage
    windows: list[MainWindow] = field(default_factory=list)

    def start(self) -> tuple[Backoffice, MainWindow, JournalTab]:
        """The app's back office as ``build_backoffice`` makes it (the team database opened even
        while its server is away), on the sandbox profile, logged in, in a main window on the
        Journal tab."""
        office = compose_backoffice(
            Database.open(self.paths),
            ProfileStore(self.paths),
            transport=sandbox_transport(self.sandbox),
            workstation="desk-1",
            team=PgDatabase(self.agent, None, unreachable_ok=True),
            data_dir=self.paths.ensure_data_dir(),
        )
        session = run_async(self.qtbot, office.open("sandbox"))
        manager = TRAINING_MANAGERS[0]
        run_async(self.qtbot, session.login(manager.login, manager.password, remember=False))
        window = MainWindow(office, self.qsettings)
        self.qtbot.addWidget(window)
        self.windows.append(window)
        window.show()
        tab = window.show_tab("JournalTab")
        assert isinstance(tab, JournalTab)
        return office, window, tab

    def close(self) -> None:
        """The back offices stopped and the windows' own tasks (the band's budget, a view's
        refresh) ended, before pytest-qt deletes the windows."""
        run_async(self.qtbot, _close(self.windows))


async def _close(windows: list[MainWindow]) -> None:
    for window in windows:
        if window.approvals_view is not None:  # its listening connection, closed now
            window.approvals_view.stop_live_updates()
        await window.backoffice.shutdown()
    windows.clear()
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.gather(*others, return_exceptions=True)


@pytest.fixture
def desk(
    qtbot: QtBot,
    paths: AppPaths,
    sandbox: Sandbox,
    qsettings: QSettings,
    team: tuple[TeamSettings, TeamSettings],
    pg_outage: Outage,
    event_loop: asyncio.AbstractEventLoop,
) -> Iterator[Desk]:
    made = Desk(qtbot, paths, sandbox, qsettings, *team, pg_outage)
    yield made
    made.close()  # after a failure (a passing test closes them itself)


def test_started_while_the_team_server_is_down_then_back(desk: Desk, qtbot: QtBot) -> None:
    admin, paths, sandbox = desk.admin, desk.paths, desk.sandbox
    another_workstation_writes(admin, "user:1000001")
    another_workstation_writes(admin, "user:1000004")

    # A first run on this computer sees the team's journal and keeps its last state.
    office, window, tab = desk.start()
    qtbot.waitUntil(lambda: tab.count_label.text() == "2 entries", timeout=10_000)
    last_state = paths.data_dir / LAST_STATE_FILE
    qtbot.waitUntil(last_state.exists, timeout=10_000)
    assert not window.team_status.isVisible()
    window.hide()
    desk.close()  # that run ends

    desk.server.halt()
    office, window, tab = desk.start()

    # The window says it, in words, and the Journal shows the last state seen.
    assert BAND.fullmatch(window.team_status.text()), window.team_status.text()
    assert window.band.read_only.isVisible()
    approvals = window.approvals_view
    assert approvals is not None
    assert not approvals.listening  # not tried on the GUI thread while the server is away
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
    desk.server.resume()
    another_workstation_writes(admin, "user:1000002")
    qtbot.waitUntil(lambda: not window.team_status.isVisible(), timeout=20_000)
    qtbot.waitUntil(
        lambda: office.session is not None and not office.session.opened_offline, timeout=10_000
    )
    qtbot.waitUntil(lambda: tab.count_label.text() == "3 entries", timeout=10_000)
    assert tab.model.journal is office.journal
    qtbot.waitUntil(lambda: approvals.listening, timeout=10_000)  # live again
    qtbot.waitUntil(lambda: not window.band.read_only.isVisible(), timeout=10_000)
    desk.close()


def test_losing_the_team_server_mid_session_says_so_and_keeps_the_view(
    desk: Desk, qtbot: QtBot
) -> None:
    another_workstation_writes(desk.admin, "user:1000001")
    office, window, tab = desk.start()
    qtbot.waitUntil(lambda: tab.count_label.text() == "1 entry", timeout=10_000)

    desk.server.halt()
    qtbot.waitUntil(lambda: BAND.fullmatch(window.team_status.text()) is not None, timeout=20_000)
    assert tab.count_label.text() == "1 entry"  # the view keeps what it shows
    session = office.session
    assert session is not None
    with pytest.raises(TeamUnreachable):
        session.check_can_write("r", "")
    # Lookup still answers from the broker, learning into memory for the outage only.
    case = run_async(qtbot, lookup(session, "1000001"))
    assert isinstance(case, Case)
    assert (case.user_id, case.partner_id) == (1000001, "IB-1042")
    assert session.directory is not office.directory

    desk.server.resume()
    qtbot.waitUntil(lambda: not window.team_status.isVisible(), timeout=20_000)
    session = office.session
    assert session is not None
    session.check_can_write("r", "")  # full mode again
    assert session.directory is office.directory
    desk.close()


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


def _jobs_tab(window: MainWindow) -> JobsTab:
    tab = window.show_tab("JobsTab")
    assert isinstance(tab, JobsTab)
    return tab


def _interrupted_job(qtbot: QtBot, office: Backoffice, sandbox: Sandbox) -> str:
    """A job this workstation started and never ran (its process then ends): resumable."""
    session = office.session
    assert session is not None
    reach = set(TRAINING_MANAGERS[0].broker_names)
    users = [u for u in range(1000001, 1000061) if sandbox.user(u)["broker_name"] in reach][:2]
    text = "\n".join(
        ["level,userId,ctidTraderAccountId,partnerId", *(f"user,{u},,OFF-{u}" for u in users)]
    )
    plan = run_async(qtbot, plan_csv(session, text, source="offline.csv"))
    runner = JobRunner.start(session, office.checkpoints, plan, reason="later", ticket="T-9")
    return runner.job_id


def test_the_jobs_list_shows_its_last_state_read_only_while_the_team_server_is_down(
    desk: Desk, qtbot: QtBot
) -> None:
    paths, sandbox = desk.paths, desk.sandbox
    office, window, _ = desk.start()
    job_id = _interrupted_job(qtbot, office, sandbox)
    jobs = _jobs_tab(window)
    qtbot.waitUntil(lambda: jobs.job_list.model.row_of(job_id) is not None, timeout=10_000)
    assert not jobs.job_list.last_state.isVisible()
    window.hide()
    desk.close()  # that run ends: its job is left interrupted, its list kept

    kept = paths.data_dir / LAST_JOBS_FILE
    assert kept.stat().st_mode & 0o777 == 0o600
    text = kept.read_text(encoding="utf-8")
    manager = TRAINING_MANAGERS[0]
    assert job_id in text
    assert manager.password not in text
    assert manager.token not in text

    desk.server.halt()
    office, window, _ = desk.start()
    jobs = _jobs_tab(window)
    listed = jobs.job_list
    qtbot.waitUntil(lambda: listed.model.row_of(job_id) is not None, timeout=10_000)
    assert listed.last_state.isVisible()
    assert LAST_JOBS.fullmatch(listed.last_state.text()), listed.last_state.text()
    summary = listed.model.rows[0]
    assert (summary.source, summary.job.reason, summary.job.ticket) == (
        "offline.csv",
        "later",
        "T-9",
    )
    assert summary.state_text == "interrupted — resumable"

    # Read-only: nothing can be done to the job from the last state, and the buttons say why.
    listed.select_job(job_id)
    for button in (listed.resume_button, listed.revert_button, listed.show_button,
                   listed.export_button):  # fmt: skip
        assert not button.isEnabled(), button.objectName()
    assert listed.refresh_button.isEnabled()
    refusal = re.compile(
        r"Nothing was sent: the team database \(.*\) cannot be reached since \d\d:\d\d"
    )
    assert refusal.match(listed.resume_button.toolTip()), listed.resume_button.toolTip()
    before = len(sandbox.request_log)
    run_async(qtbot, jobs._resume())  # the keyboard or a stale click: the same refusal, in words
    assert refusal.match(jobs.bar.text()), jobs.bar.text()
    assert sandbox.request_log[before:] == []

    # The server comes back: the list is the team's again, live, and the job resumable there.
    desk.server.resume()
    qtbot.waitUntil(lambda: not listed.offline, timeout=20_000)
    qtbot.waitUntil(lambda: listed.model.row_of(job_id) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: jobs.live.listening, timeout=10_000)
    assert not listed.last_state.isVisible()
    desk.close()


def test_losing_the_team_server_mid_session_turns_the_jobs_list_into_its_last_state(
    desk: Desk, qtbot: QtBot
) -> None:
    office, window, _ = desk.start()
    job_id = _interrupted_job(qtbot, office, desk.sandbox)
    jobs = _jobs_tab(window)
    listed = jobs.job_list
    qtbot.waitUntil(lambda: listed.model.row_of(job_id) is not None, timeout=10_000)

    desk.server.halt()
    qtbot.waitUntil(lambda: listed.offline, timeout=20_000)
    assert LAST_JOBS.fullmatch(listed.last_state.text()), listed.last_state.text()
    assert listed.model.row_of(job_id) is not None  # the list last seen, not an empty one
    listed.select_job(job_id)
    assert not listed.resume_button.isEnabled()

    desk.server.resume()
    qtbot.waitUntil(lambda: not listed.offline, timeout=20_000)
    qtbot.waitUntil(lambda: listed.model.row_of(job_id) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: jobs.live.listening, timeout=10_000)
    desk.close()
