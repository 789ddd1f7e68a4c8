"""Work orders for cTrader Admin: what the API cannot do, written down for the people who can.

An account already linked to a cTID cannot be moved to another cTID through the broker APIs: the
link call answers "already linked" and no unlink call is documented
(docs/partners-and-attribution.md, "Limits of the API"). Instead of failing at the call, the app
says so before sending anything (the local directory knows the account's owner) and offers the
text of a work order — who asks, which account, from which user to which, why, the ticket —
to copy into a request to cTrader Admin, or save. A backend that answers "already linked" to a
link the directory did not know about gets the same offer, with the owner left to find out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from ctrader_admin.api import StatusError
from ctrader_admin.services.errors import ServiceError
from ctrader_admin.services.session import Session

ALREADY_LINKED_CODE = "TRADER_ALREADY_LINKED"


@dataclass(frozen=True)
class WorkOrder:
    """Move a linked trading account to another cTID user (cTrader Admin does it by hand)."""

    login: int
    environment: str
    broker_name: str | None
    ctid_trader_account_id: int | None  # the current link, when known
    from_user_id: int | None  # None: the backend said "already linked" and the owner is unknown
    to_user_id: int
    connection: str  # the profile's name
    broker_crm_name: str
    operator: str  # the manager login
    written_at: str  # UTC, ISO 8601
    reason: str = ""
    ticket: str = ""

    def with_why(self, reason: str, ticket: str) -> WorkOrder:
        return dataclasses.replace(self, reason=reason.strip(), ticket=ticket.strip())

    @property
    def file_name(self) -> str:
        return f"work-order-{self.login}-{self.environment}.txt"

    def text(self) -> str:
        """The work order as plain text, to paste into a ticket or e-mail to cTrader Admin."""
        owner = (
            f"cTID user {self.from_user_id}"
            if self.from_user_id is not None
            else "its current cTID user (not known here; the backend says it is linked)"
        )
        lines = [
            "WORK ORDER for cTrader Admin",
            "Move a linked trading account to another cTID user",
            "",
            f"Trading account:  login {self.login}, environment {self.environment}",
            f"White Label:      {self.broker_name or '(not known here)'}",
            "Account link:     "
            + (
                f"ctidTraderAccountId {self.ctid_trader_account_id}"
                if self.ctid_trader_account_id is not None
                else "(not known here)"
            ),
            f"From:             {owner}",
            f"To:               cTID user {self.to_user_id}",
            f"Broker CRM:       {self.broker_crm_name}",
            f"Why:              {self.reason or '(to be filled in)'}",
            f"Ticket:           {self.ticket or '(none)'}",
            f"Requested by:     manager {self.operator or '(not logged in)'} on {self.connection}",
            f"Written:          {self.written_at}",
            "",
            "The broker APIs cannot do this: linking an account that is already linked is",
            "refused, and no unlink call exists. Please unlink the account from its current",
            "cTID user and link it to the user above. Afterwards the back office verifies by",
            "reads (Lookup, the account's partner code) that the account is on the new user.",
        ]
        return "\n".join(lines) + "\n"


class AlreadyLinked(ServiceError):
    """The link cannot be made through the API; ``order`` is the work order offered instead."""

    def __init__(self, order: WorkOrder) -> None:
        # No known owner: the backend refused the link it was sent (nothing changed).
        if order.from_user_id is not None:
            owner = f"cTID user {order.from_user_id}"
            outcome = "Nothing was sent"
        else:
            owner = "another cTID user (the backend refused the link)"
            outcome = "Nothing was changed"
        super().__init__(
            f"Account {order.login} ({order.environment}) is already linked to {owner}. The API "
            "cannot move a linked account to another cTID (there is no unlink call): cTrader "
            f"Admin must do it. {outcome}; a work order for cTrader Admin is ready to copy or "
            "save."
        )
        self.order = order


class LinkedAlready(ServiceError):
    """The account is already linked to this very user: there is nothing to do."""


def check_link(
    session: Session,
    *,
    login: int,
    environment: str,
    user_id: int,
    broker_name: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> None:
    """Before a link is sent: the account's current owner, as the local directory knows it. An
    owner other than ``user_id`` raises AlreadyLinked with the work order; the same user raises
    LinkedAlready. Nothing is read from the backend (no call tells a login's owner)."""
    links = session.directory.links_for_login(session.profile.id, login, environment)
    if not links:
        return
    current = links[0]  # the newest fact first
    if current.user_id == user_id:
        raise LinkedAlready(
            f"Account {login} ({environment}) is already linked to user {user_id} "
            f"(ctidTraderAccountId {current.ctid_trader_account_id}): nothing was sent."
        )
    raise AlreadyLinked(
        work_order(
            session,
            login=login,
            environment=environment,
            to_user_id=user_id,
            from_user_id=current.user_id,
            ctid_trader_account_id=current.ctid_trader_account_id,
            broker_name=current.broker_name or broker_name,
            reason=reason,
            ticket=ticket,
        )
    )


def is_already_linked(error: BaseException) -> bool:
    """The backend's own "already linked" refusal (the directory did not know the link)."""
    return isinstance(error, StatusError) and error.code == ALREADY_LINKED_CODE


def work_order(
    session: Session,
    *,
    login: int,
    environment: str,
    to_user_id: int,
    from_user_id: int | None = None,
    ctid_trader_account_id: int | None = None,
    broker_name: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> WorkOrder:
    profile = session.profile
    return WorkOrder(
        login=login,
        environment=environment,
        broker_name=broker_name,
        ctid_trader_account_id=ctid_trader_account_id,
        from_user_id=from_user_id,
        to_user_id=to_user_id,
        connection=profile.name,
        broker_crm_name=profile.broker_crm_name,
        operator=session.operator,
        written_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        reason=reason.strip(),
        ticket=ticket.strip(),
    )
