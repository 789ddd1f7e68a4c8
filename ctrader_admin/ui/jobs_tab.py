"""Jobs: bulk changes from a CSV (partnerId operations or White Label transfers), a saved plan,
or the revert of an earlier batch.

Plan (a dry run: only reads are sent) → the diff, row by row, with each row's verdict → Apply,
with one reason and ticket for the whole batch (and on a live connection the environment's name
typed) → a progress bar with done/total, ETA and the writes left this hour, each row's state as
it goes, and Stop. A stopped or crashed job is resumed from the list below; its results can be
exported, and the whole batch (or some of its rows) reverted — a revert is a plan like any other.

The same services as the CLI (``ctrader-admin plan|apply|resume|status|revert``) do the work.
The GUI stays smooth while a job runs: the job's progress callback only keeps the latest
report; a 100 ms timer shows it and refreshes the states of the rows on screen from the job
(the runs of rows that changed; never a model reset). Every row is read from the checkpoints
when the job ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.runtime import JobTuning
from ctrader_admin.services.bulk import (
    ApplyOptions,
    JobRefused,
    JobResult,
    JobRunner,
    Plan,
    Progress,
    confirmation_word,
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
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.journal_ops import local_time
from ctrader_admin.store.checkpoints import (
    CheckpointStore,
    JobRecord,
    RowCheckpoint,
    RowState,
    runner_alive,
    this_runner,
)
from ctrader_admin.ui import table_state, theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import (
    CSV_FILTER,
    ConfirmWriteDialog,
    FittedDialog,
    ask,
    choose_open_path,
    choose_save_path,
)
from ctrader_admin.ui.jobs_model import (
    COLUMN_SAMPLES,
    COLUMNS,
    JOB_COLUMN_SAMPLES,
    JOB_COLUMNS,
    JobsModel,
    JobSummary,
    PlanRowsModel,
    plan_source,
    states_of,
)
from ctrader_admin.ui.notify import Level, is_expected
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.widgets import hint, plural

ChooseOpenPath = Callable[[QWidget, str, str], Awaitable[str | None]]
ChooseSavePath = Callable[[QWidget, str, str, str], Awaitable[str | None]]

VIEW_INTERVAL_MS = 100  # the progress view follows the job at most this often
SHOWN_BAD_LINES = 5
PLAN_FILTER = "Plan files (*.json);;All files (*)"


def duration_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def parse_row_choice(text: str) -> list[int | str]:
    """``1,3,5-9`` (job row numbers) and targets such as ``user:1000001`` (as the CLI's --rows)."""
    chosen: list[int | str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if ":" in part:
            chosen.append(part)
            continue
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise InvalidInput(
                {"Rows": f"{part!r} is neither a row number, a range nor a target"}
            ) from None
        if low < 1 or high < low:
            raise InvalidInput({"Rows": f"{part!r} is not a valid range"})
        chosen.extend(range(low, high + 1))
    return chosen


def rows_text(numbers: Sequence[int]) -> str:
    """Row numbers as ranges: 1,3,5-9."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    index = 0
    while index < len(ordered):
        first = last = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == last + 1:
            index += 1
            last = ordered[index]
        parts.append(str(first) if first == last else f"{first}-{last}")
        index += 1
    return ",".join(parts)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput({"File": f"{path.name} cannot be read: {reason}"}) from None


def _job_summaries(
    store: CheckpointStore, profile_id: str, running_id: str | None
) -> list[JobSummary]:
    me = this_runner()
    found: list[JobSummary] = []
    for job in store.jobs(profile_id):
        elsewhere = job.state == "running" and job.runner != me and runner_alive(job.runner)
        found.append(
            JobSummary(
                job=job,
                counts=store.counts(job.id),
                source=plan_source(job.plan_json),
                busy_elsewhere=elsewhere,
                running_here=job.id == running_id,
            )
        )
    return found


def _job_rows(store: CheckpointStore, job: JobRecord) -> tuple[Plan, list[RowCheckpoint]]:
    return job_plan(job), store.rows(job.id)


class RevertDialog(FittedDialog):
    """Which batch to revert, and optionally which of its rows."""

    def __init__(self, parent: QWidget | None, *, batch: str = "", rows: str = "") -> None:
        super().__init__(parent, min_width=440)
        self.setObjectName("revertBatchDialog")
        self.setWindowTitle("Revert a batch")
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                "Plans the writes that put back the values the batch replaced. Nothing is sent "
                "until you apply the plan; a target changed since the batch is not overwritten."
            )
        )
        self.batch = QLineEdit(batch)
        self.batch.setObjectName("revertBatchId")
        self.batch.setPlaceholderText("Batch id (the job id), or its first characters")
        self.rows = QLineEdit(rows)
        self.rows.setObjectName("revertRows")
        self.rows.setPlaceholderText("All rows — or e.g. 1,3,5-9 or user:1000001")
        for label, field in (("Batch:", self.batch), ("Rows:", self.rows)):
            line = QHBoxLayout()
            caption = QLabel(label)
            caption.setMinimumWidth(50)
            line.addWidget(caption)
            line.addWidget(field, 1)
            layout.addLayout(line)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Plan the revert")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.batch.textChanged.connect(self._refresh)
        self._refresh()
        (self.rows if batch else self.batch).setFocus()

    def _refresh(self) -> None:
        ok = bool(self.batch.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


class JobProgressPanel(QWidget):
    """A job's progress: done/total, ETA, the write budget, the outcomes so far, and Stop."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobProgress")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        self.bar = QProgressBar()
        self.bar.setObjectName("jobProgressBar")
        self.bar.setMinimumWidth(220)
        self.bar.setFormat("%v / %m")
        self.label = QLabel()
        self.label.setObjectName("jobProgressLabel")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # It takes the width the bar and the button leave: a new text (every 100 ms) then never
        # makes the whole tab lay itself out again (~10 ms with a big plan on screen).
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.stop_button = QPushButton("Cancel")
        self.stop_button.setObjectName("jobStop")
        self.stop_button.setToolTip(
            "Stop the job: writes in flight finish, no new one starts; it can be resumed"
        )
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.stop_button)
        self.hide()

    def start(self, total: int, what: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.label.setText(f"{what}…")
        self.stop_button.setText("Cancel")
        self.stop_button.setEnabled(True)
        self.stop_button.show()
        self.show()

    def show_progress(self, progress: Progress) -> None:
        if self.bar.maximum() != max(progress.total, 1):
            self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done)
        text = progress_text(progress)
        self.label.setText(text)
        self.label.setToolTip(text)  # in full, should the window be too narrow for it

    def ended(self) -> None:
        self.stop_button.hide()


def progress_text(progress: Progress) -> str:
    counts = progress.counts
    parts: list[str] = []
    phase = progress.phase
    if phase == "finished":
        parts.append("Finished")
    elif phase == "stopped":
        parts.append("Stopped — resumable")
    elif phase == "stopping":
        parts.append("Stopping: waiting for the writes in flight")
    elif phase == "paused":
        parts.append(
            f"Paused by the backend's rate limit ({duration_text(progress.paused_seconds)})"
        )
    elif phase == "waiting_for_budget":
        parts.append("Waiting for the hourly write budget")
    elif progress.eta_seconds is None:
        parts.append("ETA: estimating")
    else:
        parts.append(f"ETA {duration_text(progress.eta_seconds)}")
    parts.append(f"{progress.writes_left:,} of {progress.writes_per_hour:,} writes left this hour")
    shown: tuple[tuple[RowState, str], ...] = (
        ("ok", "ok"),
        ("skipped", "skipped"),
        ("drift", "drift"),
        ("failed", "failed"),
        ("unknown", "unknown"),
        ("in_flight", "in flight"),
    )
    outcomes = [f"{name} {counts[state]:,}" for state, name in shown if counts.get(state)]
    if outcomes:
        parts.append(", ".join(outcomes))
    return " · ".join(parts)


class JobsTab(Tab):
    title = "Jobs"
    help_text = (
        "Bulk changes: open a CSV of partnerId operations or White Label transfers (or a saved "
        "plan). The plan is a dry run — only reads are sent — and shows every row's change and "
        "verdict. Apply sends the writes with one reason and ticket for the batch; a job can be "
        "cancelled and resumed, its results exported and the whole batch reverted."
    )

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        # Tests and embedders replace these to answer without a file dialog.
        self.choose_open_path: ChooseOpenPath = choose_open_path
        self.choose_save_path: ChooseSavePath = choose_save_path
        self.apply_options: ApplyOptions | None = None  # None: the engine's defaults
        self.plan: Plan | None = None
        self.shown_job: JobRecord | None = None  # the job whose rows the table shows
        self.job_runner: JobRunner | None = None
        self.last_result: JobResult | None = None
        self._job_task: asyncio.Future[JobResult] | None = None
        self._handlers = 0  # handlers under way: the controls stay disabled
        self._latest: Progress | None = None
        self._shown: Progress | None = None
        self._jobs_stale = True
        self._tuning = JobTuning()  # heap freeze and quick GIL handoff while a job runs
        self._rows_frozen = False  # the running job's own rows were frozen too
        self._handoff: float | None = None  # the switch interval before the job (see below)
        self._build()
        self._view_timer = QTimer(self)
        self._view_timer.setInterval(VIEW_INTERVAL_MS)
        self._view_timer.timeout.connect(self._follow_job)
        self.open_csv_button.clicked.connect(self._open_csv)
        self.open_plan_button.clicked.connect(self._open_plan)
        self.revert_button.clicked.connect(self._revert_batch)
        self.save_button.clicked.connect(self._save_plan)
        self.apply_button.clicked.connect(self._apply)
        self.progress.stop_button.clicked.connect(self.stop_job)
        self.show_job_button.clicked.connect(self._show_selected_job)
        self.jobs_table.doubleClicked.connect(self._show_selected_job)
        self.resume_button.clicked.connect(self._resume)
        self.export_button.clicked.connect(self._export_results)
        self.revert_job_button.clicked.connect(self._revert_selected_job)
        self.refresh_jobs_button.clicked.connect(self.reload_jobs)
        self.jobs_table.selectionModel().selectionChanged.connect(self._refresh_buttons)
        self.table.selectionModel().selectionChanged.connect(self._refresh_buttons)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.table)
        copy.activated.connect(self._copy_cell)
        self._show_summary()
        self._refresh_buttons()

    # --- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        inputs = QHBoxLayout()
        self.open_csv_button = QPushButton("Open CSV…")
        self.open_csv_button.setObjectName("jobsOpenCsv")
        self.open_csv_button.setToolTip(
            "partnerId rows: level,userId,ctidTraderAccountId,partnerId (empty = delete); "
            "White Label transfers: login,environment,brokerName"
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

        self.summary = QLabel()
        self.summary.setObjectName("planSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bad_lines = QLabel()
        self.bad_lines.setObjectName("planBadLines")
        self.bad_lines.setWordWrap(True)
        self.bad_lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.set_tone(self.bad_lines, theme.Tone.ERROR)
        self.body.addWidget(self.summary)
        self.body.addWidget(self.bad_lines)

        self.model = PlanRowsModel()
        self.table = self._table("planTable", COLUMNS, COLUMN_SAMPLES)
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.save_button = QPushButton("Save plan…")
        self.save_button.setObjectName("jobsSavePlan")
        self.save_button.setToolTip("Write the plan to a file (sealed: an edited copy is refused)")
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("jobsApply")
        self.apply_button.setToolTip("Send the planned writes (asks for the reason and ticket)")
        actions.addWidget(self.save_button)
        actions.addStretch(1)
        actions.addWidget(self.apply_button)
        top_layout.addLayout(actions)
        self.progress = JobProgressPanel()
        # Its room is kept while it is hidden: a job's start then shows it without laying out
        # (and repainting) the table above it again, thousands of rows for a big plan.
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(policy)
        top_layout.addWidget(self.progress)

        self.jobs_box = QGroupBox("Jobs on this connection")
        jobs_layout = QVBoxLayout(self.jobs_box)
        self.jobs_model = JobsModel()
        self.jobs_table = self._table("jobsTable", JOB_COLUMNS, JOB_COLUMN_SAMPLES)
        self.jobs_table.setModel(self.jobs_model)
        self.jobs_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.jobs_table.horizontalHeader().setStretchLastSection(True)
        jobs_layout.addWidget(self.jobs_table, 1)
        job_actions = QHBoxLayout()
        self.show_job_button = QPushButton("Show rows")
        self.show_job_button.setObjectName("jobsShow")
        self.resume_button = QPushButton("Resume…")
        self.resume_button.setObjectName("jobsResume")
        self.resume_button.setToolTip("Continue a stopped or interrupted job (rows are re-read)")
        self.export_button = QPushButton("Export results CSV…")
        self.export_button.setObjectName("jobsExport")
        self.revert_job_button = QPushButton("Revert this batch…")
        self.revert_job_button.setObjectName("jobsRevertJob")
        self.revert_job_button.setToolTip(
            "Plan the undo of this job's writes (nothing is sent until you apply it)"
        )
        self.refresh_jobs_button = QPushButton("Refresh")
        self.refresh_jobs_button.setObjectName("jobsRefresh")
        for button in (
            self.show_job_button,
            self.resume_button,
            self.export_button,
            self.revert_job_button,
        ):
            job_actions.addWidget(button)
        job_actions.addStretch(1)
        job_actions.addWidget(self.refresh_jobs_button)
        jobs_layout.addLayout(job_actions)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.jobs_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([430, 200])
        self.body.addWidget(self.splitter, 1)

    def _table(self, name: str, columns: Sequence[str], samples: Sequence[str]) -> QTableView:
        table = QTableView()
        table.setObjectName(name)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        metrics = table.fontMetrics()
        rows = table.verticalHeader()
        rows.hide()
        # Fixed row heights: the view never asks ten thousand rows for their size.
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(metrics.height() + 8)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        bold = header.fontMetrics()
        widths = [
            max(metrics.horizontalAdvance(sample), bold.horizontalAdvance(column) + 8) + 16
            for column, sample in zip(columns, samples, strict=True)
        ]
        table.setProperty("columnWidths", widths)
        table_state.remember_columns(table)
        return table

    def _size_columns(self, table: QTableView) -> None:
        """The initial column widths, once (later the operator's own widths stay)."""
        widths = table.property("columnWidths")
        if isinstance(widths, list) and not table.property("columnsSized"):
            table.setProperty("columnsSized", True)
            header = table.horizontalHeader()
            for column, width in enumerate(widths):
                # Never narrower than the header's own text (the style adds margins to it).
                header.resizeSection(column, max(int(width), header.sectionSizeHint(column)))

    # --- state ---------------------------------------------------------------------------------

    @property
    def store(self) -> CheckpointStore:
        return self.ctx.backoffice.checkpoints

    @property
    def running(self) -> bool:
        return self.job_runner is not None

    def selected_job(self) -> JobSummary | None:
        rows = self.jobs_table.selectionModel().selectedRows()
        return self.jobs_model.jobs[rows[0].row()] if rows else None

    def select_job(self, job_id: str) -> bool:
        row = self.jobs_model.row_of(job_id)
        if row is None:
            return False
        self.jobs_table.selectRow(row)
        return True

    def selected_row_numbers(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return sorted(self.model.row_at(index.row()).n for index in rows)

    def _refresh_buttons(self) -> None:
        session = self.ctx.backoffice.session
        write = self.writable()
        idle = self._handlers == 0 and not self.running
        self.read_only_note.setVisible(session is not None and session.profile.read_only)
        for button in (self.open_csv_button, self.open_plan_button, self.revert_button):
            button.setEnabled(write and idle)
        plan = self.plan
        self.save_button.setEnabled(plan is not None and idle)
        can_apply = plan is not None and self.shown_job is None and plan.to_write > 0
        self.apply_button.setEnabled(write and idle and can_apply)
        if plan is not None and self.shown_job is None and plan.to_write == 0:
            self.apply_button.setToolTip("Nothing to write: every row is skipped or has an error")
        else:
            self.apply_button.setToolTip("Send the planned writes (asks for the reason and ticket)")
        job = self.selected_job()
        self.show_job_button.setEnabled(job is not None and idle)
        self.resume_button.setEnabled(write and idle and job is not None and job.resumable)
        self.export_button.setEnabled(job is not None and idle)
        self.revert_job_button.setEnabled(write and idle and job is not None and job.done > 0)
        self.refresh_jobs_button.setEnabled(idle)

    def on_session_changed(self) -> None:
        if not self.running:
            self.show_plan(None)
            self.jobs_model.set_jobs([])
            self._jobs_stale = True
            if self.isVisible():
                self.reload_jobs()
        self._refresh_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._jobs_stale and not self.running:
            self.reload_jobs()

    def _begin(self) -> None:
        self.bar.hide()
        self._handlers += 1
        self._refresh_buttons()

    def _end(self) -> None:
        self._handlers -= 1
        self._refresh_buttons()

    # --- the plan ------------------------------------------------------------------------------

    def show_plan(self, plan: Plan | None, job: JobRecord | None = None) -> None:
        """Show a plan's diff (or a job's rows, when ``job`` is given)."""
        self.plan = plan
        self.shown_job = job
        self.model.set_plan(plan)
        self._size_columns(self.table)
        if job is None:
            self.progress.hide()
        self._show_summary()
        self._refresh_buttons()

    def _show_summary(self) -> None:
        plan = self.plan
        if plan is None:
            self.summary.setText("Open a CSV or a plan file to see what would change.")
            self.bad_lines.hide()
            return
        counts = plan.counts()
        problems = sorted(
            (key.split(":", 1)[1], count)
            for key, count in counts.items()
            if key.startswith("error:")
        )
        detail = ", ".join(f"{name} {count}" for name, count in problems)
        what = f"Job {self.shown_job.id} — " if self.shown_job is not None else ""
        reverts = f" (reverts batch {_escape(plan.reverts_batch)})" if plan.reverts_batch else ""
        errors = f"error: {counts['error']:,}"
        if counts["error"]:  # loud only when there is something to see
            errors = (
                f"<span style='color:{theme.html_colour(theme.Tone.ERROR)}'><b>{errors}</b></span>"
            )
        self.summary.setText(
            f"<b>{what}{plural(len(plan.rows), 'row')}</b> from {_escape(plan.source)}{reverts} · "
            f"planned on {_escape(plan.profile_name)} by manager {_escape(plan.created_by)} "
            f"at {_escape(local_time(plan.created_at))}<br>"
            f"<b>ok (to write): {counts['write']:,}</b> · "
            f"skip (already equal): {counts['skip']:,} · {errors}"
            + (f" ({detail})" if detail else "")
            + ("" if self.shown_job is not None else " · planning sent reads only")
        )
        bad = [row for row in plan.rows if row.status == "error"]
        if not bad:
            self.bad_lines.hide()
            return
        shown = []
        for row in bad[:SHOWN_BAD_LINES]:
            where = f"line {row.line}" if row.line else f"row {row.n}"
            shown.append(f"{where}: {row.problem} — {row.message}")
        more = len(bad) - SHOWN_BAD_LINES
        tail = f"<br>&nbsp;&nbsp;… and {more:,} more (see the Verdict column)" if more > 0 else ""
        lines = "".join(f"<br>&nbsp;&nbsp;• {_escape(s)}" for s in shown)
        self.bad_lines.setText(f"<b>Bad lines — nothing is sent for them:</b>{lines}{tail}")
        self.bad_lines.show()

    @async_slot()
    async def _open_csv(self) -> None:
        path = await self.choose_open_path(self, "Open a bulk CSV", CSV_FILTER)
        if not path:
            return
        await self.plan_csv_file(Path(path))

    async def plan_csv_file(self, source: Path) -> None:
        session = self.ctx.session

        async def make() -> Plan:
            text = await asyncio.to_thread(_read_text, source)
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
            rows = rows_text(self.selected_row_numbers())
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

    # --- apply and resume ----------------------------------------------------------------------

    async def _confirm_job(
        self,
        title: str,
        changes: list[tuple[str, str]],
        *,
        action_label: str,
        job: JobRecord | None = None,
    ) -> tuple[str, str, str | None] | None:
        """Reason and ticket for the batch (a resumed job keeps its own), and on a live
        connection the environment's name typed: (reason, ticket, typed) or None."""
        profile = self.ctx.session.profile
        dialog = ConfirmWriteDialog(
            self.ctx.window,
            profile=profile,
            title=title,
            changes=changes,
            action_label=action_label,
            type_to_confirm=confirmation_word(profile),
        )
        if job is not None:
            for field, value in ((dialog.reason, job.reason), (dialog.ticket, job.ticket)):
                field.setText(value)
                field.setReadOnly(True)
                field.setToolTip("The job's own, given when it was started")
        try:
            if not await ask(dialog):
                return None
            typed = dialog.typed.text().strip() if dialog.typed is not None else None
            reason, ticket = dialog.values()
            return reason, ticket, typed
        finally:
            dialog.deleteLater()

    def _budget_line(self, writes: int) -> str:
        budget = self.ctx.session.budget
        left = budget.remaining()
        line = f"{left:,} of {budget.per_hour:,} writes left this hour"
        if writes > left:
            line += " — the job waits for the budget as the hour rolls on"
        return line

    @async_slot()
    async def _apply(self) -> None:
        plan = self.plan
        if plan is None or self.shown_job is not None or not self.writable():
            return
        session = self.ctx.session
        counts = plan.counts()
        changes = [
            ("Plan", f"{plural(len(plan.rows), 'row')} from {plan.source}"),
            (
                "Writes",
                f"{counts['write']:,} to send · {counts['skip']:,} already equal · "
                f"{counts['error']:,} with errors (not sent)",
            ),
            ("Budget", self._budget_line(counts["write"])),
        ]
        if plan.reverts_batch:
            changes.insert(1, ("Reverts", f"batch {plan.reverts_batch}"))
        self._begin()
        try:
            answer = await self._confirm_job(
                "Apply the bulk plan",
                changes,
                action_label=f"Apply {plural(counts['write'], 'write')}",
            )
            if answer is None:
                return
            reason, ticket, typed = answer
            runner = await self._make_runner(
                partial(
                    JobRunner.start,
                    session,
                    self.store,
                    plan,
                    reason=reason,
                    ticket=ticket,
                    confirmation=typed,
                    options=self.apply_options,
                    on_progress=self._on_progress,
                )
            )
            if runner is None:
                return
        finally:
            self._end()
        await self._run_job(runner, plan, f"Applying {plan.source}")

    @async_slot()
    async def _resume(self) -> None:
        summary = self.selected_job()
        if summary is None or not summary.resumable or not self.writable():
            return
        job = summary.job
        session = self.ctx.session
        left = summary.total - summary.done
        self._begin()
        try:
            answer = await self._confirm_job(
                f"Resume job {job.id}",
                [
                    ("Job", f"{job.id} · {summary.source} · started {local_time(job.created_at)}"),
                    ("Rows", f"{summary.done:,} of {summary.total:,} done; {left:,} to go"),
                    ("Budget", self._budget_line(left)),
                ],
                action_label="Resume",
                job=job,
            )
            if answer is None:
                return
            runner = await self._make_runner(
                partial(
                    JobRunner.resume,
                    session,
                    self.store,
                    job.id,
                    confirmation=answer[2],
                    options=self.apply_options,
                    on_progress=self._on_progress,
                )
            )
            if runner is None:
                return
        finally:
            self._end()
        await self._run_job(runner, runner.plan, f"Resuming job {job.id}")

    async def _make_runner(self, make: Callable[[], JobRunner]) -> JobRunner | None:
        """Start or resume a job's runner on a worker thread (recording a job writes every
        row's checkpoint and seals the plan; resuming reads and checks it all: 100+ ms for a big
        plan that the window must not wait for), with the heap frozen and the quick GIL handoff
        for the job that follows. None, and said why, when it cannot start."""
        self._tuning.start()
        try:
            return await asyncio.to_thread(make)
        except BaseException as exc:
            self._tuning.end()
            if not (isinstance(exc, Exception) and is_expected(exc)):
                raise
            self.bar.show_error(exc)
            return None

    async def _run_job(self, runner: JobRunner, plan: Plan, what: str) -> None:
        """The job's handler: the same shape as ui/runner.py (controls off, expected errors in
        words, controls back on), with a determinate progress panel and a clean stop."""
        self.job_runner = runner
        self._rows_frozen = False
        self._latest = self._shown = None
        self.last_result = None
        self.bar.hide()
        self.show_plan(plan, runner.job)
        self.progress.start(len(plan.rows), what)
        # No state for every row yet: the rows on screen take theirs from the job at each tick.
        await self._reload_jobs()
        self.select_job(runner.job_id)
        task: asyncio.Future[JobResult] = asyncio.ensure_future(runner.run())
        self._job_task = task
        self._view_timer.start()
        self._refresh_buttons()
        try:
            result = await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise  # the handler itself is being cancelled (window closing)
            self.bar.show_message(
                Level.WARNING,
                f"Job {runner.job_id} was stopped at once. Writes that were in flight are "
                "re-read when the job is resumed; nothing is sent twice blindly.",
            )
        except Exception as exc:
            if not is_expected(exc):
                raise
            self.bar.show_error(exc)
        else:
            self.last_result = result
            self._report(result)
        finally:
            self._view_timer.stop()
            self._job_task = None
        try:
            await self._settle_view(runner)
        finally:
            self.job_runner = None
            # After the final view: the one full collection pass happens here, not mid-job.
            self._tuning.end()
            self.progress.ended()
            self.ctx.wrote()
            await self._reload_jobs()
            self.select_job(runner.job_id)
            self._refresh_buttons()
            self.finished.emit()

    async def _settle_view(self, runner: JobRunner) -> None:
        """The last word of the job: its final progress and every row's final state."""
        # A turn of the window's loop between the report (a message bar appears) and the final
        # progress (the bar at 100 % repaints the window at once): two short turns, not one long.
        await asyncio.sleep(0)
        self._follow_job(force_view=True)
        await self._show_states(runner)
        job = await asyncio.to_thread(self.store.job, runner.job_id)
        if job is not None:
            self.shown_job = job

    async def _show_states(self, runner: JobRunner) -> None:
        """Every row's state, laid out on a worker thread (10 000 rows walked on the loop were a
        visible stall): as the job knows them, or from its checkpoints if it never loaded them.
        The loop only swaps the lists in."""
        store, count = self.store, self.model.rowCount()

        def lay_out() -> tuple[list[RowState | None], list[str | None]]:
            known = list(runner.row_states()) or [
                (cp.row, cp.state, cp.error) for cp in store.rows(runner.job_id)
            ]
            return states_of(count, known)

        states, errors = await asyncio.to_thread(lay_out)
        if self.model.rowCount() == count:  # still the same plan on screen
            self.model.replace_states(states, errors)

    def _report(self, result: JobResult) -> None:
        counts = result.counts
        summary = ", ".join(f"{state} {count:,}" for state, count in counts.items() if count)
        if result.state != "finished":
            self.bar.show_message(
                Level.WARNING,
                f"Job {result.job_id} stopped ({summary}). It can be resumed from the list below.",
            )
        elif result.all_ok:
            self.bar.show_message(Level.SUCCESS, f"Job {result.job_id} finished: {summary}.")
        else:
            self.bar.show_message(
                Level.WARNING,
                f"Job {result.job_id} finished with rows to check: {summary}. The State and "
                "Detail columns say why; the results can be exported.",
            )

    def stop_job(self) -> None:
        """Cancel: the first press lets the writes in flight finish and starts no new one; a
        second press stops at once. Either way the job can be resumed."""
        runner = self.job_runner
        if runner is None:
            return
        if self.progress.stop_button.text() == "Cancel":
            runner.stop()
            self.progress.stop_button.setText("Stop now")
            self.progress.stop_button.setToolTip(
                "Stop without waiting for the writes in flight (they are re-read on resume)"
            )
            self.progress.label.setText("Stopping: waiting for the writes in flight…")
        elif self._job_task is not None:
            self._job_task.cancel()

    def _on_progress(self, progress: Progress) -> None:
        # Called by the job (every 0.2 s): keep the latest report; the timer shows it.
        self._latest = progress

    def _follow_job(self, *, force_view: bool = False) -> None:
        """Every 100 ms while a job runs: the latest progress, and now and then the rows."""
        latest = self._latest
        if latest is not None and (latest is not self._shown or force_view):
            self._shown = latest
            self.progress.show_progress(latest)
            self.jobs_model.update_counts(latest.job_id, dict(latest.counts))
        runner = self.job_runner
        if not self._rows_frozen and runner is not None and runner.row_state(1) is not None:
            # The job has made its rows (tens of thousands of objects for a big job): into the
            # frozen heap with them too, or each full collection pass walks them (15-20 ms).
            self._tuning.rows_made()
            self._rows_frozen = True
        if runner is not None and not force_view:
            self._follow_rows(runner)

    def _follow_rows(self, runner: JobRunner) -> None:
        """The states of the rows on screen, from the job itself (no store, no thread): a few
        dozen lookups per tick, whatever the size of the job. Rows scrolled into view catch up
        at the next tick; every row is read from the checkpoints when the job ends."""
        count = self.model.rowCount()
        if count == 0:
            return
        first = self.table.rowAt(0)
        if first < 0:
            return
        last = self.table.rowAt(self.table.viewport().height() - 1)
        last = count - 1 if last < 0 else last
        states = []
        for index in range(first, last + 1):
            found = runner.row_state(index + 1)
            if found is not None:
                states.append((index, found[0], found[1]))
        self.model.update_states(states)

    # --- the jobs list -------------------------------------------------------------------------

    @async_slot()
    async def reload_jobs(self) -> None:
        await self._reload_jobs()

    async def _reload_jobs(self) -> None:
        session = self.ctx.backoffice.session
        if session is None:
            self.jobs_model.set_jobs([])
            return
        self._jobs_stale = False
        chosen = self.selected_job()
        running = self.job_runner.job_id if self.job_runner is not None else None
        jobs = await asyncio.to_thread(_job_summaries, self.store, session.profile.id, running)
        self.jobs_model.set_jobs(jobs)
        self._size_columns(self.jobs_table)
        if chosen is not None:
            self.select_job(chosen.job.id)
        self._refresh_buttons()

    @async_slot()
    async def _show_selected_job(self) -> None:
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
        self.model.set_states(checkpoints)
        self.progress.hide()

    @async_slot()
    async def _export_results(self) -> None:
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

    def _copy_cell(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            QGuiApplication.clipboard().setText(str(self.model.data(index) or ""))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
