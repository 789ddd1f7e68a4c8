"""Apply a plan, or resume a job: rate-budgeted, concurrent, checkpointed, journaled.

Two pools work as a pipeline. Readers re-check each row just before it is written (GETs are not
rate-limited, so they run ahead of the writers and cost no wall time); a row whose target changed
since planning becomes DRIFT instead of being overwritten. Writers send through the session's
write gate (read-only, reason/ticket, the profile's hourly budget, journal), never more at once
than the concurrency, never more per hour than the budget.

Nothing is sent twice blindly: after any write whose outcome is not a clean answer (timeout,
dropped connection, 5xx) the row goes back to the readers, and only a read showing the target
still unchanged lets it be written again. The White Label move is a POST, so this matters most
there; it is also read back after an OK answer. A rate-limit answer pauses every writer until the
backend's window allows more (Retry-After, else a back-off) and costs the row nothing.

The same re-check makes crashes harmless: a resumed job re-reads every row that was not final,
and a row already at its target is done, whatever the lost checkpoint said.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Self

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
from ctrader_admin.services.bulk.calls import change_of, prepared_row
from ctrader_admin.services.bulk.clock import Clock, SystemClock
from ctrader_admin.services.bulk.errors import (
    ConfirmationRequired,
    JobRefused,
    PlanRefused,
    PlanTampered,
)
from ctrader_admin.services.bulk.model import Plan, PlanRow, show
from ctrader_admin.services.bulk.plan_file import (
    content_hash,
    plan_from_json,
    plan_record_json,
)
from ctrader_admin.services.bulk.progress import EtaEstimator, Phase, Progress
from ctrader_admin.services.errors import ServiceError
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import (
    Current,
    EmailTarget,
    LinkTarget,
    Target,
    apply,
    read_current,
)
from ctrader_admin.store.checkpoints import (
    FINAL_STATES,
    RESUMABLE_STATES,
    ROW_STATES,
    CheckpointError,
    CheckpointStore,
    JobRecord,
    JobState,
    NewJob,
    RowCheckpoint,
    RowState,
)
from ctrader_admin.store.journal import JournalFilter
from ctrader_admin.store.profiles import Profile

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]
# Failures after which the row is re-read and, if still unchanged, written again: the answer was
# lost or unclear (it may have been applied), or the failure may pass.
_RETRYABLE = (
    OutcomeUnknown,
    ServerError,
    ApiTimeoutError,
    ApiConnectionError,
    ResponseValidationError,
)


@dataclass(frozen=True)
class ApplyOptions:
    concurrency: int = 8  # write requests in flight at once
    # Re-checks in flight (None: as many as writes). A read takes as long as a write, so equal
    # pools keep pace; more connections cost the HTTP client CPU on every request.
    read_concurrency: int | None = None
    max_attempts: int = 5  # writes per row before it is given up
    rate_limit_backoff: float = 60.0  # pause when a rate-limit answer names no Retry-After
    retry_backoff: float = 1.0  # first wait before re-checking a row after a failed write
    progress_interval: float = 0.2  # seconds between progress callbacks
    checkpoint_interval: float = 0.25  # seconds between checkpoint saves


@dataclass(frozen=True)
class JobResult:
    job_id: str
    state: JobState
    counts: dict[RowState, int]
    message: str | None = None

    @property
    def all_ok(self) -> bool:
        """Every row ok or skipped."""
        return self.state == "finished" and not any(
            self.counts[s] for s in ("drift", "failed", "unknown", "pending", "in_flight")
        )


def confirmation_word(profile: Profile) -> str | None:
    """What the operator types to start writes on a live connection (None: not live): the live
    environment's name, e.g. ``live``, or the connection's name when no environment says live."""
    if not profile.live:
        return None
    for environment in profile.environments:
        if "live" in environment.lower():
            return environment
    return profile.name


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass(eq=False)
class _Row:
    plan: PlanRow
    target: Target | None  # None: a row that could not be understood (never written)
    state: RowState
    attempts: int = 0  # writes sent for this row (in every run of the job)
    error: str | None = None
    journal_id: int | None = None
    observed: str | None = None
    owner: int | None = None  # an account link: the userId its record named at the re-check
    attempted: bool = False  # a write of this job may have reached the backend
    verify: bool = False  # a WL move answered OK: read it back before calling it ok
    tries: int = 0  # writes in this run that did not end cleanly (rate limits excepted)
    checks: int = 0  # re-reads in this run that failed


class _Fatal(Exception):
    """The job cannot go on (token refused, connection read-only…): every worker stops."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Timers:
    """Rows waiting out a back-off before their next re-check."""

    def __init__(self) -> None:
        self._waiting: dict[asyncio.TimerHandle, _Row] = {}

    def later(self, delay: float, row: _Row, callback: Callable[[_Row], None]) -> None:
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._waiting.pop(handle, None)
            callback(row)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._waiting[handle] = row

    def cancel(self) -> list[_Row]:
        """Cancel every wait; the rows that were waiting."""
        rows = list(self._waiting.values())
        for handle in self._waiting:
            handle.cancel()
        self._waiting.clear()
        return rows


# The readers start a few ms apart, not all at once: requests sent together come back together,
# and a window driving the job would have to handle a whole wave of answers in one turn of its
# loop (a 20-30 ms freeze at every big job's start). A few tens of ms off a job's wall time.
_READER_STAGGER_S = 0.005


class JobRunner:
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
        self._rows: list[_Row] = []
        self._counts: dict[RowState, int] = dict.fromkeys(ROW_STATES, 0)
        self._dirty: set[int] = set()
        self._stopping = False
        self._first_fatal: _Fatal | None = None
        self._stop_event = asyncio.Event()
        self._open = 0  # rows this run still has to settle
        self._all_settled = asyncio.Event()
        self._paused_until = 0.0
        self._waiting_budget = 0
        self._timers = _Timers()
        self._eta = EtaEstimator()
        self._message = ""
        self._slots_count = max(1, self.options.concurrency)
        self._slots = asyncio.Semaphore(self._slots_count)
        self._check_queue: asyncio.Queue[_Row] = asyncio.Queue()
        self._write_queue: asyncio.Queue[_Row] = asyncio.Queue(
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
        options: ApplyOptions | None = None,
        clock: Clock | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Self:
        """A new job (= a new batch) for ``plan``. Refused before anything is recorded when the
        plan is for another connection or was edited, when reason/ticket are missing, or when a
        live connection's name was not typed."""
        if plan.content_hash != content_hash(plan):
            raise PlanTampered("The plan was changed after it was made; it is refused.")
        _check_profile(session, plan)
        session.check_can_write(reason, ticket)
        _check_confirmation(session.profile, confirmation)
        running = store.unfinished_for_plan(session.profile.id, plan.content_hash)
        if running is not None:
            raise JobRefused(
                f"Job {running.id} of this plan has not finished; resume it instead "
                "(a second job would re-check every row anyway)."
            )
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
            (_initial_checkpoint(row) for row in plan.rows),
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
        _check_profile(session, plan)
        session.check_can_write(job.reason, job.ticket)
        _check_confirmation(session.profile, confirmation)
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

    # --- the run -------------------------------------------------------------------------------

    def _fatal(self, cause: BaseException) -> _Fatal:
        """The job must stop. The first such failure in time is its cause: a NotLoggedIn in a
        concurrent worker is only the consequence of the token another write had refused."""
        if isinstance(cause, NotLoggedIn) and self.session.token_refused is not None:
            cause = self.session.token_refused  # the refusal that dropped the token, first
        fatal = _Fatal(cause)
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
        for row in todo:
            self._check_queue.put_nowait(row)
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
            await asyncio.wait([settled, *workers], return_when=asyncio.FIRST_COMPLETED)
            failure = self._first_fatal or next(
                (w.exception() for w in workers if w.done() and not w.cancelled()), None
            )
        finally:
            self._stopping = True  # a worker that outlives its cancellation starts nothing new
            self._stop_event.set()
            self._timers.cancel()
            cancelled_again = await _cancel_all([*workers, ticker, settled])
            result, interrupted = await _off_loop_to_the_end(self._finish, failure)
            self._emit("finished" if result.state == "finished" else "stopped")
            if cancelled_again or interrupted:
                raise asyncio.CancelledError
        if failure is not None:
            raise failure.cause if isinstance(failure, _Fatal) else failure
        return result

    def _readers(self) -> int:
        wanted = self.options.read_concurrency or self.options.concurrency
        return max(1, min(wanted, self._open or 1))

    def _prepare(self) -> None:
        # Intents a crashed run left behind become 'unknown' entries before anything is read.
        self.session.journal.recover()
        self._load()

    def _load(self) -> None:
        checkpoints: dict[int, RowCheckpoint] = {}
        sent: dict[str, int] = {}
        if not self._fresh:
            # A resumed job (or a second run): what the last run saved, and what it sent.
            checkpoints = {c.row: c for c in self.store.rows(self.job.id)}
            sent = {
                entry.target: entry.id
                for entry in self.session.journal.iter_entries(JournalFilter(batch_id=self.job.id))
            }
        self._fresh = False
        self._rows.clear()
        self._counts = dict.fromkeys(ROW_STATES, 0)
        for plan_row in self.plan.rows:
            cp = checkpoints.get(plan_row.n) or _initial_checkpoint(plan_row)
            row = _Row(
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

    async def _check(self, row: _Row) -> None:
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

    async def _write(self, row: _Row) -> None:
        await self._wait_until_writable()
        if self._stopping:
            self._park(row)
            return
        # From here to the budget slot in session.write there is no await: the slot seen free
        # above is the one taken.
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
                wait_for_budget=True,  # a bulk job queues behind the hourly limit
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

    @contextlib.asynccontextmanager
    async def _network_slot(self) -> AsyncIterator[None]:
        """One of the ``concurrency`` requests in flight; a rate-limit pause that began while
        the write waited for its slot holds it back too."""
        async with self._slots:
            while self._paused_until > self.clock.now() and not self._stopping:
                await self._sleep_until(self._paused_until)
            yield

    def _note_entry(self, row: _Row, journal_id: int | None) -> None:
        # None: the write failed before the journal recorded it.
        if journal_id is not None:
            row.journal_id = journal_id

    def _retry(self, row: _Row, error: str) -> None:
        """An unclear or transient failure: re-read before anything is sent again."""
        row.tries += 1
        row.error = error
        self._dirty.add(row.plan.n)
        self._later(row, self._backoff(row.tries))

    def _backoff(self, attempt: int) -> float:
        return min(30.0, self.options.retry_backoff * 2.0 ** max(0, attempt - 1))

    def _later(self, row: _Row, delay: float) -> None:
        self._timers.later(delay, row, self._check_queue.put_nowait)

    def _pause(self, retry_after: float | None) -> None:
        delay = retry_after if retry_after is not None else self.options.rate_limit_backoff
        until = self.clock.now() + max(0.0, delay)
        if until > self._paused_until:
            self._paused_until = until
            self._message = "The backend's hourly write limit was reached: paused."
            log.info("Job %s paused for %.0f s (rate limit)", self.job.id, delay)

    async def _wait_until_writable(self) -> None:
        """Through the rate-limit pause and until the budget has a slot (without taking it)."""
        while not self._stopping:
            now = self.clock.now()
            if self._paused_until > now:
                await self._sleep_until(self._paused_until)
                continue
            wait = self.session.budget.seconds_until_free()
            if wait <= 0:
                return
            self._waiting_budget += 1
            try:
                await self._sleep_until(now + wait)
            finally:
                self._waiting_budget -= 1

    async def _sleep_until(self, moment: float) -> None:
        sleeper = asyncio.create_task(self.clock.sleep_until(moment))
        stopper = asyncio.create_task(self._stop_event.wait())
        try:
            await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()

    def _settle(self, row: _Row, state: RowState, error: str | None = None) -> None:
        self._move(row, state)
        row.error = error
        self._dirty.add(row.plan.n)
        self._close_one()

    def _park(self, row: _Row) -> None:
        """Stopping: the row keeps its state for the next run."""
        self._close_one()

    def _close_one(self) -> None:
        self._open -= 1
        if self._open <= 0:
            self._all_settled.set()

    # --- checkpoints and progress --------------------------------------------------------------

    async def _ticker(self) -> None:
        last_save = time.monotonic()
        while True:
            await asyncio.sleep(self.options.progress_interval)
            if time.monotonic() - last_save >= self.options.checkpoint_interval:
                rows = self._take_dirty()
                if rows:  # a commit with fsync: on a worker thread, one at a time
                    await asyncio.to_thread(self.store.save_rows, self.job.id, rows)
                last_save = time.monotonic()
            self._emit(self._phase())

    def _take_dirty(self) -> list[RowCheckpoint]:
        numbers, self._dirty = sorted(self._dirty), set()
        return [self._checkpoint(self._rows[n - 1]) for n in numbers]

    @staticmethod
    def _checkpoint(row: _Row) -> RowCheckpoint:
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

    def _move(self, row: _Row, state: RowState) -> None:
        self._counts[row.state] -= 1
        self._counts[state] += 1
        row.state = state

    def progress(self, phase: Phase | None = None) -> Progress:
        # Counts are kept as rows move, so a report costs the same for 100 rows or 100 000.
        counts = dict(self._counts)
        done = sum(counts[s] for s in FINAL_STATES)
        budget = self.session.budget
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
                budget.remaining(),
                budget.per_hour,
                budget.seconds_until_free(),
            ),
            writes_left=budget.remaining(),
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
        counts: dict[RowState, int] = dict.fromkeys(ROW_STATES, 0)
        for row in self._rows:
            counts[row.state] += 1
        complete = all(row.state in FINAL_STATES for row in self._rows)
        message: str | None = None
        if failure is not None:
            cause = failure.cause if isinstance(failure, _Fatal) else failure
            message = f"Stopped: {cause}"
        elif not complete:
            message = "Stopped before every row was done; resume the job to continue."
        state: JobState = "finished" if complete and failure is None else "stopped"
        self.store.set_state(self.job.id, state, message)
        return JobResult(self.job.id, state, counts, message)


async def _off_loop_to_the_end(
    work: Callable[[BaseException | None], JobResult], failure: BaseException | None
) -> tuple[JobResult, bool]:
    """``work`` on a worker thread, awaited to its end even if this task is cancelled meanwhile
    (the job's last checkpoint must be saved); True with it if that happened."""
    future = asyncio.ensure_future(asyncio.to_thread(work, failure))
    interrupted = False
    while True:
        try:
            return await asyncio.shield(future), interrupted
        except asyncio.CancelledError:
            if future.cancelled():
                raise
            interrupted = True


async def _cancel_all(tasks: list[asyncio.Task[Any]]) -> bool:
    """Cancel the tasks and wait for them, cancelling again any that swallowed it (Python
    3.11's asyncio.wait_for can, e.g. in the in-process sandbox transport). True if the
    caller itself was cancelled meanwhile: the clean-up still finished."""
    interrupted = False
    while pending := [task for task in tasks if not task.done()]:
        for task in pending:
            task.cancel()
        try:
            await asyncio.wait(pending, timeout=0.5)
        except asyncio.CancelledError:
            interrupted = True
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: the job's failure was taken from them already
    return interrupted


def find_job(store: CheckpointStore, job_id: str) -> JobRecord:
    """A job by id, or by the first characters of its id when they name only one."""
    job = store.job(job_id)
    if job is not None:
        return job
    matches = store.find_jobs(job_id) if len(job_id) >= 4 else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise JobRefused(f"Several jobs start with {job_id}; give more of the id.")
    raise JobRefused(f"There is no job {job_id} on this computer.")


def _check_profile(session: Session, plan: Plan) -> None:
    if plan.profile_id != session.profile.id:
        raise PlanRefused(
            f"This plan was made for the connection {plan.profile_name!r} ({plan.profile_id}); "
            f"the active one is {session.profile.name!r}. Nothing was sent."
        )


def _check_confirmation(profile: Profile, confirmation: str | None) -> None:
    expected = confirmation_word(profile)
    if expected is not None and (confirmation or "").strip() != expected:
        raise ConfirmationRequired(expected)


def _initial_checkpoint(row: PlanRow) -> RowCheckpoint:
    if row.status == "write":
        return RowCheckpoint(row.n, "pending")
    if row.status == "skip":
        return RowCheckpoint(row.n, "skipped", row.message or "already as proposed")
    problem = f"{row.problem}: " if row.problem else ""
    return RowCheckpoint(row.n, "failed", f"not sent — {problem}{row.message}")
