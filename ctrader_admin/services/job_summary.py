"""Bulk jobs as an operator reads them: the words of a row's state and of a job's state, the
outcomes so far, a job's progress line, what kind of plan it is ("Register partners in bulk"),
and the list of a connection's jobs with what may be done to each (resume). No Qt: the Jobs tab
shows these; the CLI has its own terser lines."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctrader_admin.services.bulk import Plan, PlanRow, Progress
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.store.checkpoints import ROW_STATES, CheckpointStore, JobRecord, RowState
from ctrader_admin.store.database import DatabaseUnreachable

if TYPE_CHECKING:
    from ctrader_admin.services.team_link import TeamLink

log = logging.getLogger(__name__)

STATE_TEXT: dict[RowState, str] = {
    "pending": "pending",
    "in_flight": "in flight",
    "ok": "ok",
    "skipped": "skipped",
    "drift": "drift",
    "failed": "failed",
    "unknown": "unknown",
}

# What a plan does, by its kind: the words the Jobs tab titles it with. Partner codes in bulk
# are how a broker registers its CRM's partners (e.g. when it turns on cTrader Invite).
PLAN_TITLES: dict[str, str] = {
    "partner": "Register partners in bulk",
    "white_label": "Move accounts between White Labels",
    "revert": "Revert a batch",
}


def plan_title(plan: Plan) -> str:
    return PLAN_TITLES.get(plan.kind, "Bulk change")


def verdict_text(row: PlanRow) -> str:
    """The pre-flight verdict as the operator reads it: ok, skip, or error and its kind."""
    if row.status == "write":
        return "ok"
    if row.status == "skip":
        return "skip (already equal)"
    return f"error: {row.problem}" if row.problem else "error"


def outcome_text(counts: dict[RowState, int]) -> str:
    shown: tuple[RowState, ...] = ("ok", "skipped", "drift", "failed", "unknown")
    return " · ".join(f"{STATE_TEXT[s]} {counts[s]:,}" for s in shown if counts.get(s))


def duration_text(seconds: float, *, short: bool = False) -> str:
    """``1 min 05 s`` (the Jobs tab), or ``1m05s`` with ``short`` (the CLI's progress line)."""
    sec, mins, hours, gap = ("s", "m", "h", "") if short else (" s", " min", " h", " ")
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}{sec}"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}{mins}{gap}{seconds:02d}{sec}"
    hours_, minutes = divmod(minutes, 60)
    return f"{hours_}{hours}{gap}{minutes:02d}{mins}"


def progress_text(progress: Progress) -> str:
    """A running job in one line: its phase or ETA, the budget left, the outcomes so far."""
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
    shown: tuple[RowState, ...] = ("ok", "skipped", "drift", "failed", "unknown", "in_flight")
    outcomes = [f"{STATE_TEXT[state]} {counts[state]:,}" for state in shown if counts.get(state)]
    if outcomes:
        parts.append(", ".join(outcomes))
    return " · ".join(parts)


@dataclass(frozen=True)
class JobSummary:
    """One job as the list shows it. ``busy_elsewhere``: a live process other than this one runs
    it (it cannot be resumed here until it stops)."""

    job: JobRecord
    counts: dict[RowState, int]
    source: str
    busy_elsewhere: bool = False
    running_here: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.total - self.counts["pending"] - self.counts["in_flight"]

    @property
    def resumable(self) -> bool:
        return self.job.state != "finished" and not self.busy_elsewhere and not self.running_here

    @property
    def state_text(self) -> str:
        state = self.job.state
        if self.running_here:
            return "running"
        if state == "running":
            return "running elsewhere" if self.busy_elsewhere else "interrupted — resumable"
        if state == "stopped":
            return "stopped — resumable"
        return "finished"


_SOURCE = re.compile(r'"source": ("(?:[^"\\]|\\.)*")')


def plan_source(plan_json: str) -> str:
    """The plan's source (file name, or what it reverts) without parsing the whole plan."""
    match = _SOURCE.search(plan_json, 0, 8192)
    if match is None:
        return ""
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


def job_summaries(
    store: CheckpointStore, profile_id: str, running_id: str | None
) -> list[JobSummary]:
    """The jobs of a connection, newest first; ``running_id`` is the one this process runs."""
    jobs = store.jobs(profile_id)
    elsewhere = store.running_elsewhere(jobs)
    found: list[JobSummary] = []
    for job in jobs:
        found.append(
            JobSummary(
                job=job,
                counts=store.counts(job.id),
                source=plan_source(job.plan_json),
                busy_elsewhere=job.id in elsewhere,
                running_here=job.id == running_id,
            )
        )
    return found


@dataclass(frozen=True)
class JobsListing:
    """The jobs list as the Jobs tab shows it. ``offline``: the team database cannot be reached,
    and these are the last jobs this workstation saw (read-only), read at ``seen_at`` (None:
    none was kept on this computer)."""

    jobs: list[JobSummary]
    offline: bool = False
    seen_at: float | None = None


def listed_jobs(
    store: CheckpointStore, link: TeamLink | None, profile_id: str, running_id: str | None
) -> JobsListing:
    """``job_summaries``, kept as the last state in team mode; while the team database cannot
    be reached (or the read finds it gone), the last list seen of the connection instead."""
    if link is None or link.up:
        try:
            jobs = job_summaries(store, profile_id, running_id)
        except DatabaseUnreachable:
            if link is None:
                raise
        else:
            if link is not None:
                link.save_last_jobs(profile_id, [_record(job) for job in jobs])
            return JobsListing(jobs)
    kept = link.last_jobs(profile_id)
    if kept is None:
        return JobsListing([], offline=True)
    seen_at, records = kept
    try:
        jobs = [_summary(record) for record in records]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a damaged file
        log.warning("The last jobs list kept on this computer cannot be read: %r", exc)
        return JobsListing([], offline=True)
    return JobsListing(jobs, offline=True, seen_at=seen_at)


def _record(summary: JobSummary) -> dict[str, Any]:
    """What the list shows of a job, for the last state: its plan stays in the team database
    (the list shows only the plan's source)."""
    record = asdict(replace(summary, job=replace(summary.job, plan_json="")))
    del record["running_here"]  # this process's run: not true of any later one
    return record


def _summary(record: dict[str, Any]) -> JobSummary:
    counts = record["counts"]
    return JobSummary(
        job=JobRecord(**record["job"]),
        counts={state: int(counts.get(state, 0)) for state in ROW_STATES},
        source=str(record["source"]),
        busy_elsewhere=bool(record["busy_elsewhere"]),
    )


def read_csv_text(path: Path) -> str:
    """A bulk CSV's text (a spreadsheet's byte-order mark dropped), or why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput({"File": f"{path.name} cannot be read: {reason}"}) from None
