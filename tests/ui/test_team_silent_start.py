"""A team server that drops packets (rather than refusing them) at the app's start: the window
keeps painting and answering while the connection is tried, says which server it is connecting
to, and then opens read-only from the team's point of view — nothing written anywhere.

The app runs its own start path (``run_gui``) in a process of its own; the team database is a
loopback port that takes connections and never answers (``silent_server``), with the shortest
connect timeout libpq allows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ui_helpers import run_app

from ctrader_admin.services.team_link import LAST_STATE_FILE
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.settings import CONNECT_TIMEOUT_RANGE, TeamSettings
from ctrader_admin.store.pg.team_config import save_team_settings

TYPED = "user:1000001"

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
