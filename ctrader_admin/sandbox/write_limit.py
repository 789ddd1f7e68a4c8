"""The hourly write cap: a rolling window over accepted non-GET requests, whole plant."""

from __future__ import annotations

import math

from .config import Dialect
from .errors import ApiError, Code
from .storage import Tx

WINDOW_SECONDS = 3600.0


def admit_write(tx: Tx, cap: int | None, at: float, dialect: Dialect) -> None:
    """Count a write arriving at ``at``, or refuse it (refusals are not counted)."""
    if cap is not None:
        count, oldest = tx.writes_since(at - WINDOW_SECONDS)
        if count >= cap:
            # Whole seconds until the oldest write leaves the window and frees a slot.
            wait = WINDOW_SECONDS if oldest is None else oldest + WINDOW_SECONDS - at
            raise rate_limit_refusal(dialect, wait)
    tx.record_write(at)


def rate_limit_refusal(dialect: Dialect, wait: float) -> ApiError:
    """The dialect's rate-limit answer; the 429 variant says when to come back."""
    headers: dict[str, str] = {}
    if dialect.rate_limit_status == 429:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return ApiError(
        dialect.rate_limit_status,
        Code.REQUEST_FREQUENCY_EXCEEDED,
        "Hourly write limit reached",
        headers=headers,
    )
