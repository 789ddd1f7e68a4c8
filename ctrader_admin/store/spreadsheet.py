"""CSV cells a spreadsheet opens safely: one written by the app must never run as a formula."""

from __future__ import annotations


def safe_cell(value: object) -> object:
    """A text starting like a formula (=, +, -, @, tab, CR) gets a leading "'"; None is empty."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
