"""The half of the Jobs tab that runs jobs: the plan or job on screen, Apply and Resume (reason
and ticket, the environment typed on a live connection), the job's run with its progress
followed every 100 ms, Stop, and the list of the connection's jobs kept current. ``JobsTab``
(tab.py) adds the layout and what opens plans.

The GUI stays smooth while a job runs: the job's progress callback only keeps the latest
report; a 100 ms timer shows it and refreshes the states of the rows on screen from the job
(the runs of rows that changed; never a model reset). Every row is read from the checkpoints
when the job ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from ctrader_admin.runtime import JobTuning
from ctrader_admin.services.bulk import (
    ApplyOptions,
    JobResult,
    JobRunner,
    Plan,
    Progress,
    confirmation_word,
)
from ctrader_admin.services.job_summary import JobsListing, JobSummary, listed_jobs, plan_title
from ctrader_admin.services.journal_ops import local_time
from ctrader_admin.services.team_link import TeamUnreachable
from ctrader_admin.store.checkpoints import CheckpointStore, JobRecord, RowState
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import ConfirmWriteDialog, ask
from ctrader_admin.ui.jobs.job_list import JobList
from ctrader_admin.ui.jobs.live import JobsLive
from ctrader_admin.ui.jobs.plan_model import states_of
from ctrader_admin.ui.jobs.plan_view import PlanView
from ctrader_admin.ui.jobs.tables import size_columns
from ctrader_admin.ui.notify import Level, is_expected
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.widgets import plural

if TYPE_CHECKING:  # the team's modules load only in team mode
    from ctrader_admin.store.pg.approvals import ApprovalRecord

VIEW_INTERVAL_MS = 100  # the progress view follows the job at most this often


class JobRunsTab(Tab):
    plan_view: PlanView  # made by the tab's layout
    job_list: JobList

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.apply_options: ApplyOptions | None = None  # None: the engine's defaults
        self.plan: Plan | None = None
        self.shown_job: JobRecord | None = None  # the job whose rows the table shows
        self.approval: ApprovalRecord | None = None  # team mode: the plan's, to apply under
        self.submitted_plan: str | None = None  # the seal of the plan last submitted for approval
        self.job_runner: JobRunner | None = None
        self.last_result: JobResult | None = None
        self._job_task: asyncio.Future[JobResult] | None = None
        self._handlers = 0  # handlers under way: the controls stay disabled
        self._latest: Progress | None = None
        self._shown: Progress | None = None
        self._jobs_stale = True
        self._tuning = JobTuning()  # no full collector pass and quick GIL handoff while a job runs
        self._view_timer = QTimer(self)
        self._view_timer.setInterval(VIEW_INTERVAL_MS)
        self._view_timer.timeout.connect(self._follow_job)
        # Team mode: other agents' jobs, told by the team database (no polling).
        self.live = JobsLive(lambda: self.job_runner.job_id if self.job_runner else None, self)
        self.live.changed.connect(self._jobs_changed_elsewhere)
        self.live.lost.connect(lambda why: self.bar.show_message(Level.WARNING, why))
        # The team database gone (the last list seen, read-only) or back (live again).
        ctx.team_link_changed.connect(self._team_link_changed, Qt.ConnectionType.QueuedConnection)

    # --- state ---------------------------------------------------------------------------------

    @property
    def store(self) -> CheckpointStore:
        return self.ctx.backoffice.checkpoints

    @property
    def running(self) -> bool:
        return self.job_runner is not None

    def selected_job(self) -> JobSummary | None:
        return self.job_list.selected_job()

    @property
    def idle(self) -> bool:
        """No handler under way and no job running: the controls may be used."""
        return self._handlers == 0 and not self.running

    def _refresh_buttons(self) -> None:
        write, idle = self.writable(), self.idle
        plan, view = self.plan, self.plan_view
        view.save_button.setEnabled(plan is not None and idle)
        to_write = view.counts(plan)["write"] if plan is not None else 0
        can_apply = plan is not None and self.shown_job is None and to_write > 0
        view.apply_button.setEnabled(write and idle and can_apply)
        if plan is not None and self.shown_job is None and to_write == 0:
            view.apply_button.setToolTip("Nothing to write: every row is skipped or has an error")
        else:
            view.apply_button.setToolTip("Send the planned writes (asks for the reason and ticket)")
        approval = self.approval
        view.apply_button.setText(
            "Apply…" if approval is None else f"Apply approval {approval.id}…"
        )
        view.submit_button.setVisible(self.ctx.backoffice.approvals is not None)
        submitted = plan is not None and plan.content_hash == self.submitted_plan
        view.submit_button.setEnabled(
            write and idle and can_apply and not approval and not submitted
        )
        refusal = self.offline_refusal()
        self.job_list.refresh_buttons(
            write=write, idle=idle, refusal=None if refusal is None else refusal.message
        )

    def refresh_buttons(self) -> None:
        self._refresh_buttons()

    def offline_refusal(self) -> TeamUnreachable | None:
        """The refusal every write and job start meets while the team database cannot be
        reached (services/team_link.py), or None while it answers."""
        session = self.ctx.current_session
        link = self.ctx.backoffice.team_link if self.ctx.attached else None
        if session is None or link is None:
            return None
        try:
            link.refuse_writes(opened_offline=session.opened_offline)
        except TeamUnreachable as exc:
            return exc
        return None

    def _begin(self) -> None:
        self.bar.hide()
        self._handlers += 1
        self._refresh_buttons()

    def _end(self) -> None:
        self._handlers -= 1
        self._refresh_buttons()

    def refused_offline(self, *, writing: bool) -> bool:
        """True, having said why, when the list is the last state seen (the team database
        away): nothing is done to its jobs — a write meets the same refusal as every write."""
        if not self.job_list.offline:
            return False
        refusal = self.offline_refusal() if writing else None
        if refusal is not None:
            self.bar.show_error(refusal)
        else:
            self.bar.show_message(
                Level.WARNING,
                "The jobs' rows are kept in the team database, which cannot be reached: this "
                "list is the last state seen. Refresh reads it again once the database answers.",
            )
        return True

    # --- the plan ------------------------------------------------------------------------------

    def show_plan(
        self,
        plan: Plan | None,
        job: JobRecord | None = None,
        *,
        approval: ApprovalRecord | None = None,
    ) -> None:
        """Show a plan's diff (or a job's rows, when ``job`` is given); ``approval``: the
        approval to apply it under (ui/jobs/approval.py)."""
        self.plan = plan
        self.shown_job = job
        self.approval = approval
        self.plan_view.show(plan, job)
        self._refresh_buttons()

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
            given=None
            if job is None
            else (job.reason, job.ticket, "The job's own, given when it was started"),
        )
        try:
            if not await ask(dialog):
                return None
            typed = dialog.typed.text().strip() if dialog.typed is not None else None
            reason, ticket = dialog.values()
            return reason, ticket, typed
        finally:
            dialog.deleteLater()

    async def _budget_line(self, writes: int) -> str:
        # In team mode the budget is the team database's: read off the event loop.
        figures = await self.ctx.session.budget.figures()
        left = figures.remaining
        line = f"{left:,} of {figures.per_hour:,} writes left this hour"
        if writes > left:
            line += " — the job waits for the budget as the hour rolls on"
        return line

    @async_slot()
    async def _apply(self) -> None:
        plan = self.plan
        if plan is None or self.shown_job is not None or not self.writable():
            return
        session = self.ctx.session
        counts = self.plan_view.counts(plan)
        changes = [
            ("Plan", f"{plural(len(plan.rows), 'row')} from {plan.source}"),
            (
                "Writes",
                f"{counts['write']:,} to send · {counts['skip']:,} already equal · "
                f"{counts['error']:,} with errors (not sent)",
            ),
            ("Budget", await self._budget_line(counts["write"])),
        ]
        if plan.reverts_batch:
            changes.insert(1, ("Reverts", f"batch {plan.reverts_batch}"))
        approval = self.approval
        if approval is not None:
            people = f"submitted by {approval.submitted_by}, approved by {approval.decided_by}"
            changes.append(("Approval", f"{approval.id}: {people} (used once)"))
        self._begin()
        try:
            answer = await self._confirm_job(
                plan_title(plan),
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
                    approval_id=None if approval is None else approval.id,
                    options=self.apply_options,
                    on_progress=self._on_progress,
                )
            )
            if runner is None:
                return
            self.approval = None  # used: the job is the plan's now
        finally:
            self._end()
        await self._run_job(runner, plan, f"Applying {plan.source}")

    @async_slot()
    async def _resume(self) -> None:
        if self.refused_offline(writing=True):
            return
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
                    ("Budget", await self._budget_line(left)),
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
            runner = await asyncio.to_thread(make)
        except BaseException as exc:
            self._tuning.end()
            if not (isinstance(exc, Exception) and is_expected(exc)):
                raise
            self.bar.show_error(exc)
            return None
        # Running from here on (``_run_job`` follows in the same turn): the controls the dialog
        # turned off stay off, rather than on and off again, each change a repaint.
        self.job_runner = runner
        return runner

    async def _run_job(self, runner: JobRunner, plan: Plan, what: str) -> None:
        """The job's handler: the same shape as ui/runner.py (controls off, expected errors in
        words, controls back on), with a determinate progress panel and a clean stop."""
        self.job_runner = runner
        self._latest = self._shown = None
        self.last_result = None
        self.bar.hide()
        self.show_plan(plan, runner.job)
        self.plan_view.progress.start(len(plan.rows), what)
        # No state for every row yet: the rows on screen take theirs from the job at each tick.
        await self._reload_jobs()
        self.job_list.select_job(runner.job_id)
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
            # After the final view; the full collection pass the job put off waits for the
            # operator to leave the window alone (runtime.JobTuning).
            self._tuning.end()
            self.plan_view.progress.ended()
            self.ctx.wrote()
            await self._reload_jobs()
            self.job_list.select_job(runner.job_id)
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
        store, model = self.store, self.plan_view.model
        count = model.rowCount()

        def lay_out() -> tuple[list[RowState | None], list[str | None]]:
            known = list(runner.row_states()) or [
                (cp.row, cp.state, cp.error) for cp in store.rows(runner.job_id)
            ]
            return states_of(count, known)

        states, errors = await asyncio.to_thread(lay_out)
        if model.rowCount() == count:  # still the same plan on screen
            model.replace_states(states, errors)

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
        runner, progress = self.job_runner, self.plan_view.progress
        if runner is None:
            return
        if progress.stop_button.text() == "Cancel":
            runner.stop()
            progress.stop_button.setText("Stop now")
            progress.stop_button.setToolTip(
                "Stop without waiting for the writes in flight (they are re-read on resume)"
            )
            progress.label.setText("Stopping: waiting for the writes in flight…")
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
            self.plan_view.progress.show_progress(latest)
            self.job_list.model.update_counts(latest.job_id, dict(latest.counts))
        runner = self.job_runner
        if runner is not None and not force_view:
            self.plan_view.follow_rows(runner)

    @async_slot()
    async def reload_jobs(self) -> None:
        await self._reload_jobs()

    def _team_link_changed(self, up: bool) -> None:
        """Gone: the list becomes the last one seen, read-only. Back: read (and listened to)
        live again."""
        if self.running or (up and not self.job_list.offline and self.live.listening):
            return
        if self.isVisible():
            self.reload_jobs()
        else:
            self._jobs_stale = True

    def _jobs_changed_elsewhere(self, _jobs: frozenset[str]) -> None:
        if self.isVisible():
            self.reload_jobs()
        else:  # read when the tab is shown
            self._jobs_stale = True

    async def _reload_jobs(self) -> None:
        session = self.ctx.backoffice.session
        if session is None:
            self.job_list.show_listing(JobsListing([]))
            return
        self._jobs_stale = False
        office = self.ctx.backoffice
        link = office.team_link
        if office.team and not self.live.listening and (link is None or link.up):
            await self.live.start(self.store)  # listening first: a change after the read is told
        chosen = self.selected_job()
        running = self.job_runner.job_id if self.job_runner is not None else None
        listing = await asyncio.to_thread(
            listed_jobs, self.store, link, session.profile.id, running
        )
        self.job_list.show_listing(listing)
        size_columns(self.job_list.table)
        if chosen is not None:
            self.job_list.select_job(chosen.job.id)
        self._refresh_buttons()
