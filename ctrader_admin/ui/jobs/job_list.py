"""The jobs of the active connection, under the plan: the list, and what may be done to the
selected job (show its rows, resume, export its results, revert it). While the team database
cannot be reached, the last list seen, read-only, saying from when (services/team_link.py)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from ctrader_admin.services.job_summary import JobsListing, JobSummary
from ctrader_admin.services.team_link import clock_time
from ctrader_admin.ui import theme
from ctrader_admin.ui.jobs.list_model import JOB_COLUMN_SAMPLES, JOB_COLUMNS, JobsModel
from ctrader_admin.ui.jobs.tables import job_table

RESUME_TIP = "Continue a stopped or interrupted job (rows are re-read)"
REVERT_TIP = "Plan the undo of this job's writes (nothing is sent until you apply it)"


class JobList(QGroupBox):
    def __init__(self) -> None:
        super().__init__("Jobs on this connection")
        layout = QVBoxLayout(self)
        self.offline = False  # the list is the last state seen: read-only
        self.last_state = QLabel()
        self.last_state.setObjectName("jobsLastState")
        self.last_state.setWordWrap(True)
        theme.set_tone(self.last_state, theme.Tone.WARNING)
        self.last_state.hide()
        layout.addWidget(self.last_state)
        self.model = JobsModel()
        self.table = job_table("jobsTable", JOB_COLUMNS, JOB_COLUMN_SAMPLES)
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.show_button = QPushButton("Show rows")
        self.show_button.setObjectName("jobsShow")
        self.resume_button = QPushButton("Resume…")
        self.resume_button.setObjectName("jobsResume")
        self.resume_button.setToolTip(RESUME_TIP)
        self.export_button = QPushButton("Export results CSV…")
        self.export_button.setObjectName("jobsExport")
        self.revert_button = QPushButton("Revert this batch…")
        self.revert_button.setObjectName("jobsRevertJob")
        self.revert_button.setToolTip(REVERT_TIP)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("jobsRefresh")
        for button in (
            self.show_button,
            self.resume_button,
            self.export_button,
            self.revert_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.refresh_button)
        layout.addLayout(actions)

    def selected_job(self) -> JobSummary | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def select_job(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    def show_listing(self, listing: JobsListing) -> None:
        self.model.set_rows(listing.jobs)
        self.offline = listing.offline
        if listing.offline:
            seen = (
                f"Last state from {clock_time(listing.seen_at)}"
                if listing.seen_at is not None
                else "No earlier list of these jobs on this computer"
            )
            self.last_state.setText(
                f"{seen}: the team database cannot be reached, so this list is read-only — no "
                "job can be started, resumed or stopped from it until the database answers."
            )
        self.last_state.setVisible(listing.offline)

    def refresh_buttons(self, *, write: bool, idle: bool, refusal: str | None = None) -> None:
        """``refusal``: why no write can start now (the team database away), in words."""
        job = None if self.offline else self.selected_job()
        self.show_button.setEnabled(job is not None and idle)
        self.resume_button.setEnabled(write and idle and job is not None and job.resumable)
        self.export_button.setEnabled(job is not None and idle)
        self.revert_button.setEnabled(write and idle and job is not None and job.done > 0)
        self.refresh_button.setEnabled(idle)
        self.resume_button.setToolTip(refusal or RESUME_TIP)
        self.revert_button.setToolTip(refusal or REVERT_TIP)
