"""Renders every tab and the main dialogs to PNG so that a person can look at them.

The folder is printed (run with -s to see it) and kept under pytest's temporary directory, or in
$CTRADER_ADMIN_SCREENSHOTS when set."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.profiles import builtin_sandbox_profile
from ctrader_admin.ui.crash import CrashDialog
from ctrader_admin.ui.dialogs import ConfirmWriteDialog, LoginDialog
from ctrader_admin.ui.main_window import MainWindow


def save(widget: QWidget, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path))
    image = QImage(str(path))
    # Not blank: a real screen has many colours.
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 8, f"{name} looks blank"
    return path


def test_render_every_screen(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings, tmp_path: Path
) -> None:
    folder = Path(os.environ.get("CTRADER_ADMIN_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    # The first seconds: the window is up before the back office (app.py).
    window = MainWindow(None, qsettings)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.wait(50)
    written = [save(window, folder, "starting")]
    window.attach(backoffice)
    lookup = window.tab_pages["LookupTab"]
    with qtbot.waitSignal(lookup.finished, timeout=10_000):
        lookup.search_for("user:1000001")  # type: ignore[attr-defined]
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(50)
        written.append(
            save(
                window,
                folder,
                f"tab-{index + 1}-{window.tabs.tabText(index).lower().replace(' ', '-')}",
            )
        )
    session = backoffice.session
    assert session is not None
    dialogs: dict[str, QWidget] = {
        "dialog-login": LoginDialog(window, session, why="Training sandbox: manager 30001."),
        "dialog-confirm-write": ConfirmWriteDialog(
            window,
            profile=builtin_sandbox_profile(),
            title="Set partnerId",
            changes=[("Target", "user 1000001"), ("partnerId", "IB-1042 → IB-2077  (overwrites)")],
        ),
        "dialog-crash": CrashDialog(
            "Traceback (most recent call last):\n  ...\nRuntimeError: example"
        ),
    }
    from ctrader_admin.ui.import_dialog import ImportDialog
    from ctrader_admin.ui.profiles.dialog import ProfilesDialog

    dialogs["dialog-profiles"] = ProfilesDialog(window, backoffice)
    dialogs["dialog-import"] = ImportDialog(window, backoffice)
    for name, dialog in dialogs.items():
        dialog.show()
        qtbot.wait(20)
        written.append(save(dialog, folder, name))
        dialog.close()
    print(f"\nScreenshots of every screen: {folder}")
    assert len(written) == 1 + window.tabs.count() + len(dialogs)
    run_async(qtbot, backoffice.close())
