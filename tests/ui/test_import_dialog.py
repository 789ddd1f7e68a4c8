"""Import dialog: preview a CRM export with good and bad lines, import only the good ones, and
find them afterwards; Cancel and unreadable files change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.services import directory_import, lookup
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.directory_import import ImportFileError
from ctrader_admin.services.lookup import Case
from ctrader_admin.ui.import_dialog import ImportDialog
from ctrader_admin.ui.notify import Level

# Real sandbox records: user 1000001 owns demo login 3100001 (ctid 9000002) on sandbox_main.
EXPORT = """\
userId,email,login,ctidTraderAccountId,brokerName,environment,crm_note
1000001,emily.carter@example.com,3100001,9000002,sandbox_main,demo,vip
abc,bad@example.com,,,,,
1000006,,3100007,9000007,sandbox_main,demo,
1000010,not-an-email,,,,,
1000011,x@example.com,3100099,,sandbox_main,,
1000012,y@example.com,,,sandbox_eu,,
1000013,z@example.com,3100111,,sandbox_main,staging,
"""


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def open_dialog(qtbot: QtBot, window: QWidget, backoffice: Backoffice, path: Path) -> ImportDialog:
    dialog = ImportDialog(window, backoffice)

    async def choose(parent: QWidget) -> str:
        return str(path)

    dialog.choose_file = choose
    dialog.show()
    dialog.choose_button.click()
    qtbot.waitUntil(lambda: dialog.checked is not None or dialog.bar.isVisible(), timeout=10_000)
    return dialog


def problems(dialog: ImportDialog) -> list[tuple[str, str, str]]:
    model = dialog.problems_model
    return [
        tuple(model.data(model.index(row, column)) for column in range(3))
        for row in range(model.rowCount())
    ]


def test_preview_shows_good_rows_and_every_bad_line_and_writes_nothing(
    qtbot: QtBot, window: QWidget, backoffice: Backoffice, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, window, backoffice, write(tmp_path, EXPORT))
    preview = dialog.preview_model
    assert [preview.data(preview.index(r, 0)) for r in range(preview.rowCount())] == [
        "2",
        "4",
        "7",
        "8",
    ]
    assert preview.data(preview.index(0, 2)) == "emily.carter@example.com"
    assert problems(dialog) == [
        (
            "3",
            "not imported",
            "UserId 'abc' must be a whole number made of the digits 0–9 (not 'a').",
        ),
        ("5", "not imported", "Email 'not-an-email' is not a valid address."),
        (
            "6",
            "not imported",
            "Login 3100099 needs an environment (add an environment column or choose a "
            "default environment).",
        ),
        (
            "8",
            "warning",
            "Environment 'staging' is not one of this profile's environments (demo, live); the "
            "row is imported anyway.",
        ),
    ]
    counts = QTextDocumentFragment.fromHtml(dialog.counts.text()).toPlainText()
    assert counts == (
        "4 rows ready to import · 3 rows with errors (not imported) · 1 warning · "
        "ignored columns: crm_note"
    )
    assert dialog.import_button.isEnabled()
    assert backoffice.directory.user("sandbox", 1000001) is None  # nothing written yet

    # A default environment rescues the row without one.
    dialog.environment.setCurrentIndex(dialog.environment.findData("demo"))
    qtbot.waitUntil(lambda: dialog.preview_model.rowCount() == 5, timeout=10_000)
    assert [p[0] for p in problems(dialog) if p[1] == "not imported"] == ["3", "5"]


def test_import_writes_only_the_good_rows_and_lookup_finds_them(
    qtbot: QtBot, window: QWidget, backoffice: Backoffice, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, window, backoffice, write(tmp_path, EXPORT))
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.imported, timeout=10_000)
    assert dialog.bar.level is Level.SUCCESS
    assert dialog.bar.text().startswith("Imported 4 rows: 4 users, 3 accounts, 2 account links.")
    assert "3 rows with errors were left out" in dialog.bar.text()
    assert not dialog.import_button.isEnabled()
    assert dialog.cancel_button.text() == "Close"

    directory = backoffice.directory
    user = directory.user("sandbox", 1000001)
    assert user is not None
    assert user.email == "emily.carter@example.com"
    link = directory.link_by_ctid("sandbox", 9000002)
    assert link is not None
    assert (link.user_id, link.login, link.environment) == (1000001, 3100001, "demo")
    assert directory.user("sandbox", 1000012) is not None
    for bad in (1000010, 1000011):  # the refused lines
        assert directory.user("sandbox", bad) is None
    assert directory.users_by_email("sandbox", "bad@example.com") == []

    # Lookup joins the imported link with live reads.
    session = backoffice.session
    assert session is not None
    case = run_async(qtbot, lookup.lookup(session, "user:1000001"))
    assert isinstance(case, Case)
    assert [(row.login, row.ctid_trader_account_id) for row in case.accounts] == [
        (3100001, 9000002)
    ]
    assert case.accounts[0].broker_name == "sandbox_main"


def test_cancel_leaves_the_directory_unchanged(
    qtbot: QtBot, window: QWidget, backoffice: Backoffice, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, window, backoffice, write(tmp_path, EXPORT))
    assert dialog.import_button.isEnabled()
    dialog.reject()
    assert backoffice.directory.user("sandbox", 1000001) is None
    assert backoffice.directory.search("sandbox", "1000") == []


def test_a_file_that_is_not_utf8_is_refused_in_words(
    qtbot: QtBot, window: QWidget, backoffice: Backoffice, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("userId,email\n1000001,ren\u00e9@example.com\n".encode("latin-1"))
    dialog = open_dialog(qtbot, window, backoffice, path)
    assert dialog.bar.level is Level.ERROR
    assert "is not UTF-8 text (first bad byte on line 2)" in dialog.bar.text()
    assert "CSV UTF-8" in dialog.bar.text()
    assert dialog.preview_model.rowCount() == 0
    assert not dialog.import_button.isEnabled()


def test_a_file_without_a_usable_row_cannot_be_imported(
    qtbot: QtBot, window: QWidget, backoffice: Backoffice, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, window, backoffice, write(tmp_path, "email,login\nx@y.com,1\n"))
    assert not dialog.import_button.isEnabled()
    assert problems(dialog)[0][0] == "1"
    assert "userId column is required" in problems(dialog)[0][2]


def test_read_export_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        directory_import.read_export(tmp_path / "missing.csv")
    with pytest.raises(ImportFileError, match="is a folder"):
        directory_import.read_export(tmp_path)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfuserId\n1\n")
    assert directory_import.read_export(bom) == "userId\n1\n"
