"""What ``prepare`` hands back: the verdict on one change, the value it found, the exact request,
and the rows the operator confirms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ctrader_admin.errors import ExpectedError
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.writes.changes import Change, LinkAccount, NewUser, PartnerCode
from ctrader_admin.services.writes.requests import Call, WriteRequest, call_of
from ctrader_admin.services.writes.targets import Action, Target

# write: will be sent; skip: already as asked, nothing to send; error: nothing will be sent.
Verdict = Literal["write", "skip", "error"]
Problem = Literal[
    "invalid",  # wrong type, missing or extra cell, bad value
    "duplicate",  # the same change is asked by an earlier line: only that one counts
    "conflict",  # two lines ask different values for the same target
    "not_found",  # the user, account link or trading account does not exist
    "no_rights",  # this manager/connection may not act on that White Label
    "mismatch",  # the account link does not belong to the given user
    "read_failed",  # the current value could not be read
    "changed",  # revert: the target no longer has the value the batch left
]


def show(value: str | None) -> str:
    """A value as the operator reads it: ``(none)`` for no partnerId."""
    return "(none)" if value is None else value


@dataclass(frozen=True, slots=True)
class Prepared:
    change: Change
    target: Target  # an account link's owner resolved
    verdict: Verdict
    current: str | None = None  # read once, while preparing
    request: WriteRequest | None = None  # None when the verdict is error
    problem: Problem | None = None
    problems: Mapping[str, str] = field(default_factory=dict)  # field label → what is wrong
    # The error that refused it, in its own words (a backend answer, a bad field).
    failure: ExpectedError | None = None
    broker_name: str | None = None  # the White Label the journal names (a move: the current)
    environment: str | None = None

    @property
    def action(self) -> Action:
        return self.change.action

    @property
    def proposed(self) -> str | None:
        """The value the write leaves on its target."""
        match self.change:
            case PartnerCode(code=code):
                return code
            case LinkAccount(user_id=user_id):
                return f"user:{user_id}"
            case NewUser():
                return None
            case _:
                return self.change.broker_name

    @property
    def field_label(self) -> str:
        return "partnerId" if isinstance(self.change, PartnerCode) else "White Label"

    @property
    def message(self) -> str:
        """Why it is refused or skipped, on one line."""
        if self.failure is not None and not isinstance(self.failure, InvalidInput):
            return self.failure.message
        if self.problems:
            return "; ".join(f"{label}: {what}" for label, what in self.problems.items())
        return "already as proposed" if self.verdict == "skip" else ""

    def call(self) -> Call | None:
        return None if self.request is None else call_of(self.request)

    def check(self) -> None:
        """Raise the refusal (an ExpectedError in the operator's words) of an error verdict."""
        if self.verdict != "error":
            return
        if self.failure is not None:
            raise self.failure
        raise InvalidInput(dict(self.problems))

    def rows(self) -> list[tuple[str, str]]:
        """What the operator confirms: the target, and the value from → to."""
        change = self.change
        where = self.target.describe()
        match change:
            case PartnerCode(code=code):
                if code is None:
                    value = f"{show(self.current)} → (none)"
                elif self.current is None:
                    value = f"(none) → {code}"
                else:
                    value = f"{self.current} → {code}  (overwrites)"
                return [("Target", where), ("partnerId", value)]
            case LinkAccount():
                return [
                    ("Account", f"login {change.account.login} ({change.account.environment})"),
                    ("cTID user", str(change.user_id)),
                    ("White Label", change.broker_name),
                ]
            case NewUser():
                rows = [("Email", change.email)]
                if self.broker_name:
                    rows.append(("White Label", self.broker_name))
                return rows
            case _:
                account = change.account
                return [
                    ("Account", f"{account.login} ({account.environment})"),
                    ("White Label", f"{show(self.current)} → {change.broker_name}"),
                ]
