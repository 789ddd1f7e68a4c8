"""The approvals service as two agents on one team database would use it, and the team's policy
as the write gate sees it (a workstation can only make it stricter)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pg_cluster import PgServer
from team_db import team_of_two

from ctrader_admin.services.approvals import (
    ApprovalRefused,
    ApprovalRequired,
    Approvals,
    ChangeBody,
    PlanBody,
    approval_needed,
    body_hash,
    effective_profile,
)
from ctrader_admin.services.bulk import Plan, PlanRow, seal
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.store.database import DatabaseError
from ctrader_admin.store.journal import Journal, JournalDraft
from ctrader_admin.store.pg.approvals import ApprovalStore, TeamPolicy
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.profiles import Profile, builtin_sandbox_profile

PROFILE = builtin_sandbox_profile()
CHANGE = ChangeBody(
    target="user:1000004", action="set_partner", before=None, after="IB-7",
    profile_id=PROFILE.id, environment="live",
)  # fmt: skip


@dataclass
class Team:
    admin: ApprovalStore
    anna: Approvals
    bob: Approvals
    anna_name: str
    bob_name: str
    anna_store: ApprovalStore
    anna_db: PgDatabase


@pytest.fixture
def team(pg_server: PgServer) -> Iterator[Team]:
    settings = team_of_two(pg_server)
    names = (settings[1].user, settings[2].user)
    databases = [PgDatabase(each, None) for each in settings]
    anna_store = ApprovalStore(databases[1])
    try:
        yield Team(
            ApprovalStore(databases[0]),
            Approvals(anna_store),
            Approvals(ApprovalStore(databases[2])),
            *names,
            anna_store,
            databases[1],
        )
    finally:
        for database in databases:
            database.close()


def test_anna_submits_bob_approves_and_anna_applies_once(team: Team) -> None:
    approval = team.anna.submit(
        CHANGE, reason="joined the IB programme", ticket="", profile=PROFILE
    )
    [pending] = team.bob.list("pending")
    assert (pending.id, pending.submitted_by, pending.state) == (
        approval,
        team.anna_name,
        "pending",
    )
    assert pending.summary == "Set partnerId user:1000004: (none) → IB-7"
    assert pending.body_hash == body_hash(CHANGE.canonical())

    with pytest.raises(ApprovalRefused, match="another person must approve it"):
        team.anna.approve(approval)
    with pytest.raises(ApprovalRefused, match="still pending"):
        team.anna.check_before_apply(approval, CHANGE.canonical())

    decided = team.bob.approve(approval, "checked with the CRM")
    assert (decided.state, decided.decided_by, decided.comment) == (
        "approved", team.bob_name, "checked with the CRM",
    )  # fmt: skip
    assert team.anna.list("pending") == []
    with pytest.raises(ApprovalRefused, match=f"already approved by {team.bob_name}"):
        team.bob.reject(approval, "second thoughts")

    # Another change (a different new value) does not ride on this approval.
    forged = ChangeBody("user:1000004", "set_partner", None, "IB-666", PROFILE.id, "live")
    with pytest.raises(ApprovalRefused, match="not the one approved"):
        team.anna.check_before_apply(approval, forged.canonical())

    approved = team.anna.check_before_apply(approval, CHANGE.canonical())
    assert (approved.submitted_by, approved.approved_by) == (team.anna_name, team.bob_name)
    team.anna.mark_applied(approved)
    # the write that follows is journaled; its entry then names both people
    journal = Journal(team.anna_db)
    try:
        draft = JournalDraft(
            operator="30001", profile_id=PROFILE.id, profile_name=PROFILE.name,
            environment="live", broker_name="sandbox_main", action=CHANGE.action,
            target=CHANGE.target, before=CHANGE.before, after=CHANGE.after, reason="r",
        )  # fmt: skip
        entry = journal.complete(journal.begin(draft), "ok")
    finally:
        journal.close()
    assert team.bob.people_of(entry.id) is None
    team.anna.record_journal_entry(approval, entry.id)
    assert team.bob.people_of(entry.id) == (team.anna_name, team.bob_name)
    with pytest.raises(DatabaseError, match="already recorded"):
        team.anna.record_journal_entry(approval, entry.id)
    with pytest.raises(ApprovalRefused, match=f"already applied by {team.anna_name}"):
        team.bob.check_before_apply(approval, CHANGE.canonical())
    # a racing second apply that passed the check is refused by the database itself
    with pytest.raises(DatabaseError, match="already applied"):
        team.bob.mark_applied(approved)


def test_a_rejection_needs_a_comment_and_cannot_be_applied(team: Team) -> None:
    approval = team.anna.submit(CHANGE, reason="r", ticket="", profile=PROFILE)
    with pytest.raises(InvalidInput, match="Comment"):
        team.bob.reject(approval, "  ")
    assert team.bob.reject(approval, "wrong partner").state == "rejected"
    with pytest.raises(ApprovalRefused, match="is rejected"):
        team.anna.check_before_apply(approval, CHANGE.canonical())
    with pytest.raises(ApprovalRefused, match="no approval 999"):
        team.bob.approve(999)


def _plan(partner: str) -> Plan:
    row = PlanRow(n=1, line=2, op="set_partner", target="user:1000004", level="user",
                  user_id=1000004, environment="live", current=None, proposed=partner,
                  status="write")  # fmt: skip
    return seal(
        Plan(
            kind="partner",
            profile_id=PROFILE.id,
            profile_name=PROFILE.name,
            broker_crm_name="sandbox_main",
            created_by="30001",
            created_at="2026-12-06T05:00:00Z",
            workstation="pc-1",
            source="fix.csv",
            rows=[row],
        )
    )


def test_a_plan_is_bound_by_its_seal_and_used_once_by_its_submitter(team: Team) -> None:
    plan = _plan("IB-7")
    body = PlanBody.of_plan(plan, "fixes.plan.json")
    assert (body.plan_sha256, body.rows, body.action) == (plan.content_hash, 1, "partner")
    approval = team.anna.submit(body, reason="CRM export", ticket="", profile=PROFILE)
    assert team.anna.plan_approved_for(plan) is None
    with pytest.raises(ApprovalRefused, match="still pending"):
        team.anna.use_for_plan(approval, plan)
    team.bob.approve(approval)

    # edited after approval (and sealed again): another plan, refused
    with pytest.raises(ApprovalRefused, match="not the one approved"):
        team.anna.use_for_plan(approval, _plan("IB-666"))
    # edited without a new seal: refused as changed
    forged = plan.model_copy(update={"source": "other.csv"})
    with pytest.raises(ApprovalRefused, match="changed after it was made"):
        team.anna.use_for_plan(approval, forged)
    # the approver (or anyone but the submitter) does not apply it
    with pytest.raises(ApprovalRefused, match=f"submitted by {team.anna_name}: only they"):
        team.bob.use_for_plan(approval, plan)
    assert team.bob.why_not_apply(team.bob.get(approval)) == (
        f"Submitted by {team.anna_name}: only they can apply it."
    )
    assert team.anna.why_not_apply(team.anna.get(approval)) is None

    used = team.anna.use_for_plan(approval, plan)
    assert (used.submitted_by, used.approved_by) == (team.anna_name, team.bob_name)
    assert used.with_people("CRM export") == (
        f"CRM export (approval {approval}: submitted by {team.anna_name}, approved by "
        f"{team.bob_name})"
    )
    with pytest.raises(ApprovalRefused, match=f"already applied by {team.anna_name}"):
        team.anna.use_for_plan(approval, plan)
    # a job of this plan resumes under the approval it was started with
    resumed = team.bob.plan_approved_for(plan)
    assert resumed is not None
    assert resumed.approval_id == approval
    assert team.bob.plan_approved_for(_plan("IB-666")) is None


def test_the_teams_policy_asks_for_reason_and_ticket_at_submission(team: Team) -> None:
    team.admin.set_policy(TeamPolicy(PROFILE.id, require_ticket=True))
    with pytest.raises(InvalidInput, match="Ticket: is required"):
        team.anna.submit(CHANGE, reason="r", ticket=" ", profile=PROFILE)
    assert team.anna.policy(PROFILE.id) == TeamPolicy(PROFILE.id, require_ticket=True)


LOOSE = Profile(
    **{
        **PROFILE.model_dump(),
        "read_only": False,
        "write_budget_per_hour": 5000,
        "require_reason": False,
        "require_ticket": False,
    }
)
STRICT = Profile(
    **{
        **PROFILE.model_dump(),
        "read_only": True,
        "write_budget_per_hour": 50,
        "require_reason": True,
        "require_ticket": True,
    }
)


def _rules(gate: Profile) -> tuple[bool, int, bool, bool]:
    return gate.read_only, gate.write_budget_per_hour, gate.require_reason, gate.require_ticket


def test_a_workstation_cannot_loosen_the_teams_policy_only_tighten_it() -> None:
    policy = TeamPolicy(
        PROFILE.id, read_only=True, budget_per_hour=100, require_reason=True, require_ticket=True
    )
    assert _rules(effective_profile(LOOSE, policy)) == (True, 100, True, True)
    lenient = TeamPolicy(PROFILE.id, budget_per_hour=1000, require_reason=False)
    assert _rules(effective_profile(STRICT, lenient)) == (True, 50, True, True)
    assert effective_profile(LOOSE, None) == LOOSE


LIVE_ONLY = TeamPolicy("p", approve_writes=True, approve_live_only=True)


@pytest.mark.parametrize(
    ("policy", "kind", "action", "rows", "live", "needed"),
    [
        (None, "write", "set_partner", 1, True, False),
        (TeamPolicy("p", approve_writes=True), "write", "set_partner", 1, False, True),
        (LIVE_ONLY, "write", "set_partner", 1, False, False),
        (LIVE_ONLY, "write", "set_partner", 1, True, True),
        (TeamPolicy("p", approve_plans=True), "write", "set_partner", 1, True, False),
        (TeamPolicy("p", approve_plans=True), "plan", "set_partner", 3, True, True),
        (TeamPolicy("p", approve_plans_over=100), "plan", "set_partner", 100, True, False),
        (TeamPolicy("p", approve_plans_over=100), "plan", "set_partner", 101, True, True),
        (TeamPolicy("p", approve_wl_moves=True), "write", "move_wl", 1, False, True),
        (TeamPolicy("p", approve_wl_moves=True), "write", "set_partner", 1, False, False),
    ],
)  # fmt: skip
def test_which_changes_need_approval(
    policy: TeamPolicy | None, kind: str, action: str, rows: int, live: bool, needed: bool
) -> None:
    why = approval_needed(policy, kind=kind, action=action, rows=rows, live=live)  # type: ignore[arg-type]
    assert (why is not None) == needed


def test_an_agent_cannot_set_a_policy_through_the_store(team: Team) -> None:
    with pytest.raises(DatabaseError, match="has not granted it"):
        team.anna_store.set_policy(TeamPolicy(PROFILE.id, require_reason=False))
    assert team.anna.policy(PROFILE.id) is None


def test_an_unapproved_change_is_refused_in_words_when_the_policy_asks(team: Team) -> None:
    live = PROFILE.model_copy(update={"live": True})
    team.anna.refuse_unapproved(live, kind="write", action="move_wl")  # no policy: free
    team.admin.set_policy(TeamPolicy(PROFILE.id, approve_wl_moves=True, approve_live_only=True))
    team.anna.refuse_unapproved(PROFILE, kind="write", action="move_wl")  # not live
    team.anna.refuse_unapproved(live, kind="write", action="set_partner")
    with pytest.raises(ApprovalRequired, match="White Label moves on this connection need"):
        team.anna.refuse_unapproved(live, kind="write", action="move_wl")
