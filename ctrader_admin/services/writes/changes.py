"""The changes an operator can ask for, before they are checked: what to change and to what.
``inverse`` turns a journal entry into the change that undoes it (a revert is a change like any
other, prepared and applied the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from ctrader_admin.services.errors import NotRevertible
from ctrader_admin.services.writes.targets import (
    AccountTarget,
    Action,
    LinkTarget,
    PartnerTarget,
    UnknownTarget,
    UserTarget,
    parse_target,
)
from ctrader_admin.store.journal import JournalEntry


@dataclass(frozen=True)
class PartnerCode:
    """Set the partnerId of a user or an account link; ``code`` None deletes it."""

    target: PartnerTarget
    code: str | None

    @property
    def action(self) -> Action:
        return Action.DELETE_PARTNER if self.code is None else Action.SET_PARTNER


@dataclass(frozen=True)
class WhiteLabel:
    """Move a trading account to another White Label (``broker_name``)."""

    account: AccountTarget
    broker_name: str

    @property
    def target(self) -> AccountTarget:
        return self.account

    @property
    def action(self) -> Action:
        return Action.MOVE_WL


@dataclass(frozen=True)
class LinkAccount:
    """Link a trading account to a cTID user; the password is hashed when prepared."""

    account: AccountTarget
    user_id: int
    broker_name: str
    password: SecretStr = field(repr=False)

    @property
    def action(self) -> Action:
        return Action.LINK_ACCOUNT


@dataclass(frozen=True)
class NewUser:
    """Create a cTID user."""

    email: str
    broker_name: str | None = None
    language: str | None = None

    @property
    def action(self) -> Action:
        return Action.CREATE_USER


Change = PartnerCode | WhiteLabel | LinkAccount | NewUser
# The changes whose target holds one value that is read before and after (the drift check).
ValueChange = PartnerCode | WhiteLabel


def inverse(entry: JournalEntry) -> ValueChange:
    """The change that puts back what ``entry`` found: its ``before`` value on its target."""
    try:
        target = parse_target(entry.target)
    except UnknownTarget:
        raise NotRevertible(
            f"Entry #{entry.id} has a target this app does not know: {entry.target}."
        ) from None
    if entry.action == Action.MOVE_WL and isinstance(target, AccountTarget):
        if entry.before is None:
            raise NotRevertible(
                f"Entry #{entry.id} does not record the White Label the account was on "
                "before, so it cannot be moved back automatically."
            )
        return WhiteLabel(target, entry.before)
    if entry.action in (Action.SET_PARTNER, Action.DELETE_PARTNER) and isinstance(
        target, UserTarget | LinkTarget
    ):
        return PartnerCode(target, entry.before)
    raise NotRevertible(f"Entry #{entry.id} ({entry.action} of {entry.target}) cannot be undone.")
