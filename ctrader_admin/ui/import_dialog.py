"""Import a CRM export (CSV) into the local directory: choose the file, see every row that will be
imported and every row that will not (with its line number and why), then import.

Nothing is written before Import is pressed; Cancel leaves the directory as it was. Only the
local directory changes: nothing is sent to the broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services import directory_import
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.directory_import import FilePreview
from ctrader_admin.store.directory_csv import ImportRow
from ctrader_admin.ui import table_state, theme
from ctrader_admin.ui.dialogs import CSV_FILTER, choose_open_path
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.rows_model import Column, RowsModel
from ctrader_admin.ui.runner import BusyPanel, Runner
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import hint, plural

_Index = QModelIndex | QPersistentModelIndex
ChooseFile = Callable[[QWidget], Awaitable[str | None]]


async def choose_csv_file(parent: QWidget) -> str | None:
    return await choose_open_path(parent, "Choose a CRM export", CSV_FILTER)


class PreviewModel(RowsModel[ImportRow]):
    """The rows that will be imported, as read from the file."""

    def __init__(self) -> None:
        super().__init__(
            [
                Column("Line", lambda r: r.line_no),
                Column("userId", lambda r: r.user_id),
                Column("Email", lambda r: r.email),
                Column("Login", lambda r: r.login),
                Column("ctidTraderAccountId", lambda r: r.ctid_trader_account_id),
                Column("White Label", lambda r: r.broker_name),
                Column("Env", lambda r: r.environment),
            ]
        )


@dataclass(frozen=True)
class Problem:
    line_no: int
    level: str  # "error" (not imported) or "warning" (imported anyway)
    message: str


class ProblemsModel(RowsModel[Problem]):
    """Rows that will not be imported (errors) and rows worth a second look (warnings)."""

    def __init__(self) -> None:
        super().__init__(
            [
                Column("Line", lambda p: p.line_no),
                Column("Status", lambda p: "not imported" if p.level == "error" else "warning"),
                Column("Problem", lambda p: p.message),
            ]
        )

    def set_rows(self, rows: Sequence[Problem]) -> None:
        super().set_rows(sorted(rows, key=lambda p: (p.line_no, p.level)))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        problem, column = self.rows[index.row()], index.column()
        tone = theme.Tone.ERROR if problem.level == "error" else theme.Tone.WARNING
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QBrush(theme.colours(tone)[1])
        if role == Qt.ItemDataRole.DecorationRole and column == 1:
            return theme.status_icon(tone)
        if role == Qt.ItemDataRole.ToolTipRole and column != 2:
            return None
        return super().data(index, role)


def _table(model: QAbstractTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    table_state.remember_columns(view)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    rows = view.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


class ImportDialog(QDialog):
    def __init__(self, parent: QWidget | None, backoffice: Backoffice) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import CRM export")
        self.backoffice = backoffice
        # Tests and embedders replace this to answer without a file dialog.
        self.choose_file: ChooseFile = choose_csv_file
        self.checked: FilePreview | None = None
        self.imported = False
        session = backoffice.session
        layout = QVBoxLayout(self)
        where = f"the connection “{session.profile.name}”" if session else "no connection"
        layout.addWidget(
            hint(
                "Adds users, accounts and account links from a CRM export (CSV) to the local "
                f"directory of {where}, so Lookup can find them. Columns: userId (required), "
                "email, login, ctidTraderAccountId, brokerName, environment. Nothing is sent to "
                "the broker, and nothing is written until you press Import."
            )
        )
        file_row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setObjectName("importPath")
        self.path.setReadOnly(True)
        self.path.setPlaceholderText("No file chosen")
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setObjectName("importChoose")
        self.environment = QComboBox()
        self.environment.setObjectName("importEnvironment")
        self.environment.setToolTip("For rows that have a login but no environment value")
        self.environment.addItem("no default environment", None)
        for environment in session.profile.environments if session else []:
            self.environment.addItem(f"default environment: {environment}", environment)
        file_row.addWidget(self.path, 1)
        file_row.addWidget(self.choose_button)
        file_row.addWidget(self.environment)
        layout.addLayout(file_row)

        self.counts = QLabel()
        self.counts.setObjectName("importCounts")
        self.counts.setWordWrap(True)
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.counts)

        self.preview_model = PreviewModel()
        self.preview_table = _table(self.preview_model, "importPreview")
        self.problems_model = ProblemsModel()
        self.problems_table = _table(self.problems_model, "importProblems")
        self.preview_box = QGroupBox("Rows to import")
        box_layout = QVBoxLayout(self.preview_box)
        box_layout.addWidget(self.preview_table)
        self.problems_box = QGroupBox("Rows not imported")
        problems_layout = QVBoxLayout(self.problems_box)
        problems_layout.addWidget(self.problems_table)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.preview_box)
        splitter.addWidget(self.problems_box)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        self.busy = BusyPanel()
        self.bar = MessageBar()
        layout.addWidget(self.busy)
        layout.addWidget(self.bar)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.import_button.setObjectName("importButton")
        self.import_button.setEnabled(False)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.runner = Runner(bar=self.bar, busy=self.busy, login_prompt=_no_login)

        self.choose_button.clicked.connect(self._choose)
        self.environment.currentIndexChanged.connect(self._environment_changed)
        self.import_button.clicked.connect(self._import)
        if session is None:
            self.choose_button.setEnabled(False)
            self.bar.show_message(Level.ERROR, "Open a connection first: imports go to its list.")
        self._show(None)
        self.resize(900, 620)

    # --- steps ---------------------------------------------------------------------------------

    @async_slot()
    async def _choose(self) -> None:
        path = await self.choose_file(self)
        if path:
            self.path.setText(path)
            await self.load(path)

    @async_slot()
    async def _environment_changed(self) -> None:
        if self.path.text() and not self.imported:
            await self.load(self.path.text())

    async def load(self, path: str) -> None:
        """Read and check the file; shows the rows and the problems. Nothing is written."""
        session = self.backoffice.session
        if session is None:
            return
        environment = self.environment.currentData()
        self.imported = False
        done = await self.runner.run(
            "Reading the file",
            lambda: directory_import.preview_file(session, path, default_environment=environment),
            controls=[self.choose_button, self.environment],
        )
        self._show(done.value if done is not None else None)

    @async_slot()
    async def _import(self) -> None:
        session = self.backoffice.session
        checked = self.checked
        if session is None or checked is None:
            return
        done = await self.runner.run(
            "Importing",
            lambda: directory_import.import_preview(session, checked),
            controls=[self.import_button, self.choose_button],
        )
        if done is None:
            return
        counts = done.value
        self.imported = True
        self.import_button.setEnabled(False)
        self.cancel_button.setText("Close")
        skipped = len(checked.preview.errors)
        self.bar.show_message(
            Level.SUCCESS,
            f"Imported {plural(len(checked.preview.rows_ok), 'row')}: "
            f"{plural(counts.users, 'user')}, {plural(counts.accounts, 'account')}, "
            f"{plural(counts.links, 'account link')}."
            + (f" {plural(skipped, 'row')} with errors were left out." if skipped else ""),
        )

    # --- display -------------------------------------------------------------------------------

    def _show(self, checked: FilePreview | None) -> None:
        self.checked = checked
        if checked is None:
            self.preview_model.set_rows([])
            self.problems_model.set_rows([])
            self.counts.setText("")
            self.import_button.setEnabled(False)
            return
        preview = checked.preview
        self.preview_model.set_rows(preview.rows_ok)
        problems = [Problem(e.line_no, "error", e.message) for e in preview.errors]
        problems += [Problem(w.line_no, "warning", w.message) for w in preview.warnings]
        self.problems_model.set_rows(problems)
        parts = [f"<b>{plural(len(preview.rows_ok), 'row')} ready to import</b>"]
        if preview.errors:
            parts.append(
                f"<span style='color:{theme.html_colour(theme.Tone.ERROR)}'>"
                f"<b>{plural(len(preview.errors), 'row')} with errors</b> (not imported)</span>"
            )
        if preview.warnings:
            noun = "warning" if len(preview.warnings) == 1 else "warnings"
            warning = theme.html_colour(theme.Tone.WARNING)
            parts.append(f"<span style='color:{warning}'>{len(preview.warnings):,} {noun}</span>")
        if preview.ignored_columns:
            parts.append("ignored columns: " + escape(", ".join(preview.ignored_columns)))
        self.counts.setText(" · ".join(parts))
        self.problems_box.setTitle(
            f"Rows not imported ({len(preview.errors)})"
            if not preview.warnings
            else f"Rows not imported ({len(preview.errors)}) and warnings ({len(preview.warnings)})"
        )
        self.import_button.setEnabled(checked.importable)
        self.import_button.setDefault(checked.importable)


async def _no_login(_refused: BaseException) -> bool:
    # Nothing here talks to the backend, so no log-in is ever needed.
    return False
