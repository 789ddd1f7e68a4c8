"""Apply an approved single write (``ctrader-admin approvals apply ID``): prepare the change again,
check that it is exactly the change approved (the same target, action, value now and new value —
``Approvals.check_before_apply``), use the approval once, send it through the write model's
gate, and link the journal entry to the approval when the journal is the team's (until the app
journals on the team database, entries stay on the workstation). The entry's reason names both
people either way.

A plan is applied by a bulk job started under its approval (``JobRunner.start``'s
``approval_id``: services/bulk/jobs.py ``plan_approval``)."""

from __future__ import annotations

import json
import logging

from ctrader_admin.errors import ExpectedError
from ctrader_admin.services import writes
from ctrader_admin.services.approvals import ApprovalRefused, Approvals, ChangeBody
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import (
    AccountTarget,
    Action,
    Applied,
    Change,
    LinkTarget,
    PartnerCode,
    Prepared,
    UnknownTarget,
    UserTarget,
    WhiteLabel,
    parse_target,
    show,
    target_key,
)
from ctrader_admin.store.pg.approvals import ApprovalRecord

log = logging.getLogger(__name__)


def change_for(target: str, action: str, after: str | None) -> Change:
    """The write model's change for a single write named as the journal names it (target key,
    action code, new value): partner codes and White Label moves."""
    try:
        parsed = parse_target(target)
    except UnknownTarget as exc:
        raise InvalidInput({"Target": exc.message}) from None
    if action in (Action.SET_PARTNER, Action.DELETE_PARTNER) and isinstance(
        parsed, UserTarget | LinkTarget
    ):
        if action == Action.SET_PARTNER and not after:
            raise InvalidInput({"New value": "give the partner code to set"})
        return PartnerCode(parsed, after if action == Action.SET_PARTNER else None)
    if action == Action.MOVE_WL and isinstance(parsed, AccountTarget):
        if not after:
            raise InvalidInput({"New value": "give the White Label to move the account to"})
        return WhiteLabel(parsed, after)
    raise InvalidInput(
        {
            "Action": f"{action!r} on {target}: only set_partner/delete_partner on a user or "
            "link, and move_wl on an account, can be submitted as single writes"
        }
    )


def change_of(record: ApprovalRecord) -> Change:
    """The write model's change for an approved single write."""
    if record.kind != "write":
        raise ApprovalRefused(
            f"Approval {record.id} is for a plan: apply the plan in the Jobs tab or with "
            f"`ctrader-admin apply PLAN --approval {record.id}`."
        )
    body = json.loads(record.body)
    return change_for(str(body["target"]), str(body["action"]), body["after"])


async def prepared_body(session: Session, change: Change, environment: str) -> ChangeBody:
    """What is submitted for a single write: the change prepared now (its value now read from
    the backend), so the approver approves exactly that and the apply refuses any drift."""
    prepared = await writes.prepare(session, change)
    prepared.check()
    if prepared.verdict == "skip":
        raise InvalidInput(
            {"New value": f"{prepared.target.describe()} already holds it: nothing to approve"}
        )
    return body_of(prepared, session.profile.id, environment)


def body_of(prepared: Prepared, profile_id: str, environment: str) -> ChangeBody:
    """The change as prepared now, in the form an approval binds."""
    return ChangeBody(
        target_key(prepared.target),
        prepared.action.value,
        prepared.current,
        prepared.proposed,
        profile_id,
        prepared.environment or environment,
    )


async def apply_approved(session: Session, approvals: Approvals, approval_id: int) -> Applied:
    record = approvals.get(approval_id)
    if record.profile_id != session.profile.id:
        raise ApprovalRefused(
            f"Approval {approval_id} is for the connection {record.profile_id!r}, not "
            f"{session.profile.id!r}: nothing was sent."
        )
    prepared = await writes.prepare(session, change_of(record))
    prepared.check()
    approved_before = json.loads(record.body)["before"]
    if prepared.current != approved_before:
        raise ApprovalRefused(
            f"Not sent: {prepared.target.describe()} holds {show(prepared.current)} now, and "
            f"approval {approval_id} was given for a change from {show(approved_before)}. "
            "Submit the change again."
        )
    body = body_of(prepared, session.profile.id, record.environment).canonical()
    approved = approvals.check_before_apply(approval_id, body)
    # Used before sending: a second apply (here or on another workstation) is refused by the
    # database, so an approved change is never sent twice.
    approvals.mark_applied(approved)
    applied = await writes.apply(
        session,
        prepared,
        reason=approved.with_people(record.reason),
        ticket=record.ticket,
        approval_id=approval_id,
    )
    if applied.entry is not None and approvals.holds_journal(session.journal.store):
        try:
            approvals.record_journal_entry(approval_id, applied.entry.id)
        except ExpectedError as exc:
            # The write went out and its entry names both people: a missing link is no failure.
            log.warning("Approval %s: journal entry %s not linked: %s", approval_id,
                        applied.entry.id, exc.message)  # fmt: skip
    return applied
