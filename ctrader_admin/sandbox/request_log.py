"""What arrived and what was answered, in order, with secrets masked, for tests to read."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MASK = "***"
_SECRET_BODY_KEYS = frozenset({"hashedPassword", "traderPasswordHash"})
_SECRET_QUERY_KEYS = frozenset({"token"})
# For bodies that are not valid JSON: mask the value after a secret key all the same.
_SECRET_IN_TEXT = re.compile(r'("(?:hashedPassword|traderPasswordHash)"\s*:\s*")[^"]*(")')

FaultName = Literal["error", "drop", "stall_before", "stall_after", "rate_limited", "ignored"]


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    at: float
    method: str
    path: str
    query: dict[str, str]  # the token value replaced by "***"
    body: Any  # parsed JSON, else the raw text; hashedPassword/traderPasswordHash masked
    status: int  # what was answered; 0 when nothing was (dropped, or the client gave up)
    error_code: str | None
    fault: FaultName | None
    applied: bool  # this request changed state


def masked_query(query: Mapping[str, str]) -> dict[str, str]:
    return {k: MASK if k in _SECRET_QUERY_KEYS else v for k, v in query.items()}


def masked_body(raw: bytes) -> Any:
    """The body as logged: parsed JSON with secrets masked, else the (masked) text, or None."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return _mask_json(json.loads(text))
    except ValueError:
        return _SECRET_IN_TEXT.sub(rf"\g<1>{MASK}\g<2>", text)


def _mask_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if k in _SECRET_BODY_KEYS else _mask_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json(v) for v in value]
    return value


class RequestLog:
    """A bounded, thread-safe log. Entries are numbered on arrival and stored on completion."""

    def __init__(self, limit: int) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self._in_hand = 0  # numbered, not yet stored: still being served
        self._changed = threading.Condition()

    def next_seq(self) -> int:
        with self._changed:
            self._in_hand += 1
            return next(self._seq)

    def add(self, entry: LoggedRequest) -> None:
        with self._changed:
            self._entries.append(entry)
            self._in_hand -= 1
            self._changed.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until every request that arrived has been answered (or given up on); False if
        some were still in hand after ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._in_hand == 0, timeout)

    def entries(self) -> list[LoggedRequest]:
        """A copy in arrival order (requests may complete out of order)."""
        with self._changed:
            return sorted(self._entries, key=lambda e: e.seq)

    def clear(self) -> None:
        with self._changed:
            self._entries.clear()
