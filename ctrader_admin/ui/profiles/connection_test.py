"""The Test connection row of a profile: an optional manager password (used for this test only,
never kept), the button, and the verdict in words."""

from __future__ import annotations

from pydantic import SecretStr
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.profiles import Profile
from ctrader_admin.ui.profiles.widgets import repolish


class ConnectionTest:
    """The widgets of the row (the form lays them out) and the test itself."""

    def __init__(self) -> None:
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("testManagerPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("Manager password (optional)")
        self.password_edit.setToolTip(
            "With the password, the test also logs in; it is used for this test only"
        )
        self.button = QPushButton("Test connection")
        self.button.setObjectName("testConnection")
        self.button.setAutoDefault(False)
        self.button.setToolTip(
            "Check the name, the connection, TLS, the proxy, the IP whitelist and (with the "
            "password) the manager log-in; saves your edits first"
        )
        self.row = QHBoxLayout()
        self.row.addWidget(self.password_edit, 1)
        self.row.addWidget(self.button)
        self.result = QLabel()
        self.result.setObjectName("testResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    async def run(self, backoffice: Backoffice, profile: Profile) -> None:
        """Probe the server of ``profile``, and log in when the manager password is given; the
        password field is emptied before anything is sent."""
        text = self.password_edit.text()
        self.password_edit.clear()
        password = SecretStr(text) if text else None
        self.button.setEnabled(False)
        self.result.setText("Testing…")
        try:
            verdict = await backoffice.check_connection(profile, password)
        finally:
            self.button.setEnabled(True)
        mark = "✔" if verdict.ok else "✖"
        self.result.setText(f"{mark} {verdict.headline}. {verdict.detail}")
        self.result.setProperty("invalid", not verdict.ok)
        repolish(self.result)
