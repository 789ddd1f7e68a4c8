"""The conflict rules of the attribution ledger: pure functions of a client's current statements
and of the partner registry (docs/partners-and-attribution.md, "Conflicts").

They live beside the ledger, not in services, because the ledger keeps their answer in a table
(store/conflict_table.py) and must recompute it in the same transaction as every change of the
rows it depends on. services/attribution.py re-exports the names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from ctrader_admin.store.attribution import Attribution, RegisteredCode, Source

SOURCE_NAMES: dict[Source, str] = {
    "invite": "cTrader Invite",
    "ib_label": "IB label",
    "crm": "CRM export",
}

ConflictKind = Literal[
    "sources_disagree",
    "unknown_code",
    "self_referral",
    "shared_code",
    "levels_differ",
    "crm_differs",
    "crm_only",
]

CONFLICT_NAMES: dict[ConflictKind, str] = {
    "sources_disagree": "Sources disagree about the client's partner",
    "unknown_code": "Attributed to a code no known partner carries",
    "self_referral": "Self-referral",
    "shared_code": "One code registered on two partners",
    "levels_differ": "User-level and account-level codes differ",
    "crm_differs": "cTrader's code differs from the CRM's",
    "crm_only": "Partner in the CRM with no code in cTrader",
}
CONFLICT_KINDS: tuple[ConflictKind, ...] = get_args(ConflictKind)

Period = Literal["inside", "past"]


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    detail: str
    client_user_id: int | None = None
    partner_user_id: int | None = None
    code: str | None = None
    # For a client: inside or past the guaranteed attribution period of its first attribution.
    period: Period | None = None


@dataclass
class Registry:
    """The codes as cTrader and the CRM say them, with who carries each."""

    codes: list[RegisteredCode]
    owners: dict[str, set[int]] = field(default_factory=dict)  # code → partners (cTrader)
    crm_owners: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for code in self.codes:
            target = self.owners if code.source == "ctrader" else self.crm_owners
            target.setdefault(code.code, set()).add(code.partner_user_id)

    def owner(self, code: str) -> int | None:
        """The one partner carrying ``code`` (cTrader first, else the CRM); None if unknown or
        ambiguous."""
        for owners in (self.owners, self.crm_owners):
            found = owners.get(code, set())
            if len(found) == 1:
                return next(iter(found))
            if found:
                return None
        return None

    def known(self, code: str) -> bool:
        return code in self.owners or code in self.crm_owners

    def verdict(self, code: str) -> tuple[int | None, bool]:
        """All a client's conflicts need to know of a code: who carries it, and whether anyone
        does. A registry change that keeps this for a code changes no client's conflicts."""
        return self.owner(code), self.known(code)

    def codes_of(self, partner_user_id: int) -> list[RegisteredCode]:
        return [c for c in self.codes if c.partner_user_id == partner_user_id]


def partner_key(row: Attribution, registry: Registry) -> str | None:
    """Who a row names, comparable across sources: the partner's cTID user when it can be
    told, else the code itself."""
    if row.partner_user_id is not None:
        return f"user {row.partner_user_id}"
    if not row.partner_code:
        return None
    owner = registry.owner(row.partner_code)
    return f"user {owner}" if owner is not None else f"code {row.partner_code}"


def period_start(rows: Sequence[Attribution]) -> str | None:
    """When the guaranteed period starts: the client's first Invite attribution."""
    return min(
        (row.attributed_at for row in rows if row.source == "invite" and row.attributed_at),
        default=None,
    )


def period_of(start: str | None, period_days: int, now: datetime) -> Period | None:
    if start is None:
        return None
    started = datetime.fromisoformat(start)
    return "inside" if now - started < timedelta(days=period_days) else "past"


def with_period(conflict: Conflict, start: str | None, period_days: int, now: datetime) -> Conflict:
    """A client's conflict as of ``now`` (the period moves with the clock; the rest is kept)."""
    if conflict.client_user_id is None:
        return conflict
    return replace(conflict, period=period_of(start, period_days, now))


def client_conflicts(
    client: int, rows: Sequence[Attribution], registry: Registry
) -> Iterable[Conflict]:
    """A client's conflicts from its current statements (one per source, oldest source name
    first), without the period: that depends on the clock (``with_period``)."""
    says: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        key = partner_key(row, registry)
        if key is not None:
            says[key].add(SOURCE_NAMES[row.source])
        if row.partner_user_id == client or (
            row.partner_code and registry.owner(row.partner_code) == client
        ):
            yield Conflict(
                "self_referral",
                f"{SOURCE_NAMES[row.source]} attributes user {client} to themself.",
                client_user_id=client,
                partner_user_id=client,
                code=row.partner_code,
            )
        if row.partner_code and not registry.known(row.partner_code):
            yield Conflict(
                "unknown_code",
                f"{SOURCE_NAMES[row.source]} attributes user {client} to {row.partner_code}, "
                "a code no known partner carries.",
                client_user_id=client,
                code=row.partner_code,
            )
    if len(says) > 1:
        versions = "; ".join(
            f"{', '.join(sorted(sources))}: {key}" for key, sources in sorted(says.items())
        )
        yield Conflict(
            "sources_disagree",
            f"User {client}'s partner: {versions}.",
            client_user_id=client,
        )


def registry_conflicts(registry: Registry) -> Iterable[Conflict]:
    for code, owners in sorted(registry.owners.items()):
        if len(owners) > 1:
            names = ", ".join(str(o) for o in sorted(owners))
            yield Conflict(
                "shared_code",
                f"{code} is registered on users {names}: their referrals are ambiguous.",
                code=code,
            )
    by_partner: dict[int, list[RegisteredCode]] = defaultdict(list)
    for registered in registry.codes:
        by_partner[registered.partner_user_id].append(registered)
    for partner, codes in sorted(by_partner.items()):
        ctrader = [c for c in codes if c.source == "ctrader"]
        crm = {c.code for c in codes if c.source == "crm"}
        levels = {c.code for c in ctrader}
        if len(levels) > 1:
            yield Conflict(
                "levels_differ",
                f"User {partner} carries {', '.join(sorted(levels))} at user and account "
                "level: links shared from different places carry different codes.",
                partner_user_id=partner,
            )
        if crm and not ctrader:
            yield Conflict(
                "crm_only",
                f"The CRM knows user {partner} as partner {', '.join(sorted(crm))}, but no "
                "code is registered in cTrader: register it (flow 2).",
                partner_user_id=partner,
                code=min(crm),
            )
        elif crm and not crm & levels:
            yield Conflict(
                "crm_differs",
                f"User {partner}: cTrader has {', '.join(sorted(levels))}, the CRM has "
                f"{', '.join(sorted(crm))}: the CRM cannot match the signups that arrive.",
                partner_user_id=partner,
            )
