"""Attribution: who referred which client, from every source, and where the sources disagree.

A partnerId is a partner's own code (the registry); it says nothing about clients. Who a client
belongs to comes from cTrader Invite, the accounts' IB labels and the broker's CRM export, each
kept as read in the ledger (store/attribution.py). This module fills the ledger and the
registry from those sources and answers the support desk's questions from it: a client's
partner, a partner's referrals, and the conflicts worth a look (docs/partners-and-attribution.md).

Size (~550 lines): filling the ledger and answering from it are one service over one store; the
conflict rules (store/attribution_rules.py) and evidence packs (evidence.py) already live apart.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from ctrader_admin.api import Forbidden, NotFound, ReferralQuery
from ctrader_admin.api.errors import InviteNotEnabled
from ctrader_admin.api.models import InvitedUser, InvitedUsersCursor, InvitedUsersPage
from ctrader_admin.ids import NotAnId, parse_id
from ctrader_admin.services.session import Session
from ctrader_admin.store.attribution import (
    SOURCES,
    Attribution,
    AttributionLedger,
    ReferralKey,
    ReferralPage,
    RegisteredCode,
    Source,
)

# The conflict rules are the store's (it keeps their answer up to date); their names are
# also this module's, where the UI and the CLI find them.
from ctrader_admin.store.attribution_rules import CONFLICT_NAMES as CONFLICT_NAMES
from ctrader_admin.store.attribution_rules import SOURCE_NAMES as SOURCE_NAMES
from ctrader_admin.store.attribution_rules import Conflict as Conflict
from ctrader_admin.store.attribution_rules import ConflictKind as ConflictKind
from ctrader_admin.store.attribution_rules import Registry as Registry
from ctrader_admin.store.attribution_rules import client_conflicts, period_start, with_period
from ctrader_admin.store.attribution_rules import partner_key as partner_key
from ctrader_admin.store.spreadsheet import safe_cell
from ctrader_admin.store.timestamps import utc_iso

# --- pulling cTrader Invite ------------------------------------------------------------------


@dataclass(frozen=True)
class PullResult:
    enabled: bool  # False: Invite is not enabled for this broker (404)
    fetched: int
    pages: int
    total: int  # Invite rows in the ledger after the pull


async def pull_invite(
    session: Session,
    ledger: AttributionLedger,
    *,
    page_size: int = 1000,
    on_page: Callable[[int], None] | None = None,
) -> PullResult:
    """Fetch what cTrader Invite recorded since the last pull, page by page; each page and the
    cursor after it are stored together, so a pull cancelled or killed anywhere resumes from
    the last stored page (nothing fetched twice, nothing skipped). The next page is already
    on its way while one is stored: the pull costs the round trips, not round trips + disk."""
    profile_id = session.profile.id
    stored = await asyncio.to_thread(ledger.cursor, profile_id, "invite")
    cursor = InvitedUsersCursor.model_validate_json(stored) if stored else None
    fetched = pages = 0
    source = session.client.iter_invited_user_pages(cursor, page_size=page_size)
    ahead: asyncio.Future[InvitedUsersPage] | None = asyncio.ensure_future(anext(source))
    try:
        while ahead is not None:
            page = await ahead
            ahead = None if page.last else asyncio.ensure_future(anext(source))
            read_at = utc_iso()
            rows = [_invite_row(row, read_at) for row in page.rows]
            await asyncio.to_thread(
                ledger.save_page,
                profile_id,
                rows,
                cursor=("invite", page.cursor.model_dump_json()),
            )
            fetched += len(rows)
            pages += 1
            if on_page is not None:
                on_page(fetched)
    except InviteNotEnabled:
        total = await asyncio.to_thread(ledger.count, profile_id, "invite")
        return PullResult(False, fetched, pages, total)
    finally:
        if ahead is not None:  # stopped early: the page on its way is not stored
            ahead.cancel()
            await asyncio.wait([ahead])  # done before the generator is closed; errors dropped
            if not ahead.cancelled():
                ahead.exception()
        await source.aclose()
    total = await asyncio.to_thread(ledger.count, profile_id, "invite")
    return PullResult(True, fetched, pages, total)


def _invite_row(row: InvitedUser, read_at: str) -> Attribution:
    return Attribution(
        source="invite",
        # A re-attribution is a later row for the same client: both are kept.
        source_key=f"{row.invited_user_id}@{row.create_timestamp}",
        client_user_id=row.invited_user_id,
        client_login=None,
        partner_code=row.broker_partner_id,
        partner_user_id=row.partner_user_id,
        attributed_at=utc_iso(row.created_at),
        read_at=read_at,
        detail=row.broker_name or "",
    )


# --- the accounts' IB labels -------------------------------------------------------------------


@dataclass(frozen=True)
class LabelRead:
    labels: int  # accounts' non-empty IB labels stored
    read: int  # accounts read
    skipped: list[tuple[int, str]]  # accounts that could not be read, and why


async def read_ib_labels(
    session: Session, ledger: AttributionLedger, logins: Iterable[int]
) -> LabelRead:
    """Read the IB labels (introducingBroker1/2) of these accounts into the ledger; the owner
    comes from the local directory. An account this manager may not see, or that is gone, is
    skipped and said."""
    read_at = utc_iso()
    rows: list[Attribution] = []
    skipped: list[tuple[int, str]] = []
    read = 0
    for login in sorted(set(logins)):
        try:
            trader = await session.guard(session.client.get_trader(login))
        except (Forbidden, NotFound) as exc:
            skipped.append((login, exc.message))
            continue
        read += 1
        details = trader.contact_details
        labels = (
            (1, details.introducing_broker1 if details else None),
            (2, details.introducing_broker2 if details else None),
        )
        owner = _owner_of(session, login)
        # An empty label is stored too: it replaces a label removed since the last read.
        rows.extend(
            Attribution(
                source="ib_label",
                source_key=f"{login}/{level}",
                client_user_id=owner,
                client_login=login,
                partner_code=(label or "").strip() or None,
                partner_user_id=None,
                attributed_at=None,
                read_at=read_at,
                detail=f"introducingBroker{level}",
            )
            for level, label in labels
        )
    await asyncio.to_thread(ledger.save_page, session.profile.id, rows)
    return LabelRead(sum(1 for row in rows if row.partner_code), read, skipped)


def _owner_of(session: Session, login: int) -> int | None:
    owners = {a.user_id for a in session.directory.accounts_for_login(session.profile.id, login)}
    owners.discard(None)
    return owners.pop() if len(owners) == 1 else None


# --- the CRM export ----------------------------------------------------------------------------

CRM_COLUMNS = ("userId", "login", "partnerCode", "referredByPartnerCode", "referredAt")


@dataclass(frozen=True)
class CrmPreview:
    attributions: list[Attribution]
    codes: list[RegisteredCode]
    problems: list[tuple[int, str]]  # (line number, what is wrong)
    lines: int


def preview_crm(text: str) -> CrmPreview:
    """Read a CRM attribution export: one row per client account (or user), with the client's
    own partner code when the client is a partner, and the code the CRM attributed the client
    to. Nothing is stored: the operator sees the counts and the problems first."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("userId", "referredByPartnerCode") if c not in (reader.fieldnames or ())]
    if missing:
        return CrmPreview([], [], [(1, f"The header has no {', '.join(missing)} column.")], 0)
    read_at = utc_iso()
    attributions: dict[int, Attribution] = {}
    codes: dict[int, RegisteredCode] = {}
    problems: list[tuple[int, str]] = []
    lines = 0
    for number, row in enumerate(reader, start=2):
        lines += 1
        user_text = (row.get("userId") or "").strip()
        try:
            user_id = parse_id(user_text)
        except NotAnId as exc:
            problems.append((number, f"userId {user_text[:40]!r} {exc.reason}."))
            continue
        if user_id is None:
            problems.append((number, "userId is missing."))
            continue
        own = (row.get("partnerCode") or "").strip()
        if own:
            codes[user_id] = RegisteredCode("crm", user_id, "user", 0, own, read_at)
        referred = (row.get("referredByPartnerCode") or "").strip()
        if not referred:
            continue
        at = _crm_time(row.get("referredAt"))
        if at is False:
            problems.append((number, f"referredAt {row.get('referredAt')!r} is not a date."))
            continue
        attributions[user_id] = Attribution(
            source="crm",
            source_key=f"user:{user_id}",
            client_user_id=user_id,
            client_login=None,
            partner_code=referred,
            partner_user_id=None,
            attributed_at=at,
            read_at=read_at,
        )
    return CrmPreview(list(attributions.values()), list(codes.values()), problems, lines)


def _crm_time(text: str | None) -> str | Literal[False] | None:
    if not text or not text.strip():
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return utc_iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def import_crm(ledger: AttributionLedger, profile_id: str, preview: CrmPreview) -> int:
    """The CRM's view replaces the previous export (its attributions and its partner codes)."""
    ledger.set_registry(profile_id, "crm", preview.codes)
    return ledger.replace_source(profile_id, "crm", preview.attributions)


# --- the partner registry from cTrader ---------------------------------------------------------


@dataclass(frozen=True)
class RegistryRefresh:
    codes: int  # codes found on the partners read
    read: int  # partners read
    skipped: list[tuple[int, str]]  # partners that could not be read, and why


async def refresh_registry(
    session: Session, ledger: AttributionLedger, partners: Iterable[int]
) -> RegistryRefresh:
    """Read the partner codes registered in cTrader on these partners' users and on their known
    account links. A partner this manager may not see (another White Label) is skipped and said;
    what the registry knew of them stays."""
    read_at = utc_iso()
    found: list[RegisteredCode] = []
    read: list[int] = []
    skipped: list[tuple[int, str]] = []
    for user_id in sorted(set(partners)):
        try:
            found.extend(await _codes_of(session, user_id, read_at))
        except (Forbidden, NotFound) as exc:
            skipped.append((user_id, exc.message))
            continue
        read.append(user_id)
    await asyncio.to_thread(
        ledger.set_registry, session.profile.id, "ctrader", found, partners=read
    )
    return RegistryRefresh(len(found), len(read), skipped)


async def _codes_of(session: Session, user_id: int, read_at: str) -> list[RegisteredCode]:
    crm_name = session.profile.broker_crm_name
    codes: list[RegisteredCode] = []
    record = await session.guard(
        session.client.get_referral(ReferralQuery(broker_crm_name=crm_name, user_id=user_id))
    )
    if record is not None and record.partner_id:
        codes.append(RegisteredCode("ctrader", user_id, "user", 0, record.partner_id, read_at))
    for link in session.directory.links_for_user(session.profile.id, user_id):
        ctid = link.ctid_trader_account_id
        record = await session.guard(
            session.client.get_referral(
                ReferralQuery(broker_crm_name=crm_name, ctid_trader_account_id=ctid)
            )
        )
        if record is not None and record.partner_id:
            codes.append(
                RegisteredCode("ctrader", user_id, "account", ctid, record.partner_id, read_at)
            )
    return codes


def known_partners(ledger: AttributionLedger, profile_id: str) -> set[int]:
    """Everyone a source names as a partner: Invite's inviters and the CRM's partners."""
    partners = {code.partner_user_id for code in ledger.registry(profile_id)}
    partners |= {row.partner_user_id for row in ledger.current(profile_id) if row.partner_user_id}
    return partners


# --- the questions -----------------------------------------------------------------------------


def conflicts(
    ledger: AttributionLedger,
    profile_id: str,
    *,
    period_days: int,
    now: datetime | None = None,
    kind: ConflictKind | None = None,
) -> list[Conflict]:
    """Every conflict worth a look (of one kind, when given), clients first (by userId), then
    partners — read from the report the ledger keeps."""
    return conflict_page(
        ledger, profile_id, period_days=period_days, now=now, kind=kind, limit=None
    ).conflicts


@dataclass(frozen=True)
class ConflictPage:
    conflicts: list[Conflict]
    after: tuple[int, int, int] | None  # where the next page starts; None after the last
    counts: dict[ConflictKind, int] | None  # per kind, in the whole report (first page only)

    @property
    def total(self) -> int:
        return sum((self.counts or {}).values())


def conflict_page(
    ledger: AttributionLedger,
    profile_id: str,
    *,
    period_days: int,
    now: datetime | None = None,
    kind: ConflictKind | None = None,
    after: tuple[int, int, int] | None = None,
    limit: int | None = 200,
) -> ConflictPage:
    """A screenful of the conflict report from ``after`` (the first, with the counts per kind,
    when None): an index read whatever the ledger's size."""
    moment = now or datetime.now(UTC)
    kept = ledger.kept_conflicts(
        profile_id, kind=kind, after=after, limit=None if limit is None else limit + 1
    )
    more = limit is not None and len(kept) > limit
    shown = kept[:limit] if limit is not None else kept
    return ConflictPage(
        [with_period(k.conflict, k.period_from, period_days, moment) for k in shown],
        shown[-1].key if more else None,
        ledger.conflict_counts(profile_id) if after is None else None,
    )


# --- cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientAttribution:
    client_user_id: int
    rows: list[Attribution]  # every statement, oldest first
    current: list[Attribution]  # what each source says now (a re-attribution replaces)
    conflicts: list[Conflict]


def client_attribution(
    ledger: AttributionLedger, profile_id: str, user_id: int, *, period_days: int
) -> ClientAttribution:
    rows = ledger.for_client(profile_id, user_id)
    current = ledger.current(profile_id, user_id)
    codes = {row.partner_code for row in current if row.partner_code}
    registry = Registry(ledger.registry(profile_id, codes=codes))
    start, now = period_start(current), datetime.now(UTC)
    found = [
        with_period(conflict, start, period_days, now)
        for conflict in client_conflicts(user_id, current, registry)
    ]
    return ClientAttribution(user_id, rows, current, found)


def client_summary(case: ClientAttribution, period_days: int) -> list[str]:
    """The client's attribution in sentences: what each source says, and any disagreement."""
    if not case.rows:
        return [f"No source attributes user {case.client_user_id} to a partner (a direct client)."]
    lines = []
    for row in case.current:
        if not row.partner_code and row.partner_user_id is None:
            continue  # an empty IB label says nothing
        whom = row.partner_code or f"user {row.partner_user_id}"
        since = f" since {row.attributed_at[:10]}" if row.attributed_at else ""
        lines.append(f"{SOURCE_NAMES[row.source]} says: {whom}{since}.")
    if not case.conflicts:
        lines.append("The sources agree.")
    for conflict in case.conflicts:
        period = (
            f" ({conflict.period} the {period_days}-day guaranteed period)"
            if conflict.period
            else ""
        )
        lines.append(f"{CONFLICT_NAMES[conflict.kind]}{period}.")
    return lines


def where_registered(registered: RegisteredCode) -> str:
    """Where a partner code is registered and which source says so: the one wording of a case,
    an evidence pack, ``partner show`` and a registration that finds the code taken."""
    where = (
        "at user level"
        if registered.level == "user"
        else f"on account link {registered.ctid_trader_account_id}"
    )
    source = "cTrader" if registered.source == "ctrader" else "the CRM"
    return f"{where}, as {source} says it"


def partner_title(case: PartnerCase, code: str | None) -> str:
    """How a partner's case is named: by their user when one is known, else by the code."""
    return (
        f"Partner user {case.partner_user_id}" if case.partner_user_id else f"Partner code {code}"
    )


def partner_summary(title: str, case: PartnerCase) -> list[str]:
    """A partner's codes and referral counts in sentences."""
    lines = [f"{title}."]
    for registered in case.codes:
        lines.append(f"Code {registered.code} {where_registered(registered)}.")
    total = ", ".join(f"{SOURCE_NAMES[s]}: {n:,}" for s, n in case.counts.items())
    lines.append(f"Referrals by source — {total}.")
    return lines


@dataclass(frozen=True)
class PartnerCase:
    partner_user_id: int | None
    codes: list[RegisteredCode]
    referrals: list[Attribution]  # newest first, the first page
    counts: dict[Source, int]  # every referral, per source
    after: ReferralKey | None = None  # where the next page of referrals starts
    names: tuple[str, ...] = ()  # the codes its referrals name (a code no one carries too)


@dataclass(frozen=True)
class ReferralFilter:
    """What the referrals table shows of a partner's referrals."""

    source: Source | None = None
    text: str = ""  # part of the client's userId or login, or of the code
    conflicts_only: bool = False  # only clients the conflict report names


def partner_case(
    ledger: AttributionLedger,
    profile_id: str,
    *,
    user_id: int | None = None,
    code: str | None = None,
    source: Source | None = None,
    limit: int = 200,
) -> PartnerCase:
    """A partner by cTID user or by code: its codes, the counts per source, and the first
    ``limit`` referrals every source names (of ``source`` only, when given)."""
    # Only the registry rows that matter: a big registry is not read for one partner.
    partner = user_id
    if partner is None and code:
        partner = Registry(ledger.registry(profile_id, codes=[code])).owner(code)
    codes = [] if partner is None else ledger.registry(profile_id, partner_user_id=partner)
    names = {c.code for c in codes} | ({code} if code else set())
    counts = ledger.referral_counts(profile_id, partner_user_id=partner, codes=names)
    case = PartnerCase(partner, codes, [], counts, names=tuple(sorted(names)))
    page = more_referrals(ledger, profile_id, case, ReferralFilter(source=source), limit=limit)
    return replace(case, referrals=page.rows, after=page.after)


def more_referrals(
    ledger: AttributionLedger,
    profile_id: str,
    case: PartnerCase,
    wanted: ReferralFilter,
    *,
    after: ReferralKey | None = None,
    limit: int = 200,
) -> ReferralPage:
    """A page of the partner's referrals as the filter keeps them, from ``after``."""
    return ledger.referrals(
        profile_id,
        partner_user_id=case.partner_user_id,
        codes=case.names,
        source=wanted.source,
        text=wanted.text,
        conflicts_only=wanted.conflicts_only,
        after=after,
        limit=limit,
    )


@dataclass(frozen=True)
class PartnerSummary:
    """One row of the Partners list: a partner, its codes, and its referrals per source."""

    partner_user_id: int
    ctrader_codes: tuple[str, ...]
    crm_codes: tuple[str, ...]
    counts: dict[Source, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def partner_summaries(
    ledger: AttributionLedger, profile_id: str, search: str = ""
) -> list[PartnerSummary]:
    """Every partner known here (a registered code, or an Invite inviter), most referrals
    first; ``search`` keeps those whose userId or a code contains it (case-insensitive)."""
    registry = Registry(ledger.registry(profile_id))
    by_user = ledger.counts_by_partner_user(profile_id)
    by_code = ledger.counts_by_code(profile_id)
    partners = {c.partner_user_id for c in registry.codes} | set(by_user)
    wanted = search.strip().casefold()
    found: list[PartnerSummary] = []
    for partner in partners:
        codes = registry.codes_of(partner)
        ctrader = tuple(sorted({c.code for c in codes if c.source == "ctrader"}))
        crm = tuple(sorted({c.code for c in codes if c.source == "crm"}))
        if wanted and not any(wanted in text.casefold() for text in (str(partner), *ctrader, *crm)):
            continue
        counts: dict[Source, int] = {"invite": by_user.get(partner, 0), "ib_label": 0, "crm": 0}
        for code in set(ctrader) | set(crm):
            for source in SOURCES:
                counts[source] += by_code.get((code, source), 0)
        found.append(PartnerSummary(partner, ctrader, crm, counts))
    found.sort(key=lambda s: (-s.total, s.partner_user_id))
    return found


def export_rows_csv(rows: Iterable[Attribution]) -> str:
    """The rows with their provenance, for a spreadsheet (formula-looking cells defused)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["source", "client userId", "client login", "partner code", "partner userId",
         "attributed at", "read at", "detail"]
    )  # fmt: skip
    for row in rows:
        writer.writerow(
            [safe_cell(v) for v in (
                SOURCE_NAMES[row.source], row.client_user_id, row.client_login, row.partner_code,
                row.partner_user_id, row.attributed_at, row.read_at, row.detail,
            )]
        )  # fmt: skip
    return out.getvalue()
