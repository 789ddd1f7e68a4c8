"""Errors the use cases raise before (or instead of) talking to the backend. Each message is meant
for the operator; ``ApiError`` from the client passes through unchanged."""

from __future__ import annotations

from ctrader_admin.errors import ExpectedError


class ServiceError(ExpectedError):
    pass


class InvalidInput(ServiceError):
    """Input that fails validation. Nothing was sent. ``problems`` maps a field label to what is
    wrong with it, for forms that mark the field."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        lines = [f"{field}: {message}" for field, message in self.problems.items()]
        super().__init__("Please correct: " + "; ".join(lines))


class ReadOnlyProfile(ServiceError):
    def __init__(self, profile_name: str) -> None:
        super().__init__(
            f"The connection '{profile_name}' is read-only: nothing was sent. "
            "Use a connection with write access for changes."
        )


class WriteBudgetExhausted(ServiceError):
    def __init__(self, per_hour: int, seconds_until_free: float, why: str | None = None) -> None:
        minutes = max(1, round(seconds_until_free / 60))
        super().__init__(
            f"This connection's write budget ({per_hour} per hour) is used up: nothing was sent. "
            f"The next write is possible in about {minutes} min." + (f" {why}" if why else "")
        )
        self.seconds_until_free = seconds_until_free


class NotRevertible(ServiceError):
    pass


class ApprovalRequired(ServiceError):
    """The team's policy sends this change for a second person's approval; nothing was sent.
    ``change``: the single write as prepared (a ``services.approvals.ChangeBody``), set by the
    write model, so the operator can submit it as it is."""

    change: object | None = None
