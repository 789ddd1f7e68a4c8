"""Connection → Team database…: where this workstation's team database is (issue 13, in
progress; docs/team-mode.md). The settings go to ``team.json`` and the password to the system
keyring, never to a file; Test connection opens the database with what is typed and says what it
found (the team journal's state) or why it could not, in the store's words."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.errors import ExpectedError
from ctrader_admin.services.history_import import ImportPreview, ImportResult, in_words, run_import
from ctrader_admin.services.team import TeamStatus, open_team, team_status
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.settings import CONNECT_TIMEOUT_SECONDS, DEFAULT_PORT, TeamSettings
from ctrader_admin.store.pg.team_config import load_team_settings, save_team_settings
from ctrader_admin.store.tokens import TokenStore
from ctrader_admin.ui.dialogs import FittedDialog, ask
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import fill_width, form, heading, hint, plural

ABOUT_TEAM_MODE = (
    "With a team database, the journal, directory, attribution ledger, bulk jobs and write "
    "budget are the team's, shared by every workstation, from the app's next start. Here you set "
    "up and check the connection to it."
)


def describe_status(status: TeamStatus) -> str:
    chain = "the chain is intact" if status.chain_ok else status.chain_message
    return (
        f"✔ Connected to {status.server} (schema {status.schema_version}): "
        f"{plural(status.entries, 'journal entry', 'journal entries')}, {chain}; "
        f"{plural(status.sessions, 'other session')} connected."
    )


class TeamDialog(FittedDialog):
    def __init__(self, parent: QWidget | None, *, paths: AppPaths, tokens: TokenStore) -> None:
        super().__init__(parent, min_width=520)
        self.setObjectName("teamDialog")
        self.setWindowTitle("Team database")
        self._paths = paths
        self._connect_timeout = CONNECT_TIMEOUT_SECONDS  # team.json's, once loaded
        self._tokens = tokens
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Team database (PostgreSQL)"))
        layout.addWidget(hint(ABOUT_TEAM_MODE))
        rows = form()
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("db.example.com")
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(DEFAULT_PORT)
        self.database_edit = QLineEdit()
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("your own database user")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("kept in the system keyring")
        self.tls_check = QCheckBox("Encrypt, and verify the server's certificate (TLS)")
        self.tls_check.setChecked(True)
        self.ca_edit = QLineEdit()
        self.ca_edit.setPlaceholderText("the system's authorities")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ca)
        ca_row = QWidget()
        ca_line = QHBoxLayout(ca_row)
        ca_line.setContentsMargins(0, 0, 0, 0)
        ca_line.addWidget(self.ca_edit, 1)
        ca_line.addWidget(browse)
        rows.addRow("Server:", self.host_edit)
        rows.addRow("Port:", self.port_spin)
        rows.addRow("Database:", self.database_edit)
        rows.addRow("User:", self.user_edit)
        rows.addRow("Password:", self.password_edit)
        rows.addRow("", self.tls_check)
        rows.addRow("CA bundle:", ca_row)
        layout.addLayout(rows)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self._test)
        self.status_line = QLabel("")
        self.status_line.setObjectName("teamResult")
        self.status_line.setWordWrap(True)
        fill_width(self.status_line)
        test_row = QHBoxLayout()
        # Top-aligned: the button stays where it is while the sentence beside it wraps.
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.status_line, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(test_row)
        self.import_button = QPushButton("Import this workstation's history…")
        self.import_button.setToolTip(
            "Copy this computer's own journal (verified first) and directory into the team "
            "database; a team administrator's right"
        )
        self.import_button.clicked.connect(self._import_history)
        import_row = QHBoxLayout()
        import_row.addWidget(self.import_button)
        import_row.addStretch(1)
        layout.addLayout(import_row)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._load()
        self.resize(self._min_width, 1)
        self.fit()

    def _load(self) -> None:
        try:
            saved = load_team_settings(self._paths)
        except ExpectedError as exc:
            self.status_line.setText(f"✖ {exc.message}")
            return
        if saved is None:
            return
        self.host_edit.setText(saved.host)
        self.port_spin.setValue(saved.port)
        self.database_edit.setText(saved.database)
        self.user_edit.setText(saved.user)
        self.tls_check.setChecked(saved.tls)
        self.ca_edit.setText(str(saved.ca_bundle) if saved.ca_bundle else "")
        self._connect_timeout = saved.connect_timeout  # not on the form: kept as configured

    def settings(self) -> TeamSettings:
        """What the form says; TeamSettingsError (a sentence) when it cannot work."""
        ca = self.ca_edit.text().strip()
        return TeamSettings(
            host=self.host_edit.text().strip(),
            port=self.port_spin.value(),
            database=self.database_edit.text().strip(),
            user=self.user_edit.text().strip(),
            ca_bundle=Path(ca) if ca else None,
            tls=self.tls_check.isChecked(),
            connect_timeout=self._connect_timeout,
        )

    def _browse_ca(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "CA bundle", "", "Certificates (*.pem *.crt);;All files (*)"
        )
        if chosen:
            self.ca_edit.setText(chosen)

    def _typed(self) -> tuple[TeamSettings, str | None] | None:
        """The settings and password typed (the password used now, and kept in the keyring
        once the server accepted it); None, said in the status line, when they cannot work."""
        try:
            settings = self.settings()
        except ExpectedError as exc:
            self.status_line.setText(f"✖ {exc.message}")
            return None
        return settings, self.password_edit.text() or None

    @async_slot()
    async def _test(self) -> None:
        if (typed := self._typed()) is None:
            return
        settings, password = typed
        self.test_button.setEnabled(False)
        self.status_line.setText("Testing…")
        try:
            status = await asyncio.to_thread(self._status, settings, password)
        except ExpectedError as exc:
            self.status_line.setText(f"✖ {exc.message}")
            return
        finally:
            self.test_button.setEnabled(True)
        self.status_line.setText(describe_status(status))

    @async_slot()
    async def _import_history(self) -> None:
        if (typed := self._typed()) is None:
            return
        settings, password = typed
        self.import_button.setEnabled(False)
        self.status_line.setText("Checking this workstation's journal…")
        try:
            found = await asyncio.to_thread(self._history, settings, password, dry_run=True)
            assert isinstance(found, ImportPreview)
            if found.new == 0:
                entries = plural(found.entries, "journal entry", "journal entries")
                self.status_line.setText(
                    f"✔ Nothing to import: this workstation's {entries} are in the team journal "
                    "already."
                )
                return
            if not await self._confirmed(found):
                self.status_line.setText("Nothing was imported.")
                return
            self.status_line.setText("Importing…")
            done = await asyncio.to_thread(self._history, settings, password, dry_run=False)
        except ExpectedError as exc:
            self.status_line.setText(f"✖ {exc.message}")
            return
        finally:
            self.import_button.setEnabled(True)
        assert isinstance(done, ImportResult)
        self.status_line.setText("✔ " + " ".join(in_words(done)))

    async def _confirmed(self, found: ImportPreview) -> bool:
        box = QMessageBox(self)
        box.setObjectName("importConfirm")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Import this workstation's history")
        box.setText(
            f"Import {plural(found.new, 'journal entry', 'journal entries')} from "
            f"{found.workstation} into the team journal?"
        )
        # The dry run's findings, without its "nothing was imported" last line.
        box.setInformativeText("\n\n".join(in_words(found)[:-1]))
        accept = box.addButton("Import", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        try:
            await ask(box)  # a message box's result code is not Accepted for its own buttons
            return box.clickedButton() is accept
        finally:
            box.deleteLater()

    def _history(
        self, settings: TeamSettings, password: str | None, *, dry_run: bool
    ) -> ImportPreview | ImportResult:
        with open_team(settings, self._tokens, password) as database:
            return run_import(self._paths.database_file, database, dry_run=dry_run)

    def _status(self, settings: TeamSettings, password: str | None) -> TeamStatus:
        with open_team(settings, self._tokens, password) as database:
            return team_status(database)

    @async_slot()
    async def _save(self) -> None:
        try:
            settings = self.settings()
        except ExpectedError as exc:
            self.status_line.setText(f"✖ {exc.message}")
            return
        password = self.password_edit.text()
        self.password_edit.clear()
        try:
            # The keyring may wait on D-Bus, the disk on a network share: not on the loop.
            await asyncio.to_thread(save_team_settings, self._paths, settings)
            if password:
                await asyncio.to_thread(
                    self._tokens.set_team_password, settings.keyring_key, password
                )
        except OSError as exc:
            self.status_line.setText(f"✖ The team settings cannot be saved: {exc.strerror or exc}.")
            return
        self.accept()
