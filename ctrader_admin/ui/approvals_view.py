"""The Approvals view (team mode, issue 13): the team's changes waiting for a second person, and
the decided ones; approve or reject another person's change with a comment. Your own changes
are shown but cannot be decided here (nor by the database, which refuses it whoever asks).
Apply sends an approved change of yours, once: a single write through the same confirm → send
path as the forms (the write model's drift check included); a plan opens in the Jobs tab ready
to apply under its approval (``plan_apply_requested``, wired by the main window).
Every refusal is the service's sentence on the status line (or the button's tooltip)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from PySide6.QtCore import QSocketNotifier, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.errors import ExpectedError
from ctrader_admin.services.approvals import STATE_WORDS, Approvals, ChangeBody
from ctrader_admin.store.pg.approvals import ApprovalRecord, ApprovalState
from ctrader_admin.store.pg.watch import ChannelWatcher
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.notify import MessageBar
from ctrader_admin.ui.runner import BusyPanel
from ctrader_admin.ui.slots import async_slot, cancel_on_destroy
from ctrader_admin.ui.widgets import heading, hint, plural

COLUMNS = ("#", "State", "Change", "Connection", "Submitted by", "Reason", "Decided by", "Comment")
STATES: tuple[tuple[str, ApprovalState], ...] = (
    ("Waiting for a decision", "pending"),
    ("Decided", "decided"),
    ("All", "all"),
)
OWN_CHANGE = "You submitted this change: another person must approve or reject it."


def _cells(record: ApprovalRecord) -> tuple[str, ...]:
    reason = " · ".join(part for part in (record.reason, record.ticket) if part)
    where = record.profile_id + (f" / {record.environment}" if record.environment else "")
    return (
        str(record.id),
        STATE_WORDS.get(record.state, record.state),
        record.summary,
        where,
        f"{record.submitted_by}, {record.submitted_at:%Y-%m-%d %H:%M}",
        reason,
        record.decided_by or "",
        record.comment or "",
    )


class ApprovalsView(QWidget):
    # An approved plan of yours to apply: the main window opens it in the Jobs tab.
    plan_apply_requested = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        approvals: Approvals | None,
        ctx: UiContext | None = None,
    ) -> None:
        """``ctx``: the app's, to apply a single write (without it, Apply is not offered)."""
        super().__init__(parent)
        cancel_on_destroy(self)  # a refresh still reading must not outlive the view
        self.setObjectName("approvalsView")
        self._approvals = approvals
        self._ctx = ctx
        self._records: list[ApprovalRecord] = []
        self._me = ""
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Approvals"))
        layout.addWidget(
            hint(
                "Changes the team's policy sends for a second person's approval. An approved "
                "change can be applied once, exactly as submitted; the journal names both people."
            )
        )
        bar = QHBoxLayout()
        self.state_combo = QComboBox()
        for label, _state in STATES:
            self.state_combo.addItem(label)
        self.state_combo.currentIndexChanged.connect(self.refresh)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.count_label = QLabel()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.state_combo)
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.refresh_button)
        layout.addLayout(bar)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # One line per approval: a long change is elided (its tooltip has it all), not wrapped
        # into a row too low to show the second line.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The change is read whole (scrolled to in a narrow window); the comment takes the rest.
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)

        decide = QHBoxLayout()
        self.comment_edit = QLineEdit()
        self.comment_edit.setPlaceholderText("Comment for the submitter (required to reject)")
        self.approve_button = QPushButton("Approve")
        self.reject_button = QPushButton("Reject")
        self.approve_button.clicked.connect(self._approve)
        self.reject_button.clicked.connect(self._reject)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("approvalsApply")
        self.apply_button.clicked.connect(self._apply)
        self.apply_button.setVisible(ctx is not None)
        decide.addWidget(self.comment_edit, 1)
        decide.addWidget(self.approve_button)
        decide.addWidget(self.reject_button)
        decide.addWidget(self.apply_button)
        layout.addLayout(decide)
        self.busy = BusyPanel()
        self.bar = MessageBar()
        layout.addWidget(self.busy)
        layout.addWidget(self.bar)
        self.runner = None if ctx is None else ctx.runner(self.bar, self.busy)
        self._watcher: ChannelWatcher | None = None
        self._notifier: QSocketNotifier | None = None
        self.status_line = QLabel()
        self.status_line.setWordWrap(True)
        self.status_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status_line)
        self._selection_changed()

    def start_live_updates(self) -> None:
        """Refresh whenever anyone submits or decides (LISTEN/NOTIFY; no polling): Qt wakes on
        the watcher's socket."""
        if self._approvals is None or self._watcher is not None:
            return
        try:
            self._watcher = self._approvals.watch()
        except ExpectedError as exc:
            self.status_line.setText(f"✖ Live updates are off: {exc.message}")
            return
        self._notifier = QSocketNotifier(self._watcher.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._told)
        self.destroyed.connect(self._watcher.close)

    @property
    def listening(self) -> bool:
        """Live updates are on (a connection of their own listens)."""
        return self._watcher is not None

    def stop_live_updates(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def _told(self) -> None:
        if self._watcher is not None and self._watcher.drain():
            self.refresh()

    @property
    def state(self) -> ApprovalState:
        return STATES[self.state_combo.currentIndex()][1]

    def show_records(self, records: Sequence[ApprovalRecord], me: str) -> None:
        """Fill the table (what ``refresh`` read; also how tools/screens.py renders it)."""
        selected = self.selected()
        self._records, self._me = list(records), me
        self.table.setRowCount(len(self._records))
        for row, record in enumerate(self._records):
            for column, text in enumerate(_cells(record)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{text}\n\n{record.body}" if column == 2 else text)
                self.table.setItem(row, column, item)
            if selected is not None and record.id == selected.id:
                self.table.selectRow(row)
        self.count_label.setText(plural(len(self._records), "approval"))
        self._selection_changed()

    def selected(self) -> ApprovalRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._records):
            return None
        return self._records[rows[0].row()]

    def _selection_changed(self) -> None:
        record = self.selected()
        own = record is not None and record.submitted_by == self._me
        decidable = record is not None and record.decision is None and not own
        self.approve_button.setEnabled(decidable)
        self.reject_button.setEnabled(decidable)
        self.comment_edit.setEnabled(decidable)
        for button in (self.approve_button, self.reject_button):
            button.setToolTip(OWN_CHANGE if own and record and record.decision is None else "")
        if record is not None and record.decision is None and own:
            self.status_line.setText(OWN_CHANGE)
        why_not = "Select an approved change of yours." if record is None else self._why_not(record)
        self.apply_button.setEnabled(why_not is None)
        self.apply_button.setToolTip(why_not or "Send it once, exactly as approved")

    def _why_not(self, record: ApprovalRecord) -> str | None:
        if self._approvals is None:
            return "No team database."
        return self._approvals.why_not_apply(record, me=self._me)

    @async_slot()
    async def refresh(self) -> None:
        if self._approvals is None:
            return
        approvals, state = self._approvals, self.state
        try:
            me = await asyncio.to_thread(lambda: approvals.me)
            records = await asyncio.to_thread(approvals.list, state)
        except ExpectedError as exc:
            self.status_line.setText(f"✖ {exc.message}")
            return
        self.show_records(records, me)

    @async_slot()
    async def _approve(self) -> None:
        await self._decide(approve=True)

    @async_slot()
    async def _reject(self) -> None:
        await self._decide(approve=False)

    async def _decide(self, *, approve: bool) -> None:
        record, approvals = self.selected(), self._approvals
        if record is None or approvals is None:
            return
        comment = self.comment_edit.text()
        decide = approvals.approve if approve else approvals.reject
        self.approve_button.setEnabled(False)
        self.reject_button.setEnabled(False)
        try:
            decided = await asyncio.to_thread(decide, record.id, comment)
        except ExpectedError as exc:
            self.status_line.setText(f"✖ {exc.message}")
            self._selection_changed()
            return
        self.comment_edit.clear()
        state = STATE_WORDS[decided.state].lower()
        self.status_line.setText(f"✔ Approval {decided.id}: {state} — {decided.summary}.")
        await self.refresh()

    @async_slot()
    async def _apply(self) -> None:
        record = self.selected()
        if record is None or self._why_not(record) is not None:
            return
        if record.kind == "plan":
            self.plan_apply_requested.emit(record)
            return
        await self._apply_write(record)

    async def _apply_write(self, record: ApprovalRecord) -> None:
        """An approved single write of yours, through the forms' confirm → send path: prepared
        again, refused if the target drifted from the value approved, sent once."""
        from ctrader_admin.services.approved_write import apply_approved

        ctx, approvals, runner = self._ctx, self._approvals, self.runner
        if ctx is None or approvals is None or runner is None:
            return
        self.apply_button.setEnabled(False)  # enabled again by the selection, once refreshed
        session = ctx.session
        if session.profile.id != record.profile_id:
            self.status_line.setText(
                f"✖ Approval {record.id} is for the connection {record.profile_id!r}: open it "
                "first (Connection menu), then Apply."
            )
            return
        done = await ctx.confirm_and_send(
            runner,
            f"Apply approval {record.id}",
            [
                *ChangeBody.parse(record.body).lines(),
                ("Approved by", record.decided_by or ""),
                ("Then", "sent once; the journal names both people"),
            ],
            busy=f"Applying approval {record.id}",
            send=lambda _reason, _ticket: apply_approved(session, approvals, record.id),
            action_label="Apply",
            given=(record.reason, record.ticket, "Given when the change was submitted"),
        )
        if done is not None:
            entry = done.value.entry
            said = "nothing to send: already as approved" if entry is None else entry.outcome
            self.status_line.setText(f"✔ Approval {record.id} applied: {record.summary} — {said}.")
        await self.refresh()
