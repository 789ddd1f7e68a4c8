"""Jobs: bulk changes from a CSV (registering partners in bulk — partner codes on users or
account links — or White Label transfers), a saved plan, or the revert of an earlier batch.

Plan (a dry run: only reads are sent) → the diff, row by row, with each row's verdict → Apply,
with one reason and ticket for the whole batch (and on a live connection the environment's name
typed) → a progress bar with done/total, ETA and the writes left this hour, each row's state as
it goes, and Stop. A stopped or crashed job is resumed from the list below; its results can be
exported, and the whole batch (or some of its rows) reverted — a revert is a plan like any other.

The same services as the CLI (``ctrader-admin plan|apply|resume|status|revert``) do the work.
This module lays the tab out and opens plans (a CSV, a plan file, a revert); running jobs is
``runs.py``, the plan's table ``plan_view.py``, the jobs list ``job_list.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QWidget

from ctrader_admin.services.bulk import (
    JobRefused,
    Plan,
    export_results_csv,
    find_job,
    job_plan,
    job_results,
    load_plan,
    parse_csv,
    plan_revert,
    plan_rows,
    save_plan,
)
from ctrader_admin.services.job_summary import JobsListing, read_csv_text
from ctrader_admin.services.row_choice import parse_row_choice, rows_text
from ctrader_admin.store.checkpoints import CheckpointStore, JobRecord, RowCheckpoint
from ctrader_admin.ui import theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import (
    CSV_FILTER,
    PLAN_FILTER,
    ask,
    choose_open_path,
    choose_save_path,
)
from ctrader_admin.ui.jobs import approval
from ctrader_admin.ui.jobs.job_list import JobList
from ctrader_admin.ui.jobs.plan_view import PlanView
from ctrader_admin.ui.jobs.revert_dialog import RevertDialog
from ctrader_admin.ui.jobs.runs import JobRunsTab
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import plural

if TYPE_CHECKING:  # the team's modules load only in team mode
    from ctrader_admin.store.pg.approvals import ApprovalRecord

ChooseOpenPath = Callable[[QWidget, str, str], Awaitable[str | None]]
ChooseSavePath = Callable[[QWidget, str, str, str], Awaitable[str | None]]


def _job_rows(store: CheckpointStore, job: JobRecord) -> tuple[Plan, list[RowCheckpoint]]:
    return job_plan(job), store.rows(job.id)


class JobsTab(JobRunsTab):
    title = "Jobs"
    help_text = (
        "Bulk changes: open a CSV to register partners in bulk (partner codes on users or "
        "accounts) or to move accounts between White Labels, or a saved plan. The plan is a dry "
        "run — only reads are sent — and shows every row's change and verdict. Apply sends the "
        "writes with one reason and ticket for the batch; a job can be cancelled and resumed, its "
        "results exported and the whole batch reverted."
    )

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        # Tests and embedders replace these to answer without a file dialog.
        self.choose_open_path: ChooseOpenPath = choose_open_path
        self.choose_save_path: ChooseSavePath = choose_save_path
        self._build()
        self.open_csv_button.clicked.connect(self._open_csv)
        self.open_plan_button.clicked.connect(self._open_plan)
        self.revert_button.clicked.connect(self._revert_batch)
        view, jobs = self.plan_view, self.job_list
        view.save_button.clicked.connect(self._save_plan)
        view.apply_button.clicked.connect(self._apply)
        view.submit_button.clicked.connect(self._submit_for_approval)
        view.progress.stop_button.clicked.connect(self.stop_job)
        view.table.selectionModel().selectionChanged.connect(self._refresh_buttons)
        jobs.show_button.clicked.connect(self._show_selected_job)
        jobs.table.doubleClicked.connect(self._show_selected_job)
        jobs.resume_button.clicked.connect(self._resume)
        jobs.export_button.clicked.connect(self._export_results)
        jobs.revert_button.clicked.connect(self._revert_selected_job)
        jobs.refresh_button.clicked.connect(self.reload_jobs)
        jobs.table.selectionModel().selectionChanged.connect(self._refresh_buttons)
        self.plan_view.show_summary(None, None)
        self._refresh_buttons()

    # --- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        inputs = QHBoxLayout()
        self.open_csv_button = QPushButton("Open CSV…")
        self.open_csv_button.setObjectName("jobsOpenCsv")
        self.open_csv_button.setToolTip(
            "Register partners in bulk: level,userId,ctidTraderAccountId,partnerId (empty = "
            "delete); or move accounts between White Labels: login,environment,brokerName"
        )
        self.open_plan_button = QPushButton("Open plan file…")
        self.open_plan_button.setObjectName("jobsOpenPlan")
        self.open_plan_button.setToolTip("A plan saved earlier; refused if it was edited since")
        self.revert_button = QPushButton("Revert batch…")
        self.revert_button.setObjectName("jobsRevertBatch")
        self.revert_button.setToolTip("Plan the undo of a batch (a job id), or of some of its rows")
        for button in (self.open_csv_button, self.open_plan_button, self.revert_button):
            inputs.addWidget(button)
        inputs.addStretch(1)
        self.read_only_note = QLabel("This connection is read-only: bulk jobs are disabled.")
        self.read_only_note.setObjectName("jobsReadOnlyNote")
        theme.set_tone(self.read_only_note, theme.Tone.WARNING)
        inputs.addWidget(self.read_only_note)
        self.body.addLayout(inputs)

        self.plan_view = PlanView()
        self.body.addWidget(self.plan_view.summary)
        self.body.addWidget(self.plan_view.bad_lines)
        self.job_list = JobList()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.plan_view.top)
        self.splitter.addWidget(self.job_list)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([430, 200])
        self.body.addWidget(self.splitter, 1)
        # The message line under the tab keeps its room while hidden: a job's report appears at
        # its end without the tables above shrinking (a layout and a repaint of the whole tab,
        # ~10 ms with a big plan on screen, in the job's last turn), and they never jump.
        policy = self.bar.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.bar.setSizePolicy(policy)

    def _refresh_buttons(self) -> None:
        super()._refresh_buttons()
        session = self.ctx.backoffice.session
        self.read_only_note.setVisible(session is not None and session.profile.read_only)
        for button in (self.open_csv_button, self.open_plan_button, self.revert_button):
            button.setEnabled(self.writable() and self.idle)

    def on_session_changed(self) -> None:
        if not self.running:
            self.show_plan(None)
            self.job_list.show_listing(JobsListing([]))
            self._jobs_stale = True
            if self.isVisible():
                self.reload_jobs()
        self._refresh_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._jobs_stale and not self.running:
            self.reload_jobs()

    @async_slot()
    async def _open_csv(self) -> None:
        path = await self.choose_open_path(self, "Open a bulk CSV", CSV_FILTER)
        if not path:
            return
        await self.plan_csv_file(Path(path))

    async def plan_csv_file(self, source: Path) -> None:
        session = self.ctx.session

        async def make() -> Plan:
            text = await asyncio.to_thread(read_csv_text, source)
            parsed = await asyncio.to_thread(parse_csv, text)
            return await plan_rows(session, parsed.kind, parsed.rows, source=source.name)

        self._begin()
        try:
            done = await self.runner.run(f"Planning {source.name} (reads only)", make)
        finally:
            self._end()
        if done is not None:
            self.show_plan(done.value)

    @async_slot()
    async def _open_plan(self) -> None:
        path = await self.choose_open_path(self, "Open a saved plan", PLAN_FILTER)
        if not path:
            return
        self._begin()
        try:
            done = await self.runner.run(
                "Opening the plan", lambda: asyncio.to_thread(load_plan, path)
            )
        finally:
            self._end()
        if done is None:
            return
        plan = done.value
        self.show_plan(plan)
        session = self.ctx.session
        if plan.profile_id != session.profile.id:
            self.bar.show_message(
                Level.WARNING,
                f"This plan was made for the connection {plan.profile_name!r}; the active one is "
                f"{session.profile.name!r}. It cannot be applied here.",
            )

    @async_slot()
    async def _submit_for_approval(self) -> None:
        await approval.submit_plan(self)

    async def open_approved_plan(self, record: ApprovalRecord) -> None:
        """The Approvals view's Apply of a plan: ready to apply under its approval."""
        await approval.open_approved_plan(self, record)

    @async_slot()
    async def _save_plan(self) -> None:
        plan = self.plan
        if plan is None:
            return
        stem = Path(plan.source).stem or "bulk"
        suggested = f"{stem}.plan.json"
        path = await self.choose_save_path(self, "Save the plan", suggested, PLAN_FILTER)
        if not path:
            return
        self._begin()
        try:
            done = await self.runner.run(
                "Saving the plan", lambda: asyncio.to_thread(save_plan, plan, path)
            )
        finally:
            self._end()
        if done is not None:
            self.bar.show_message(Level.SUCCESS, f"Plan saved to {done.value}.")

    # --- revert --------------------------------------------------------------------------------

    @async_slot()
    async def _revert_batch(self) -> None:
        """Revert a batch by id, or some of its rows (the rows selected in a job's table)."""
        batch = ""
        rows = ""
        if self.shown_job is not None:
            batch = self.shown_job.id
            rows = rows_text(self.plan_view.selected_row_numbers())
        elif (selected := self.selected_job()) is not None:
            batch = selected.job.id
        dialog = RevertDialog(self.ctx.window, batch=batch, rows=rows)
        try:
            if not await ask(dialog):
                return
            batch_text = dialog.batch.text().strip()
            rows_choice = dialog.rows.text().strip()
        finally:
            dialog.deleteLater()
        await self.plan_revert_of(batch_text, rows_choice)

    @async_slot()
    async def _revert_selected_job(self) -> None:
        if self.refused_offline(writing=True):
            return
        job = self.selected_job()
        if job is not None:
            await self.plan_revert_of(job.job.id)

    async def plan_revert_of(self, batch: str, rows: str = "") -> None:
        """Plan the revert of ``batch`` (a job id or its first characters; a batch id from the
        journal), or of the given rows (``1,3,5-9``, ``user:1000001``)."""
        session = self.ctx.session
        store = self.store

        async def make() -> Plan:
            chosen = parse_row_choice(rows) or None
            try:
                batch_id = (await asyncio.to_thread(find_job, store, batch)).id
            except JobRefused:
                batch_id = batch  # a batch written elsewhere: the journal has it
            return await plan_revert(session, batch_id, rows=chosen, store=store)

        self._begin()
        try:
            done = await self.runner.run(f"Planning the revert of {batch} (reads only)", make)
        finally:
            self._end()
        if done is not None:
            self.show_plan(done.value)

    # --- the jobs list -------------------------------------------------------------------------

    @async_slot()
    async def _show_selected_job(self) -> None:
        if self.refused_offline(writing=False):
            return
        summary = self.selected_job()
        if summary is None or self.running or self._handlers:
            return
        store = self.store
        job = summary.job
        self._begin()
        try:
            done = await self.runner.run(
                f"Reading job {job.id}", lambda: asyncio.to_thread(_job_rows, store, job)
            )
        finally:
            self._end()
        if done is None:
            return
        plan, checkpoints = done.value
        self.show_plan(plan, job)
        self.plan_view.model.set_states(checkpoints)
        self.plan_view.progress.hide()

    @async_slot()
    async def _export_results(self) -> None:
        if self.refused_offline(writing=False):
            return
        summary = self.selected_job()
        if summary is None:
            return
        job = summary.job
        store = self.store
        path = await self.choose_save_path(
            self, "Export the job's results", f"job-{job.id}-results.csv", CSV_FILTER
        )
        if not path:
            return

        def export() -> int:
            return export_results_csv(job_results(store, job), path)

        self._begin()
        try:
            done = await self.runner.run("Exporting the results", lambda: asyncio.to_thread(export))
        finally:
            self._end()
        if done is not None:
            self.bar.show_message(
                Level.SUCCESS, f"{plural(done.value, 'row')} of job {job.id} exported to {path}."
            )
