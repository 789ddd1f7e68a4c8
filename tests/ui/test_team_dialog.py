"""Connection → Team database…: the settings saved (the password in the keyring, never the
file), Test connection reporting the team journal or the store's sentence, nothing clipped."""

from __future__ import annotations

import json
from pathlib import Path

from pg_cluster import PgServer
from pytestqt.qtbot import QtBot
from ui_helpers import clipped

from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.admin import init_team
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.migrations import PG_MIGRATIONS
from ctrader_admin.store.pg.settings import TeamSettings
from ctrader_admin.store.pg.team_config import load_team_settings
from ctrader_admin.store.tokens import SERVICE_NAME, TokenStore
from ctrader_admin.ui.team_dialog import TeamDialog

PASSWORD = "Dialog-pw-93e1"


def _dialog(qtbot: QtBot, paths: AppPaths) -> TeamDialog:
    dialog = TeamDialog(None, paths=paths, tokens=TokenStore())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _fill(dialog: TeamDialog, server: PgServer, database: str, *, tls: bool) -> None:
    dialog.host_edit.setText(server.host)
    dialog.port_spin.setValue(server.port)
    dialog.database_edit.setText(database)
    dialog.user_edit.setText(server.superuser)
    dialog.tls_check.setChecked(tls)
    dialog.ca_edit.setText(str(server.ca_bundle) if tls else "")


def test_test_connection_reports_the_team_journal(
    qtbot: QtBot, event_loop: object, paths: AppPaths, pg_server: PgServer, pg_database: str
) -> None:
    settings = TeamSettings(host=pg_server.host, port=pg_server.port, database=pg_database,
                            user=pg_server.superuser, tls=False)  # fmt: skip
    dialog = _dialog(qtbot, paths)
    _fill(dialog, pg_server, pg_database, tls=True)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.status_line.text().startswith("✖"), timeout=10_000)
    assert (
        "ask the team administrator to run `ctrader-admin team init`" in dialog.status_line.text()
    )

    with PgDatabase(settings, None) as db:
        init_team(db)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.status_line.text().startswith("✔"), timeout=10_000)
    server = f"postgres@127.0.0.1:{pg_server.port}/{pg_database}"
    assert dialog.status_line.text() == (
        f"✔ Connected to {server} (schema {len(PG_MIGRATIONS)}): "
        "0 journal entries, the chain is intact; 0 other sessions connected."
    )
    assert clipped(dialog) == []

    dialog.host_edit.setText("db.example.com")
    dialog.tls_check.setChecked(False)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "TLS can be turned off only" in dialog.status_line.text())


def test_save_keeps_the_password_in_the_keyring_only(
    qtbot: QtBot, event_loop: object, paths: AppPaths, pg_server: PgServer, memory_keyring: object
) -> None:
    dialog = _dialog(qtbot, paths)
    _fill(dialog, pg_server, "backoffice", tls=True)
    dialog.password_edit.setText(PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    saved = load_team_settings(paths)
    assert saved is not None
    assert (saved.host, saved.port, saved.database, saved.tls) == (
        pg_server.host, pg_server.port, "backoffice", True,
    )  # fmt: skip
    assert saved.ca_bundle == Path(pg_server.ca_bundle)
    assert memory_keyring.items[(SERVICE_NAME, saved.keyring_key)] == PASSWORD  # type: ignore[attr-defined]
    text = (paths.config_dir / "team.json").read_text()
    assert PASSWORD not in text
    assert json.loads(text)["user"] == pg_server.superuser
    assert dialog.password_edit.text() == ""

    again = _dialog(qtbot, paths)  # opens on what was saved
    assert (again.host_edit.text(), again.database_edit.text()) == (pg_server.host, "backoffice")
    assert again.ca_edit.text() == str(pg_server.ca_bundle)


def _local_history(paths: AppPaths, count: int) -> None:
    """This workstation's own journal, written before team mode."""
    from ctrader_admin.store.database import Database
    from ctrader_admin.store.journal import Journal, JournalAttempt, JournalDraft

    with Database(paths.database_file) as db:
        journal = Journal(db)
        journal.append_many(
            JournalAttempt(
                JournalDraft(
                    operator="30001", profile_id="sandbox", profile_name="Sandbox",
                    environment="demo", broker_name="sandbox_main", action="set_partner",
                    target=f"user:{1000000 + n}", after=f"IB-{n}", reason="before team mode",
                    workstation="WS-3",
                ),
                "ok",
            )
            for n in range(count)
        )  # fmt: skip
        journal.close()


def _answer_import(qtbot: QtBot, dialog: TeamDialog, button: str) -> str:
    """Click Import, wait for the confirmation, answer it; the question it asked."""
    from PySide6.QtWidgets import QMessageBox

    def shown() -> list[QMessageBox]:
        boxes = dialog.findChildren(QMessageBox, "importConfirm")
        return [box for box in boxes if box.isVisible()]

    dialog.import_button.click()
    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=20_000)
    [box] = shown()
    question = f"{box.text()}\n{box.informativeText()}"
    [chosen] = [b for b in box.buttons() if b.text() == button]
    chosen.click()
    return question


def test_import_this_workstations_history_confirms_the_count_and_says_the_result(
    qtbot: QtBot, event_loop: object, paths: AppPaths, pg_server: PgServer, pg_database: str
) -> None:
    from ctrader_admin.store.journal import Journal

    settings = TeamSettings(host=pg_server.host, port=pg_server.port, database=pg_database,
                            user=pg_server.superuser, tls=False)  # fmt: skip
    with PgDatabase(settings, None) as db:
        init_team(db)
    _local_history(paths, 3)
    dialog = _dialog(qtbot, paths)
    _fill(dialog, pg_server, pg_database, tls=False)

    question = _answer_import(qtbot, dialog, "Cancel")
    assert question.startswith("Import 3 journal entries from WS-3 into the team journal?")
    assert "3 journal entries, chain verified." in question
    qtbot.waitUntil(lambda: dialog.status_line.text() == "Nothing was imported.")

    _answer_import(qtbot, dialog, "Import")
    qtbot.waitUntil(lambda: dialog.status_line.text().startswith("✔"), timeout=20_000)
    assert dialog.status_line.text().startswith(
        "✔ Imported 3 journal entries from WS-3 as team entries 1–3."
    )
    assert clipped(dialog) == []
    with PgDatabase(settings, None) as db:
        journal = Journal(db)
        assert [e.origin.id for e in journal.iter_entries()] == [1, 2, 3]  # type: ignore[union-attr]
        assert journal.verify().ok
        journal.close()

    dialog.import_button.click()
    qtbot.waitUntil(lambda: "Nothing to import" in dialog.status_line.text(), timeout=20_000)
    assert dialog.status_line.text() == (
        "✔ Nothing to import: this workstation's 3 journal entries are in the team journal already."
    )
