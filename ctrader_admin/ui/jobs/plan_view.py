"""The plan part of the Jobs tab: what the plan (or the job on screen) is and does, its bad lines,
the table of its rows, Save plan and Apply, and a running job's progress under it.

It is a set of widgets the tab lays out (the summary above the splitter, the rest in its top
pane), not one widget: the tab's layout stays as it was."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services.bulk import JobRunner, Plan, PlanRow
from ctrader_admin.services.job_summary import plan_title
from ctrader_admin.services.journal_ops import local_time
from ctrader_admin.store.checkpoints import JobRecord
from ctrader_admin.ui import theme
from ctrader_admin.ui.jobs.plan_model import COLUMN_SAMPLES, COLUMNS, STATE_TONES, PlanRowsModel
from ctrader_admin.ui.jobs.progress import JobProgressPanel
from ctrader_admin.ui.jobs.tables import job_table, size_columns
from ctrader_admin.ui.widgets import plural

SHOWN_BAD_LINES = 5


class PlanView:
    def __init__(self) -> None:
        self.summary = QLabel()
        self.summary.setObjectName("planSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bad_lines = QLabel()
        self.bad_lines.setObjectName("planBadLines")
        self.bad_lines.setWordWrap(True)
        self.bad_lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.set_tone(self.bad_lines, theme.Tone.ERROR)

        self.model = PlanRowsModel()
        self.table = job_table("planTable", COLUMNS, COLUMN_SAMPLES)
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        # PySide6 builds ~70 enum classes of QtWidgets the first time Python asks a scroll area
        # for its viewport (~12 ms of CPU): paid here, with the tab, not by the window at a
        # job's first tick (follow_rows).
        self.table.viewport()
        # Likewise the rows' state icons (~3 ms of painting): made with the tab, not in the job's
        # first view of its rows, on top of that repaint.
        for tone in dict.fromkeys(STATE_TONES.values()):
            theme.status_icon(tone)
        self.top = QWidget()
        top_layout = QVBoxLayout(self.top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.save_button = QPushButton("Save plan…")
        self.save_button.setObjectName("jobsSavePlan")
        self.save_button.setToolTip("Write the plan to a file (sealed: an edited copy is refused)")
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("jobsApply")
        self.apply_button.setToolTip("Send the planned writes (asks for the reason and ticket)")
        # Team mode only (the tab shows it): the plan goes to a second person first.
        self.submit_button = QPushButton("Submit for approval…")
        self.submit_button.setObjectName("jobsSubmitForApproval")
        self.submit_button.setToolTip(
            "Send the plan to the team's Approvals: another person approves or rejects it"
        )
        self.submit_button.hide()
        actions.addWidget(self.save_button)
        actions.addStretch(1)
        actions.addWidget(self.submit_button)
        actions.addWidget(self.apply_button)
        top_layout.addLayout(actions)
        self.progress = JobProgressPanel()
        # Its room is kept while it is hidden: a job's start then shows it without laying out
        # (and repainting) the table above it again, thousands of rows for a big plan.
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(policy)
        top_layout.addWidget(self.progress)
        # The plan's counts and bad rows, made once per plan: a job's start shows the plan again
        # (as a job), and walking 10 000 rows there was a few ms of the window's busiest turn.
        self._counted: tuple[Plan, dict[str, int], list[PlanRow]] | None = None
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.table)
        copy.activated.connect(self._copy_cell)

    def show(self, plan: Plan | None, job: JobRecord | None) -> None:
        """A plan's diff (or a job's rows, when ``job`` is given)."""
        self.model.set_plan(plan)
        size_columns(self.table)
        if job is None:
            self.progress.hide()
        self.show_summary(plan, job)

    def show_summary(self, plan: Plan | None, job: JobRecord | None) -> None:
        if plan is None:
            self._counted = None  # nor kept for its counts
            self.summary.setText("Open a CSV or a plan file to see what would change.")
            self.bad_lines.hide()
            return
        counts, bad = self._counted_rows(plan)
        problems = sorted(
            (key.split(":", 1)[1], count)
            for key, count in counts.items()
            if key.startswith("error:")
        )
        detail = ", ".join(f"{name} {count}" for name, count in problems)
        what = f"Job {job.id} — " if job is not None else f"{plan_title(plan)}: "
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
            + ("" if job is not None else " · planning sent reads only")
        )
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

    def counts(self, plan: Plan) -> dict[str, int]:
        """``plan.counts()``, made once per plan (the tab's buttons ask at every refresh; walking
        10 000 rows there was ~1.5 ms each time, twice in a job's first turn). Read only."""
        return self._counted_rows(plan)[0]

    def _counted_rows(self, plan: Plan) -> tuple[dict[str, int], list[PlanRow]]:
        if self._counted is None or self._counted[0] is not plan:
            bad = [row for row in plan.rows if row.status == "error"]
            self._counted = (plan, plan.counts(), bad)
        return self._counted[1], self._counted[2]

    def selected_row_numbers(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return sorted(self.model.row_at(index.row()).n for index in rows)

    def follow_rows(self, runner: JobRunner) -> None:
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

    def _copy_cell(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            QGuiApplication.clipboard().setText(str(self.model.data(index) or ""))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
