"""The one redaction function: every log line, exception text, repr, crash report and journal
entry passes through it before it leaves memory.

Two mechanisms, because neither alone is enough:
- patterns catch secrets by their *position* (``token=…`` in a URL, ``Authorization: Bearer …``,
  password/hash JSON keys), whatever their value;
- registered values catch a secret wherever it appears verbatim (a token echoed in an error body,
  a password typed into the wrong field). The client registers each token and password the moment
  it sees one and keeps it registered for the life of the process.
"""

from __future__ import annotations

import re
import threading

MASK = "***"

_SECRET_KEYS = (
    "token",
    "webservToken",
    "hashedPassword",
    "traderPasswordHash",
    "password",
    "access_token",
)
_KEY_ALTERNATION = "|".join(re.escape(k) for k in _SECRET_KEYS)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # query strings and form bodies: token=abc&x=1
    (re.compile(rf"(?i)(\b(?:{_KEY_ALTERNATION})=)[^&\s'\"<>]+"), rf"\g<1>{MASK}"),
    # JSON: "webservToken": "abc"
    (re.compile(rf"(?i)(\"(?:{_KEY_ALTERNATION})\"\s*:\s*\")[^\"]*(\")"), rf"\g<1>{MASK}\g<2>"),
    # Python reprs of dicts: 'token': 'abc'
    (re.compile(rf"(?i)('(?:{_KEY_ALTERNATION})'\s*:\s*')[^']*(')"), rf"\g<1>{MASK}\g<2>"),
    # HTTP headers, as a header line or as a JSON / dict entry: 'Authorization': 'Bearer abc'
    (
        re.compile(r"(?i)(authorization['\"]?\s*:?\s*['\"]?(?:bearer|basic)\s+)[^\s'\",]+"),
        rf"\g<1>{MASK}",
    ),
)

_known_secrets: set[str] = set()
_lock = threading.Lock()
# Short strings would mask ordinary words; a secret must be at least this long to be tracked.
_MIN_SECRET_LEN = 6


def register_secret(value: str | None) -> None:
    """Remember a secret value so that every later redaction masks it wherever it appears."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every secret masked. Safe on any string; never raises."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
