"""The kinds of id the Lookup box understands. Apart from ``lookup`` so that the first window can
offer them without importing the client (the back office loads behind it, app.py)."""

from __future__ import annotations

from enum import Enum


class Kind(Enum):
    EMAIL = "email"
    USER = "userId"
    LOGIN = "login"
    CTID = "ctidTraderAccountId"
    PARTNER = "partner code"
