"""Trading accounts: read, link to a cTID user, move to another White Label. The writes are
prepared and applied by the write model (``services/writes``); what follows them (the local
directory, the read-back of a move) is here, shared by the GUI and the command line."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

from pydantic import SecretStr

from ctrader_admin.api import ApiError, LinkResult, OutcomeUnknown, Trader
from ctrader_admin.services import work_orders
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import (
    AccountTarget,
    Applied,
    LinkAccount,
    Prepared,
    WhiteLabel,
    apply,
    prepare,
)


async def read_account(session: Session, login: int) -> Trader:
    # Not recorded in the directory: an account read does not say which environment it is on.
    return await session.guard(session.client.get_trader(login))


def known_environments(session: Session, login: int) -> list[str]:
    """The environments the local directory knows for this login, as the connection names them
    (a read of the account does not say which environment it is on)."""
    found = session.directory.accounts_for_login(session.profile.id, login)
    return [e for e in session.profile.environments if e in {a.environment for a in found}]


@dataclass(frozen=True)
class LinkedAccount:
    login: int
    user_id: int
    environment: str
    broker_name: str
    ctid_trader_account_id: int | None


def linked(session: Session, applied: Applied) -> LinkedAccount:
    """What an applied link did, remembered in the local directory."""
    change = applied.prepared.change
    assert isinstance(change, LinkAccount)
    assert isinstance(applied.result, LinkResult)
    login, environment = change.account.login, change.account.environment
    ctid = applied.result.ctid_trader_account_id
    if ctid is not None:
        session.directory.upsert_link(
            session.profile.id,
            ctid,
            user_id=change.user_id,
            login=login,
            environment=environment,
            broker_name=change.broker_name,
            source="linked",
        )
    else:  # the backend answered no id: the owner is still worth remembering
        session.directory.upsert_account(
            session.profile.id,
            login,
            environment,
            user_id=change.user_id,
            broker_name=change.broker_name,
            source="linked",
        )
    return LinkedAccount(login, change.user_id, environment, change.broker_name, ctid)


async def link_account(
    session: Session,
    *,
    login: int,
    password: SecretStr,
    user_id: int,
    broker_name: str,
    environment: str,
    reason: str = "",
    ticket: str = "",
) -> LinkedAccount:
    """Link a trading account to a cTID user. The password is hashed and never kept."""
    change = LinkAccount(AccountTarget(login, environment), user_id, broker_name, password)
    prepared = await prepare(session, change)
    prepared.check()
    checked = prepared.change
    assert isinstance(checked, LinkAccount)
    environment, broker_name = checked.account.environment, checked.broker_name
    # The API cannot move a linked account to another cTID: offer a work order, send nothing.
    work_orders.check_link(
        session,
        login=login,
        environment=environment,
        user_id=user_id,
        broker_name=broker_name,
        reason=reason,
        ticket=ticket,
    )
    try:
        applied = await apply(session, prepared, reason=reason, ticket=ticket)
    except ApiError as exc:
        if not work_orders.is_already_linked(exc):
            raise
        order = work_orders.work_order(
            session,
            login=login,
            environment=environment,
            to_user_id=user_id,
            broker_name=broker_name,
            reason=reason,
            ticket=ticket,
        )
        raise work_orders.AlreadyLinked(order) from None
    return linked(session, applied)


@dataclass(frozen=True)
class WhiteLabelMove:
    login: int
    environment: str
    before: str | None  # the WL read before the change
    requested: str
    after: str | None  # the WL read back after the change (None if the read-back failed)
    read_back_error: str | None = None
    journal_id: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.after == self.requested


async def moved(
    session: Session, prepared: Prepared, applying: Awaitable[Applied]
) -> WhiteLabelMove:
    """Await the move, then read the account back: the backend documents no output for this
    call, so only the read-back shows whether the White Label really changed."""
    change = prepared.change
    assert isinstance(change, WhiteLabel)
    account = change.account
    unknown: OutcomeUnknown | None = None
    journal_id: int | None = None
    try:
        applied = await applying
        journal_id = applied.entry.id if applied.entry is not None else None
    except OutcomeUnknown as exc:
        unknown, journal_id = exc, exc.journal_id  # the read-back below tells what happened
    try:
        after = (await read_account(session, account.login)).broker_name
        error = None
    except ApiError as exc:
        if unknown is not None:
            raise unknown from None
        after, error = None, exc.message
    if after is not None:
        session.directory.move_account_wl(
            session.profile.id, account.login, account.environment, after
        )
    return WhiteLabelMove(
        account.login,
        account.environment,
        prepared.current,
        change.broker_name,
        after,
        error,
        journal_id,
    )


async def prepare_move(
    session: Session, *, login: int, environment: str, target_broker_name: str
) -> Prepared:
    """The move, checked and judged; an account already there is refused in words."""
    prepared = await prepare(
        session, WhiteLabel(AccountTarget(login, environment), target_broker_name)
    )
    prepared.check()
    if prepared.verdict == "skip":
        raise InvalidInput({"White Label": f"the account is already on {prepared.current}"})
    return prepared


async def move_white_label(
    session: Session,
    *,
    login: int,
    environment: str,
    target_broker_name: str,
    reason: str = "",
    ticket: str = "",
) -> WhiteLabelMove:
    """Move an account to another White Label, then read it back."""
    session.check_can_write(reason, ticket)
    prepared = await prepare_move(
        session, login=login, environment=environment, target_broker_name=target_broker_name
    )
    return await moved(session, prepared, apply(session, prepared, reason=reason, ticket=ticket))
