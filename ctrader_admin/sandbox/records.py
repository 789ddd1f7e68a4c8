"""The rows the sandbox stores, as typed records (one per table that handlers read)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Manager:
    login: int
    # White Labels this manager may act on, in the order they were granted (the first is the
    # default brokerName for a new user).
    broker_names: tuple[str, ...]

    def may_touch(self, broker_name: str) -> bool:
        return broker_name in self.broker_names


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    nickname: str
    broker_name: str
    preferred_language: str
    status: str
    utc_create_ts: int


@dataclass(frozen=True)
class Link:
    ctid_trader_account_id: int
    user_id: int
    trader_login: int
    environment: str


@dataclass(frozen=True)
class Invitation:
    """One cTrader Invite attribution: ``invited_user_id`` was invited by ``partner_user_id``."""

    invited_user_id: int
    partner_user_id: int
    broker_partner_id: str | None  # the broker's id of the partner, when known
    broker_name: str  # the invited user's White Label
    create_ts: int


@dataclass(frozen=True)
class TraderGroup:
    id: int
    name: str
    description: str


@dataclass(frozen=True)
class Trader:
    """One trading account. Field order = column order of the ``traders`` table.

    Money fields are integers scaled by 10**money_digits, as the API sends them.
    """

    login: int
    environment: str
    password_md5: str
    group_id: int
    broker_name: str
    deposit_currency: str
    name: str
    last_name: str
    description: str
    access_rights: str
    account_type: str
    balance: int
    bonus: int
    non_withdrawable_bonus: int
    equity: int
    used_margin: int
    free_margin: int
    cash_equity: int
    money_digits: int
    leverage_in_cents: int
    max_leverage: int
    total_margin_calculation_type: str
    is_limited_risk: bool
    swap_free: bool
    send_own_statement: bool
    send_statement_to_broker: bool
    registration_ts: int
    last_update_ts: int
    last_connection_ts: int
    contact_address: str
    contact_city: str
    contact_country_id: int
    contact_email: str
    contact_phone: str
    contact_state: str
    contact_zip_code: str
    contact_introducing_broker1: str
    contact_introducing_broker2: str


TRADER_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Trader))
_BOOL_COLUMNS = frozenset(f.name for f in fields(Trader) if f.type == "bool")


def trader_from_row(row: tuple[object, ...]) -> Trader:
    """A Trader from a row selected with TRADER_COLUMNS (SQLite hands booleans back as 0/1)."""
    values = {
        name: bool(value) if name in _BOOL_COLUMNS else value
        for name, value in zip(TRADER_COLUMNS, row, strict=True)
    }
    return Trader(**values)  # type: ignore[arg-type]
