"""Field checks shared by the handlers. Each failure is a 400 INVALID_REQUEST naming the field.

Unknown keys are ignored, as real servers do; wrong types and missing required fields are not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import invalid
from .languages import is_language_code

_MD5 = re.compile(r"[0-9a-f]{32}")
# The HTML living standard's pragmatic e-mail syntax: what browsers accept in type=email.
_EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
)
_QUERY_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}")
MAX_EMAIL_LENGTH = 254
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PARTNER_ID_LENGTH = 64


# --- JSON bodies -------------------------------------------------------------------------------


def body_int(body: Mapping[str, Any], key: str) -> int:
    value = _required(body, key)
    # bool is an int in Python, but `true` is not an integer in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"'{key}' must be an integer")
    return value


def body_optional_int(body: Mapping[str, Any], key: str) -> int | None:
    if body.get(key) is None:
        return None
    return body_int(body, key)


def body_str(body: Mapping[str, Any], key: str) -> str:
    value = _required(body, key)
    if not isinstance(value, str):
        raise invalid(f"'{key}' must be a string")
    return value


def body_optional_str(body: Mapping[str, Any], key: str) -> str | None:
    if body.get(key) is None:
        return None
    return body_str(body, key)


def body_optional_bool(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(f"'{key}' must be a boolean")
    return value


def body_md5(body: Mapping[str, Any], key: str) -> str:
    value = body_str(body, key)
    if not _MD5.fullmatch(value):
        raise invalid(f"'{key}' must be an MD5 hex digest (32 lowercase hex characters)")
    return value


def _required(body: Mapping[str, Any], key: str) -> Any:
    value = body.get(key)
    if value is None:
        raise invalid(f"'{key}' is required")
    return value


# --- query strings -----------------------------------------------------------------------------


def query_int(query: Mapping[str, str], key: str) -> int:
    value = query_optional_int(query, key)
    if value is None:
        raise invalid(f"query parameter '{key}' is required")
    return value


def query_optional_int(query: Mapping[str, str], key: str) -> int | None:
    raw = query.get(key)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"query parameter '{key}' must be an integer") from None


def query_str(query: Mapping[str, str], key: str) -> str:
    raw = query.get(key)
    if raw is None or raw == "":
        raise invalid(f"query parameter '{key}' is required")
    return raw


def query_date_ms(query: Mapping[str, str], key: str) -> int:
    """A ``yyyy-MM-ddTHH:mm:ss.SSS`` UTC query date, as epoch milliseconds."""
    raw = query_str(query, key)
    if not _QUERY_DATE.fullmatch(raw):
        raise invalid(f"query parameter '{key}' must look like yyyy-MM-ddTHH:mm:ss.SSS (UTC)")
    try:
        moment = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        raise invalid(f"query parameter '{key}' is not a valid date: {raw}") from None
    # Integer arithmetic: a float timestamp could land one millisecond off.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


# --- values ------------------------------------------------------------------------------------


def check_email(email: str) -> str:
    if len(email) > MAX_EMAIL_LENGTH:
        raise invalid(f"'email' must be at most {MAX_EMAIL_LENGTH} characters")
    if not _EMAIL.fullmatch(email):
        raise invalid(f"'email' is not a valid e-mail address: {email}")
    return email


def check_language(language: str) -> str:
    if not is_language_code(language):
        raise invalid(f"'preferredLanguage' must be an ISO 639-1 code, not {language!r}")
    return language


def check_partner_id(partner_id: str) -> str:
    if not partner_id:
        raise invalid("'partnerId' must not be empty")
    if len(partner_id) > MAX_PARTNER_ID_LENGTH:
        raise invalid(f"'partnerId' must be at most {MAX_PARTNER_ID_LENGTH} characters")
    if not partner_id.isprintable():
        raise invalid("'partnerId' must contain printable characters only")
    if partner_id != partner_id.strip():
        raise invalid("'partnerId' must not start or end with whitespace")
    return partner_id
