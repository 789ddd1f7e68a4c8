"""Trading accounts: read, link to a cTID user, move to another White Label."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr, ValidationError

from ctrader_admin.api import (
    ApiError,
    ChangeWhiteLabelRequest,
    LinkAccountRequest,
    OutcomeUnknown,
    Trader,
)
from ctrader_admin.redaction import register_secret
from ctrader_admin.services import work_orders
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.session import Session, WriteIntent
from ctrader_admin.services.validation import (
    build,
    environment_of,
    problems_of,
    white_label_of,
)


async def read_account(session: Session, login: int) -> Trader:
    # Not recorded in the directory: an account read does not say which environment it is on.
    return await session.guard(session.client.get_trader(login))


def known_environments(session: Session, login: int) -> list[str]:
    """The environments the local directory knows for this login, as the connection names them
    (a read of the account does not say which environment it is on)."""
    found = session.directory.accounts_for_login(session.profile.id, login)
    return [e for e in session.profile.environments if e in {a.environment for a in found}]


async def _white_label(session: Session, login: int) -> str | None:
    return (await read_account(session, login)).broker_name


@dataclass(frozen=True)
class LinkedAccount:
    login: int
    user_id: int
    environment: str
    broker_name: str
    ctid_trader_account_id: int | None


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
    """Link a trading account to a cTID user. The password is hashed here and never kept."""
    # Registered before anything else: typed into the wrong field (the reason, say), it is
    # masked in the journal and the logs like the manager's password.
    register_secret(password.get_secret_value())
    if not password.get_secret_value():
        raise InvalidInput({"Account password": "is required"})
    environment = environment_of(session.profile, environment)
    broker_name = white_label_of(session.profile, broker_name)
    try:
        request = LinkAccountRequest.with_password(
            password=password,
            trader_login=login,
            user_id=user_id,
            broker_name=broker_name,
            environment_name=environment,
        )
    except ValidationError as exc:
        raise InvalidInput(problems_of(exc)) from None
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
    intent = WriteIntent(
        action="link_account",
        target=f"login:{login}@{environment}",
        before=None,
        after=f"user:{user_id}",
        reason=reason,
        ticket=ticket,
        environment=environment,
        broker_name=broker_name,
        request=request.wire(),
    )
    try:
        result = await session.write(intent, lambda: session.client.link_account(request))
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
    ctid = result.ctid_trader_account_id
    if ctid is not None:
        session.directory.upsert_link(
            session.profile.id,
            ctid,
            user_id=user_id,
            login=login,
            environment=environment,
            broker_name=broker_name,
            source="linked",
        )
    else:  # the backend answered no id: the owner is still worth remembering
        session.directory.upsert_account(
            session.profile.id,
            login,
            environment,
            user_id=user_id,
            broker_name=broker_name,
            source="linked",
        )
    return LinkedAccount(login, user_id, environment, broker_name, result.ctid_trader_account_id)


@dataclass(frozen=True)
class WhiteLabelMove:
    login: int
    environment: str
    before: str | None  # the WL read before the change
    requested: str
    after: str | None  # the WL read back after the change (None if the read-back failed)
    read_back_error: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.after == self.requested


async def move_white_label(
    session: Session,
    *,
    login: int,
    environment: str,
    target_broker_name: str,
    reason: str = "",
    ticket: str = "",
    batch_id: str | None = None,
    reverts_id: int | None = None,
    wait_for_budget: bool = False,
) -> WhiteLabelMove:
    """Move an account to another White Label, then read it back: the backend documents no
    output for this call, so only the read-back shows whether the WL really changed."""
    environment = environment_of(session.profile, environment)
    target_broker_name = white_label_of(session.profile, target_broker_name)
    request = build(
        ChangeWhiteLabelRequest,
        trader_login=login,
        broker_name=target_broker_name,
        environment_name=environment,
    )
    session.check_can_write(reason, ticket)
    current = await read_account(session, login)
    if current.broker_name == request.broker_name:
        raise InvalidInput({"White Label": f"the account is already on {request.broker_name}"})
    intent = WriteIntent(
        action="move_wl",
        target=f"login:{login}@{environment}",
        before=current.broker_name,
        after=request.broker_name,
        reason=reason,
        ticket=ticket,
        environment=environment,
        broker_name=current.broker_name,
        request=request.wire(),
        batch_id=batch_id,
        reverts_id=reverts_id,
    )
    unknown: OutcomeUnknown | None = None
    try:
        await session.write(
            intent,
            lambda: session.client.change_white_label(request),
            wait_for_budget=wait_for_budget,
            read_back=lambda: _white_label(session, login),
        )
    except OutcomeUnknown as exc:
        unknown = exc  # the read-back below tells what happened
    try:
        after = (await read_account(session, login)).broker_name
        error = None
    except ApiError as exc:
        if unknown is not None:
            raise unknown from None
        after, error = None, exc.message
    if after is not None:
        session.directory.move_account_wl(session.profile.id, login, environment, after)
    return WhiteLabelMove(
        login, environment, current.broker_name, request.broker_name, after, error
    )
