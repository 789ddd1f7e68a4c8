"""The server's lowered hourly limit (services/budget.py): a value both budget windows keep, this
process's in memory and the team's in its database (store/pg/budget.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerLimit:
    """The server refused a write as over its hourly limit, at ``at``, after ``accepted`` writes
    of ours in the hour before: until ``until``, no more than that per hour."""

    at: float
    until: float
    accepted: int
