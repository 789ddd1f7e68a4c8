"""The jobs of the active connection, as the Jobs tab lists them (newest first): when, what,
its state, how far it got, its outcomes, reason, ticket and manager."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from ctrader_admin.services.job_summary import JobSummary, outcome_text
from ctrader_admin.services.journal_ops import local_time
from ctrader_admin.store.checkpoints import RowState
from ctrader_admin.ui import theme
from ctrader_admin.ui.rows_model import Column, RowsModel

_Index = QModelIndex | QPersistentModelIndex

_COLUMNS: tuple[Column[JobSummary], ...] = (
    Column("Job (batch id)", lambda s: s.job.id),
    Column("Started", lambda s: local_time(s.job.created_at)),
    Column("Plan", lambda s: s.source),
    Column("State", lambda s: s.state_text),
    Column("Done", lambda s: f"{s.done:,} / {s.total:,}"),
    Column("Outcomes", lambda s: outcome_text(s.counts)),
    Column("Reason", lambda s: s.job.reason),
    Column("Ticket", lambda s: s.job.ticket),
    Column("Manager", lambda s: s.job.operator),
)
JOB_COLUMNS: tuple[str, ...] = tuple(column.header for column in _COLUMNS)
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


class JobsModel(RowsModel[JobSummary]):
    """The jobs of one connection, newest first."""

    def __init__(self) -> None:
        super().__init__(_COLUMNS)

    def update_counts(self, job_id: str, counts: dict[RowState, int]) -> None:
        """A running job's outcomes so far (from its progress): only its row is repainted."""
        row = self.row_of(job_id)
        if row is None or self.rows[row].counts == counts:
            return
        self.rows[row] = replace(self.rows[row], counts=counts)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(JOB_COLUMNS) - 1))

    def row_of(self, job_id: str) -> int | None:
        for row, summary in enumerate(self.rows):
            if summary.job.id == job_id:
                return row
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        summary, column = self.rows[index.row()], index.column()
        if column == JOB_STATE_COLUMN:
            if role == Qt.ItemDataRole.ToolTipRole and summary.job.message:
                return summary.job.message
            if role == Qt.ItemDataRole.ForegroundRole:
                if summary.resumable:
                    return QBrush(theme.colours(theme.Tone.WARNING)[1])
                if summary.job.state == "finished":
                    return QBrush(theme.colours(theme.Tone.SUCCESS)[1])
        if role == Qt.ItemDataRole.ToolTipRole:
            return super().data(index, role) or None
        return super().data(index, role)
