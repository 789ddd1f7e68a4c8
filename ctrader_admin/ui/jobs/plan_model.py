"""The rows of a plan or a job in the Jobs tab: the diff, then each row's state as the job runs.

A plan can hold tens of thousands of rows, and a running job changes a few hundred of them per
second. So a row's texts are made when it is first shown, and a refresh of the states compares
them and emits ``dataChanged`` for the runs of rows that changed only: the model is never reset
while a job runs, and the view repaints only what it shows. While a job runs the tab refreshes
the rows on screen only (from the job itself); every row is read from the checkpoints when the
job ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from ctrader_admin.services.bulk import Plan, PlanRow, show
from ctrader_admin.services.job_summary import STATE_TEXT, verdict_text
from ctrader_admin.store.checkpoints import RowCheckpoint, RowState
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
            # their states go — no reset, which would lay out and repaint the whole view; and
            # no signal when no row has one (repainting every row on screen cost the window
            # ~5 ms in a job's first turn, for nothing to see).
            count = len(self._rows)
            if self._states.count(None) != count or self._errors.count(None) != count:
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
