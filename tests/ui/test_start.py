"""Start-up: the window is on screen and takes input before the back office exists (app.py);
what needs the back office follows when it is attached."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from ui_helpers import app_env, run_app

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.main_window import MainWindow

SHOWCASE_USER = 1000001  # sandbox seed: IB-1042 at user level


def test_the_first_window_needs_none_of_the_back_office() -> None:
    """What the first window imports: Qt and our UI — not asyncio and qasync (they come at its
    first event-loop turn), nor the HTTP client, pydantic, SQLite, the keyring or the sandbox
    (they load on a worker thread behind it)."""
    heavy = (
        *("asyncio", "qasync", "httpx", "pydantic", "sqlite3", "keyring", "starlette"),
        "ctrader_admin.sandbox",
    )
    code = (
        "import sys\n"
        "import ctrader_admin.app, ctrader_admin.ui.main_window, ctrader_admin.ui.lookup_tab\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""


def test_the_first_frame_is_painted_before_any_start_up_work(tmp_path: Path) -> None:
    """Qt's first loop turn comes before the window is exposed and painted: the style sheet,
    the log file, asyncio and the back office's import thread wait for the first frame
    (runtime.py); the style sheet is in place once the app is ready. The collector makes no
    pass until then, and is back on after it."""
    code = (
        "import gc, sys, threading\n"
        "from PySide6.QtCore import QEvent, QObject, QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from ctrader_admin.app import run_gui\n"
        "seen = []\n"
        "class FirstPaint(QObject):\n"
        "    def eventFilter(self, watched, event):\n"
        "        if event.type() == QEvent.Type.Paint and not seen:\n"
        "            threads = sorted(t.name for t in threading.enumerate())\n"
        "            styled = 'QToolTip' in QApplication.instance().styleSheet()\n"
        "            seen.append(('qasync' in sys.modules, threads, styled, gc.isenabled()))\n"
        "        return False\n"
        "probe = FirstPaint()\n"
        "def shown(window):\n"
        "    window.installEventFilter(probe)\n"
        "def ready(window):\n"
        "    styled = 'QToolTip' in QApplication.instance().styleSheet()\n"
        "    print('first paint:', seen[0], 'ready:', gc.isenabled(), styled, flush=True)\n"
        "    QTimer.singleShot(0, QApplication.instance().quit)\n"
        "raise SystemExit(run_gui('sandbox', on_shown=shown, on_ready=ready))\n"
    )
    done = run_app(code, tmp_path)
    assert "first paint: (False, ['MainThread'], False, False) ready: True True" in done.stdout


@pytest.mark.parametrize("variant", ["light", "dark"])
def test_the_style_sheet_changes_no_pixel_of_the_first_frame(tmp_path: Path, variant: str) -> None:
    """The style sheet comes after the first frame because that frame matches none of its
    rules: the window looks the same before and after it (nothing moves under the mouse)."""
    code = (
        "from ctrader_admin.app import start_window\n"
        "from ctrader_admin.store.paths import AppPaths\n"
        "from ctrader_admin.ui import theme\n"
        "started = start_window(AppPaths.from_environment())\n"
        "app, window = started.app, started.window\n"
        "app.processEvents()\n"
        "first = window.grab().toImage()\n"
        "assert started.style_sheet is not None and not app.styleSheet()\n"
        "theme.apply_style_sheet(app, started.style_sheet)\n"
        "app.processEvents()\n"
        "styled = window.grab().toImage()\n"
        "print('styled:', 'QToolTip' in app.styleSheet(), 'same:', first == styled, flush=True)\n"
    )
    done = run_app(code, tmp_path, CTRADER_ADMIN_THEME=variant)
    assert "styled: True same: True" in done.stdout


def test_the_app_is_in_qt_s_fusion_style_whatever_the_desktop_s(tmp_path: Path) -> None:
    """The palette and the style sheet are made for Fusion: a desktop that asks for another
    style (QT_STYLE_OVERRIDE, a platform theme) does not get it."""
    code = (
        "from ctrader_admin.app import start_window\n"
        "from ctrader_admin.store.paths import AppPaths\n"
        "started = start_window(AppPaths.from_environment())\n"
        "started.app.setStyleSheet('')  # the style sheet's style wraps the one underneath\n"
        "print('style:', started.app.style().name(), flush=True)\n"
    )
    done = run_app(code, tmp_path, QT_STYLE_OVERRIDE="Windows")
    assert "style: fusion" in done.stdout


def test_the_app_opens_on_the_sandbox_and_quits_cleanly(tmp_path: Path) -> None:
    """The app's own start path in a process of its own: the window, then its icon, the back
    office and the sandbox profile logged in; quitting ends with exit code 0 (Qt aborts the
    process when a worker thread of the asyncio loop is left running)."""
    code = (
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from ctrader_admin.app import run_gui\n"
        "import sys\n"
        "def ready(window):\n"
        "    session = window.ctx.session\n"
        "    styled = 'QToolTip' in QApplication.instance().styleSheet()\n"
        "    print('open:', window.band.name.text(), session.logged_in, styled, flush=True)\n"
        "    icon = QApplication.instance().windowIcon()\n"
        "    print('icon sizes:', len(icon.availableSizes()), flush=True)\n"
        "    cli = ('httpx._main', 'rich', 'click', 'pygments')\n"
        "    unused = [m for m in cli if sys.modules.get(m)]\n"
        "    print('never used:', unused, flush=True)\n"
        "    QTimer.singleShot(100, QApplication.instance().quit)\n"
        "raise SystemExit(run_gui('sandbox', on_ready=ready))\n"
    )
    done = run_app(code, tmp_path)
    assert "open: Sandbox True True" in done.stdout  # logged in, the style sheet applied
    assert "icon sizes: 8" in done.stdout  # set at the first loop turn, every rendering
    assert "never used: []" in done.stdout  # httpx's command line (~12 MB) stays out
    assert "QThread" not in done.stderr
    assert (tmp_path / "logs" / "ctrader-admin.log").is_file()


def test_ctrl_c_in_the_terminal_closes_the_app_like_quit(tmp_path: Path) -> None:
    """SIGINT (Ctrl+C where the app was started) closes the window: exit code 0, and its
    geometry is saved as on File → Quit."""
    code = (
        "from ctrader_admin.app import run_gui\n"
        "raise SystemExit(run_gui('sandbox', on_ready=lambda w: print('ready', flush=True)))\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        env=app_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as app:
        try:
            assert app.stdout is not None
            assert app.stdout.readline().strip() == "ready"
            time.sleep(0.3)  # idle: Qt's loop waits in C++, with no Python running
            app.send_signal(signal.SIGINT)
            _, errors = app.communicate(timeout=30)
            assert app.returncode == 0, errors[-3000:]
        finally:
            app.kill()
    assert "geometry" in (tmp_path / "config" / "window.ini").read_text(encoding="utf-8")


def test_a_lookup_typed_while_starting_runs_once_the_profile_is_open(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = MainWindow(None, qsettings)
    qtbot.addWidget(window)
    window.show()
    band = window.band
    assert band.name.text() == "Starting…"
    assert not band.login_button.isEnabled()
    assert not band.profiles.isEnabled()
    assert not band.manage.isEnabled()
    lookup = window.show_tab("LookupTab")
    lookup.search.setText(f"user:{SHOWCASE_USER}")
    lookup.search_button.click()
    qtbot.waitUntil(lookup.busy.isVisible)  # waiting for the connection, cancellable
    window.tabs.setCurrentIndex(1)  # Users: built once there is a back office
    assert set(window.tab_pages.built()) == {"LookupTab"}

    with qtbot.waitSignal(lookup.finished, timeout=10_000):
        window.attach(backoffice)  # already open and logged in on the sandbox
    assert lookup.case is not None
    assert lookup.case.user_id == SHOWCASE_USER
    assert lookup.user_partner.text().startswith("IB-1042")
    assert band.name.text() == "Sandbox"
    assert band.login_button.isEnabled()
    assert band.manage.isEnabled()
    assert set(window.tab_pages.built()) == {"LookupTab", "UsersTab"}
