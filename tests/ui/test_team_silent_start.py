"""A team server that drops packets (rather than refusing them) at the app's start: the window
keeps painting and answering while the connection is tried, says which server it is connecting
to, and then opens read-only from the team's point of view — nothing written anywhere.

The app runs its own start path (``run_gui``) in a process of its own; the team database is a
loopback port that takes connections and never answers (``silent_server``), with the shortest
connect timeout libpq allows."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from ui_helpers import run_app, run_async

from ctrader_admin.app import open_start_profile
from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox
from ctrader_admin.services import journal_live
from ctrader_admin.services.lookup import Case, lookup
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.profiles import ProfileStore
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.wiring import compose_backoffice, sandbox_transport

if TYPE_CHECKING:
    import psycopg

from ctrader_admin.services.team_link import LAST_STATE_FILE
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.settings import CONNECT_TIMEOUT_RANGE, TeamSettings
from ctrader_admin.store.pg.team_config import save_team_settings

SHOWCASE_USER = 1000001  # sandbox seed: IB-1042 at user level
TYPED = f"user:{SHOWCASE_USER}"

# On the app's side: a timer counts the loop's turns while the window says it is connecting,
# and types a lookup then; once the first profile is open, what the operator sees and what a
# write meets are printed as one JSON line.
_APP = f"""
import json
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ctrader_admin.app import run_gui
from ctrader_admin.errors import ExpectedError
seen = {{"turns_while_connecting": 0, "connecting": "", "typed": ""}}
def shown(window):
    timer = QTimer(window)
    def turn():
        text = window.team_status.text()
        if not text.startswith("Connecting to the team database"):
            return
        seen["turns_while_connecting"] += 1
        seen["connecting"] = text
        search = window.current_tab().search
        if not search.text():
            QTest.keyClicks(search, {TYPED!r})
        seen["typed"] = search.text()
    timer.timeout.connect(turn)
    timer.start(20)
def ready(window):
    session = window.ctx.session
    try:
        session.check_can_write("a reason", "")
        refused = ""
    except ExpectedError as exc:
        refused = str(exc)
    seen.update(
        status=window.team_status.text(),
        read_only=window.band.read_only.isVisible(),
        opened_offline=session.opened_offline,
        refused=refused,
    )
    print("seen:", json.dumps(seen), flush=True)
    QTimer.singleShot(0, QApplication.instance().quit)
raise SystemExit(run_gui("sandbox", on_shown=shown, on_ready=ready))
"""


def test_a_silent_team_server_leaves_the_window_answering_then_read_only(
    tmp_path: Path, silent_server: int
) -> None:
    paths = AppPaths.under(tmp_path)
    settings = TeamSettings(
        host="127.0.0.1", port=silent_server, database="team", user="anna", tls=False,
        connect_timeout=CONNECT_TIMEOUT_RANGE[0],
    )  # fmt: skip
    save_team_settings(paths, settings)

    done = run_app(_APP, tmp_path)

    [line] = [line for line in done.stdout.splitlines() if line.startswith("seen: ")]
    seen = json.loads(line.removeprefix("seen: "))
    server = f"anna@127.0.0.1:{silent_server}/team"
    # While the server was tried, the loop turned, the line named the server, a typed lookup
    # was taken.
    assert seen["turns_while_connecting"] >= 1, seen
    assert seen["connecting"] == (
        f"Connecting to the team database ({server})… If it does not answer within 2 s, the "
        "app opens read-only and keeps trying."
    )
    assert seen["typed"] == TYPED
    # Then the existing offline mode, in words.
    assert re.fullmatch(
        r"Team database unreachable since \d\d:\d\d — read-only, no last state on this "
        r"computer; retrying",
        seen["status"],
    ), seen["status"]
    assert seen["read_only"]
    assert seen["opened_offline"]
    assert seen["refused"].startswith(f"Nothing was sent: the team database ({server}) cannot")
    assert "Traceback" not in done.stderr
    # Nothing written anywhere: no local journal entry, no last state made up.
    with Database.open(paths) as local:
        journal = Journal(local)
        try:
            assert journal.count() == 0
        finally:
            journal.close()
    assert not (paths.data_dir / LAST_STATE_FILE).exists()


def test_the_gui_thread_never_waits_for_a_silent_team_server(
    qtbot: QtBot,
    paths: AppPaths,
    sandbox: Sandbox,
    qsettings: QSettings,
    silent_server: int,
    event_loop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the back office is built (off the GUI thread, above), nothing the window does with
    it — attaching, opening the profile, every tab, a lookup — tries the server on the GUI
    thread: each attempt would freeze the window for the whole connect timeout. The
    live-updates thread is the one that keeps trying."""
    monkeypatch.setattr(journal_live, "RETRY_SECONDS", 0.2)  # its first retry, soon
    settings = TeamSettings(
        host="127.0.0.1", port=silent_server, database="team", user="anna", tls=False,
        connect_timeout=CONNECT_TIMEOUT_RANGE[0],
    )  # fmt: skip
    team = PgDatabase(settings, None, unreachable_ok=True)
    tried: list[str] = []
    connect = team.connect

    def watched(**options: bool) -> psycopg.Connection[Any]:
        tried.append(threading.current_thread().name)
        return connect(**options)

    monkeypatch.setattr(team, "connect", watched)
    office = compose_backoffice(
        Database.open(paths), ProfileStore(paths), transport=sandbox_transport(sandbox),
        team=team, data_dir=paths.ensure_data_dir(),
    )  # fmt: skip
    window = MainWindow(None, qsettings)
    qtbot.addWidget(window)
    window.show()
    try:
        window.attach(office)
        run_async(qtbot, open_start_profile(window, office, "sandbox"))
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
        session = office.session
        assert session is not None
        manager = TRAINING_MANAGERS[0]
        run_async(qtbot, session.login(manager.login, manager.password, remember=False))
        case = run_async(qtbot, lookup(session, str(SHOWCASE_USER)))  # through the broker
        assert isinstance(case, Case)
        assert case.partner_id == "IB-1042"
        qtbot.waitUntil(lambda: len(tried) >= 1, timeout=30_000)  # the retries go on…
        assert window.band.read_only.isVisible()
        assert threading.main_thread().name not in tried  # …never on the GUI thread
    finally:
        if window.approvals_view is not None:
            window.approvals_view.stop_live_updates()
        run_async(qtbot, office.shutdown())
