"""Journal: every write attempt, newest first — filter, export, verify the chain, revert.

The table is a lazy model (journal_model.py): a journal of a million entries opens as fast as
one of ten. The tab loads only when it is shown, and again whenever a write lands
(``ctx.data_changed``) or the connection changes (``ctx.session_changed``).

Size (~540 lines, over the ~500 guide): the filter bar, the details pane and the revert flow all
work on the tab's one filter, selection and session; the table model already lives apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import fields
from datetime import date, datetime, timedelta

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QWidget,
)

from ctrader_admin.services import journal_ops
from ctrader_admin.store.journal import OUTCOMES, JournalEntry, JournalFilter, Outcome
from ctrader_admin.ui import table_state, theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import CSV_ONLY, choose_save_path
from ctrader_admin.ui.journal_model import (
    AFTER_COLUMN,
    BEFORE_COLUMN,
    COLUMN_SAMPLES,
    JournalModel,
    row_texts,
)
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.widgets import plural

FILTER_DELAY_MS = 300
LAST_STATE_SHOWN = (
    "The team database cannot be reached: these are the newest entries this computer saw of "
    "the team's journal (read-only). The live journal comes back with the server."
)
# Shorter text cannot use the trigram index: on a big journal it would scan every entry.
MIN_SEARCH_CHARS = 3

ChooseSavePath = Callable[[QWidget, str], Awaitable[str | None]]


async def choose_export_path(parent: QWidget, suggested: str) -> str | None:
    return await choose_save_path(parent, "Export the journal as CSV", suggested, CSV_ONLY)


def details_text(entry: JournalEntry) -> str:
    """Everything about one entry, for the details pane (plain text, selectable)."""
    texts = row_texts(entry)
    lines = [
        f"Entry #{entry.id} · {journal_ops.action_name(entry.action)} · {entry.outcome}",
        f"When:        {texts[0]} (local) · {entry.at_utc} (UTC)",
        f"Operator:    {entry.operator} on {entry.workstation}",
        f"Connection:  {entry.profile_name} ({entry.profile_id})"
        + (f" · environment {entry.environment}" if entry.environment else "")
        + (f" · White Label {entry.broker_name}" if entry.broker_name else ""),
        f"Target:      {entry.target}",
        f"Change:      {texts[BEFORE_COLUMN] or '—'} → {texts[AFTER_COLUMN] or '—'}",
        f"Reason:      {entry.reason or '—'}",
        f"Ticket:      {entry.ticket or '—'}",
    ]
    if entry.batch_id:
        lines.append(f"Batch:       {entry.batch_id}")
    if entry.reverts_id is not None:
        lines.append(f"Reverts:     entry #{entry.reverts_id}")
    origin = entry.origin
    if origin is not None:
        lines += [
            f"Imported:    from {origin.workstation}, #{origin.id} ({origin.source})",
            f"             by {origin.imported_by} at {origin.imported_at} (UTC)",
        ]
    refusal = journal_ops.static_refusal(entry)
    if refusal:
        lines.append(f"Revert:      not possible — {refusal}")
    lines += [
        "",
        "Request:",
        f"  {entry.request or '—'}",
        "Response:",
        f"  {entry.response or '—'}",
    ]
    if entry.error:
        lines += ["Error:", f"  {entry.error}"]
    lines += ["", f"Hash:        {entry.hash}", f"Previous:    {entry.prev_hash}"]
    if origin is not None:
        lines.append(f"Original:    {origin.hash} (#{origin.id} on {origin.workstation})")
    return "\n".join(lines)


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _local_midnight(day: QDate) -> datetime:
    return datetime(day.year(), day.month(), day.day()).astimezone()


class JournalTab(Tab):
    title = "Journal"
    help_text = (
        "Every write attempt, newest first: who changed what, from which value to which, why, "
        "and whether it worked. Select an entry to see its request and answer, or to revert it."
    )

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        # Tests and embedders replace this to answer without a file dialog.
        self.choose_export_path: ChooseSavePath = choose_export_path
        self._stale = True
        self._selected_id: int | None = None
        self._build_filters()
        self._build_table()
        self._build_actions()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_DELAY_MS)
        self._timer.timeout.connect(self.apply_filters)
        for edit in (self.search, self.operator, self.batch):
            edit.textChanged.connect(self._timer.start)
            edit.returnPressed.connect(self.apply_filters)
        for combo in (self.action_combo, self.outcome_combo, self.profile_combo):
            combo.currentIndexChanged.connect(self.apply_filters)
        for check, day in ((self.since_check, self.since), (self.until_check, self.until)):
            check.toggled.connect(day.setEnabled)
            check.toggled.connect(self.apply_filters)
            day.dateChanged.connect(self._date_changed)
        self.clear_button.clicked.connect(self.clear_filters)
        self.model.first_page.connect(self._first_page)
        self.model.loaded.connect(self._show_count)
        self.model.page_loaded.connect(self._page_arrived)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.export_button.clicked.connect(self._export)
        self.verify_button.clicked.connect(self._verify)
        self.revert_button.clicked.connect(self._revert)
        self.lookup_button.clicked.connect(self._open_in_lookup)
        ctx.data_changed.connect(self.refresh)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.table)
        copy.activated.connect(self._copy_cell)
        self._fill_profiles()
        self._refresh_buttons()

    # --- building ------------------------------------------------------------------------------

    def _build_filters(self) -> None:
        first = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("journalSearch")
        self.search.setPlaceholderText(
            "Search target, partnerId, White Label, reason, ticket, operator, error…"
        )
        self.search.setClearButtonEnabled(True)
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("journalAction")
        self.action_combo.addItem("All actions", None)
        for action, name in journal_ops.ACTION_NAMES.items():
            self.action_combo.addItem(name, action)
        self.outcome_combo = QComboBox()
        self.outcome_combo.setObjectName("journalOutcome")
        self.outcome_combo.addItem("All outcomes", None)
        for outcome in OUTCOMES:
            self.outcome_combo.addItem(outcome, outcome)
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("journalProfile")
        self.profile_combo.setMinimumContentsLength(12)
        first.addWidget(self.search, 1)
        first.addWidget(self.action_combo)
        first.addWidget(self.outcome_combo)
        first.addWidget(self.profile_combo)
        self.body.addLayout(first)

        second = QHBoxLayout()
        self.operator = QLineEdit()
        self.operator.setObjectName("journalOperator")
        self.operator.setPlaceholderText("Operator login")
        self.operator.setToolTip("The manager login that made the change (exact)")
        self.operator.setClearButtonEnabled(True)
        self.batch = QLineEdit()
        self.batch.setObjectName("journalBatch")
        self.batch.setPlaceholderText("Batch id")
        self.batch.setToolTip("The id of a bulk job (exact)")
        self.batch.setClearButtonEnabled(True)
        today = QDate.currentDate()
        self.since_check = QCheckBox("From")
        self.since = self._date_edit(today.addDays(-7))
        self.until_check = QCheckBox("To")
        self.until = self._date_edit(today)
        self.clear_button = QPushButton("Clear filters")
        self.count_label = QLabel()
        self.count_label.setObjectName("journalCount")
        second.addWidget(self.operator)
        second.addWidget(self.batch)
        second.addWidget(self.since_check)
        second.addWidget(self.since)
        second.addWidget(self.until_check)
        second.addWidget(self.until)
        second.addWidget(self.clear_button)
        second.addStretch(1)
        second.addWidget(self.count_label)
        self.body.addLayout(second)

    @staticmethod
    def _date_edit(day: QDate) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    def _build_table(self) -> None:
        self.model = JournalModel(self.ctx.backoffice.readable_journal)
        self.table = QTableView()
        self.table.setObjectName("journalTable")
        self.table.setModel(self.model)
        table_state.remember_columns(self.table)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        metrics = self.table.fontMetrics()
        rows = self.table.verticalHeader()
        rows.hide()
        # Fixed row heights: the view never asks a million rows for their size.
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(metrics.height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        for column, sample in enumerate(COLUMN_SAMPLES):
            # Never narrower than the header's own text (the style adds margins to it).
            width = max(metrics.horizontalAdvance(sample) + 16, header.sectionSizeHint(column))
            header.resizeSection(column, width)
        header.setStretchLastSection(False)

        self.details = QPlainTextEdit()
        self.details.setObjectName("journalDetails")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText("Select an entry to see its request, answer and hashes.")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([480, 170])
        self.body.addWidget(self.splitter, 1)

    def _build_actions(self) -> None:
        row = QHBoxLayout()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("journalExport")
        self.export_button.setToolTip("Save the entries matching the filters as a CSV file")
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.setObjectName("journalVerify")
        self.verify_button.setToolTip(
            "Recompute every entry's hash: shows whether any entry was changed or removed"
        )
        self.revert_button = QPushButton("Revert…")
        self.revert_button.setObjectName("journalRevert")
        self.lookup_button = QPushButton("Open in Lookup")
        self.lookup_button.setObjectName("journalLookup")
        self.verify_result = QLabel()
        self.verify_result.setObjectName("verifyResult")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for button in (self.export_button, self.verify_button):
            row.addWidget(button)
        row.addWidget(self.verify_result, 1)
        row.addWidget(self.revert_button)
        row.addWidget(self.lookup_button)
        self.body.addLayout(row)

    # --- filters -------------------------------------------------------------------------------

    def current_filter(self) -> JournalFilter:
        outcome: Outcome | None = self.outcome_combo.currentData()
        since = _local_midnight(self.since.date()) if self.since_check.isChecked() else None
        until = None
        if self.until_check.isChecked():
            until = _local_midnight(self.until.date()) + timedelta(days=1)  # the whole day
        text = self.search.text().strip()
        return JournalFilter(
            text=text if len(text) >= MIN_SEARCH_CHARS else None,
            action=self.action_combo.currentData(),
            outcome=outcome,
            profile_id=self.profile_combo.currentData(),
            batch_id=self.batch.text().strip() or None,
            operator=self.operator.text().strip() or None,
            since=since,
            until=until,
        )

    def clear_filters(self) -> None:
        widgets = (
            self.search,
            self.operator,
            self.batch,
            self.action_combo,
            self.outcome_combo,
            self.profile_combo,
            self.since_check,
            self.until_check,
        )
        for widget in widgets:
            widget.blockSignals(True)
        for edit in (self.search, self.operator, self.batch):
            edit.clear()
        for combo in (self.action_combo, self.outcome_combo, self.profile_combo):
            combo.setCurrentIndex(0)
        for check, day in ((self.since_check, self.since), (self.until_check, self.until)):
            check.setChecked(False)
            day.setEnabled(False)
        for widget in widgets:
            widget.blockSignals(False)
        self.apply_filters()

    def _date_changed(self) -> None:
        if self.since_check.isChecked() or self.until_check.isChecked():
            self._timer.start()

    def _fill_profiles(self) -> None:
        chosen = self.profile_combo.currentData()
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        self.profile_combo.addItem("All profiles", None)
        for profile in self.ctx.backoffice.settings.profiles:
            self.profile_combo.addItem(profile.name, profile.id)
        index = self.profile_combo.findData(chosen) if chosen is not None else 0
        self.profile_combo.setCurrentIndex(max(index, 0))
        self.profile_combo.blockSignals(False)

    # --- loading -------------------------------------------------------------------------------

    def apply_filters(self) -> None:
        self._timer.stop()
        self.reload()

    @async_slot()
    async def reload(self) -> None:
        """Count and show the entries matching the filters (on a worker thread)."""
        self._stale = False
        self.count_label.setText("Loading…")
        # The team's journal, or while its server is away the last state this computer saw.
        backoffice = self.ctx.backoffice
        journal = backoffice.readable_journal
        if journal is not self.model.journal:
            self.model.set_journal(journal)
            self.bar.hide()
        if journal is not backoffice.journal:
            self.bar.show_message(Level.WARNING, LAST_STATE_SHOWN)
        await self.model.load(self.current_filter())

    def refresh(self) -> None:
        """A write landed: load again now if the tab is on screen, else when it is shown."""
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def on_session_changed(self) -> None:
        self._fill_profiles()
        self.refresh()
        self._refresh_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _first_page(self) -> None:
        self._show_count()
        row = self.model.row_of(self._selected_id) if self._selected_id is not None else None
        if row is not None:
            self.table.selectRow(row)
        else:
            self._show_details()
            self._refresh_buttons()

    def _show_count(self) -> None:
        total = self.model.total
        flt = self.model.filter
        filtered = any(getattr(flt, f.name) is not None for f in fields(flt))
        match = " match" if filtered else ""
        typed = self.search.text().strip()
        short = 0 < len(typed) < MIN_SEARCH_CHARS
        note = f" · type {MIN_SEARCH_CHARS}+ characters to search" if short else ""
        if self.model.counting:
            self.count_label.setText(f"{total:,}+ entries{match} · counting…{note}")
            return
        self.count_label.setText(f"{plural(total, 'entry', 'entries')}{match}{note}")

    def _page_arrived(self, page_no: int) -> None:
        # The selected row may have been a placeholder until now.
        row = self._selected_row()
        if row is not None and row // self.model.page_size == page_no:
            self._show_details()
            self._refresh_buttons()

    # --- selection -----------------------------------------------------------------------------

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def selected_entry(self) -> JournalEntry | None:
        row = self._selected_row()
        return self.model.entry_at(row) if row is not None else None

    def select_entry(self, entry_id: int) -> bool:
        """Select an entry shown in the loaded pages (tests, and after a reload)."""
        row = self.model.row_of(entry_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def _selection_changed(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self._selected_id = entry.id
        elif self._selected_row() is None:
            self._selected_id = None
        self._show_details()
        self._refresh_buttons()

    def _show_details(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            self.details.setPlainText("Loading…" if self._selected_row() is not None else "")
        else:
            self.details.setPlainText(details_text(entry))

    def _refresh_buttons(self) -> None:
        entry = self.selected_entry()
        session = self.ctx.backoffice.session
        refusal = journal_ops.static_refusal(entry) if entry is not None else None
        # Offered only where it can work: a failed attempt, a create or a link has nothing to
        # put back, and the tooltip says why.
        self.revert_button.setEnabled(entry is not None and not refusal and self.writable())
        self.revert_button.setToolTip(
            f"Not possible: {refusal}"
            if refusal
            else "Write the value from before this entry back (asks first; journaled)"
        )
        query = journal_ops.lookup_query(entry.target) if entry is not None else None
        self.lookup_button.setEnabled(query is not None and session is not None)
        self.lookup_button.setToolTip(f"Look up {query}" if query else "")

    def _copy_cell(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            QGuiApplication.clipboard().setText(str(self.model.data(index) or ""))

    # --- actions -------------------------------------------------------------------------------

    @async_slot()
    async def _export(self) -> None:
        flt = self.current_filter()
        journal = self.ctx.backoffice.journal
        suggested = f"journal-{date.today().isoformat()}.csv"
        path = await self.choose_export_path(self, suggested)
        if not path:
            return
        done = await self.runner.run(
            "Exporting the journal",
            lambda: journal_ops.export_csv_async(journal, flt, path),
            controls=[self.export_button],
        )
        if done is not None:
            exported = plural(done.value, "entry", "entries")
            self.bar.show_message(Level.SUCCESS, f"{exported} exported to {path}.")

    @async_slot()
    async def _verify(self) -> None:
        journal = self.ctx.backoffice.journal
        self.verify_result.setText("")
        done = await self.runner.run(
            "Verifying the journal",
            lambda: asyncio.to_thread(journal.verify),
            controls=[self.verify_button],
        )
        if done is None:
            return
        report = done.value
        if report.ok:
            theme.set_tone(self.verify_result, theme.Tone.SUCCESS)
            self.verify_result.setText(
                f"✔ Chain intact: {plural(report.checked, 'entry', 'entries')} checked "
                f"(at {_now()})"
            )
        else:
            theme.set_tone(self.verify_result, theme.Tone.ERROR)
            self.verify_result.setText(
                f"✖ Chain broken at entry #{report.first_bad_id}: {report.message} "
                f"({report.checked:,} entries before it are intact; checked at {_now()}.)"
            )

    @async_slot()
    async def _revert(self) -> None:
        entry = self.selected_entry()
        session = self.ctx.backoffice.session
        if entry is None or session is None:
            return
        planned = await self.runner.run(
            "Reading the current value",
            lambda: journal_ops.describe_revert(session, entry),
            controls=[self.revert_button],
        )
        if planned is None:
            return
        plan = planned.value
        if plan.drift:
            self.bar.show_error(journal_ops.drift_error(plan))
            return
        answer = await self.ctx.confirm(
            f"Revert journal entry #{entry.id}",
            plan.changes(),
            action_label="Revert",
            destructive=True,
        )
        if answer is None:
            return
        reason, ticket = answer
        done = await self.runner.run(
            "Reverting",
            lambda: journal_ops.revert(session, plan, reason=reason, ticket=ticket),
            controls=[self.revert_button],
        )
        self.ctx.wrote()
        if done is None:
            return
        result = done.value
        level = Level.SUCCESS if result.confirmed else Level.ERROR
        self.bar.show_message(level, result.message())
        if result.entry is not None:
            self._selected_id = result.entry.id

    def _open_in_lookup(self) -> None:
        entry = self.selected_entry()
        query = journal_ops.lookup_query(entry.target) if entry is not None else None
        if query is not None:
            self.ctx.lookup_requested.emit(query)
