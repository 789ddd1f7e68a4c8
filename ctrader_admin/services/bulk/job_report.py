"""What a running job reports: its checkpoints (saved a few times a second, and at the end) and
its progress (counts kept as rows move, ETA, budget, phase)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from ctrader_admin.services.budget import BudgetFigures
from ctrader_admin.services.bulk.clock import Clock
from ctrader_admin.services.bulk.job_rows import Fatal, JobRow, off_loop_to_the_end
from ctrader_admin.services.bulk.jobs import ApplyOptions, JobResult
from ctrader_admin.services.bulk.progress import EtaEstimator, Phase, Progress
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import (
    FINAL_STATES,
    ROW_STATES,
    CheckpointStore,
    JobRecord,
    JobState,
    RowCheckpoint,
    RowState,
)
from ctrader_admin.store.database import DatabaseError

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]
# Seconds between two reads of the team's budget for the progress report (queries on the server;
# this process's own budget is read at every report).
_TEAM_BUDGET_EVERY = 1.0


class JobReport:
    """The reporting half of ``JobRunner`` (which sets these attributes)."""

    session: Session
    store: CheckpointStore
    job: JobRecord
    options: ApplyOptions
    clock: Clock
    on_progress: ProgressCallback | None
    _rows: list[JobRow]
    _counts: dict[RowState, int]
    _dirty: set[int]
    _stopping: bool
    _paused_until: float
    _waiting_budget: int
    _eta: EtaEstimator
    _message: str
    _budget_seen: BudgetFigures  # read by the ticker, shown by ``progress``

    async def _ticker(self) -> None:
        last_save = last_budget = time.monotonic()
        while True:
            await asyncio.sleep(self.options.progress_interval)
            if time.monotonic() - last_save >= self.options.checkpoint_interval:
                rows = self._take_dirty()
                if rows:  # a commit with fsync: on a worker thread, one at a time
                    await self._save_to_the_end(rows)
                last_save = time.monotonic()
            if (
                not self.session.budget.remote
                or time.monotonic() - last_budget >= _TEAM_BUDGET_EVERY
            ):
                await self._read_budget()
                last_budget = time.monotonic()
            self._emit(self._phase())

    async def _read_budget(self) -> None:
        """The budget's figures for the next reports: read here, off the event loop in team
        mode (round trips), never by ``progress``."""
        try:
            self._budget_seen = await self.session.budget.figures()
        except DatabaseError as exc:  # the last figures stay; the writes say what is wrong
            log.warning("The team's write budget could not be read: %s", exc)

    async def _save_to_the_end(self, rows: list[RowCheckpoint]) -> None:
        """Save ``rows``; cancelled meanwhile, the task still ends only once they are saved. The
        job's final save comes after the ticker has ended: a save still running on its thread
        then would land after it and put rows back to an older state (a finished job with a
        row "pending" or "in_flight" that no resume would ever pick up)."""
        _, interrupted = await off_loop_to_the_end(lambda: self.store.save_rows(self.job.id, rows))
        if interrupted:
            raise asyncio.CancelledError

    def _take_dirty(self) -> list[RowCheckpoint]:
        numbers, self._dirty = sorted(self._dirty), set()
        return [self._checkpoint(self._rows[n - 1]) for n in numbers]

    @staticmethod
    def _checkpoint(row: JobRow) -> RowCheckpoint:
        return RowCheckpoint(
            row=row.plan.n,
            state=row.state,
            error=row.error,
            journal_id=row.journal_id,
            attempts=row.attempts,
            observed=row.observed,
        )

    def _phase(self) -> Phase:
        if self._stopping:
            return "stopping"
        if self._paused_until > self.clock.now():
            return "paused"
        if self._waiting_budget:
            return "waiting_for_budget"
        return "running"

    def _move(self, row: JobRow, state: RowState) -> None:
        self._counts[row.state] -= 1
        self._counts[state] += 1
        row.state = state

    def progress(self, phase: Phase | None = None) -> Progress:
        # Counts are kept as rows move, so a report costs the same for 100 rows or 100 000.
        counts = dict(self._counts)
        done = sum(counts[s] for s in FINAL_STATES)
        budget = self._budget_seen
        self._eta.add(done)
        left = len(self._rows) - done
        writes_needed = counts["pending"] + counts["in_flight"]
        return Progress(
            job_id=self.job.id,
            total=len(self._rows),
            done=done,
            counts=counts,
            eta_seconds=self._eta.eta(
                left,
                writes_needed,
                budget.remaining,
                budget.per_hour,
                budget.next_free_in,
            ),
            writes_left=budget.remaining,
            writes_per_hour=budget.per_hour,
            phase=phase or self._phase(),
            paused_seconds=max(0.0, self._paused_until - self.clock.now()),
            message=self._message,
        )

    def _emit(self, phase: Phase) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(self.progress(phase))
        except Exception:  # a broken progress view must not break the job
            log.exception("The progress callback of job %s failed", self.job.id)

    def _finish(self, failure: BaseException | None) -> JobResult:
        """Save every row, then the job's state (on a worker thread: the workers are done)."""
        rows = self._take_dirty()
        if rows:
            self.store.save_rows(self.job.id, rows)
        with contextlib.suppress(DatabaseError):  # the last report's figures, as fresh as can be
            self._budget_seen = self.session.budget.figures_now()
        counts: dict[RowState, int] = dict.fromkeys(ROW_STATES, 0)
        for row in self._rows:
            counts[row.state] += 1
        complete = all(row.state in FINAL_STATES for row in self._rows)
        message: str | None = None
        if failure is not None:
            cause = failure.cause if isinstance(failure, Fatal) else failure
            message = f"Stopped: {cause}"
        elif not complete:
            message = "Stopped before every row was done; resume the job to continue."
        state: JobState = "finished" if complete and failure is None else "stopped"
        self.store.set_state(self.job.id, state, message)
        return JobResult(self.job.id, state, counts, message)

    def row_state(self, n: int) -> tuple[RowState, str | None] | None:
        """Row ``n`` (1-based) as the running job knows it now: its state and error (None
        before ``run()`` has loaded the rows). For a live view: no store access, so a window
        can ask for the rows it shows many times a second."""
        if not 0 < n <= len(self._rows):
            return None
        row = self._rows[n - 1]
        return row.state, row.error

    def row_states(self) -> Iterator[tuple[int, RowState, str | None]]:
        """(row number, state, error) of every row as the job knows it (none before ``run()``
        has loaded them): its final word once ``run()`` has returned."""
        for n, row in enumerate(self._rows, start=1):
            yield n, row.state, row.error
