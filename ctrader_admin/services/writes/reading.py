"""The one read of a target's current value, and the one place that says who owns an account
link."""

from __future__ import annotations

from dataclasses import dataclass

from ctrader_admin.api import Referral, ReferralQuery
from ctrader_admin.services.session import Session
from ctrader_admin.services.validation import build
from ctrader_admin.services.writes.targets import (
    AccountTarget,
    LinkTarget,
    PartnerTarget,
    UserTarget,
)


@dataclass(frozen=True, slots=True)
class Current:
    value: str | None  # the partnerId (None: none recorded) or the account's White Label
    owner: int | None = None  # an account link: the userId its referral record names


def referral_query(session: Session, target: PartnerTarget) -> ReferralQuery:
    crm = session.profile.broker_crm_name
    if isinstance(target, UserTarget):
        return build(ReferralQuery, broker_crm_name=crm, user_id=target.user_id)
    return build(ReferralQuery, broker_crm_name=crm, ctid_trader_account_id=target.ctid)


async def read_referral(session: Session, target: PartnerTarget) -> Referral | None:
    """The referral record of the target (an account-level one also names its user), or None."""
    return await session.guard(session.client.get_referral(referral_query(session, target)))


async def read_current(session: Session, target: PartnerTarget | AccountTarget) -> Current:
    """The value on the backend now. GETs are not rate-limited: callers may run many at once."""
    if isinstance(target, AccountTarget):
        trader = await session.guard(session.client.get_trader(target.login))
        return Current(trader.broker_name)
    record = await read_referral(session, target)
    if record is None:
        return Current(None)
    return Current(record.partner_id, record.user_id if isinstance(target, LinkTarget) else None)


def link_owner(session: Session, target: LinkTarget, recorded: int | None) -> int | None:
    """Who owns an account link, as the backend or the local directory knows it: the userId
    its referral record names, else the one the directory learnt (None: not known). A userId
    the operator gave is checked against this, never preferred to it."""
    if recorded is not None:
        return recorded
    link = session.directory.link_by_ctid(session.profile.id, target.ctid)
    return link.user_id if link else None
