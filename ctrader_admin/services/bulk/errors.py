"""Why a bulk plan or job is refused. Each message is meant for the operator."""

from __future__ import annotations

from ctrader_admin.services.errors import ServiceError


class PlanRefused(ServiceError):
    """The plan file cannot be used: unreadable, not a plan, or not for this connection."""


class PlanTampered(PlanRefused):
    """The plan's content does not match its hash: it was edited after it was made."""


class ConfirmationRequired(ServiceError):
    """A live connection: the operator must type the environment name to start."""

    def __init__(self, expected: str) -> None:
        super().__init__(
            f"This is a live connection: type the environment name “{expected}” to start."
        )
        self.expected = expected


class JobRefused(ServiceError):
    """The job cannot be started, resumed or read (unknown id, run elsewhere, finished)."""
