"""The Go menu names its tabs, Help → About says what is installed and where, and the band fits a
900 px window (issue 12, "Journal, Jobs, menus" and "Layout jumps")."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMenu, QPushButton
from pytestqt.qtbot import QtBot
from ui_helpers import clipped, wait_for_dialog

from ctrader_admin import __version__
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.ui.main_window import TABS, MainWindow
from ctrader_admin.ui.widgets import ElidedLabel


def make_window(qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings) -> MainWindow:
    window = MainWindow(backoffice, qsettings)
    qtbot.addWidget(window)
    window.show()
    return window


def menu(window: MainWindow, title: str) -> QMenu:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title:
            found = action.menu()
            assert isinstance(found, QMenu)
            return found
    raise AssertionError(f"no {title} menu")


def test_the_go_menu_names_every_tab(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = make_window(qtbot, backoffice, qsettings)
    go = menu(window, "Go").actions()
    entries = [a for a in go if a.shortcut().toString().startswith("Alt+")]
    names = [a.text().replace("&", "") for a in entries]
    assert names == [f"{n} {spec.title}" for n, spec in enumerate(TABS, start=1)]
    journal = entries[[spec.title for spec in TABS].index("Journal")]
    journal.trigger()
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Journal"


def test_about_shows_version_licence_keyring_and_opens_the_folders(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = make_window(qtbot, backoffice, qsettings)
    about = window.findChild(QAction, "aboutAction")
    assert about is not None
    about.trigger()
    dialog = wait_for_dialog(qtbot, "aboutDialog")
    texts = " | ".join(label.text() for label in dialog.findChildren(QLabel))
    paths = AppPaths.from_environment()  # the test's own home (CTRADER_ADMIN_HOME)
    assert __version__ in texts
    assert "Proprietary" in texts
    # The keyring in use (the tests' own, in memory).
    assert dialog.keyring.text() == "conftest MemoryKeyring"  # type: ignore[attr-defined]
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir):
        assert str(folder) in texts
    opened: list[Path] = []

    def record(path: Path) -> bool:
        opened.append(path)
        return True

    dialog._open = record  # type: ignore[attr-defined]
    buttons: dict[str, QPushButton] = dialog.open_buttons  # type: ignore[attr-defined]
    for name in ("Settings", "Data", "Logs"):
        buttons[name].click()
    assert opened == [paths.config_dir, paths.data_dir, paths.log_dir]
    qtbot.wait(20)
    assert clipped(dialog) == []
    dialog.reject()


def test_the_band_fits_a_900_px_window_whatever_the_profile(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    session = backoffice.session
    assert session is not None
    session.profile = session.profile.model_copy(
        update={
            "name": "ACME Markets International — production EU",
            "live": True,
            "read_only": True,
            "broker_names": [f"acme_white_label_{n}" for n in range(8)],
        }
    )
    window = make_window(qtbot, backoffice, qsettings)
    window.refresh_band()
    window.resize(900, 700)
    qtbot.wait(20)
    assert window.width() <= 900
    band = window.band
    for widget in band.findChildren(QLabel) + band.findChildren(QPushButton):
        if not widget.isVisible():
            continue
        if isinstance(widget, ElidedLabel):
            assert widget.toolTip() == widget.text()  # the whole text, where it is cut
            assert widget.width() >= widget.minimumSizeHint().width()
        else:
            assert widget.width() >= widget.sizeHint().width(), widget.text()
    assert "acme_white_label_7" in band.details.toolTip()


def test_the_keyring_line_says_when_tokens_are_not_saved() -> None:
    from keyring.backends import null

    from ctrader_admin.store.tokens import TokenStore

    shown = TokenStore(backend=null.Keyring()).backend_name
    assert "memory" in shown
    assert "null Keyring" in shown


def test_a_write_refreshes_the_band_without_restyling_it(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    """Every write refreshes the band (budget left); setting its colour's style sheet again
    restyled the band and its labels each time, ~15 ms of a frozen window at a bulk job's end.
    A change of colour (the profile becomes live) still restyles it."""
    from PySide6.QtCore import QEvent, QObject

    from ctrader_admin.ui import theme

    window = make_window(qtbot, backoffice, qsettings)
    band = window.band

    class Restyles(QObject):
        count = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.StyleChange:
                self.count += 1
            return False

    restyles = Restyles()
    band.installEventFilter(restyles)
    sheet = band.styleSheet()
    window.ctx.wrote()
    assert band.budget.text().startswith("Writes left:")
    assert band.styleSheet() == sheet
    assert restyles.count == 0
    session = backoffice.session
    assert session is not None
    session.profile = session.profile.model_copy(update={"live": True})
    window.refresh_band()
    assert theme.LIVE_RED in band.styleSheet()
    assert restyles.count > 0
    band.removeEventFilter(restyles)
