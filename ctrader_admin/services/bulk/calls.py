"""The backend calls of one bulk row: the read that shows its current value, and the write that
changes it. Planning and applying use the same functions, so the call a plan shows is the call
that is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from ctrader_admin.api import (
    ChangeWhiteLabelRequest,
    DeleteReferralRequest,
    ReferralQuery,
    SetReferralRequest,
)
from ctrader_admin.services.bulk.model import Call, Level, Op
from ctrader_admin.services.session import Session, WriteIntent
from ctrader_admin.services.validation import build

T = TypeVar("T")
REFERRAL_PATH = "/cid/oauth2/ctid/referral"
MOVE_WL_PATH = "/cid/ctid/changeCtidTraderAccount"


@dataclass(frozen=True)
class RowTarget:
    """What one row changes, and to what (``proposed`` None: delete the partnerId)."""

    op: Op
    level: Level | None = None
    user_id: int | None = None
    ctid: int | None = None
    login: int | None = None
    environment: str | None = None
    proposed: str | None = None

    @property
    def journal_target(self) -> str:
        if self.op == "move_wl":
            return f"login:{self.login}@{self.environment}"
        if self.level == "user":
            return f"user:{self.user_id}"
        return f"account:{self.ctid}"


@dataclass(frozen=True)
class Current:
    value: str | None  # partnerId (None: none) or the account's White Label
    owner: int | None = None  # account level: the userId the backend names for the link


async def read_current(session: Session, target: RowTarget) -> Current:
    """The value on the backend now. GETs are not rate-limited, so callers run many at once."""
    if target.op == "move_wl":
        assert target.login is not None
        trader = await session.guard(session.client.get_trader(target.login))
        return Current(trader.broker_name)
    crm = session.profile.broker_crm_name
    if target.level == "user":
        query = build(ReferralQuery, broker_crm_name=crm, user_id=target.user_id)
    else:
        query = build(ReferralQuery, broker_crm_name=crm, ctid_trader_account_id=target.ctid)
    record = await session.guard(session.client.get_referral(query))
    if record is None:
        return Current(None)
    owner = record.user_id if target.level == "account" else None
    return Current(record.partner_id, owner)


def call_for(broker_crm_name: str, target: RowTarget) -> Call:
    """The request the row sends (token not included): what the plan shows."""
    request = _request(broker_crm_name, target)
    wire = request.wire()
    if target.op == "set_partner":
        return Call(method="PUT", path=REFERRAL_PATH, body=wire)
    if target.op == "delete_partner":
        return Call(method="DELETE", path=REFERRAL_PATH, query=wire)
    return Call(method="POST", path=MOVE_WL_PATH, body=wire)


def _request(
    crm: str, target: RowTarget
) -> SetReferralRequest | DeleteReferralRequest | ChangeWhiteLabelRequest:
    if target.op == "move_wl":
        return build(
            ChangeWhiteLabelRequest,
            trader_login=target.login,
            broker_name=target.proposed,
            environment_name=target.environment,
        )
    ids: dict[str, Any] = (
        {"user_id": target.user_id}
        if target.level == "user"
        else {"ctid_trader_account_id": target.ctid}
    )
    if target.op == "set_partner":
        return build(SetReferralRequest, broker_crm_name=crm, partner_id=target.proposed, **ids)
    if target.level == "account":
        ids["user_id"] = target.user_id  # the backend wants the link's owner too
    return build(DeleteReferralRequest, broker_crm_name=crm, **ids)


Slot = Callable[[], AbstractAsyncContextManager[object]]


async def _in_slot(call: Callable[[], Awaitable[T]], slot: Slot | None) -> T:
    # The request is made only once the slot is held: a write cancelled while it waits for one
    # leaves no coroutine behind that was never awaited.
    if slot is None:
        return await call()
    async with slot():
        return await call()


async def send_write(
    session: Session,
    target: RowTarget,
    *,
    before: str | None,
    reason: str,
    ticket: str,
    batch_id: str,
    reverts_id: int | None,
    slot: Slot | None = None,
) -> None:
    """One write through the session's gate (read-only, reason, budget, journal), waiting for
    the budget rather than refusing: a bulk job queues behind the hourly limit. ``slot`` is
    held only while the request is out, so journal work never occupies a network slot."""
    request = _request(session.profile.broker_crm_name, target)
    client = session.client
    intent = WriteIntent(
        action=target.op,
        target=target.journal_target,
        before=before,
        after=target.proposed,
        reason=reason,
        ticket=ticket,
        environment=target.environment,
        broker_name=before if target.op == "move_wl" else None,
        request=request.wire(),
        batch_id=batch_id,
        reverts_id=reverts_id,
    )

    def send() -> Awaitable[object]:
        if isinstance(request, SetReferralRequest):
            return client.set_referral(request)
        if isinstance(request, DeleteReferralRequest):
            return client.delete_referral(request)
        return client.change_white_label(request)

    async def read_back() -> str | None:
        return (await read_current(session, target)).value

    await session.write(
        intent,
        lambda: _in_slot(send, slot),
        wait_for_budget=True,
        read_back=read_back,
    )
