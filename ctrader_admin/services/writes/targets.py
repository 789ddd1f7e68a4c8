"""What a write changes, typed: one frozen dataclass per kind of target, the one action enum, and
the one codec to and from the journal's target key (``user:5``, ``account:7``, ``login:3@demo``,
``email:a@b.c``). Keys are the strings journals hold since the first version, so old journals
parse; nothing else in the app builds or parses them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from ctrader_admin.errors import ExpectedError


class Action(StrEnum):
    """A kind of write; the values are the journal's action codes."""

    CREATE_USER = "create_user"
    LINK_ACCOUNT = "link_account"
    MOVE_WL = "move_wl"
    SET_PARTNER = "set_partner"
    DELETE_PARTNER = "delete_partner"


# What each action is called on screen; the journal and its exports keep the codes.
ACTION_NAMES: dict[str, str] = {
    Action.CREATE_USER: "Create user",
    Action.LINK_ACCOUNT: "Link account",
    Action.MOVE_WL: "Move to White Label",
    Action.SET_PARTNER: "Set partnerId",
    Action.DELETE_PARTNER: "Delete partnerId",
}


def action_name(action: str) -> str:
    """The words for a journal action code (an unknown code is shown as it is)."""
    return ACTION_NAMES.get(action, action)


@dataclass(frozen=True)
class UserTarget:
    """A cTID user, by userId (a user-level partnerId lives here)."""

    user_id: int

    def describe(self) -> str:
        return f"user {self.user_id}"


@dataclass(frozen=True)
class LinkTarget:
    """An account link, by ctidTraderAccountId. ``owner`` is the link's userId when known
    (deleting an account-level partnerId needs it); it is not part of the identity, nor are the
    login and environment the operator knows the account by (for the dialogs' words)."""

    ctid: int
    owner: int | None = field(default=None, compare=False)
    login: int | None = field(default=None, compare=False)
    environment: str | None = field(default=None, compare=False)

    def describe(self) -> str:
        if self.login is None:
            return f"account link {self.ctid}"
        where = f", {self.environment}" if self.environment else ""
        return f"account {self.login}{where} (link {self.ctid})"


@dataclass(frozen=True)
class AccountTarget:
    """A trading account, by login and environment (White Label moves, links to a user)."""

    login: int
    environment: str

    def describe(self) -> str:
        return f"account {self.login} ({self.environment})"


@dataclass(frozen=True)
class EmailTarget:
    """The email a cTID user is created with."""

    email: str

    def describe(self) -> str:
        return f"user {self.email}"


PartnerTarget = UserTarget | LinkTarget
Target = UserTarget | LinkTarget | AccountTarget | EmailTarget


class UnknownTarget(ExpectedError):
    def __init__(self, key: str) -> None:
        super().__init__(f"This app does not know the journal target {key!r}.")
        self.key = key


def target_key(target: Target) -> str:
    """The journal's key for ``target``."""
    match target:
        case UserTarget(user_id=user_id):
            return f"user:{user_id}"
        case LinkTarget(ctid=ctid):
            return f"account:{ctid}"
        case AccountTarget(login=login, environment=environment):
            return f"login:{login}@{environment}"
        case EmailTarget(email=email):
            return f"email:{email}"


_KEY = re.compile(r"(user|account|login|email):(.+)")
_LOGIN = re.compile(r"(\d+)@(.+)")


def parse_target(key: str) -> Target:
    """The target a journal key names; UnknownTarget for anything else."""
    match = _KEY.fullmatch(key)
    if match is None:
        raise UnknownTarget(key)
    kind, rest = match.groups()
    if kind in ("user", "account"):
        if not rest.isascii() or not rest.isdigit():
            raise UnknownTarget(key)
        return UserTarget(int(rest)) if kind == "user" else LinkTarget(int(rest))
    if kind == "login":
        login = _LOGIN.fullmatch(rest)
        if login is None or not login.group(1).isascii():
            raise UnknownTarget(key)
        return AccountTarget(int(login.group(1)), login.group(2))
    if "@" not in rest:
        raise UnknownTarget(key)
    return EmailTarget(rest)


def lookup_query(key: str) -> str | None:
    """What to type in Lookup to see the target a journal key names, or None."""
    try:
        target = parse_target(key)
    except UnknownTarget:
        return None
    match target:
        case UserTarget(user_id=user_id):
            return f"user:{user_id}"
        case LinkTarget(ctid=ctid):
            return f"ctid:{ctid}"
        case AccountTarget(login=login):
            return f"login:{login}"
        case EmailTarget(email=email):
            return email
