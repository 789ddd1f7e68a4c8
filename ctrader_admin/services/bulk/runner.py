"""Apply a plan, or resume a job: rate-budgeted, concurrent, checkpointed, journaled.

Two pools work as a pipeline. Readers re-check each row just before it is written (GETs are not
rate-limited, so they run ahead of the writers and cost no wall time); a row whose target changed
since planning becomes DRIFT instead of being overwritten (``apply`` refuses it with that read,
and the journal records the refusal). Writers apply the row's change with
the write model (``writes.apply``, the re-check's read as its precondition) through the
session's write gate (read-only, reason/ticket, the profile's hourly budget, journal), never more
at once than the concurrency, never more per hour than the budget.

Nothing is sent twice blindly: after any write whose outcome is not a clean answer (timeout,
dropped connection, 5xx) the row goes back to the readers, and only a read showing the target
still unchanged lets it be written again. The White Label move is a POST, so this matters most
there; it is also read back after an OK answer. A rate-limit answer pauses every writer until the
backend's window allows more (Retry-After, else a back-off) and costs the row nothing.

The same re-check makes crashes harmless: a resumed job re-reads every row that was not final,
and a row already at its target is done, whatever the lost checkpoint said.

Around this module: ``jobs`` (options, result, the checks before a start), ``job_rows`` (a
row's state, timers, clean-up), ``pacing`` (rate-limit pause, budget wait, network slots) and
``job_report`` (checkpoints, progress).

Size (~520 lines): the readers, the writers and the loop that hands rows between them share the
job's row states and its stop; split further, each piece would need the others' internals.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Self

from ctrader_admin.api import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    Forbidden,
    NotFound,
    NotLoggedIn,
    OutcomeUnknown,
    RateLimited,
    ResponseValidationError,
    ServerError,
)
from ctrader_admin.services.budget import BudgetFigures, Reservation
from ctrader_admin.services.bulk.calls import change_of, journal_drift, prepared_row
from ctrader_admin.services.bulk.clock import Clock, SystemClock
from ctrader_admin.services.bulk.errors import (
    JobRefused,
    PlanTampered,
)
from ctrader_admin.services.bulk.job_report import JobReport, ProgressCallback
from ctrader_admin.services.bulk.job_rows import (
    Fatal,
    JobRow,
    RowTimers,
    cancel_all,
    off_loop_to_the_end,
)
from ctrader_admin.services.bulk.jobs import (
    ApplyOptions,
    JobResult,
    check_confirmation,
    check_profile,
    check_resume_approval,
    confirmation_word,
    find_job,
    initial_checkpoint,
    new_job_id,
    use_plan_approval,
)
from ctrader_admin.services.bulk.model import Plan, show
from ctrader_admin.services.bulk.pacing import JobPacing
from ctrader_admin.services.bulk.plan_file import (
    content_hash,
    plan_from_json,
    plan_record_json,
)
from ctrader_admin.services.bulk.progress import EtaEstimator
from ctrader_admin.services.errors import ServiceError
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import (
    Current,
    EmailTarget,
    LinkTarget,
    apply,
    read_current,
)
from ctrader_admin.store.checkpoints import (
    RESUMABLE_STATES,
    ROW_STATES,
    CheckpointError,
    CheckpointStore,
    JobRecord,
    NewJob,
    RowCheckpoint,
    RowState,
)
from ctrader_admin.store.journal import JournalFilter

log = logging.getLogger(__name__)
__all__ = ["ApplyOptions", "JobResult", "JobRunner", "confirmation_word", "find_job"]

# Failures after which the row is re-read and, if still unchanged, written again: the answer was
# lost or unclear (it may have been applied), or the failure may pass.
_RETRYABLE = (
    OutcomeUnknown,
    ServerError,
    ApiTimeoutError,
    ApiConnectionError,
    ResponseValidationError,
)


# The readers start a few ms apart, not all at once: requests sent together come back together,
# and a window driving the job would have to handle a whole wave of answers in one turn of its
# loop (a 20-30 ms freeze at every big job's start). A few tens of ms off a job's wall time.
_READER_STAGGER_S = 0.005
# A big job's rows go into the readers' queue this many per turn of the loop: all 10 000 at once
# held a window's loop for several ms in the job's first second, when it has the most to draw.
_QUEUED_PER_TURN = 1000


class JobRunner(JobReport, JobPacing):
    """Runs one job. Build it with ``start`` (a new job from a plan) or ``resume``; then await
    ``run()``. ``stop()`` lets in-flight writes finish and starts no new one; cancelling the task
    that awaits ``run()`` stops at once (writes in flight are journaled as unknown and re-read
    on resume). Either way the job can be resumed."""

    def __init__(
        self,
        session: Session,
        store: CheckpointStore,
        job: JobRecord,
        plan: Plan,
        *,
        options: ApplyOptions | None = None,
        clock: Clock | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.session = session
        self.store = store
        self.job = job
        self.plan = plan
        self.options = options or ApplyOptions()
        self.clock: Clock = clock or SystemClock()
        self.on_progress = on_progress
        self._rows: list[JobRow] = []
        self._counts: dict[RowState, int] = dict.fromkeys(ROW_STATES, 0)
        self._dirty: set[int] = set()
        self._stopping = False
        self._first_fatal: Fatal | None = None
        self._stop_event = asyncio.Event()
        self._open = 0  # rows this run still has to settle
        self._all_settled = asyncio.Event()
        self._paused_until = 0.0
        self._waiting_budget = 0
        self._timers = RowTimers()
        self._eta = EtaEstimator()
        per_hour = session.budget.configured_per_hour
        self._budget_seen = BudgetFigures(per_hour, per_hour, None)  # read in ``_prepare``
        self._message = ""
        self._slots_count = max(1, self.options.concurrency)
        self._slots = asyncio.Semaphore(self._slots_count)
        self._check_queue: asyncio.Queue[JobRow] = asyncio.Queue()
        self._write_queue: asyncio.Queue[JobRow] = asyncio.Queue(
            maxsize=2 * max(1, self.options.concurrency)
        )
        # Set by ``start``: the job was just recorded with every row's initial checkpoint and
        # no journal entry can name its new batch yet, so ``run`` need not read them back.
        self._fresh = False

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        session: Session,
        store: CheckpointStore,
        plan: Plan,
        *,
        reason: str,
        ticket: str,
        confirmation: str | None = None,
        approval_id: int | None = None,
        options: ApplyOptions | None = None,
        clock: Clock | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Self:
        """A new job (= a new batch) for ``plan``. Refused before anything is recorded when the
        plan is for another connection or was edited, when reason/ticket are missing, when a
        live connection's name was not typed, or (team mode) when the policy asks for an
        approval and ``approval_id`` is not one for exactly this plan (``use_plan_approval``)."""
        if plan.content_hash != content_hash(plan):
            raise PlanTampered("The plan was changed after it was made; it is refused.")
        check_profile(session, plan)
        session.check_can_write(reason, ticket)
        if approval_id is None:
            session.refuse_unapproved_plan(plan.kind, plan.to_write)
        check_confirmation(session.profile, confirmation)
        running = store.unfinished_for_plan(session.profile.id, plan.content_hash)
        if running is not None:
            raise JobRefused(
                f"Job {running.id} of this plan has not finished; resume it instead "
                "(a second job would re-check every row anyway)."
            )
        if approval_id is not None:  # used once; every row's journal entry names both people
            reason = use_plan_approval(session, plan, approval_id).with_people(reason)
        job = store.create_job(
            NewJob(
                id=new_job_id(),
                profile_id=session.profile.id,
                plan_hash=plan.content_hash,
                plan_json=plan_record_json(plan),
                operator=session.operator,
                reason=reason.strip(),
                ticket=ticket.strip(),
            ),
            (initial_checkpoint(row) for row in plan.rows),
        )
        runner = cls(
            session, store, job, plan, options=options, clock=clock, on_progress=on_progress
        )
        runner._fresh = True
        return runner

    @classmethod
    def resume(
        cls,
        session: Session,
        store: CheckpointStore,
        job_id: str,
        *,
        confirmation: str | None = None,
        options: ApplyOptions | None = None,
        clock: Clock | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Self:
        """Continue a job that stopped (crash, kill, cancel): refused while another live process
        runs it. Reason and ticket are the job's."""
        job = find_job(store, job_id)
        plan = plan_from_json(job.plan_json, where=f"The plan of job {job.id}")
        check_profile(session, plan)
        session.check_can_write(job.reason, job.ticket)
        check_resume_approval(session, plan)
        check_confirmation(session.profile, confirmation)
        try:
            job = store.claim(job.id)
        except CheckpointError as exc:
            raise JobRefused(str(exc)) from None
        return cls(session, store, job, plan, options=options, clock=clock, on_progress=on_progress)

    # --- control -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Start no new write; the job ends once the writes in flight have answered."""
        self._stopping = True
        self._stop_event.set()
        for row in self._timers.cancel():
            self._park(row)

    @property
    def job_id(self) -> str:
        return self.job.id

    # --- the run -------------------------------------------------------------------------------

    def _fatal(self, cause: BaseException) -> Fatal:
        """The job must stop. The first such failure in time is its cause: a NotLoggedIn in a
        concurrent worker is only the consequence of the token another write had refused."""
        if isinstance(cause, NotLoggedIn) and self.session.token_refused is not None:
            cause = self.session.token_refused  # the refusal that dropped the token, first
        fatal = Fatal(cause)
        if self._first_fatal is None:
            self._first_fatal = fatal
        return fatal

    async def run(self) -> JobResult:
        # Store work runs on worker threads (the Database lock serialises it with the journal's
        # group commit): a window driving the job keeps its event loop free.
        try:
            await asyncio.to_thread(self._prepare)
        except asyncio.CancelledError:
            self.store.set_state(self.job.id, "stopped", "Stopped before it started.")
            raise
        todo = [row for row in self._rows if row.state in RESUMABLE_STATES]
        self._open = len(todo)
        if self._open == 0:
            self._all_settled.set()
        workers = [
            asyncio.create_task(self._reader(first_after=n * _READER_STAGGER_S))
            for n in range(self._readers())
        ]
        # Twice as many writers as network slots: while some wait for the journal (an fsync
        # before and after each request), the others keep every slot busy.
        workers += [asyncio.create_task(self._writer()) for _ in range(2 * self._slots_count)]
        ticker = asyncio.create_task(self._ticker())
        settled = asyncio.create_task(self._all_settled.wait())
        failure: BaseException | None = None
        try:
            for first in range(0, len(todo), _QUEUED_PER_TURN):
                if first:
                    await asyncio.sleep(0)
                for row in todo[first : first + _QUEUED_PER_TURN]:
                    self._check_queue.put_nowait(row)
            await asyncio.wait([settled, *workers], return_when=asyncio.FIRST_COMPLETED)
            failure = self._first_fatal or next(
                (w.exception() for w in workers if w.done() and not w.cancelled()), None
            )
        finally:
            self._stopping = True  # a worker that outlives its cancellation starts nothing new
            self._stop_event.set()
            self._timers.cancel()
            cancelled_again = await cancel_all([*workers, ticker, settled])
            result, interrupted = await off_loop_to_the_end(lambda: self._finish(failure))
            self._emit("finished" if result.state == "finished" else "stopped")
            if cancelled_again or interrupted:
                raise asyncio.CancelledError
        if failure is not None:
            raise failure.cause if isinstance(failure, Fatal) else failure
        return result

    def _readers(self) -> int:
        wanted = self.options.read_concurrency or self.options.concurrency
        return max(1, min(wanted, self._open or 1))

    def _prepare(self) -> None:
        # Intents a crashed run left behind become 'unknown' entries before anything is read.
        self.session.journal.recover()
        self._load()
        self._budget_seen = self.session.budget.figures_now()

    def _load(self) -> None:
        checkpoints: dict[int, RowCheckpoint] = {}
        sent: dict[str, int] = {}
        if not self._fresh:
            # A resumed job (or a second run): what the last run saved, and what it sent.
            checkpoints = {c.row: c for c in self.store.rows(self.job.id)}
            sent = {
                entry.target: entry.id
                for entry in self.session.journal.iter_entries(JournalFilter(batch_id=self.job.id))
                if entry.outcome != "refused"  # journaled drift: nothing was sent
            }
        self._fresh = False
        self._rows.clear()
        self._counts = dict.fromkeys(ROW_STATES, 0)
        for plan_row in self.plan.rows:
            cp = checkpoints.get(plan_row.n) or initial_checkpoint(plan_row)
            row = JobRow(
                plan=plan_row,
                target=change_of(plan_row).target if plan_row.op else None,
                state=cp.state,
                attempts=cp.attempts,
                error=cp.error,
                journal_id=cp.journal_id or sent.get(plan_row.target),
                observed=cp.observed,
            )
            row.attempted = (
                plan_row.target in sent or cp.attempts > 0 or cp.state in ("in_flight", "unknown")
            )
            self._rows.append(row)
            self._counts[row.state] += 1

    async def _reader(self, *, first_after: float = 0.0) -> None:
        if first_after:
            await asyncio.sleep(first_after)
        while True:
            row = await self._check_queue.get()
            if self._stopping:
                self._park(row)
                continue
            await self._check(row)

    async def _writer(self) -> None:
        while True:
            row = await self._write_queue.get()
            await self._write(row)

    async def _check(self, row: JobRow) -> None:
        assert row.target is not None
        assert not isinstance(row.target, EmailTarget)
        try:
            current = await read_current(self.session, row.target)
        except (NotFound, Forbidden) as exc:
            self._settle(row, "unknown" if row.attempted else "failed", exc.message)
            return
        except ApiError as exc:
            if exc.needs_login:
                raise self._fatal(exc) from None
            row.checks += 1
            if row.checks >= self.options.max_attempts:
                state: RowState = "unknown" if row.attempted else "failed"
                self._settle(row, state, f"could not be read: {exc.message}")
            else:
                self._later(row, self._backoff(row.checks))
            return
        row.observed = current.value
        self._dirty.add(row.plan.n)
        wanted = row.plan.proposed
        if row.verify:
            row.verify = False
            if current.value == wanted:
                self._settle(row, "ok")
            else:
                self._settle(
                    row, "failed", f"answered OK, but the account reads {show(current.value)}"
                )
        elif current.value == wanted:
            self._settle(row, "ok" if row.attempted else "skipped", None)
        elif current.value != row.plan.current:
            journal_id = await journal_drift(
                self.session,
                row.plan,
                Current(row.plan.current, row.owner),
                current,
                reason=self.job.reason,
                ticket=self.job.ticket,
                batch_id=self.job.id,
                reverts_id=row.plan.reverts_id,
            )
            self._note_entry(row, journal_id)
            self._settle(
                row,
                "drift",
                f"changed since planning: was {show(row.plan.current)}, "
                f"now {show(current.value)}; not written",
            )
        elif row.tries >= self.options.max_attempts:
            self._settle(row, "failed", f"not applied after {row.tries} attempts: {row.error}")
        else:
            if isinstance(row.target, LinkTarget) and current.owner is not None:
                row.owner = current.owner
            await self._write_queue.put(row)

    async def _write(self, row: JobRow) -> None:
        try:
            reserved = await self._reserve()
        except ServiceError as exc:  # the team's budget out of reach: nothing was sent
            raise self._fatal(exc) from None
        if reserved is None:  # stopping: the row stays as it is, for the next run
            self._park(row)
            return
        try:
            await self._send(row, reserved)
        finally:  # a row skipped or refused before its write was journaled
            await self.session.budget.give_back_unspent(reserved)

    async def _send(self, row: JobRow, reserved: Reservation) -> None:
        self._move(row, "in_flight")
        row.attempts += 1
        row.attempted = True
        self._dirty.add(row.plan.n)
        try:
            # Prepared again from the plan and the value the re-check just read: apply's
            # precondition is that read, so nothing is read twice.
            now = Current(row.observed, row.owner)
            applied = await apply(
                self.session,
                prepared_row(self.session, row.plan, now),
                reason=self.job.reason,
                ticket=self.job.ticket,
                batch_id=self.job.id,
                reverts_id=row.plan.reverts_id,
                reserved=reserved,  # taken while pacing: the job queues behind the limit
                slot=self._network_slot,
                checked=now,
            )
        except RateLimited as exc:
            self._note_entry(row, exc.journal_id)
            self._pause(exc.retry_after)
            self._move(row, "pending")
            self._check_queue.put_nowait(row)  # refused, not applied: re-check after the pause
            return
        except _RETRYABLE as exc:
            self._note_entry(row, exc.journal_id)
            if isinstance(exc, OutcomeUnknown) and isinstance(exc.last_error, RateLimited):
                self._pause(exc.last_error.retry_after)  # a retry met the limit: all wait
            self._retry(row, exc.message)
            return
        except ApiError as exc:
            if exc.needs_login:
                raise self._fatal(exc) from None
            self._note_entry(row, exc.journal_id)
            self._settle(row, "failed", exc.message)
            return
        except ServiceError as exc:  # read-only, missing reason: nothing was sent
            raise self._fatal(exc) from None
        self._note_entry(row, applied.entry.id if applied.entry is not None else None)
        if row.plan.op == "move_wl":
            row.verify = True
            self._check_queue.put_nowait(row)
        else:
            self._settle(row, "ok")

    def _note_entry(self, row: JobRow, journal_id: int | None) -> None:
        # None: the write failed before the journal recorded it.
        if journal_id is not None:
            row.journal_id = journal_id

    def _retry(self, row: JobRow, error: str) -> None:
        """An unclear or transient failure: re-read before anything is sent again."""
        row.tries += 1
        row.error = error
        self._dirty.add(row.plan.n)
        self._later(row, self._backoff(row.tries))

    def _backoff(self, attempt: int) -> float:
        return min(30.0, self.options.retry_backoff * 2.0 ** max(0, attempt - 1))

    def _later(self, row: JobRow, delay: float) -> None:
        self._timers.later(delay, row, self._check_queue.put_nowait)

    def _settle(self, row: JobRow, state: RowState, error: str | None = None) -> None:
        self._move(row, state)
        row.error = error
        self._dirty.add(row.plan.n)
        self._close_one()

    def _park(self, row: JobRow) -> None:
        """Stopping: the row keeps its state for the next run."""
        self._close_one()

    def _close_one(self) -> None:
        self._open -= 1
        if self._open <= 0:
            self._all_settled.set()
