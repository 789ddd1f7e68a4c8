"""Read, set and delete the partnerId (a partner's code) of a user or of one account link: thin
entry points on the write model (``services/writes``) for callers that need no confirmation
step (the command line, the partner registration flow). The GUI prepares, confirms, then
applies (``ui/actions.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import (
    Applied,
    Current,
    LinkTarget,
    PartnerCode,
    PartnerTarget,
    Prepared,
    UserTarget,
    apply,
    prepare,
    read_referral,
    validate_partner_id,
)

__all__ = [
    "PartnerChange",
    "delete_partner",
    "read_partner",
    "read_referral",
    "set_partner",
    "validate_partner_id",
]


@dataclass(frozen=True)
class PartnerChange:
    target: PartnerTarget
    before: str | None
    after: str | None
    changed: bool  # False: the value was already what was asked; nothing was sent
    journal_id: int | None = None  # the entry that records the write, when one was sent

    @classmethod
    def of(cls, applied: Applied) -> PartnerChange:
        prepared: Prepared = applied.prepared
        target = prepared.target
        assert isinstance(target, UserTarget | LinkTarget)
        after = prepared.proposed if applied.sent else prepared.current
        entry = applied.entry.id if applied.entry is not None else None
        return cls(target, prepared.current, after, applied.sent, entry)


async def read_partner(session: Session, target: PartnerTarget) -> str | None:
    """The partnerId recorded on the target, or None."""
    record = await read_referral(session, target)
    return record.partner_id if record else None


async def _change(session: Session, change: PartnerCode, reason: str, ticket: str) -> PartnerChange:
    session.check_can_write(reason, ticket)
    prepared = await prepare(session, change)
    prepared.check()
    # No one confirms between the two steps here: the read prepare just made is the
    # precondition (a caller that shows the value first prepares, confirms, then applies).
    target = prepared.target
    owner = target.owner if isinstance(target, LinkTarget) else None
    applied = await apply(
        session,
        prepared,
        reason=reason,
        ticket=ticket,
        checked=Current(prepared.current, owner),
    )
    return PartnerChange.of(applied)


async def set_partner(
    session: Session, target: PartnerTarget, partner_id: str, *, reason: str = "", ticket: str = ""
) -> PartnerChange:
    """Set the partnerId (nothing is sent when it already is that); the journal records
    before → after."""
    return await _change(session, PartnerCode(target, partner_id), reason, ticket)


async def delete_partner(
    session: Session, target: PartnerTarget, *, reason: str = "", ticket: str = ""
) -> PartnerChange:
    """Delete the partnerId record; nothing is sent when there is none."""
    return await _change(session, PartnerCode(target, None), reason, ticket)
