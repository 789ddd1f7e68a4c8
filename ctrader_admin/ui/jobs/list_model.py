"""The jobs of the active connection, as the Jobs tab lists them (newest first): when, what,
its state, how far it got, its outcomes, reason, ticket and manager."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from ctrader_admin.services.job_summary import JobSummary, outcome_text
from ctrader_admin.services.journal_ops import local_time
from ctrader_admin.store.checkpoints import RowState
from ctrader_admin.ui import theme

_Index = QModelIndex | QPersistentModelIndex

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
