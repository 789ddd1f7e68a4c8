"""Four-eyes approval of changes, and the team's policies (issue 13; docs/team-mode.md).

An approval binds to a *serialised* change: its canonical JSON (``ChangeBody``: target key,
action, the value expected now, the new value, profile, environment) or, for a bulk plan, the
plan file's SHA-256 (``PlanBody``); the body's own SHA-256 travels with it. The team database
refuses self-approval, a second decision, a decision or an apply on a body that no longer
matches its hash, and a second apply (store/pg/migrations.py, step 2); this module says the same
in the operator's words before asking, and ``check_before_apply`` is what the write path calls.

Policies: the team administrator's row for a profile (``TeamPolicy``) and the workstation's own
profile settings are combined by ``effective_profile`` so the stricter side always wins — a
workstation can add rules, never remove the team's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ctrader_admin.services.bulk.model import Plan
from ctrader_admin.services.bulk.plan_file import content_hash, load_plan
from ctrader_admin.services.errors import ApprovalRequired as ApprovalRequired
from ctrader_admin.services.errors import InvalidInput, ServiceError
from ctrader_admin.services.job_summary import PLAN_TITLES
from ctrader_admin.services.validation import reason_ticket_problems
from ctrader_admin.services.writes.targets import action_name
from ctrader_admin.store.database import DatabaseError
from ctrader_admin.store.pg.approvals import (
    ApprovalKind,
    ApprovalRecord,
    ApprovalState,
    ApprovalStore,
    Decision,
    TeamPolicy,
)
from ctrader_admin.store.pg.watch import ChannelWatcher
from ctrader_admin.store.profiles import Profile
from ctrader_admin.store.sql import Store

MOVE_WL_ACTION = "move_wl"  # the journal's action name for a White Label move
_MAX_COMMENT = 2000


class ApprovalRefused(ServiceError):
    """An approval step that cannot be done; nothing was changed."""


class PolicyUnavailable(ServiceError):
    """The team database that keeps the policy cannot be reached: nothing was sent."""


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _canonical(document: dict[str, object]) -> str:
    # One text per content: sorted keys, no spaces, UTF-8 kept as is.
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ChangeBody:
    """One single write as it was prepared: what an approver approves, exactly."""

    target: str  # the target's key (user:1000004, link:…, account:…)
    action: str  # the journal's action name (set_partner, move_wl, …)
    before: str | None  # the value read when it was prepared (the apply refuses drift)
    after: str | None
    profile_id: str
    environment: str

    def canonical(self) -> str:
        return _canonical({"kind": "write", **asdict(self)})

    def summary(self) -> str:
        return (
            f"{action_name(self.action)} {self.target}: {_show(self.before)} → {_show(self.after)}"
        )

    def lines(self) -> list[tuple[str, str]]:
        """The change as a confirmation dialog shows it: short lines, each read at a glance."""
        return [
            ("Change", f"{action_name(self.action)} {self.target}"),
            ("Value", f"{_show(self.before)} → {_show(self.after)}"),
        ]

    @classmethod
    def parse(cls, body: str) -> ChangeBody:
        """A single write's approval body back (``canonical``'s text)."""
        document = json.loads(body)
        return cls(**{name: document[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class PlanBody:
    """A bulk plan, bound by its seal (``Plan.content_hash``: any edit of the plan changes it)."""

    plan_sha256: str
    file_name: str
    rows: int
    action: str
    profile_id: str
    environment: str

    @classmethod
    def of_plan(cls, plan: Plan, file_name: str) -> PlanBody:
        """A sealed plan, bound by its seal: the SHA-256 over everything in it (rows, profile,
        author, time), the hash its file carries and ``load_plan`` checks. Any edit changes it;
        an edit that kept the old seal is refused when the file is read."""
        if plan.content_hash != content_hash(plan):
            raise ApprovalRefused(
                f"The plan {file_name} was changed after it was made; it cannot be submitted "
                "or applied. Make a new plan."
            )
        environments = sorted({row.environment for row in plan.rows if row.environment})
        return cls(
            plan.content_hash,
            file_name,
            plan.to_write,
            plan.kind,
            plan.profile_id,
            ",".join(environments),
        )

    @classmethod
    def of_plan_file(cls, path: Path) -> PlanBody:
        """A plan made by ``plan`` (its seal checked: an edited plan is refused here already)."""
        return cls.of_plan(load_plan(path), path.name)

    def canonical(self) -> str:
        return _canonical({"kind": "plan", **asdict(self)})

    def summary(self) -> str:
        rows = f"{self.rows:,} row" + ("" if self.rows == 1 else "s")
        title = PLAN_TITLES.get(self.action, "Bulk change")
        return f"{title}, plan {self.file_name}: {rows} to write"


# An approval's state as the Approvals view and the CLI say it.
STATE_WORDS: dict[str, str] = {
    "pending": "Waiting for a decision",
    "approved": "Approved",
    "rejected": "Rejected",
    "applied": "Applied",
}


def _show(value: str | None) -> str:
    return "(none)" if value is None else value


# --- policies ---------------------------------------------------------------------------------


def effective_profile(profile: Profile, policy: TeamPolicy | None) -> Profile:
    """The profile as the write gate must see it: the team's rules, made stricter (never looser)
    by the workstation's own settings."""
    if policy is None:
        return profile
    budget = profile.write_budget_per_hour
    if policy.budget_per_hour is not None:
        budget = min(budget, policy.budget_per_hour)
    return profile.model_copy(
        update={
            "read_only": profile.read_only or policy.read_only,
            "write_budget_per_hour": budget,
            "require_reason": profile.require_reason or policy.require_reason,
            "require_ticket": profile.require_ticket or policy.require_ticket,
        }
    )


def approval_needed(
    policy: TeamPolicy | None, *, kind: ApprovalKind, action: str, rows: int = 1, live: bool
) -> str | None:
    """Why this change needs a second person's approval under the policy; None if it does not."""
    if policy is None or (policy.approve_live_only and not live):
        return None
    if policy.approve_writes:
        return "every change on this connection needs approval"
    if kind == "plan" and policy.approve_plans:
        return "bulk plans on this connection need approval"
    if (
        kind == "plan"
        and policy.approve_plans_over is not None
        and rows > policy.approve_plans_over
    ):
        return f"plans of more than {policy.approve_plans_over} rows need approval"
    if action == MOVE_WL_ACTION and policy.approve_wl_moves:
        return "White Label moves on this connection need approval"
    return None


# --- approvals --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovedChange:
    """What the write path gets back from ``check_before_apply``: the change and both people."""

    approval_id: int
    body: str
    submitted_by: str
    approved_by: str

    def with_people(self, reason: str) -> str:
        """The journal's reason for a write applied under this approval: it names both people."""
        people = f"approval {self.approval_id}: submitted by {self.submitted_by}, approved by "
        return f"{reason} ({people}{self.approved_by})".strip()


class Approvals:
    """Submit, list, decide and check approvals as the connected agent (the database's user)."""

    def __init__(self, store: ApprovalStore) -> None:
        self._store = store
        self._me: str | None = None

    @property
    def me(self) -> str:
        if self._me is None:
            self._me = self._store.me()
        return self._me

    def policy(self, profile_id: str) -> TeamPolicy | None:
        return self._store.policy(profile_id)

    def watch(self) -> ChannelWatcher:
        """For a view's live refresh: wakes (``fileno``) when anyone submits or decides."""
        return self._store.watch()

    def refuse_unapproved(
        self, profile: Profile, *, kind: ApprovalKind, action: str, rows: int = 1
    ) -> None:
        """What the write path calls before a change that comes without an approval: refuse it,
        in words, when the team's policy asks for one (or cannot be read: no local fallback)."""
        try:
            policy = self._store.policy(profile.id)
        except DatabaseError as exc:
            raise PolicyUnavailable(
                f"The write was not sent: the team's policy for {profile.name!r} could not be "
                f"checked. {exc}"
            ) from None
        why = approval_needed(policy, kind=kind, action=action, rows=rows, live=profile.live)
        if why is None:
            return
        if kind == "plan":
            how = ("Submit the plan for approval (the Jobs tab's \"Submit for approval\", or "
                   "`ctrader-admin approvals submit --plan FILE`) and apply it once approved "
                   "(`ctrader-admin apply FILE --approval N`).")  # fmt: skip
        else:
            how = ("Submit it for approval (Approvals, or `ctrader-admin approvals submit`) and "
                   "apply it once approved.")  # fmt: skip
        raise ApprovalRequired(
            f"This change needs a second person's approval on {profile.name!r} ({why}); "
            f"nothing was sent. {how}"
        )

    def check_submission(self, profile: Profile, *, reason: str, ticket: str) -> None:
        """Reason and ticket as the team's policy (made stricter by the profile) asks."""
        gate = effective_profile(profile, self._store.policy(profile.id))
        problems = reason_ticket_problems(gate, reason, ticket)
        if problems:
            raise InvalidInput(problems)

    def submit(
        self,
        change: ChangeBody | PlanBody,
        *,
        reason: str,
        ticket: str,
        profile: Profile,
    ) -> int:
        """Submit a change for approval; its id. Reason and ticket as the policy asks."""
        self.check_submission(profile, reason=reason, ticket=ticket)
        problems: dict[str, str] = {}
        if change.profile_id != profile.id:
            problems["Profile"] = f"the change is for {change.profile_id!r}, not {profile.id!r}"
        if problems:
            raise InvalidInput(problems)
        body = change.canonical()
        return self._store.submit(
            kind="write" if isinstance(change, ChangeBody) else "plan",
            profile_id=change.profile_id,
            environment=change.environment,
            summary=change.summary(),
            body=body,
            body_hash=body_hash(body),
            reason=reason.strip(),
            ticket=ticket.strip(),
        )

    def list(
        self, state: ApprovalState = "all", *, profile_id: str | None = None
    ) -> list[ApprovalRecord]:
        return self._store.list(state, profile_id=profile_id)

    def get(self, approval_id: int) -> ApprovalRecord:
        record = self._store.get(approval_id)
        if record is None:
            raise ApprovalRefused(f"There is no approval {approval_id} in the team database.")
        return record

    def approve(self, approval_id: int, comment: str = "") -> ApprovalRecord:
        return self._decide(approval_id, "approved", comment)

    def reject(self, approval_id: int, comment: str) -> ApprovalRecord:
        if not comment.strip():
            raise InvalidInput({"Comment": "say why the change is rejected"})
        return self._decide(approval_id, "rejected", comment)

    def _decide(self, approval_id: int, decision: Decision, comment: str) -> ApprovalRecord:
        if len(comment) > _MAX_COMMENT:
            raise InvalidInput({"Comment": f"at most {_MAX_COMMENT} characters"})
        record = self.get(approval_id)
        verb = "approve" if decision == "approved" else "reject"
        if record.decision is not None:
            raise ApprovalRefused(
                f"Approval {approval_id} was already {record.decision} by {record.decided_by}: "
                f"it cannot be decided again."
            )
        if record.submitted_by == self.me:
            raise ApprovalRefused(
                f"You submitted approval {approval_id}: another person must {verb} it."
            )
        if body_hash(record.body) != record.body_hash:
            raise ApprovalRefused(
                f"Approval {approval_id} no longer matches what was submitted (it was edited): "
                "it cannot be approved; submit the change again."
            )
        # The database checks all of this again, for a racing decision and for other clients.
        self._store.decide(approval_id, decision, comment.strip(), record.body_hash)
        return self.get(approval_id)

    def check_before_apply(self, approval_id: int, body: str) -> ApprovedChange:
        """Refuse (in words) unless the approval is approved, unused, and for exactly ``body``:
        what the write path calls before sending an approved change."""
        record = self.get(approval_id)
        if record.used_by is not None:
            raise ApprovalRefused(
                f"Approval {approval_id} was already applied by {record.used_by}: an approval is "
                "used once; submit the change again to repeat it."
            )
        if record.decision != "approved" or record.decided_by is None:
            state = "still pending" if record.decision is None else record.decision
            raise ApprovalRefused(f"Approval {approval_id} is {state}: it cannot be applied.")
        if body_hash(record.body) != record.body_hash or body != record.body:
            raise ApprovalRefused(
                f"The change to apply is not the one approved in approval {approval_id}: "
                "nothing was sent; submit it again."
            )
        if record.submitted_by != self.me:
            raise ApprovalRefused(
                f"Approval {approval_id} was submitted by {record.submitted_by}: only they can "
                "apply it."
            )
        return ApprovedChange(approval_id, record.body, record.submitted_by, record.decided_by)

    def why_not_apply(self, record: ApprovalRecord, *, me: str | None = None) -> str | None:
        """Why this agent (``me``, already read: no round trip) cannot apply ``record`` now, in
        words (None: they can). The checks of ``check_before_apply`` that need no body, for a
        view's Apply button."""
        if record.used_by is not None:
            return f"Applied by {record.used_by}: an approval is used once."
        if record.decision is None:
            return "Waiting for a decision: it can be applied once approved."
        if record.decision != "approved":
            return "Rejected: it cannot be applied; submit the change again."
        if record.submitted_by != (self.me if me is None else me):
            return f"Submitted by {record.submitted_by}: only they can apply it."
        return None

    def use_for_plan(self, approval_id: int, plan: Plan) -> ApprovedChange:
        """Use an approval (once) to apply ``plan``: refused in words unless it is approved,
        unused, submitted by this agent and for exactly this plan (its seal)."""
        record = self.get(approval_id)
        if record.kind != "plan":
            raise ApprovalRefused(
                f"Approval {approval_id} is for a single change, not a plan: apply it in the "
                f"Approvals tab or with `ctrader-admin approvals apply {approval_id}`."
            )
        file_name = str(json.loads(record.body).get("file_name", ""))
        body = PlanBody.of_plan(plan, file_name).canonical()
        approved = self.check_before_apply(approval_id, body)
        self.mark_applied(approved)
        return approved

    def plan_approved_for(self, plan: Plan) -> ApprovedChange | None:
        """The approval a job of ``plan`` was started under (used, for this very seal), so that
        resuming the job is not sent for approval again; None if there is none."""
        for record in self._store.applied_plans(plan.profile_id, plan.content_hash):
            if record.decided_by is not None and body_hash(record.body) == record.body_hash:
                return ApprovedChange(record.id, record.body, record.submitted_by,
                                      record.decided_by)  # fmt: skip
        return None

    def mark_applied(self, approved: ApprovedChange) -> None:
        """Use the approval (once) just before sending: a racing second apply is refused by the
        database. The write that follows must be journaled; ``record_journal_entry`` links it."""
        self._store.use(approved.approval_id, body_hash(approved.body))

    def holds_journal(self, journal: Store) -> bool:
        """Whether ``journal``'s entries live in this team database (only those can be linked;
        until the app journals on the team database, entries stay on the workstation)."""
        team = self._store.database
        return journal.engine == team.engine and journal.path == team.path

    def record_journal_entry(self, approval_id: int, journal_id: int) -> None:
        self._store.record_journal_entry(approval_id, journal_id)

    def people_of(self, journal_id: int) -> tuple[str, str] | None:
        """(submitted by, approved by) of a journal entry applied under an approval."""
        record = self._store.for_journal_entry(journal_id)
        if record is None or record.decided_by is None:
            return None
        return record.submitted_by, record.decided_by
