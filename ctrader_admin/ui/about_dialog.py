"""Help → About: what is installed and where it keeps things — the version, the licence, the
keyring that holds the tokens, and the folders of settings, data and logs, each with a button
that opens it in the file manager (what support asks for first)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin import APP_NAME, __version__
from ctrader_admin.store.paths import AppPaths, ensure_private_dir
from ctrader_admin.ui.dialogs import FittedDialog
from ctrader_admin.ui.widgets import fill_width, form, heading, hint

DESCRIPTION = "Back-office console for cTrader brokers."


def licence() -> str:
    """The licence the package declares (a frozen build may carry no metadata)."""
    try:
        found = metadata.metadata(APP_NAME)
    except metadata.PackageNotFoundError:
        return "Proprietary"
    for field in ("License-Expression", "License"):
        values = found.get_all(field)  # None when missing (indexing warns on newer Pythons)
        if values:
            return str(values[0])
    return "Proprietary"


def open_folder(path: Path) -> bool:
    """Show ``path`` in the platform's file manager (made first if it does not exist yet)."""
    ensure_private_dir(path)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class AboutDialog(FittedDialog):
    def __init__(
        self,
        parent: QWidget | None,
        *,
        paths: AppPaths,
        keyring: str,
        opener: Callable[[Path], bool] = open_folder,
    ) -> None:
        super().__init__(parent, min_width=520)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self._open = opener
        layout = QVBoxLayout(self)
        layout.addWidget(heading(f"{APP_NAME} {__version__}"))
        layout.addWidget(hint(DESCRIPTION))
        rows = form()
        self.version = _selectable(__version__)
        self.licence = _selectable(licence())
        self.keyring = _selectable(keyring)
        self.keyring.setObjectName("aboutKeyring")
        self.keyring.setWordWrap(True)
        fill_width(self.keyring)
        rows.addRow("Version:", self.version)
        rows.addRow("Licence:", self.licence)
        rows.addRow("Token keyring:", self.keyring)
        self.open_buttons: dict[str, QPushButton] = {}
        for name, path in (
            ("Settings", paths.config_dir),
            ("Data", paths.data_dir),
            ("Logs", paths.log_dir),
        ):
            rows.addRow(f"{name}:", self._folder_row(name, path))
        layout.addLayout(rows)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(self._min_width, 1)
        self.fit()

    def _folder_row(self, name: str, path: Path) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        shown = _selectable(str(path))
        shown.setObjectName(f"about{name}Path")
        button = QPushButton("Open")
        button.setObjectName(f"about{name}Open")
        button.setToolTip(f"Open {path} in the file manager")
        button.clicked.connect(lambda _=False, p=path: self._open(p))
        self.open_buttons[name] = button
        line.addWidget(shown, 1)
        line.addWidget(button)
        return row


def _selectable(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
