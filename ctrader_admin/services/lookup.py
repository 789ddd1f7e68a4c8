"""Lookup: one box takes an email, userId, login, ctidTraderAccountId or partner code and returns
the case — with who the user is attributed to (a client) or their codes and referrals (a partner),
from the local attribution ledger (services/attribution.py).

The backend has no "get user" and no "accounts of a user" call (docs/ctrader-api.md §4.9), so a case
joins the local directory (what this app created, linked, read or imported) with live reads:
the account (``GET traders/{login}``), the partnerId at user level and on every account link,
and the Invite user list (``/v1/users``) to find an email where the broker has it enabled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from ctrader_admin.api import ApiError, Forbidden, NotFound, Trader
from ctrader_admin.services import attribution
from ctrader_admin.services.accounts import read_account
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.id_kinds import Kind
from ctrader_admin.services.partners import read_partner, read_referral
from ctrader_admin.services.session import Session
from ctrader_admin.services.validation import parse_int
from ctrader_admin.services.writes import LinkTarget, UserTarget
from ctrader_admin.store.attribution import AttributionLedger
from ctrader_admin.store.database import DatabaseUnreachable
from ctrader_admin.store.directory import SOURCE_READ, DirectoryLink

T = TypeVar("T")


_PREFIXES = {
    "user": Kind.USER,
    "u": Kind.USER,
    "userid": Kind.USER,
    "login": Kind.LOGIN,
    "l": Kind.LOGIN,
    "account": Kind.LOGIN,
    "ctid": Kind.CTID,
    "c": Kind.CTID,
    "ctidtraderaccountid": Kind.CTID,
    "partner": Kind.PARTNER,
    "code": Kind.PARTNER,
}
# A partner code as brokers write them (IB-1042, AFF_EU.318): letters and digits with . _ -,
# at least one letter. A number is an id; anything else is a typo, said as one.
_PARTNER_CODE = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9._-]{1,64}")


# What fits in the box: an email has at most 254 characters (RFC 5321), an id at most 19 digits.
MAX_SEARCH_LENGTH = 254
MAX_ID_DIGITS = 19


@dataclass(frozen=True)
class Query:
    text: str
    kind: Kind | None  # None: a number whose kind must be detected
    number: int | None = None
    code: str | None = None  # a partner code


def parse_query(text: str) -> Query:
    """Understand what was typed: ``jane@x.com``, ``123``, ``login:123``, ``ctid 9000012``."""
    raw = text.strip()
    if not raw:
        raise InvalidInput({"Search": "type an email, userId, login or ctidTraderAccountId"})
    if len(raw) > MAX_SEARCH_LENGTH:
        raise InvalidInput(
            {"Search": f"is too long ({len(raw):,} characters; at most {MAX_SEARCH_LENGTH})"}
        )
    if "@" in raw:
        return Query(raw, Kind.EMAIL)
    match = re.fullmatch(r"([A-Za-z]+)\s*[:=#\s]\s*(.+)", raw)
    if match and match.group(1).lower() in _PREFIXES:
        kind = _PREFIXES[match.group(1).lower()]
        if kind is Kind.PARTNER:
            return Query(raw, kind, code=match.group(2).strip())
        return Query(raw, kind, _parse_id(kind.value, match.group(2)))
    if _PARTNER_CODE.fullmatch(raw):
        return Query(raw, Kind.PARTNER, code=raw)
    return Query(raw, None, _parse_id("Search", raw))


def _parse_id(label: str, text: str) -> int | None:
    digits = sum(char.isdigit() for char in text)
    if digits > MAX_ID_DIGITS:
        raise InvalidInput({label: f"is too long for an id ({digits} digits; at most 19)"})
    return parse_int(label, text)


@dataclass(frozen=True)
class AccountRow:
    login: int | None
    environment: str | None
    ctid_trader_account_id: int | None
    broker_name: str | None
    trader: Trader | None = None
    trader_error: str | None = None
    partner_id: str | None = None
    partner_error: str | None = None
    flags: tuple[str, ...] = ()

    @property
    def linked(self) -> bool:
        """An account link (ctidTraderAccountId) is known for this account."""
        return self.ctid_trader_account_id is not None


@dataclass(frozen=True)
class Case:
    """Everything known about one user (or one account whose user is unknown)."""

    query: str
    user_id: int | None
    email: str | None = None
    broker_name: str | None = None
    partner_id: str | None = None
    partner_error: str | None = None
    accounts: tuple[AccountRow, ...] = ()
    notes: tuple[str, ...] = ()
    user_flags: tuple[str, ...] = ()
    kind: Kind | None = None  # what the search was taken as (typed, forced or detected)
    searched_id: int | None = None  # the number searched for (a login or ctid selects its row)
    is_partner: bool = False  # the ledger knows the user as a partner: a code, or referrals

    @property
    def problem_count(self) -> int:
        return len(self.user_flags) + sum(1 for a in self.accounts if a.flags)

    def searched_row(self) -> int | None:
        """The index of the account that was searched for (by login or ctidTraderAccountId)."""
        for index, row in enumerate(self.accounts):
            if self.kind is Kind.LOGIN and row.login == self.searched_id:
                return index
            if self.kind is Kind.CTID and row.ctid_trader_account_id == self.searched_id:
                return index
        return None


@dataclass(frozen=True)
class Ambiguous:
    """The number matches several kinds of id: the operator picks one."""

    query: str
    number: int
    kinds: tuple[Kind, ...]


@dataclass(frozen=True)
class NothingFound:
    query: str
    notes: tuple[str, ...] = field(default_factory=tuple)


LookupResult = Case | Ambiguous | NothingFound


async def lookup(session: Session, text: str, kind: Kind | None = None) -> LookupResult:
    try:
        return await _lookup(session, text, kind)
    except DatabaseUnreachable:
        if session.team_link is None or session.team_link.up:
            raise
        # The team database went away during this lookup: the broker still answers, so look
        # again, learning into the session's memory for the outage (a lookup only reads).
        return await _lookup(session, text, kind)


async def _lookup(session: Session, text: str, kind: Kind | None) -> LookupResult:
    query = parse_query(text)
    if kind is Kind.PARTNER:
        query = Query(query.text, kind, code=query.code or query.text.strip())
    elif kind is not None and query.number is not None:
        query = Query(query.text, kind, query.number)
    if query.kind is Kind.PARTNER:
        assert query.code is not None
        return await _by_partner_code(session, query.code, query.text)
    if query.kind is Kind.EMAIL:
        return _searched(await _by_email(session, query.text), Kind.EMAIL, None)
    number = query.number
    assert number is not None  # parse_query gives a number for every kind but email
    found: Kind | None = query.kind
    if found is None:
        kinds = await _detect(session, number)
        if not kinds:
            return NothingFound(
                query.text, ("No user, account or account link with this number was found.",)
            )
        if len(kinds) > 1:
            return Ambiguous(query.text, number, tuple(kinds))
        found = kinds[0]
    if found is Kind.USER:
        result: LookupResult = await user_case(session, number, query=query.text)
    elif found is Kind.LOGIN:
        result = await _by_login(session, number, query.text)
    else:
        result = await _by_ctid(session, number, query.text)
    return _searched(result, found, number)


async def _by_partner_code(session: Session, code: str, query: str) -> LookupResult:
    """The partner who carries ``code`` in the registry (cTrader's or the CRM's codes, as the
    ledger last read them): their case. The API cannot search codes; the ledger can."""
    ledger = AttributionLedger(session.directory.database)
    case = await asyncio.to_thread(attribution.partner_case, ledger, session.profile.id, code=code)
    if case.partner_user_id is None:
        referrals = sum(case.counts.values())
        known = f" ({referrals:,} ledger rows name it)" if referrals else ""
        return NothingFound(
            query,
            (
                f"No partner known here carries {code}{known}. The registry is filled from the "
                "Partners tab (Read partner codes, Import CRM export…) or `ctrader-admin "
                "attribution pull --registry`.",
            ),
        )
    found = await user_case(session, case.partner_user_id, query=query)
    return _searched(found, Kind.PARTNER, None)


def _searched(result: LookupResult, kind: Kind, number: int | None) -> LookupResult:
    if not isinstance(result, Case):
        return result
    return dataclasses.replace(result, kind=kind, searched_id=number)


async def _detect(session: Session, number: int) -> list[Kind]:
    """Which kinds of id this number is. Confirmed kinds (known locally, or the backend returned
    the object) win; kinds the backend did not deny are the fallback."""
    directory, pid = session.directory, session.profile.id
    confirmed: list[Kind] = []
    if directory.user(pid, number) or directory.links_for_user(pid, number):
        confirmed.append(Kind.USER)
    if directory.links_for_login(pid, number):
        confirmed.append(Kind.LOGIN)
    if directory.link_by_ctid(pid, number):
        confirmed.append(Kind.CTID)

    trader, user_ref, ctid_ref = await asyncio.gather(
        _probe(session.guard(session.client.get_trader(number))),
        _probe(read_partner(session, UserTarget(number))),
        _probe(read_partner(session, LinkTarget(number))),
    )
    possible: list[Kind] = []
    for probed, kind in ((trader, Kind.LOGIN), (user_ref, Kind.USER), (ctid_ref, Kind.CTID)):
        if probed == "found" and kind not in confirmed:
            confirmed.append(kind)
        elif probed == "maybe":
            possible.append(kind)
    order = [Kind.USER, Kind.LOGIN, Kind.CTID]
    chosen = confirmed or possible
    return sorted(chosen, key=order.index)


async def _probe(call: Awaitable[object]) -> str:
    """found: it exists; maybe: the backend neither confirmed nor denied; absent: it does not."""
    try:
        value = await call
    except Forbidden:
        return "found"  # it exists, we just may not touch it
    except NotFound:
        return "absent"
    except ApiError as exc:
        if exc.needs_login:
            raise
        return "absent"
    return "found" if value is not None else "maybe"


async def _by_email(session: Session, email: str) -> LookupResult:
    pid = session.profile.id
    notes: list[str] = []
    users = session.directory.users_by_email(pid, email)
    if not users:
        notes.extend(await refresh_user_list(session))
        users = session.directory.users_by_email(pid, email)
    if not users:
        return NothingFound(email, (f"No cTID user with the email {email} is known.", *notes))
    if len(users) > 1:
        notes.append(f"{len(users)} users have this email; showing the first.")
    case = await user_case(session, users[0].user_id, query=email)
    return _with_notes(case, notes)


async def refresh_user_list(session: Session) -> list[str]:
    """Copy the backend's user list (cTrader Invite) into the directory, where enabled."""
    if not session.profile.invite_enabled:
        return ["The Invite user list is switched off for this connection: searched locally."]
    count = 0
    try:
        async for user in session.client.iter_users():
            session.directory.upsert_user(
                session.profile.id,
                user.user_id,
                email=user.email,
                broker_name=user.broker_name,
                created_ms=user.utc_create_timestamp,
                source="v1/users",
            )
            count += 1
    except NotFound:
        return ["The broker has no Invite user list (/v1/users): searched the local directory."]
    except ApiError as exc:
        if exc.needs_login:
            raise
        return [f"The user list could not be read: {exc.message}"]
    return [f"Read {count} users from the backend's user list."]


async def _by_login(session: Session, login: int, query: str) -> LookupResult:
    pid = session.profile.id
    links = session.directory.links_for_login(pid, login)
    owner = next((link.user_id for link in links if link.user_id), None)
    if owner is not None:
        return await user_case(session, owner, query=query)
    try:
        trader = await read_account(session, login)
        trader_error = None
    except NotFound:
        return NothingFound(query, (f"No trading account with login {login}.",))
    except ApiError as exc:
        if exc.needs_login:
            raise
        trader, trader_error = None, exc.message
    link = links[0] if links else None
    row = AccountRow(
        login=login,
        environment=link.environment if link else None,
        ctid_trader_account_id=link.ctid_trader_account_id if link else None,
        broker_name=trader.broker_name if trader else None,
        trader=trader,
        trader_error=trader_error,
    )
    # A case without a user: the screen says what that means and offers to link it.
    return Case(query=query, user_id=None, accounts=(row,))


async def _by_ctid(session: Session, ctid: int, query: str) -> LookupResult:
    link = session.directory.link_by_ctid(session.profile.id, ctid)
    if link and link.user_id:
        return await user_case(session, link.user_id, query=query)
    try:
        # An account-level referral record names the link's user (not its login).
        record = await read_referral(session, LinkTarget(ctid))
    except NotFound:
        return NothingFound(query, (f"No account link with ctidTraderAccountId {ctid}.",))
    if record is None or record.user_id is None:
        return NothingFound(
            query,
            (
                f"The account link {ctid} exists, but which user and account it joins is not "
                "known here. Import the CRM export that lists it.",
            ),
        )
    # What the backend said is kept: the user exists (the link itself needs its login).
    session.directory.upsert_user(session.profile.id, record.user_id, source=SOURCE_READ)
    case = await user_case(session, record.user_id, query=query)
    if any(row.ctid_trader_account_id == ctid for row in case.accounts):
        return case
    row = AccountRow(
        login=None,
        environment=None,
        ctid_trader_account_id=ctid,
        broker_name=None,
        partner_id=record.partner_id,
    )
    note = (
        f"The backend's referral record of account link {ctid} names user {record.user_id}; "
        "the account's login is not known here (import the CRM export that lists it)."
    )
    return dataclasses.replace(
        case,
        accounts=(*case.accounts, _flag(row, case.partner_id)),
        notes=(note, *case.notes),
    )


async def user_case(session: Session, user_id: int, *, query: str = "") -> Case:
    pid = session.profile.id
    user = session.directory.user(pid, user_id)
    notes: list[str] = []
    if user is None or user.email is None or user.broker_name is None:
        # Not known here yet: the backend's user list (where enabled) gives email and WL. Read
        # whenever either is missing, so the WL shown does not depend on earlier lookups.
        notes.extend(await refresh_user_list(session))
        user = session.directory.user(pid, user_id)
    links = session.directory.links_for_user(pid, user_id)
    (partner_value, partner_error), rows = await asyncio.gather(
        _attempt(read_partner(session, UserTarget(user_id))),
        asyncio.gather(*(_account_row(session, link) for link in links)),
    )
    accounts = [_flag(row, partner_value) for row in rows]
    if not links:
        notes.append("No linked account is known here for this user.")
    attribution_notes, is_partner = await asyncio.to_thread(_attribution_notes, session, user_id)
    notes.extend(attribution_notes)
    return Case(
        query=query or str(user_id),
        user_id=user_id,
        email=user.email if user else None,
        broker_name=user.broker_name if user else None,
        partner_id=partner_value,
        partner_error=partner_error,
        accounts=tuple(accounts),
        notes=tuple(notes),
        is_partner=is_partner,
    )


def _attribution_notes(session: Session, user_id: int) -> tuple[list[str], bool]:
    """From the ledger: who this user is attributed to, and, for a partner, their codes and
    referrals (and True). Nothing when the ledger knows nothing of them (it is filled on
    demand)."""
    ledger = AttributionLedger(session.directory.database)
    profile = session.profile
    period = profile.attribution_period_days
    client = attribution.client_attribution(ledger, profile.id, user_id, period_days=period)
    lines = attribution.client_summary(client, period) if client.rows else []
    partner = attribution.partner_case(ledger, profile.id, user_id=user_id, limit=0)
    is_partner = bool(partner.codes or any(partner.counts.values()))
    if is_partner:
        lines += attribution.partner_summary(f"Partner user {user_id}", partner)
    return lines, is_partner


async def _account_row(session: Session, link: DirectoryLink) -> AccountRow:
    login, ctid = link.login, link.ctid_trader_account_id
    (trader, trader_error), (partner, partner_error) = await asyncio.gather(
        _attempt(read_account(session, login) if login else _nothing()),
        _attempt(read_partner(session, LinkTarget(ctid)) if ctid else _nothing()),
    )
    return AccountRow(
        login=login,
        environment=link.environment,
        ctid_trader_account_id=ctid,
        broker_name=(trader.broker_name if trader else None) or link.broker_name,
        trader=trader,
        trader_error=trader_error,
        partner_id=partner,
        partner_error=partner_error,
    )


async def _nothing() -> None:
    return None


async def _attempt(call: Awaitable[T]) -> tuple[T | None, str | None]:
    """A read whose failure is shown in its cell instead of failing the whole case."""
    try:
        return await call, None
    except ApiError as exc:
        if exc.needs_login:
            raise
        return None, exc.message


def _flag(row: AccountRow, user_partner: str | None) -> AccountRow:
    """Only partners carry a partnerId (partners-and-attribution.md): an account without one is
    normal. What is flagged is a partner whose user-level and account-level codes differ."""
    differs = row.partner_id and user_partner and row.partner_id != user_partner
    if row.partner_error is None and differs:
        return dataclasses.replace(row, flags=(f"differs from the user level ({user_partner})",))
    return row


def _with_notes(case: Case, notes: list[str]) -> Case:
    if not notes:
        return case
    return dataclasses.replace(case, notes=(*case.notes, *notes))
