"""Evidence pack: everything the app knows about one client's or one partner's attribution, in
one place — what a support agent sends to a partner who disputes an attribution, or to
compliance. The case as the app shows it, every ledger row with its provenance, the journal
entries that touched the people involved (before → after, operator, reason, ticket, outcome) and
the journal's own verification. ``ui/evidence_pdf.py`` renders it; its rows also go to CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Literal

from ctrader_admin.services import attribution
from ctrader_admin.services.attribution import Conflict
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.attribution import Attribution, RegisteredCode
from ctrader_admin.store.journal import JournalEntry, JournalFilter, VerifyReport
from ctrader_admin.store.spreadsheet import safe_cell
from ctrader_admin.store.timestamps import utc_iso

Subject = Literal["client", "partner"]


@dataclass(frozen=True)
class EvidencePack:
    subject: Subject
    title: str  # "Client user 1000004", "Partner user 1000001"
    profile: str
    generated_at: str
    generated_by: str
    summary: list[str]  # the case in sentences
    codes: list[RegisteredCode]
    rows: list[Attribution]
    conflicts: list[Conflict]
    journal: list[JournalEntry]
    verification: VerifyReport


def build_evidence(
    office: Backoffice,
    profile_id: str,
    *,
    client: int | None = None,
    partner: int | None = None,
    code: str | None = None,
) -> EvidencePack:
    """The pack of a client (by userId) or of a partner (by userId or code)."""
    profile = office.profiles.get(profile_id)
    ledger = office.ledger
    period = profile.attribution_period_days
    if client is not None:
        case = attribution.client_attribution(ledger, profile_id, client, period_days=period)
        rows, conflicts, people = case.rows, case.conflicts, {client}
        codes: list[RegisteredCode] = []
        title = f"Client user {client}"
        subject: Subject = "client"
        summary = attribution.client_summary(case, period)
    else:
        partner_case = attribution.partner_case(
            ledger, profile_id, user_id=partner, code=code, limit=1_000_000
        )
        rows, codes = partner_case.referrals, partner_case.codes
        found = attribution.conflicts(ledger, profile_id, period_days=period)
        who = partner_case.partner_user_id
        names = {c.code for c in codes} | ({code} if code else set())
        conflicts = [c for c in found if (who and c.partner_user_id == who) or c.code in names]
        people = {who} if who else set()
        title = attribution.partner_title(partner_case, code)
        subject = "partner"
        summary = attribution.partner_summary(title, partner_case)
    targets = _targets(office, profile_id, people)
    entries = list(office.journal.iter_entries(JournalFilter(targets=targets))) if targets else []
    session = office.session
    return EvidencePack(
        subject=subject,
        title=title,
        profile=profile.name,
        generated_at=utc_iso(),
        generated_by=session.operator if session is not None else str(profile.manager_login or ""),
        summary=summary,
        codes=codes,
        rows=rows,
        conflicts=conflicts,
        journal=entries,
        verification=office.journal.verify(),
    )


def _targets(office: Backoffice, profile_id: str, people: set[int]) -> tuple[str, ...]:
    """The journal targets of these people: their users and their known account links."""
    targets: list[str] = []
    for user_id in sorted(people):
        targets.append(f"user:{user_id}")
        for link in office.directory.links_for_user(profile_id, user_id):
            targets.append(f"account:{link.ctid_trader_account_id}")
    return tuple(targets)


def journal_csv(entries: list[JournalEntry]) -> str:
    """The journal entries of a pack as CSV (formula-looking cells defused)."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ("id", "at_utc", "operator", "action", "target", "before", "after", "reason",
               "ticket", "outcome", "error")  # fmt: skip
    writer.writerow(columns)
    for entry in entries:
        writer.writerow([safe_cell(getattr(entry, name)) for name in columns])
    return out.getvalue()
