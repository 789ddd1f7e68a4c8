"""Register a partner: the seeds' flows 1 ("new partner") and 2 ("existing partner") as steps
that the desktop dialog and ``ctrader-admin partner register`` both call
(docs/partners-and-attribution.md):

find the person (Lookup's own search) → give them a cTID user if they have none → plan: user
level or one of their linked accounts, a code proposed or typed, checked against every other
known partner and against what the backend holds there now → execute: set it through the write
gate (journaled), read it back, and say whether the backend holds what was set.

A partnerId marks the partner; it attributes no client. A read-only connection refuses at the
first step, before any request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ctrader_admin.api import ApiError
from ctrader_admin.services import attribution, lookup, partners, users, writes
from ctrader_admin.services.errors import InvalidInput, ReadOnlyProfile, ServiceError
from ctrader_admin.services.id_kinds import Kind
from ctrader_admin.services.partners import PartnerChange
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import (
    LinkTarget,
    PartnerCode,
    PartnerTarget,
    Prepared,
    UserTarget,
)
from ctrader_admin.store.attribution import AttributionLedger, RegisteredCode


class CodeTaken(ServiceError):
    """The code is carried by another partner: registering it would make referrals ambiguous."""

    def __init__(self, code: str, carriers: list[RegisteredCode]) -> None:
        who = "; ".join(_carrier(c) for c in carriers)
        super().__init__(
            f"{code} is already carried by {who}. One code on two partners makes their "
            "referrals ambiguous: choose another code. Nothing was sent."
        )
        self.code = code
        self.carriers = carriers


def _carrier(code: RegisteredCode) -> str:
    read = code.read_at[:16].replace("T", " ")
    where = attribution.where_registered(code)
    return f"partner user {code.partner_user_id} ({where}, read {read})"


@dataclass(frozen=True)
class AccountChoice:
    """One of the person's linked accounts, where a code can be registered instead."""

    login: int | None
    environment: str | None
    ctid_trader_account_id: int
    partner_id: str | None

    def describe(self) -> str:
        where = f", {self.environment}" if self.environment else ""
        login = f"account {self.login}" if self.login is not None else "account (login not known)"
        return f"{login}{where} — link {self.ctid_trader_account_id}"


@dataclass(frozen=True)
class Person:
    """Whom the partner code is for, as found: no ``user_id`` yet means a cTID user is to be
    created for ``email``."""

    query: str
    user_id: int | None
    email: str | None
    broker_name: str | None = None
    user_code: str | None = None  # the code at user level now, as the backend says it
    accounts: tuple[AccountChoice, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def needs_user(self) -> bool:
        return self.user_id is None

    def describe(self) -> str:
        if self.user_id is None:
            return f"{self.email} (no cTID user yet)"
        return f"user {self.user_id}" + (f" ({self.email})" if self.email else "")


def refuse_read_only(session: Session) -> None:
    """A read-only connection refuses the whole flow before a single request."""
    if session.profile.read_only:
        raise ReadOnlyProfile(session.profile.name)


async def find_person(session: Session, text: str, kind: Kind | None = None) -> Person:
    """The person by email, userId or login, through Lookup (one parser, one search). An email
    that no user is known for is a person to create a cTID user for."""
    refuse_read_only(session)
    query = lookup.parse_query(text)
    if kind is Kind.EMAIL and query.kind is not Kind.EMAIL:
        raise InvalidInput({"Email": f"{text.strip()!r} is not an email address"})
    found = await lookup.lookup(session, text, kind)
    if isinstance(found, lookup.Ambiguous):
        kinds = " or ".join(k.value for k in found.kinds)
        raise InvalidInput({"Person": f"{found.number} could be a {kinds}: say which"})
    if isinstance(found, lookup.NothingFound):
        if query.kind is Kind.EMAIL:
            return Person(
                query=text.strip(),
                user_id=None,
                email=text.strip(),
                notes=(
                    f"No cTID user with the email {text.strip()} is known here: one will be "
                    "created (if the email has one already, that user is used).",
                ),
            )
        raise ServiceError(" ".join(found.notes) or f"Nobody found for {text.strip()}.")
    if found.user_id is None:
        login = found.accounts[0].login if found.accounts else None
        raise ServiceError(
            f"Account {login} has no cTID user known here. Register the partner by their email "
            "(a cTID user is created if they have none), then link the account to it."
        )
    return _person(found)


def _person(case: lookup.Case) -> Person:
    assert case.user_id is not None
    accounts = tuple(
        AccountChoice(row.login, row.environment, row.ctid_trader_account_id, row.partner_id)
        for row in case.accounts
        if row.ctid_trader_account_id is not None
    )
    return Person(
        query=case.query,
        user_id=case.user_id,
        email=case.email,
        broker_name=case.broker_name,
        user_code=case.partner_id,
        accounts=accounts,
    )


@dataclass(frozen=True)
class UserReady:
    person: Person
    message: str  # what happened, in words: created, or the email's existing user is used
    created: bool


async def ensure_user(
    session: Session,
    person: Person,
    *,
    broker_name: str | None = None,
    language: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> UserReady:
    """The person's cTID user: theirs, or one created now (journaled). The API answers an email
    that already has a user with that user: said plainly, and used."""
    refuse_read_only(session)
    if person.user_id is not None:
        return UserReady(person, f"{person.describe()} has a cTID user.", created=False)
    assert person.email is not None
    made = await users.create_user(
        session,
        email=person.email,
        broker_name=broker_name or person.broker_name,
        language=language,
        reason=reason,
        ticket=ticket,
    )
    if made.created:
        message = f"Created cTID user {made.user_id} for {person.email}."
    else:
        message = f"This email already has cTID user {made.user_id}; it will be used."
    case = await lookup.user_case(session, made.user_id, query=person.email)
    return UserReady(_person(case), message, created=made.created)


@dataclass(frozen=True)
class Proposal:
    code: str
    why: str


def rule_code(user_id: int) -> str:
    """The deterministic proposal when nothing better is known: IB-<userId>."""
    return f"IB-{user_id}"


def propose_code(ledger: AttributionLedger, profile_id: str, person: Person) -> Proposal | None:
    """The CRM's code for this partner when the registry knows one; else the code the person
    already carries at user level (their account then carries the same); else the rule."""
    if person.user_id is None:
        return None
    registry = attribution.Registry(ledger.registry(profile_id))
    crm = sorted(c.code for c in registry.codes_of(person.user_id) if c.source == "crm")
    if crm:
        return Proposal(crm[0], "the CRM's code for this partner")
    if person.user_code:
        return Proposal(person.user_code, "the code this user carries at user level")
    return Proposal(rule_code(person.user_id), "the rule IB-<userId> (no CRM code is known)")


@dataclass(frozen=True)
class RegistrationPlan:
    person: Person
    target: PartnerTarget
    code: str
    before: str | None  # what the backend holds on the target now
    warnings: tuple[str, ...] = ()
    # The write, prepared when planned: executing sends it only if the target still holds
    # ``before``, what the operator confirmed (writes.apply).
    prepared: Prepared | None = None

    @property
    def changes(self) -> bool:
        return self.before != self.code

    def summary(self) -> list[tuple[str, str]]:
        """What the confirmation shows: label → value."""
        change = (
            f"{self.before} → {self.code}  (overwrites)" if self.before else f"(none) → {self.code}"
        )
        return [
            ("Partner", self.person.describe()),
            ("Where", self.target.describe()),
            (
                "partnerId",
                change if self.changes else f"{self.code} (already there: nothing to send)",
            ),
        ]


def choose_target(person: Person, account_login: int | None = None) -> PartnerTarget:
    """User level, or the linked account with this login."""
    assert person.user_id is not None
    if account_login is None:
        return UserTarget(person.user_id)
    matches = [a for a in person.accounts if a.login == account_login]
    if len(matches) != 1:
        known = ", ".join(str(a.login) for a in person.accounts if a.login is not None)
        listed = (
            f"their linked accounts known here: {known}"
            if known
            else "no linked account of theirs is known here"
        )
        problem = (
            f"{account_login} is on several environments; choose by Lookup"
            if matches
            else f"{account_login} is not a linked account of user {person.user_id} ({listed})"
        )
        raise InvalidInput({"Account": problem})
    account = matches[0]
    return LinkTarget(
        account.ctid_trader_account_id,
        person.user_id,
        login=account.login,
        environment=account.environment,
    )


def refuse_taken(
    ledger: AttributionLedger, profile_id: str, partner_user_id: int | None, code: str
) -> None:
    """CodeTaken when another partner carries ``code`` in cTrader or in the CRM (the registry);
    ``partner_user_id`` None: a person with no cTID user yet, so every carrier is another."""
    others = [
        c
        for c in ledger.registry(profile_id)
        if c.code == code and c.partner_user_id != partner_user_id
    ]
    if others:
        raise CodeTaken(code, others)


async def check_code(session: Session, ledger: AttributionLedger, person: Person, code: str) -> str:
    """The code as it will be sent, refused before anything is written (the cTID user of a new
    partner included) when its form is wrong or another known partner carries it."""
    checked = partners.validate_partner_id(code)
    await asyncio.to_thread(refuse_taken, ledger, session.profile.id, person.user_id, checked)
    return checked


async def plan(
    session: Session,
    ledger: AttributionLedger,
    person: Person,
    *,
    code: str,
    account_login: int | None = None,
) -> RegistrationPlan:
    """Check everything before asking to confirm: the code's form, that no other known partner
    carries it, and what the backend holds on the target now. Only reads."""
    refuse_read_only(session)
    if person.user_id is None:
        raise InvalidInput({"Person": "has no cTID user yet: create it first"})
    target = choose_target(person, account_login)
    checked = await check_code(session, ledger, person, code)
    prepared = await writes.prepare(session, PartnerCode(target, checked))
    prepared.check()
    warnings = _warnings(person, target, checked)
    return RegistrationPlan(person, target, checked, prepared.current, warnings, prepared)


def _warnings(person: Person, target: PartnerTarget, code: str) -> tuple[str, ...]:
    """The partner's other codes that would differ from this one (links shared from different
    places would carry different codes): worth knowing, not a refusal."""
    found: list[str] = []
    if isinstance(target, LinkTarget) and person.user_code and person.user_code != code:
        found.append(f"At user level this partner carries {person.user_code}.")
    for account in person.accounts:
        if (
            account.partner_id
            and account.partner_id != code
            and (isinstance(target, UserTarget) or account.ctid_trader_account_id != target.ctid)
        ):
            found.append(f"{account.describe()} carries {account.partner_id}.")
    if found:
        found.append("Links shared from there carry a different code.")
    return tuple(found)


@dataclass(frozen=True)
class Registration:
    plan: RegistrationPlan
    change: PartnerChange
    read_back: str | None
    read_back_error: str | None
    journal_id: int | None

    @property
    def matches(self) -> bool:
        return self.read_back_error is None and self.read_back == self.plan.code

    def message(self) -> str:
        target = self.plan.target.describe()
        sent = (
            f"Set {self.plan.code} on {target}"
            if self.change.changed
            else f"{target} already carried {self.plan.code}: nothing was sent"
        )
        if self.read_back_error is not None:
            return f"{sent}. Reading it back failed ({self.read_back_error}): check it in Lookup."
        if self.matches:
            return f"{sent}. Read back from the server: {self.read_back} — it matches."
        shown = self.read_back or "(none)"
        return (
            f"{sent}, but reading it back shows {shown}, NOT {self.plan.code}: the partner's "
            "links do not carry the new code. Check the target in Lookup and the journal."
        )


async def execute(
    session: Session,
    ledger: AttributionLedger,
    registration: RegistrationPlan,
    *,
    reason: str,
    ticket: str,
) -> Registration:
    """Set the code (the write gate: read-only, reason and ticket, budget, journal), read it
    back, and refresh the registry's entry for this partner so the next check knows it."""
    session.check_can_write(reason, ticket)
    person = registration.person
    assert person.user_id is not None
    # Checked again: another operator may have registered the code since the plan.
    await asyncio.to_thread(
        refuse_taken, ledger, session.profile.id, person.user_id, registration.code
    )
    prepared = registration.prepared
    if prepared is None:
        prepared = await writes.prepare(
            session, PartnerCode(registration.target, registration.code)
        )
        prepared.check()
    # Not sent if the target changed since it was confirmed (WriteDrift, journaled "refused").
    # The read-back is recorded in the write's own journal entry (confirm), not as a write.
    applied = await writes.apply(session, prepared, reason=reason, ticket=ticket, confirm=True)
    change = PartnerChange.of(applied)
    entry = change.journal_id
    read_back: str | None
    error: str | None = None
    if applied.check is not None:
        read_back, error = applied.check.value, applied.check.error
    elif applied.proof is not None:  # the answer was lost; the read that proved it applied
        read_back = applied.proof.value
    else:  # nothing was sent: the code was already there
        try:
            read_back = await partners.read_partner(session, registration.target)
        except ApiError as exc:
            if exc.needs_login:
                raise
            read_back, error = None, exc.message
    try:
        await attribution.refresh_registry(session, ledger, [person.user_id])
    except ApiError as exc:
        if exc.needs_login:
            raise
        # The registry catches up on the next "Read partner codes"; the write itself is done.
    return Registration(registration, change, read_back, error, entry)
