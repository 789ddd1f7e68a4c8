"""The one parser of ids typed or pasted by people: userId, login, ctidTraderAccountId, manager
login — in forms, the Lookup box, CLI arguments, bulk CSVs and the directory import.

The API's ids are positive 64-bit integers (docs/ctrader-api.md §2.8). Only the ASCII digits 0–9 are
digits here: ``str.isdigit`` also says yes to "²" (which ``int`` then refuses with a traceback)
and to Arabic-Indic or fullwidth digits (which ``int`` silently reads as another number than the
one the operator sees). Length is checked before ``int`` ever runs, so 5 000 digits cost nothing
and cannot hit Python's own digit limit.

At the package root, beside ``redaction``, with no imports: the store (directory import), the
services (forms, Lookup, bulk) and the CLI's argparse types (which must stay light) all use it,
and the store may not import the services.
"""

from __future__ import annotations

ID_MAX = 2**63 - 1  # int64, the API's integer type
ID_MAX_DIGITS = len(str(ID_MAX))  # 19
_ASCII_DIGITS = frozenset("0123456789")
# Thousands separators people paste from spreadsheets and CRMs: "3 100 001", "3,100,001".
_SEPARATORS = str.maketrans("", "", " ,_")

NOT_DIGITS = "must be a whole number made of the digits 0–9"
NOT_POSITIVE = "must be a positive number"


class NotAnId(ValueError):
    """Why a text is not an id, in an operator's words, without the field's name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_id(text: str) -> int | None:
    """The id in ``text``; None when it is blank (the caller decides whether that is allowed).

    Surrounding whitespace and thousands separators (space, comma, underscore) are tolerated;
    a sign, a decimal point or any other character is not."""
    cleaned = text.strip().translate(_SEPARATORS)
    if not cleaned:
        return None
    if cleaned[0] == "-" and len(cleaned) > 1 and set(cleaned[1:]) <= _ASCII_DIGITS:
        raise NotAnId(NOT_POSITIVE)
    stray = next((ch for ch in cleaned if ch not in _ASCII_DIGITS), None)
    if stray is not None:
        # The code point too: a digit from another script may look like 0–9, or not render.
        where = "" if stray.isascii() else f", U+{ord(stray):04X}"
        raise NotAnId(f"{NOT_DIGITS} (not {stray!r}{where})")
    significant = cleaned.lstrip("0")
    if not significant:
        raise NotAnId(NOT_POSITIVE)
    if len(significant) > ID_MAX_DIGITS:
        raise NotAnId(f"is too long: at most {ID_MAX_DIGITS} digits")
    value = int(significant)
    if value > ID_MAX:
        raise NotAnId(f"is too large: at most {ID_MAX}")
    return value
