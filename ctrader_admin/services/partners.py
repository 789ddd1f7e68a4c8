"""Read, set and delete the partnerId (referral attribution) of a user or of one account link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ctrader_admin.api import (
    DeleteReferralRequest,
    Referral,
    ReferralQuery,
    SetReferralRequest,
)
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.session import Session, WriteIntent
from ctrader_admin.services.validation import build

Level = Literal["user", "account"]


@dataclass(frozen=True)
class PartnerTarget:
    """A user (``id`` = userId) or an account link (``id`` = ctidTraderAccountId, and its owner's
    userId when known: deleting an account-level record needs it)."""

    level: Level
    id: int
    user_id: int | None = None
    # What the operator knows the account by, for the dialogs' words only (not part of identity).
    login: int | None = field(default=None, compare=False)
    environment: str | None = field(default=None, compare=False)

    @classmethod
    def user(cls, user_id: int) -> PartnerTarget:
        return cls("user", user_id, user_id)

    @classmethod
    def account(
        cls,
        ctid_trader_account_id: int,
        user_id: int | None = None,
        *,
        login: int | None = None,
        environment: str | None = None,
    ) -> PartnerTarget:
        return cls("account", ctid_trader_account_id, user_id, login, environment)

    @property
    def journal_target(self) -> str:
        return f"{self.level}:{self.id}"

    def describe(self) -> str:
        if self.level == "user":
            return f"user {self.id}"
        if self.login is None:
            return f"account link {self.id}"
        where = f", {self.environment}" if self.environment else ""
        return f"account {self.login}{where} (link {self.id})"


@dataclass(frozen=True)
class PartnerChange:
    target: PartnerTarget
    before: str | None
    after: str | None
    changed: bool  # False: the value was already what was asked; nothing was sent


def _query(session: Session, target: PartnerTarget) -> ReferralQuery:
    crm = session.profile.broker_crm_name
    if target.level == "user":
        return build(ReferralQuery, broker_crm_name=crm, user_id=target.id)
    return build(ReferralQuery, broker_crm_name=crm, ctid_trader_account_id=target.id)


async def read_referral(session: Session, target: PartnerTarget) -> Referral | None:
    """The referral record of the target (an account-level one also names its user), or None."""
    return await session.guard(session.client.get_referral(_query(session, target)))


async def read_partner(session: Session, target: PartnerTarget) -> str | None:
    """The partnerId recorded on the target, or None."""
    record = await read_referral(session, target)
    return record.partner_id if record else None


async def set_partner(
    session: Session,
    target: PartnerTarget,
    partner_id: str,
    *,
    reason: str = "",
    ticket: str = "",
    batch_id: str | None = None,
    reverts_id: int | None = None,
    wait_for_budget: bool = False,
) -> PartnerChange:
    """Set the partnerId; reads the current value first so the journal records before → after."""
    request = _set_request(session, target, partner_id)
    session.check_can_write(reason, ticket)
    before = await read_partner(session, target)
    if before == request.partner_id:
        return PartnerChange(target, before, before, changed=False)
    intent = WriteIntent(
        action="set_partner",
        target=target.journal_target,
        before=before,
        after=request.partner_id,
        reason=reason,
        ticket=ticket,
        request=request.wire(),
        batch_id=batch_id,
        reverts_id=reverts_id,
    )
    await session.write(
        intent,
        lambda: session.client.set_referral(request),
        wait_for_budget=wait_for_budget,
        read_back=lambda: read_partner(session, target),
    )
    return PartnerChange(target, before, request.partner_id, changed=True)


async def delete_partner(
    session: Session,
    target: PartnerTarget,
    *,
    reason: str = "",
    ticket: str = "",
    batch_id: str | None = None,
    reverts_id: int | None = None,
    wait_for_budget: bool = False,
) -> PartnerChange:
    """Delete the partnerId record; nothing is sent when there is none."""
    session.check_can_write(reason, ticket)
    before = await read_partner(session, target)
    if before is None:
        return PartnerChange(target, None, None, changed=False)
    request = _delete_request(session, target)
    intent = WriteIntent(
        action="delete_partner",
        target=target.journal_target,
        before=before,
        after=None,
        reason=reason,
        ticket=ticket,
        request=request.wire(),
        batch_id=batch_id,
        reverts_id=reverts_id,
    )
    await session.write(
        intent,
        lambda: session.client.delete_referral(request),
        wait_for_budget=wait_for_budget,
        read_back=lambda: read_partner(session, target),
    )
    return PartnerChange(target, before, None, changed=True)


def validate_partner_id(partner_id: str) -> str:
    """Check a partnerId typed by an operator, before any request."""
    request = build(SetReferralRequest, broker_crm_name="x", user_id=1, partner_id=partner_id)
    return request.partner_id


def _set_request(session: Session, target: PartnerTarget, partner_id: str) -> SetReferralRequest:
    crm = session.profile.broker_crm_name
    if target.level == "user":
        return build(
            SetReferralRequest, broker_crm_name=crm, user_id=target.id, partner_id=partner_id
        )
    return build(
        SetReferralRequest,
        broker_crm_name=crm,
        ctid_trader_account_id=target.id,
        partner_id=partner_id,
    )


def _delete_request(session: Session, target: PartnerTarget) -> DeleteReferralRequest:
    crm = session.profile.broker_crm_name
    if target.level == "user":
        return build(DeleteReferralRequest, broker_crm_name=crm, user_id=target.id)
    owner = target.user_id
    if owner is None:
        link = session.directory.link_by_ctid(session.profile.id, target.id)
        owner = link.user_id if link else None
    if owner is None:
        raise InvalidInput(
            {
                "userId": "the owner of this account link is not known locally; "
                "look the account up first or give its userId"
            }
        )
    return build(
        DeleteReferralRequest,
        broker_crm_name=crm,
        user_id=owner,
        ctid_trader_account_id=target.id,
    )
