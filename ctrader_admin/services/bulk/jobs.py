"""A bulk job's options, result, and the checks before one starts or resumes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ctrader_admin.services.bulk.errors import ConfirmationRequired, JobRefused, PlanRefused
from ctrader_admin.services.bulk.model import Plan, PlanRow
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import (
    CheckpointStore,
    JobRecord,
    JobState,
    RowCheckpoint,
    RowState,
)
from ctrader_admin.store.profiles import Profile

if TYPE_CHECKING:  # services.approvals reads plans: imported by name only (no import cycle)
    from ctrader_admin.services.approvals import ApprovedChange


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


def check_profile(session: Session, plan: Plan) -> None:
    if plan.profile_id != session.profile.id:
        raise PlanRefused(
            f"This plan was made for the connection {plan.profile_name!r} ({plan.profile_id}); "
            f"the active one is {session.profile.name!r}. Nothing was sent."
        )


def check_confirmation(profile: Profile, confirmation: str | None) -> None:
    expected = confirmation_word(profile)
    if expected is not None and (confirmation or "").strip() != expected:
        raise ConfirmationRequired(expected)


def initial_checkpoint(row: PlanRow) -> RowCheckpoint:
    if row.status == "write":
        return RowCheckpoint(row.n, "pending")
    if row.status == "skip":
        return RowCheckpoint(row.n, "skipped", row.message or "already as proposed")
    problem = f"{row.problem}: " if row.problem else ""
    return RowCheckpoint(row.n, "failed", f"not sent — {problem}{row.message}")


def use_plan_approval(session: Session, plan: Plan, approval_id: int) -> ApprovedChange:
    """Use the approval a new job of ``plan`` is applied under (once: the last check before the
    job is recorded). Refused in words: an approval that is not approved, used already,
    someone else's, or for another plan (an edited plan's seal differs)."""
    if session.approvals is None:
        raise JobRefused(
            "Approvals are kept in the team database, and this computer is not connected to "
            "one: nothing was sent."
        )
    return session.approvals.use_for_plan(approval_id, plan)


def check_resume_approval(session: Session, plan: Plan) -> None:
    """A job resumed goes on under the approval it was started with; without one, the team's
    policy is asked again as for a new job."""
    approvals = session.approvals
    if approvals is not None and approvals.plan_approved_for(plan) is None:
        session.refuse_unapproved_plan(plan.kind, plan.to_write)
