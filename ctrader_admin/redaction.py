"""Secrets out of text: what the app writes is kept clean by construction; ``redact`` is the last
line of defence for text that comes from elsewhere.

By construction: passwords travel as ``SecretStr`` and are hashed where they are used; the
manager token stays inside the client and is put only into the request it authorises. The
app's own sentences (``AppText``, e.g. every ``ApiError.message``) therefore never embed a
secret, and any outside part in them (a backend's description, a library's exception text) is
redacted where it is put in.

Last line of defence, ``redact``: every log record, exception text, crash report and journal
value passes through it before it leaves memory. Two mechanisms, because neither alone is
enough:
- patterns catch secrets by their *position* (``token=…`` in a URL, ``Authorization: Bearer …``,
  password/hash JSON keys), whatever their value;
- registered values catch a secret wherever it appears as a whole token (a token echoed in an
  error body, a password typed into the wrong field). Each token, password and password hash is
  registered the moment the app sees it and stays registered for the life of the process.

Registered values are masked nowhere inside ``AppText`` (and inside the ``keep`` texts of a
call): a manager password may be an ordinary word ("password", "manager"), and the app's own
"The manager login or password is wrong." must still read so. Whole tokens only, so that a
password "sandbox" does not eat into "sandbox_main".
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable

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


class AppText(str):
    """A sentence the app composed from its own words, whose outside parts were redacted where
    they were put in. ``redact`` masks no registered value in it (its position patterns still
    apply); ``str()`` of it, and of an exception made with it, stays ``AppText``."""

    __slots__ = ()

    def __str__(self) -> AppText:
        return self


def register_secret(value: str | None) -> None:
    """Remember a secret value so that every later redaction masks it wherever it appears."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _known_secrets.add(value)


def redact(text: str, keep: Iterable[str] = ()) -> str:
    """Return ``text`` with every secret masked. Safe on any string; never raises.

    Registered values are left alone inside ``text`` when it is ``AppText`` and inside every
    occurrence of a ``keep`` text (the app's sentences within a longer text, e.g. a log line
    that quotes an error's message)."""
    authored = isinstance(text, AppText)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if authored:
        return AppText(text)
    with _lock:
        secrets = list(_known_secrets)
    present = frozenset(s for s in secrets if s in text)  # most texts hold none: no regex then
    if not present:
        return text
    values = _values_pattern(present)
    kept = [(m.start(), m.end()) for k in keep if k for m in re.finditer(re.escape(k), text)]

    def mask(found: re.Match[str]) -> str:
        inside = any(start <= found.start() and found.end() <= end for start, end in kept)
        return found.group(0) if inside else MASK

    return values.sub(mask, text)


@functools.lru_cache(maxsize=64)
def _values_pattern(secrets: frozenset[str]) -> re.Pattern[str]:
    """One pattern for the registered values a text holds, longest first (a secret that extends
    another is masked whole), each bounded like a word where its own edge is a word character."""
    alternatives = [
        ("" if not s[0].isalnum() and s[0] != "_" else r"(?<!\w)")
        + re.escape(s)
        + ("" if not s[-1].isalnum() and s[-1] != "_" else r"(?!\w)")
        for s in sorted(secrets, key=len, reverse=True)
    ]
    return re.compile("|".join(alternatives))
