"""Table models of the Jobs tab: the rows of a plan or a job (the diff, then each row's state as
the job runs), and the list of jobs of the active connection.

A plan can hold tens of thousands of rows, and a running job changes a few hundred of them per
second. So a row's texts are made when it is first shown, and a refresh of the states compares
them and emits ``dataChanged`` for the runs of rows that changed only: the model is never reset
while a job runs, and the view repaints only what it shows. While a job runs the tab refreshes
the rows on screen only (from the job itself); every row is read from the checkpoints when the
job ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from ctrader_admin.services.bulk import Plan, PlanRow, show
from ctrader_admin.services.journal_ops import local_time
from ctrader_admin.store.checkpoints import JobRecord, RowCheckpoint, RowState
from ctrader_admin.ui import theme

_Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[str, ...] = (
    "Row",
    "Line",
    "Target",
    "Current → proposed",
    "Verdict",
    "State",
    "Detail",
    "Call",
)
ROW, LINE, TARGET, CHANGE, VERDICT, STATE, DETAIL, CALL = range(len(COLUMNS))
# Typical values that set the initial column widths: the view never measures every row.
COLUMN_SAMPLES: tuple[str, ...] = (
    "10000",
    "10000",
    "login:5200001@live",
    "AFF-EU-318 → PARTNER-2077",
    "skip (already equal)",
    "in flight",
    "not sent — invalid: level must be 'user'",
    "PUT /cid/oauth2/ctid/referral {brokerCrmName=sandbox_crm}",
)

STATE_TEXT: dict[RowState, str] = {
    "pending": "pending",
    "in_flight": "in flight",
    "ok": "ok",
    "skipped": "skipped",
    "drift": "drift",
    "failed": "failed",
    "unknown": "unknown",
}
# A row's state in colour (the theme's, light or dark) and an icon, beside its name.
STATE_TONES: dict[RowState, theme.Tone] = {
    "in_flight": theme.Tone.INFO,
    "ok": theme.Tone.SUCCESS,
    "drift": theme.Tone.WARNING,
    "failed": theme.Tone.ERROR,
    "unknown": theme.Tone.WARNING,
}


def states_of(
    count: int, rows: Iterable[tuple[int, RowState, str | None]]
) -> tuple[list[RowState | None], list[str | None]]:
    """The state and error lists of ``count`` rows from (row number, state, error), for
    ``PlanRowsModel.replace_states``."""
    states: list[RowState | None] = [None] * count
    errors: list[str | None] = [None] * count
    for n, state, error in rows:
        if 0 < n <= count:
            states[n - 1] = state
            errors[n - 1] = error
    return states, errors


def verdict_text(row: PlanRow) -> str:
    """The pre-flight verdict as the operator reads it: ok, skip, or error and its kind."""
    if row.status == "write":
        return "ok"
    if row.status == "skip":
        return "skip (already equal)"
    return f"error: {row.problem}" if row.problem else "error"


def _row_texts(row: PlanRow) -> tuple[str, ...]:
    target = row.target or ",".join(row.source)
    if row.op is None:
        change = ""
    elif row.status == "error" and row.current is None:
        change = f"? → {show(row.proposed)}"
    else:
        change = f"{show(row.current)} → {show(row.proposed)}"
    return (
        str(row.n),
        str(row.line) if row.line else "",
        target,
        change,
        verdict_text(row),
        "",  # state: not from the plan
        "",  # detail: not from the plan
        row.call.describe() if row.call else "",
    )


class PlanRowsModel(QAbstractTableModel):
    """The rows of one plan: the diff, and (once it is a job) each row's state."""

    def __init__(self) -> None:
        super().__init__()
        self.plan: Plan | None = None
        self._rows: list[PlanRow] = []
        self._texts: list[tuple[str, ...] | None] = []
        self._states: list[RowState | None] = []
        self._errors: list[str | None] = []

    # --- content -------------------------------------------------------------------------------

    def set_plan(self, plan: Plan | None) -> None:
        """Show ``plan`` (None: nothing); row states are cleared."""
        if plan is not None and plan is self.plan:
            # The plan on screen (a job starts on the diff just shown): its rows stay, only
            # their states go — no reset, which would lay out and repaint the whole view.
            count = len(self._rows)
            self.replace_states([None] * count, [None] * count)
            return
        self.beginResetModel()
        self.plan = plan
        self._rows = list(plan.rows) if plan is not None else []
        count = len(self._rows)
        self._texts = [None] * count
        self._states = [None] * count
        self._errors = [None] * count
        self.endResetModel()

    def set_states(self, checkpoints: Sequence[RowCheckpoint]) -> int:
        """Take the rows' states from their checkpoints; returns how many rows changed."""
        return self.update_states((cp.row - 1, cp.state, cp.error) for cp in checkpoints)

    def replace_states(self, states: list[RowState | None], errors: list[str | None]) -> None:
        """Every row's state and error at once, as lists made off the event loop by
        ``states_of`` (a big job's rows would otherwise be walked on it): one signal."""
        if len(states) != len(self._rows) or len(errors) != len(self._rows):
            raise ValueError("one state and one error per row")
        self._states, self._errors = states, errors
        if states:
            self.dataChanged.emit(self.index(0, STATE), self.index(len(states) - 1, DETAIL))

    def update_states(self, states: Iterable[tuple[int, RowState, str | None]]) -> int:
        """(row index, state, error) for some rows; only the runs of rows that changed are
        announced to the view. Returns how many changed."""
        known, errors = self._states, self._errors
        count = len(known)
        changed: list[int] = []
        for index, state, error in states:
            if 0 <= index < count and (known[index] != state or errors[index] != error):
                known[index] = state
                errors[index] = error
                changed.append(index)
        if changed:
            self._announce(changed)
        return len(changed)

    def _announce(self, changed: list[int]) -> None:
        changed.sort()
        runs: list[tuple[int, int]] = []
        first = last = changed[0]
        for index in changed[1:]:
            if index == last + 1:
                last = index
                continue
            runs.append((first, last))
            first = last = index
        runs.append((first, last))
        if len(runs) > 64:  # scattered: one span costs the view less than many signals
            runs = [(changed[0], changed[-1])]
        for first, last in runs:
            self.dataChanged.emit(self.index(first, STATE), self.index(last, DETAIL))

    # --- reading -------------------------------------------------------------------------------

    def row_at(self, row: int) -> PlanRow:
        return self._rows[row]

    def state_at(self, row: int) -> RowState | None:
        return self._states[row]

    def states(self) -> list[RowState | None]:
        return list(self._states)

    def text(self, row: int, column: int) -> str:
        if column == STATE:
            state = self._states[row]
            return STATE_TEXT[state] if state is not None else ""
        if column == DETAIL:
            return self._detail(row)
        texts = self._texts[row]
        if texts is None:
            texts = self._texts[row] = _row_texts(self._rows[row])
        return texts[column]

    def _detail(self, row: int) -> str:
        error = self._errors[row]
        if error:
            return error
        plan_row = self._rows[row]
        if self._states[row] in ("ok", "pending", "in_flight") and plan_row.status == "write":
            return ""
        return plan_row.message

    # --- QAbstractTableModel -------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        handler = _ROLES.get(role)
        return handler(self, index.row(), index.column()) if handler is not None else None


def _display(model: PlanRowsModel, row: int, column: int) -> Any:
    return model.text(row, column)


def _tooltip(model: PlanRowsModel, row: int, column: int) -> Any:
    if column in (ROW, LINE):
        return None
    return model.text(row, column) or None


def _tone(model: PlanRowsModel, row: int, column: int) -> theme.Tone | None:
    if column == VERDICT:
        status = model.row_at(row).status
        return theme.Tone.ERROR if status == "error" else None
    if column == STATE:
        state = model.state_at(row)
        return STATE_TONES.get(state) if state is not None else None
    return None


def _colours(model: PlanRowsModel, row: int, column: int) -> tuple[QColor, QColor] | None:
    tone = _tone(model, row, column)
    return theme.colours(tone) if tone is not None else None


def _decoration(model: PlanRowsModel, row: int, column: int) -> Any:
    tone = _tone(model, row, column)
    return theme.status_icon(tone) if tone is not None else None


def _background(model: PlanRowsModel, row: int, column: int) -> Any:
    colours = _colours(model, row, column)
    return QBrush(colours[0]) if colours is not None else None


def _foreground(model: PlanRowsModel, row: int, column: int) -> Any:
    colours = _colours(model, row, column)
    if colours is not None:
        return QBrush(colours[1])
    if column in (VERDICT, STATE):
        plan_row = model.row_at(row)
        if plan_row.status == "skip" or model.state_at(row) in ("pending", "skipped"):
            return QBrush(theme.qcolor("muted"))
    return None


def _alignment(model: PlanRowsModel, row: int, column: int) -> Any:
    if column in (ROW, LINE):
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return None


_ROLES: dict[int, Callable[[PlanRowsModel, int, int], Any]] = {
    Qt.ItemDataRole.DisplayRole: _display,
    Qt.ItemDataRole.ToolTipRole: _tooltip,
    Qt.ItemDataRole.BackgroundRole: _background,
    Qt.ItemDataRole.ForegroundRole: _foreground,
    Qt.ItemDataRole.DecorationRole: _decoration,
    Qt.ItemDataRole.TextAlignmentRole: _alignment,
}


# --- the jobs list -------------------------------------------------------------------------------

_SOURCE = re.compile(r'"source": ("(?:[^"\\]|\\.)*")')


@dataclass(frozen=True)
class JobSummary:
    """One job as the list shows it. ``runner_alive``: a live process other than this one runs it
    (it cannot be resumed here until it stops)."""

    job: JobRecord
    counts: dict[RowState, int]
    source: str
    busy_elsewhere: bool = False
    running_here: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.total - self.counts["pending"] - self.counts["in_flight"]

    @property
    def resumable(self) -> bool:
        return self.job.state != "finished" and not self.busy_elsewhere and not self.running_here

    @property
    def state_text(self) -> str:
        state = self.job.state
        if self.running_here:
            return "running"
        if state == "running":
            return "running elsewhere" if self.busy_elsewhere else "interrupted — resumable"
        if state == "stopped":
            return "stopped — resumable"
        return "finished"


def plan_source(plan_json: str) -> str:
    """The plan's source (file name, or what it reverts) without parsing the whole plan."""
    match = _SOURCE.search(plan_json, 0, 8192)
    if match is None:
        return ""
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


JOB_COLUMNS: tuple[str, ...] = (
    "Job (batch id)",
    "Started",
    "Plan",
    "State",
    "Done",
    "Outcomes",
    "Reason",
    "Ticket",
    "Manager",
)
JOB_STATE_COLUMN = JOB_COLUMNS.index("State")
JOB_COLUMN_SAMPLES: tuple[str, ...] = (
    "0123456789abcdef",
    "2026-12-31 23:59:59",
    "attributions-2026.csv",
    "interrupted — resumable",
    "10,000 / 10,000",
    "ok 9,990 · failed 10",
    "CRM export fix",
    "SUP-1234",
    "300001",
)


def outcome_text(counts: dict[RowState, int]) -> str:
    shown: tuple[RowState, ...] = ("ok", "skipped", "drift", "failed", "unknown")
    return " · ".join(f"{STATE_TEXT[s]} {counts[s]:,}" for s in shown if counts.get(s))


class JobsModel(QAbstractTableModel):
    """The jobs of one connection, newest first."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[JobSummary] = []

    def set_jobs(self, jobs: list[JobSummary]) -> None:
        self.beginResetModel()
        self.jobs = jobs
        self.endResetModel()

    def update_counts(self, job_id: str, counts: dict[RowState, int]) -> None:
        """A running job's outcomes so far (from its progress): only its row is repainted."""
        row = self.row_of(job_id)
        if row is None or self.jobs[row].counts == counts:
            return
        self.jobs[row] = replace(self.jobs[row], counts=counts)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(JOB_COLUMNS) - 1))

    def row_of(self, job_id: str) -> int | None:
        for row, summary in enumerate(self.jobs):
            if summary.job.id == job_id:
                return row
        return None

    def text(self, row: int, column: int) -> str:
        summary = self.jobs[row]
        job = summary.job
        values = (
            job.id,
            local_time(job.created_at),
            summary.source,
            summary.state_text,
            f"{summary.done:,} / {summary.total:,}",
            outcome_text(summary.counts),
            job.reason,
            job.ticket,
            job.operator,
        )
        return values[column]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.jobs)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(JOB_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return JOB_COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            summary = self.jobs[row]
            if column == JOB_STATE_COLUMN and summary.job.message:
                return summary.job.message
            return self.text(row, column) or None
        if role == Qt.ItemDataRole.ForegroundRole and column == JOB_STATE_COLUMN:
            summary = self.jobs[row]
            if summary.resumable:
                return QBrush(theme.colours(theme.Tone.WARNING)[1])
            if summary.job.state == "finished":
                return QBrush(theme.colours(theme.Tone.SUCCESS)[1])
        return None
