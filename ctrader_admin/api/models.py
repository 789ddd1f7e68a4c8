"""Request and response models of the cTrader broker API (docs/ctrader-api.md).

Requests forbid unknown fields and validate everything the backend would, *before* anything is
sent. Responses are frozen and ignore unknown keys: real servers return more than the docs list.
Python names are snake_case; the wire names (camelCase) are the aliases.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ctrader_admin.api.iso639 import ISO_639_1
from ctrader_admin.ids import ID_MAX

# --- field types -------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_MD5 = re.compile(r"^[0-9a-f]{32}$")


def _check_email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value) or ".." in value.split("@", 1)[0]:
        raise ValueError("is not a valid email address")
    return value


def _check_language(value: str) -> str:
    if value.lower() not in ISO_639_1:
        raise ValueError("must be a two-letter ISO 639-1 language code, e.g. en, de, es")
    return value.lower()


def _check_md5(value: str) -> str:
    if not _MD5.fullmatch(value):  # not .match: "$" also matches before a trailing newline
        raise ValueError("must be an MD5 hash: 32 lowercase hexadecimal characters")
    return value


def _check_partner_id(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with spaces")
    if not value.isprintable():
        raise ValueError("must contain only printable characters")
    return value


Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_email)]
Language = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_language)]
Md5Hex = Annotated[str, AfterValidator(_check_md5)]
# Strict: an id is an int, never a bool, a float or a numeric string (the services parse text).
Id = Annotated[int, Strict(), Field(gt=0, le=ID_MAX)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PartnerId = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_partner_id)]


def md5_hex(secret: str | SecretStr) -> str:
    """MD5 of a password, as the API wants it. The caller forgets the password afterwards."""
    raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return hashlib.md5(raw.encode("utf-8"), usedforsecurity=False).hexdigest()


def scaled(value: int | None, digits: int) -> Decimal | None:
    """An integer money field scaled by 10^moneyDigits, as an exact decimal."""
    if value is None:
        return None
    return Decimal(value).scaleb(-digits)


def format_query_time(moment: datetime) -> str:
    """The API's query-string time format: ``yyyy-MM-ddTHH:mm:ss.SSS`` in UTC."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


class _Request(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )

    def wire(self) -> dict[str, Any]:
        """The JSON body / query parameters, with wire names, without unset optionals."""
        return self.model_dump(by_alias=True, exclude_none=True)


class _Response(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


# --- manager token -----------------------------------------------------------------------------


class ManagerCredentials(_Request):
    login: Id
    password: SecretStr = Field(min_length=1)

    def wire(self) -> dict[str, Any]:
        return {"login": self.login, "hashedPassword": md5_hex(self.password)}


class TokenResponse(_Response):
    webserv_token: str = Field(min_length=1)


# --- cTID users --------------------------------------------------------------------------------


class CreateCtidRequest(_Request):
    email: Email
    broker_name: Name | None = None
    preferred_language: Language | None = None


class CtidUser(_Response):
    user_id: int
    nickname: str | None = None
    email: str | None = None
    preferred_language: str | None = None
    utc_create_timestamp: int | None = None
    status: str | None = None


class CreateCtidResult(BaseModel):
    """``created`` is False when the backend returned an existing user for the email: it then
    answers only ``{"userId": N}`` (docs/ctrader-api.md §4.1)."""

    model_config = ConfigDict(frozen=True)
    user: CtidUser
    created: bool


class LinkAccountRequest(_Request):
    trader_login: Id
    trader_password_hash: Md5Hex
    user_id: Id
    broker_name: Name
    environment_name: Name
    # Without it the backend answers an empty body and we would not learn the link's id.
    return_account_details: bool = True

    @classmethod
    def with_password(cls, *, password: str | SecretStr, **fields: Any) -> Self:
        """Build the request from the account password, keeping only its MD5."""
        if not (password.get_secret_value() if isinstance(password, SecretStr) else password):
            raise ValueError("the trading account password is required")
        return cls(trader_password_hash=md5_hex(password), **fields)


class LinkResult(_Response):
    ctid_trader_account_id: int | None = None


class ChangeWhiteLabelRequest(_Request):
    trader_login: Id
    broker_name: Name
    environment_name: Name


class ChangeWhiteLabelResult(_Response):
    ctid_trader_account_id: int | None = None


# --- partner attribution -----------------------------------------------------------------------


class _ReferralTarget(_Request):
    broker_crm_name: Name
    user_id: Id | None = None
    ctid_trader_account_id: Id | None = None


class ReferralQuery(_ReferralTarget):
    """Read the partnerId of a user (user level) or of one user–account link (account level)."""

    @model_validator(mode="after")
    def _one_level(self) -> Self:
        if (self.user_id is None) == (self.ctid_trader_account_id is None):
            raise ValueError(
                "give either userId (user level) or ctidTraderAccountId (account level)"
            )
        return self


class SetReferralRequest(ReferralQuery):
    partner_id: PartnerId


class DeleteReferralRequest(_ReferralTarget):
    """Delete the user-level record (no ctidTraderAccountId) or that of one link."""

    user_id: Id


class Referral(_Response):
    user_id: int | None = None
    ctid_trader_account_id: int | None = None
    partner_id: str


# --- trading accounts --------------------------------------------------------------------------

AccessRights = Literal["FULL_ACCESS", "CLOSE_ONLY", "NO_TRADING", "NO_LOGIN"]
MONEY_FIELDS = (
    "balance", "bonus", "non_withdrawable_bonus", "equity", "used_margin", "free_margin",
    "cash_equity", "min_equity_daily", "max_equity_daily",
)  # fmt: skip


class ContactDetails(_Response):
    address: str | None = None
    city: str | None = None
    country_id: int | None = None
    document_id: str | None = None
    email: str | None = None
    phone: str | None = None
    state: str | None = None
    zip_code: str | None = None
    introducing_broker1: str | None = None
    introducing_broker2: str | None = None


class Trader(_Response):
    """A trading account (TraderTO). Money fields are raw integers; read them with ``money``."""

    login: int
    group_name: str | None = None
    deposit_currency: str | None = None
    broker_name: str | None = None
    name: str | None = None
    last_name: str | None = None
    description: str | None = None
    access_rights: str | None = None
    account_type: str | None = None
    balance: int | None = None
    bonus: int | None = None
    non_withdrawable_bonus: int | None = None
    equity: int | None = None
    used_margin: int | None = None
    free_margin: int | None = None
    cash_equity: int | None = None
    min_equity_daily: int | None = None
    max_equity_daily: int | None = None
    money_digits: int = Field(default=0, ge=0, le=18)
    leverage_in_cents: int | None = None
    max_leverage: int | None = None
    total_margin_calculation_type: str | None = None
    is_limited_risk: bool | None = None
    swap_free: bool | None = None
    registration_timestamp: int | None = None
    last_update_timestamp: int | None = None
    last_connection_timestamp: int | None = None
    contact_details: ContactDetails | None = None

    def money(self, field: str) -> Decimal | None:
        """A money field as an exact decimal in the deposit currency (10^-moneyDigits)."""
        if field not in MONEY_FIELDS:
            raise ValueError(f"{field} is not a money field")
        value: int | None = getattr(self, field)
        return scaled(value, self.money_digits)

    @property
    def leverage(self) -> str | None:
        """Leverage as operators write it, e.g. ``1:100``."""
        if self.leverage_in_cents is None:
            return None
        return f"1:{Decimal(self.leverage_in_cents).scaleb(-2).normalize():f}"


class TraderPage(_Response):
    trader: list[Trader] = Field(default_factory=list)
    has_more: bool = False


class TraderListQuery(_Request):
    """Accounts registered in ``[from, to)``; both datetimes must carry a timezone."""

    from_: datetime = Field(alias="from")
    to: datetime
    group_id: Id | None = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.from_.tzinfo is None or self.to.tzinfo is None:
            raise ValueError("from and to must be timezone-aware")
        if self.from_ >= self.to:
            raise ValueError("from must be before to")
        return self

    def wire(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "from": format_query_time(self.from_),
            "to": format_query_time(self.to),
        }
        if self.group_id is not None:
            params["groupId"] = self.group_id
        return params


# --- cTrader Invite user list ------------------------------------------------------------------


class UsersQuery(_Request):
    created_from: Annotated[int, Field(ge=0)] = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000
    skip: Annotated[int, Field(ge=0)] = 0


class InviteUser(_Response):
    user_id: int
    email: str | None = None
    broker_name: str | None = None
    utc_create_timestamp: int | None = None


class UsersPage(_Response):
    users: list[InviteUser] = Field(default_factory=list)


# --- cTrader Invite attributions (GET /v1/social/invitedUsers, same paging as /v1/users) ------


class InvitedUser(_Response):
    """One attribution: ``invited_user_id`` was invited by ``partner_user_id``. A re-attribution
    is a later row for the same invited user."""

    invited_user_id: int
    partner_user_id: int
    broker_partner_id: str | None = None  # the broker's id of the partner, "if known"
    broker_name: str | None = None
    create_timestamp: int  # epoch ms

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.create_timestamp / 1000, tz=UTC)

    @property
    def is_self_referral(self) -> bool:
        return self.invited_user_id == self.partner_user_id


class InvitedUsersResponse(_Response):
    invited_users: list[InvitedUser] = Field(default_factory=list)


class InvitedUsersCursor(BaseModel):
    """Where the next Invite pull starts: rows created at or after ``created_from`` (epoch ms),
    minus the first ``skip`` of them (already read: they share the last timestamp seen).
    Persist it after each page; a pull from it fetches only what is new."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    created_from: Annotated[int, Field(ge=0)] = 0
    skip: Annotated[int, Field(ge=0)] = 0

    def after(self, rows: list[InvitedUser]) -> InvitedUsersCursor:
        """The cursor past ``rows``, one page read from this cursor (oldest first)."""
        if not rows:
            return self
        last = max(row.create_timestamp for row in rows)
        ties = sum(1 for row in rows if row.create_timestamp == last)
        if last == self.created_from:  # the whole page shares the timestamp we started from
            return InvitedUsersCursor(created_from=last, skip=self.skip + ties)
        return InvitedUsersCursor(created_from=last, skip=ties)


class InvitedUsersPage(BaseModel):
    """One page of an Invite pull, as ``ApiClient.iter_invited_user_pages`` yields it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: tuple[InvitedUser, ...]
    cursor: InvitedUsersCursor  # resume here once ``rows`` are stored
    last: bool  # a short page: nothing more to read for now
