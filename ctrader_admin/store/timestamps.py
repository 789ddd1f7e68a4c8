"""UTC timestamps as fixed-width ISO 8601 text with milliseconds: they sort as text."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime | None = None) -> str:
    """``2024-05-01T12:34:56.789Z``; ``moment`` must be timezone-aware (default: now)."""
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is None:
        raise ValueError("A naive datetime is ambiguous; pass a timezone-aware one.")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
