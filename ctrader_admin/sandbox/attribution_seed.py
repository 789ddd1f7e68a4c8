"""Who is a partner and who referred whom, drawn after the plant's people and accounts exist.

docs/partners-and-attribution.md: a partner code (partnerId) is registered on a *partner's* own user
or account; most users are clients and carry none. Clients are attributed to partners by four
sources that do not always agree — cTrader Invite rows, the accounts' introducingBroker1/2
labels, the broker's CRM (only visible through the --export-crm CSV) — and the seed makes every
disagreement the app must flag exist at least once (see ``ROLES`` and ``_special_rows``).

Seeded history ends at the seed's anchor, so nearly every attribution is long past a guaranteed
period of 90 days; a handful are stamped a few days before ``now_ms`` (the sandbox clock when it
was seeded) so that "still inside the period" exists too.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from .records import Invitation, Link, Trader, User

DAY_MS = 86_400_000
OFF_LIMITS = "sandbox_offlimits"  # no training manager may touch it (training.py)

# The fixed showcase (seed.py): a partner with codes that differ by level, a clean partner, an
# off-limits user, and the client case --help points trainees at.
SHOWCASE_PARTNER = 1_000_001  # IB-1042 at user level, IB-2077 on live 5200001's link
SHOWCASE_EU_PARTNER = 1_000_002  # AFF-EU-318 at user level and on live 5200003's link
SHOWCASE_CLIENT = 1_000_004  # Invite and CRM: IB-1042 (recent); his account's label: AFF-EU-318
SHOWCASE_CLIENT_INVITED_DAYS_AGO = 20

# A code that no partner carries anywhere (cTrader, CRM): an Invite row and a label point to it.
ORPHAN_CODE = "IB-0404"
# A master IB above some partners: the second-level label on a few of their clients' accounts.
MASTER_CODE = "IB-1042"

# Codes for the generated partners, before made-up ones (one non-ASCII on purpose).
CODE_POOL = (
    "IB-3315",
    "IB-4410",
    "IB-5120",
    "AFF-EU-502",
    "AFF-UK-027",
    "AFF-UK-114",
    "PARTNER-77",
    "PARTNER-209",
    "CRM-00981",
    "IB-Müller-9",
)

# One generated partner per role, in this order, then "filler" roles for the rest:
#   user / account / both: the code at that level (both: the same code at both), CRM agrees;
#   shared: an account-level code that the first "user" partner also carries (CRM: its own);
#   differ: different codes at user and at account level;
#   crm_differs: cTrader says one code, the CRM another;
#   crm_only: known to the CRM, no code in cTrader (flow 2 never completed);
#   invite_only: invites through cTrader Invite, unknown to the CRM and without any code.
ROLES = ("user", "shared", "differ", "account", "both", "crm_differs", "crm_only", "invite_only")
_FILLER_ROLES = ("user", "both", "account", "user")
_NEEDS_LINK = frozenset({"shared", "differ", "account", "both"})
_PARTNER_SHARE = 0.08
# Below this many generated users, partners stay the showcase's (every role would be a majority).
_MIN_CANDIDATES = 5 * len(ROLES)
_INVITED_SHARE = 0.8
_REATTRIBUTED = 3
_RECENT = 6
_LABEL_DISAGREEMENTS = 4
_CRM_DISAGREEMENTS = 3


@dataclass
class Attribution:
    """Everything the pass decides; seed.py stores it."""

    user_referrals: list[tuple[int, str]] = field(default_factory=list)
    account_referrals: list[tuple[int, str]] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    crm_partners: list[tuple[int, str]] = field(default_factory=list)
    # (client userId, partner code, attributed at ms)
    crm_clients: list[tuple[int, str, int]] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)  # partner userId -> role (for tests)


def attribute(
    rng: random.Random,
    users: Sequence[User],
    links: Sequence[Link],
    traders: list[Trader],
    *,
    showcase: int,
    anchor_ms: int,
    now_ms: int,
) -> Attribution:
    """Decide partners, codes, Invite rows, CRM rows; rewrite ``traders``' IB labels in place."""
    return _Pass(rng, users, links, anchor_ms, now_ms).run(traders, showcase)


class _Pass:
    def __init__(
        self,
        rng: random.Random,
        users: Sequence[User],
        links: Sequence[Link],
        anchor_ms: int,
        now_ms: int,
    ) -> None:
        self.rng = rng
        self.users = {u.user_id: u for u in users}
        self.order = [u.user_id for u in users]
        self.links: dict[int, list[Link]] = {}
        for link in links:
            self.links.setdefault(link.user_id, []).append(link)
        self.anchor_ms, self.now_ms = anchor_ms, now_ms
        self.out = Attribution()
        self.crm_code: dict[int, str] = {}  # partner -> code in the CRM
        self.link_code: dict[int, str] = {}  # partner -> code its shared links carry
        self.used_codes = {MASTER_CODE, "IB-2077", "AFF-EU-318", ORPHAN_CODE}
        self.pool = iter(CODE_POOL)
        self.labels: dict[int, str] = {}  # client -> the code for introducingBroker1
        self.fixed_labels: set[int] = set()  # labels set on purpose: never redrawn

    def run(self, traders: list[Trader], showcase: int) -> Attribution:
        self._showcase_partners()
        self._generated_partners(self.order[showcase:])
        clients = [u for u in self.order if u not in self.out.roles and u != SHOWCASE_CLIENT]
        # Kept out of the ordinary invitations: the orphan-code client and the recent ones.
        visible = [c for c in clients if self._visible(c)]
        reserved = (
            self.rng.sample(visible, 1 + _RECENT)
            if {"user", "invite_only"} <= set(self.out.roles.values())
            and len(visible) > 2 * (1 + _RECENT)
            else []
        )
        self._invitations([c for c in clients if c not in reserved])
        self._special_rows(reserved)
        self._crm_clients(clients)
        self._label_traders(traders)
        return self.out

    # --- partners ------------------------------------------------------------------------------

    def _showcase_partners(self) -> None:
        if SHOWCASE_PARTNER in self.users:
            self._register(SHOWCASE_PARTNER, "differ", user="IB-1042", account="IB-2077")
            self.link_code[SHOWCASE_PARTNER] = "IB-1042"
        if SHOWCASE_EU_PARTNER in self.users:
            self._register(SHOWCASE_EU_PARTNER, "both", user="AFF-EU-318", account="AFF-EU-318")

    def _generated_partners(self, candidates: list[int]) -> None:
        if len(candidates) < _MIN_CANDIDATES:
            return  # a tiny plant: the showcase partners only
        wanted = max(len(ROLES), round(len(candidates) * _PARTNER_SHARE))
        remaining = self.rng.sample(candidates, len(candidates))
        roles = list(ROLES) + [_FILLER_ROLES[i % 4] for i in range(wanted - len(ROLES))]
        first_user_code: str | None = None
        for number, role in enumerate(roles):
            # The conflict showcases stay within the training managers' reach.
            index = next(
                (
                    i
                    for i, u in enumerate(remaining)
                    if (role not in _NEEDS_LINK or self.links.get(u))
                    and (number >= len(ROLES) or self._visible(u))
                ),
                None,
            )
            if index is None:
                continue
            partner = remaining.pop(index)
            code = self._new_code(partner)
            if role == "user":
                self._register(partner, role, user=code)
                first_user_code = first_user_code or code
            elif role == "shared" and first_user_code is not None:
                self._register(partner, role, account=first_user_code, crm=code)
            elif role == "differ":
                self._register(partner, role, user=code, account=self._new_code(partner))
            elif role == "account":
                self._register(partner, role, account=code)
            elif role == "both":
                self._register(partner, role, user=code, account=code)
            elif role == "crm_differs":
                self._register(partner, role, user=code, crm=self._new_code(partner))
            elif role == "crm_only":
                self._register(partner, role, crm=code)
            elif role == "invite_only":
                self._register(partner, role, crm=None)

    def _register(
        self,
        partner: int,
        role: str,
        *,
        user: str | None = None,
        account: str | None = None,
        crm: str | None = "",
    ) -> None:
        """Codes in cTrader (user level, the first link) and in the CRM ("" = the cTrader code;
        None = unknown to the CRM)."""
        self.out.roles[partner] = role
        if user is not None:
            self.out.user_referrals.append((partner, user))
        if account is not None:
            self.out.account_referrals.append(
                (self.links[partner][0].ctid_trader_account_id, account)
            )
        carried = account or user
        crm_code = (user or account) if crm == "" else crm
        if crm_code is not None:
            self.crm_code[partner] = crm_code
            self.out.crm_partners.append((partner, crm_code))
        if carried is not None:
            self.link_code.setdefault(partner, carried)

    def _visible(self, user_id: int) -> bool:
        return self.users[user_id].broker_name != OFF_LIMITS

    def _new_code(self, partner: int) -> str:
        code = next(self.pool, None)
        while code is None or code in self.used_codes:
            prefix = "AFF-EU-" if self.users[partner].broker_name == "sandbox_eu" else "IB-"
            code = f"{prefix}{self.rng.randrange(100, 9999)}"
        self.used_codes.add(code)
        return code

    # --- cTrader Invite ------------------------------------------------------------------------

    def _invitations(self, clients: list[int]) -> None:
        partners = list(self.out.roles)
        if not partners:
            return
        # The showcase partner is the busiest, so her case has referrals to browse.
        weights = [4 if p == SHOWCASE_PARTNER else 1 for p in partners]
        for client in clients:
            if self.rng.random() >= _INVITED_SHARE:
                continue
            partner = self.rng.choices(partners, weights)[0]
            created = self.users[client].utc_create_ts
            if self.rng.random() < 0.8:  # signed up through the partner's link
                at = created + self.rng.randrange(5_000, 600_000)
            else:  # an existing user who followed a link later
                at = min(
                    created + self.rng.randrange(DAY_MS, 200 * DAY_MS), self.anchor_ms - DAY_MS
                )
            self._invite(client, partner, max(at, created + 1_000))
        if SHOWCASE_CLIENT in self.users and SHOWCASE_PARTNER in self.users:
            days_ago = SHOWCASE_CLIENT_INVITED_DAYS_AGO * DAY_MS
            self._invite(SHOWCASE_CLIENT, SHOWCASE_PARTNER, self._recent(SHOWCASE_CLIENT, days_ago))
            self.labels[SHOWCASE_CLIENT] = "AFF-EU-318"
            self.fixed_labels.add(SHOWCASE_CLIENT)

    def _special_rows(self, reserved: list[int]) -> None:
        """Needs the "user" and "invite_only" partners (run() reserves clients only then)."""
        roles = self.out.roles
        if not reserved:
            return
        partners = [p for p in roles if p != SHOWCASE_PARTNER]
        invited = self._first_invitations()
        # Re-attributed after the guaranteed period: a later row naming another partner.
        movable = [
            c
            for c, row in invited.items()
            if row.create_ts < self.anchor_ms - 150 * DAY_MS and self._visible(c)
        ]
        for client in self.rng.sample(movable, min(_REATTRIBUTED, len(movable))):
            first = invited[client]
            other = self.rng.choice([p for p in partners if p != first.partner_user_id])
            self._invite(client, other, first.create_ts + self.rng.randrange(95, 140) * DAY_MS)
        # Self-referral: a partner "invited" by their own link.
        selfish = next(p for p in partners if roles[p] == "user")
        self._invite(selfish, selfish, self.users[selfish].utc_create_ts + 60_000)
        # A client attributed to a code nobody carries (in Invite and in an account label).
        orphan, *recent = reserved
        orphan_partner = next(p for p in partners if roles[p] == "invite_only")
        created = self.users[orphan].utc_create_ts
        self._invite(orphan, orphan_partner, created + 90_000, code=ORPHAN_CODE)
        self.labels[orphan] = ORPHAN_CODE
        self.fixed_labels.add(orphan)
        # Inside a 90-day guaranteed period: invited a few days before the sandbox's now.
        for client in recent:
            partner = self.rng.choice(partners)
            self._invite(client, partner, self._recent(client, self.rng.randrange(2, 60) * DAY_MS))

    def _invite(self, client: int, partner: int, at: int, *, code: str | None = None) -> None:
        broker_partner_id = code if code is not None else self.crm_code.get(partner)
        self.out.invitations.append(
            Invitation(client, partner, broker_partner_id, self.users[client].broker_name, at)
        )
        if code is None and partner in self.link_code and client != partner:
            self.labels[client] = self.link_code[partner]

    def _recent(self, client: int, ago_ms: int) -> int:
        return max(self.now_ms - ago_ms, self.users[client].utc_create_ts + 60_000)

    def _first_invitations(self) -> dict[int, Invitation]:
        first: dict[int, Invitation] = {}
        for row in sorted(self.out.invitations, key=lambda r: r.create_ts):
            first.setdefault(row.invited_user_id, row)
        return first

    # --- the CRM and the account labels --------------------------------------------------------

    def _crm_clients(self, clients: list[int]) -> None:
        """The CRM keeps the first attribution it saw; a few rows disagree with Invite, and a
        few clients came through a signup link with partnerId that Invite never saw."""
        codes = sorted(set(self.crm_code.values()))
        if not codes:
            return
        first = self._first_invitations()
        disagree = set(self.rng.sample(sorted(first), min(_CRM_DISAGREEMENTS, len(first))))
        for client in sorted(set(clients) | {SHOWCASE_CLIENT} & set(self.users)):
            row = first.get(client)
            code = None if row is None else row.broker_partner_id
            if row is not None and code in codes and client != row.partner_user_id:
                if client in disagree and client != SHOWCASE_CLIENT:
                    code = self.rng.choice([c for c in codes if c != code])
                self.out.crm_clients.append((client, code, row.create_ts))
            elif row is None and self.rng.random() < 0.1:
                created = self.users[client].utc_create_ts
                self.out.crm_clients.append((client, self.rng.choice(codes), created))

    def _label_traders(self, traders: list[Trader]) -> None:
        """introducingBroker1 carries the code of the partner's links on about half of an
        attributed client's accounts; a few disagree; a few name a master IB at level 2."""
        codes = sorted(set(self.link_code.values()))
        owner = {link.trader_login: link.user_id for links in self.links.values() for link in links}
        linked = set(owner.values())
        labelled = sorted(c for c in set(self.labels) - self.fixed_labels if c in linked)
        for client in self.rng.sample(labelled, min(_LABEL_DISAGREEMENTS, len(labelled))):
            self.labels[client] = self.rng.choice([c for c in codes if c != self.labels[client]])
            self.fixed_labels.add(client)
        for index, trader in enumerate(traders):
            holder = owner.get(trader.login)
            if holder is None or holder not in self.labels:
                continue
            fixed = holder in self.fixed_labels  # set on purpose: on every account, level 1 only
            if not fixed and self.rng.random() >= 0.5:
                continue
            level2 = MASTER_CODE if not fixed and self.rng.random() < 0.1 else ""
            traders[index] = dataclasses.replace(
                trader,
                contact_introducing_broker1=self.labels[holder],
                contact_introducing_broker2=level2,
            )
