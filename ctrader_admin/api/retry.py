"""Retry policy as a pure function (docs/design.md rule 4).

Only idempotent requests are retried (GET, and PUT/DELETE of referral); only on failures that may
be transient: connection errors, timeouts, 429 and 5xx. Bounded, with jitter, honouring
Retry-After. A POST is never retried: the caller reports an ambiguous POST as "outcome unknown".

A write's try that timed out or lost its connection after sending may have been applied, and a
later failure does not undo that: ``may_have_applied`` tells the caller which tries to remember,
so the call's outcome stays "unknown" unless a later try succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Failure(Enum):
    CONNECT = "connect"  # nothing was sent
    TIMEOUT = "timeout"  # sent, no answer in time
    DROPPED = "dropped"  # sent, connection lost before a full answer
    RATE_LIMITED = "rate_limited"  # 429, or 400 REQUEST_FREQUENCY_EXCEEDED
    SERVER = "server"  # 5xx
    OTHER = "other"  # any other error status: retrying cannot help


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD"})
_RETRYABLE = frozenset({Failure.CONNECT, Failure.TIMEOUT, Failure.DROPPED, Failure.SERVER})
# The request left and its answer did not come back: the backend may have acted on it.
_SENT_UNANSWERED = frozenset({Failure.TIMEOUT, Failure.DROPPED})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 4.0
    # A Retry-After longer than this is not waited for here: the error goes up so that a bulk job
    # can pause its queue and the operator sees why.
    max_retry_after: float = 30.0


DEFAULT_POLICY = RetryPolicy()


def retry_delay(
    policy: RetryPolicy,
    *,
    method: str,
    attempt: int,
    failure: Failure,
    retry_after: float | None,
    jitter: float,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None to stop and raise.

    ``attempt`` counts from 1 (the attempt that just failed); ``jitter`` is a number in [0, 1).
    """
    if method.upper() not in IDEMPOTENT_METHODS or attempt >= policy.max_attempts:
        return None
    if failure is Failure.RATE_LIMITED:
        # Only a server that says when to come back is worth waiting for in-line.
        if retry_after is None or retry_after > policy.max_retry_after:
            return None
        return max(0.0, retry_after)
    if failure not in _RETRYABLE:
        return None
    backoff = min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))
    delay = backoff * (0.5 + jitter / 2)  # "equal jitter": never zero, never above the backoff
    if retry_after is not None and failure is Failure.SERVER:
        delay = max(delay, min(retry_after, policy.max_retry_after))
    return delay


def may_have_applied(method: str, failure: Failure) -> bool:
    """True when a try of ``method`` that failed this way may have changed the backend."""
    return method.upper() not in READ_METHODS and failure in _SENT_UNANSWERED
