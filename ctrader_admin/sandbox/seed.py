"""Deterministic seed data: the same seed, size and clock always give the same plant.

The first four users are a fixed showcase the --help text and training material point at:

- user 1000001 (sandbox_main), the starting partner case: user-level partnerId "IB-1042"; live
  account 5200001 linked with an account-level "IB-2077" (codes that differ by level); demo
  3100001 linked with none; live 5200002 not linked (to practise linking); the busiest
  inviter in cTrader Invite;
- user 1000002 (sandbox_eu): a partner with "AFF-EU-318" at user level and on live 5200003;
  demo 3100002 linked without one;
- user 1000003 (sandbox_offlimits): live 5200004 linked, out of reach of the training managers;
- user 1000004 (sandbox_main), the starting client case, live 5200005 linked: a client (no
  code) whom Invite and the CRM attribute to IB-1042 (Emily Carter), invited 20 days before
  the sandbox was seeded, while 5200005's introducingBroker1 says AFF-EU-318 (Lukas Becker).

Everyone after them is drawn from ``random.Random(seed)``; partners and attributions are
decided last (attribution_seed.py), so they never shift the people and accounts.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

from .attribution_seed import attribute
from .names import DESCRIPTIONS, EMAIL_DOMAINS, REGIONS_EU, REGIONS_WORLD, Region
from .records import Invitation, Link, Trader, TraderGroup, User
from .storage import FIRST_CTID_TRADER_ACCOUNT_ID, FIRST_USER_ID, Tx
from .training import (
    BROKER_CRM_NAME,
    ENVIRONMENTS,
    TRAINING_MANAGERS,
    WHITE_LABELS,
    md5_hex,
    trading_password,
)

# Seeded history ends here (2026-01-01T00:00:00Z) whatever the date, so a seed is reproducible.
SEED_ANCHOR_MS = 1_767_225_600_000
_DAY_MS = 86_400_000
_HISTORY_MS = 3 * 365 * _DAY_MS
FIRST_DEMO_LOGIN = 3_100_001
FIRST_LIVE_LOGIN = 5_200_001

TRADER_GROUPS: tuple[TraderGroup, ...] = (
    TraderGroup(1, "Retail_USD", "Retail clients, USD deposits"),
    TraderGroup(2, "Retail_EUR", "Retail clients, EUR deposits"),
    TraderGroup(3, "Retail_GBP", "Retail clients, GBP deposits"),
    TraderGroup(4, "Retail_JPY", "Retail clients, JPY deposits"),
    TraderGroup(5, "Pro_Raw", "Professional clients, raw spreads and commission"),
    TraderGroup(6, "Islamic", "Swap-free accounts"),
    TraderGroup(7, "Crypto_BTC", "BTC-denominated accounts"),
    TraderGroup(8, "Demo", "Demo accounts"),
)
_RETAIL_GROUP = {"USD": 1, "EUR": 2, "GBP": 3, "JPY": 4, "BTC": 7}
_PRO, _ISLAMIC, _DEMO = 5, 6, 8

# (currency, moneyDigits, weight, a typical balance in that currency)
_CURRENCIES = (("USD", 2, 45, 2_000.0), ("EUR", 2, 30, 1_800.0), ("GBP", 2, 12, 1_500.0))
_CURRENCIES_RARE = (("JPY", 0, 8, 300_000.0), ("BTC", 8, 5, 0.05))

_SHOWCASE_PEOPLE = (
    # (first, last, email, region index in REGIONS_WORLD/EU, White Label)
    ("Emily", "Carter", "emily.carter@example.com", REGIONS_WORLD[0], "sandbox_main"),
    ("Lukas", "Becker", "lukas.becker@example.net", REGIONS_EU[0], "sandbox_eu"),
    ("Sofia", "Rossi", "sofia.rossi@example.org", REGIONS_EU[3], "sandbox_offlimits"),
    ("Daniel", "Okafor", "daniel.okafor@example.com", REGIONS_WORLD[0], "sandbox_main"),
)


@dataclass
class SeedData:
    users: list[User] = field(default_factory=list)
    traders: list[Trader] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    user_referrals: list[tuple[int, str]] = field(default_factory=list)
    account_referrals: list[tuple[int, str]] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    crm_partners: list[tuple[int, str]] = field(default_factory=list)
    crm_clients: list[tuple[int, str, int]] = field(default_factory=list)
    partner_roles: dict[int, str] = field(default_factory=dict)


def seed_plant(tx: Tx, seed: int, users: int, now_ms: int) -> None:
    """Fill an empty database: plant, managers, groups, then the generated people."""
    for name in WHITE_LABELS:
        tx.add_white_label(name, BROKER_CRM_NAME)
    for name in ENVIRONMENTS:
        tx.add_environment(name)
    for manager in TRAINING_MANAGERS:
        tx.add_manager(
            manager.login,
            md5_hex(manager.password),
            manager.token,
            manager.description,
            manager.broker_names,
        )
    tx.add_trader_groups(TRADER_GROUPS)
    data = generate(seed, users, now_ms)
    tx.add_users(data.users)
    tx.add_traders(data.traders)
    tx.add_links(data.links)
    for user_id, partner_id in data.user_referrals:
        tx.set_user_referral(user_id, partner_id)
    for ctid_trader_account_id, partner_id in data.account_referrals:
        tx.set_account_referral(ctid_trader_account_id, partner_id)
    tx.add_invitations(sorted(data.invitations, key=lambda i: i.create_ts))
    tx.add_crm_partners(data.crm_partners)
    tx.add_crm_clients(data.crm_clients)


def generate(seed: int, users: int, now_ms: int = SEED_ANCHOR_MS) -> SeedData:
    """``now_ms``: the sandbox clock at seeding; the few "recent" attributions precede it."""
    return _Generator(random.Random(seed)).run(users, now_ms)


class _Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.data = SeedData()
        self.emails: set[str] = set()
        self.registrations: set[int] = set()
        self.next_login = {"demo": FIRST_DEMO_LOGIN, "live": FIRST_LIVE_LOGIN}
        self.next_link_id = FIRST_CTID_TRADER_ACCOUNT_ID + 1

    def run(self, users: int, now_ms: int) -> SeedData:
        showcase = min(users, len(_SHOWCASE_PEOPLE))
        start = SEED_ANCHOR_MS - _HISTORY_MS
        created = sorted(
            self.rng.randrange(start + 30 * _DAY_MS, SEED_ANCHOR_MS - _DAY_MS)
            for _ in range(users - showcase)
        )
        for index in range(showcase):
            self._showcase(index, start + index * 3_600_000)
        for offset, created_ms in enumerate(created):
            self._random_user(FIRST_USER_ID + showcase + offset, created_ms)
        data = self.data
        found = attribute(
            self.rng,
            data.users,
            data.links,
            data.traders,
            showcase=showcase,
            anchor_ms=SEED_ANCHOR_MS,
            now_ms=now_ms,
        )
        data.user_referrals, data.account_referrals = found.user_referrals, found.account_referrals
        data.invitations, data.crm_partners = found.invitations, found.crm_partners
        data.crm_clients, data.partner_roles = found.crm_clients, found.roles
        return data

    # --- the fixed showcase --------------------------------------------------------------------

    def _showcase(self, index: int, created_ms: int) -> None:
        first, last, email, region, broker = _SHOWCASE_PEOPLE[index]
        user = self._add_user(FIRST_USER_ID + index, email, broker, region.language, created_ms)
        person = (first, last, region)
        if index == 0:
            live = self._add_trader(
                user, person, "live", broker, currency=("USD", 2, 0, 2000.0), gaps=False
            )
            demo = self._add_trader(
                user, person, "demo", broker, currency=("USD", 2, 0, 2000.0), gaps=False
            )
            self._add_trader(
                user, person, "live", broker, currency=("EUR", 2, 0, 1800.0), gaps=False
            )
            self._link(user, live)
            self._link(user, demo)
        elif index == 1:
            live = self._add_trader(
                user, person, "live", broker, currency=("EUR", 2, 0, 1800.0), gaps=False
            )
            self._link(user, live)
            demo = self._add_trader(
                user, person, "demo", broker, currency=("EUR", 2, 0, 1800.0), gaps=False
            )
            self._link(user, demo)
        elif index == 2:
            live = self._add_trader(
                user, person, "live", broker, currency=("EUR", 2, 0, 1800.0), gaps=False
            )
            self._link(user, live)
        else:
            live = self._add_trader(
                user, person, "live", broker, currency=("USD", 2, 0, 2000.0), gaps=False
            )
            self._link(user, live)

    # --- everybody else ------------------------------------------------------------------------

    def _random_user(self, user_id: int, created_ms: int) -> None:
        rng = self.rng
        broker = rng.choices(WHITE_LABELS, weights=(60, 33, 7))[0]
        regions = REGIONS_EU if broker == "sandbox_eu" else REGIONS_WORLD + REGIONS_EU
        region = rng.choice(regions)
        first = rng.choice(region.first_names).replace("_", " ")
        last = rng.choice(region.last_names).replace("_", " ")
        language = region.language.upper() if rng.random() < 0.15 else region.language
        user = self._add_user(user_id, self._email(first, last), broker, language, created_ms)

        accounts = rng.choices((0, 1, 2, 3), weights=(10, 45, 30, 15))[0]
        for _ in range(accounts):
            environment = "live" if rng.random() < 0.6 else "demo"
            # Use case 8.8: now and then a user holds an account on another White Label.
            account_broker = broker if rng.random() < 0.9 else rng.choice(WHITE_LABELS[:2])
            trader = self._add_trader(user, (first, last, region), environment, account_broker)
            if rng.random() >= 0.75:
                continue  # left unlinked, to practise linking
            self._link(user, trader)

    # --- building blocks -----------------------------------------------------------------------

    def _add_user(
        self, user_id: int, email: str, broker: str, language: str, created_ms: int
    ) -> User:
        self.emails.add(email)
        user = User(
            user_id=user_id,
            email=email,
            nickname=f"ctid{user_id}",
            broker_name=broker,
            preferred_language=language,
            status="CTID_ACTIVE" if self.rng.random() < 0.85 else "CTID_NEW",
            utc_create_ts=created_ms,
        )
        self.data.users.append(user)
        return user

    def _email(self, first: str, last: str) -> str:
        f, l = _ascii(first), _ascii(last)  # noqa: E741 - first/last initials read naturally
        rng = self.rng
        patterns = (f"{f}.{l}", f"{f[:1]}{l}", f"{f}{l}{rng.randrange(1, 99)}", f"{l}.{f}")
        local = rng.choice(patterns)
        domain = rng.choice(EMAIL_DOMAINS)
        email = f"{local}@{domain}"
        while email in self.emails:
            email = f"{local}{rng.randrange(100, 9999)}@{domain}"
        return email

    def _link(self, user: User, trader: Trader) -> int:
        link_id = self.next_link_id
        self.next_link_id += 1
        self.data.links.append(Link(link_id, user.user_id, trader.login, trader.environment))
        return link_id

    def _add_trader(
        self,
        user: User,
        person: tuple[str, str, Region],
        environment: str,
        broker: str,
        currency: tuple[str, int, int, float] | None = None,
        *,
        gaps: bool = True,
    ) -> Trader:
        rng = self.rng
        first, last, region = person
        login = self.next_login[environment]
        # Gaps between logins, as on a real plant; none in the showcase, whose logins are
        # published (--help) whatever the seed.
        self.next_login[environment] += 1 + (rng.choice((0, 0, 0, 1, 2)) if gaps else 0)
        code, digits, _, typical = (
            currency
            or rng.choices(
                _CURRENCIES + _CURRENCIES_RARE,
                weights=[c[2] for c in _CURRENCIES + _CURRENCIES_RARE],
            )[0]
        )
        registered = self._registration(user.utc_create_ts)
        money = _Money(rng, typical, digits, demo=environment == "demo")
        group = self._group(code, environment)
        account_type = rng.choices(("HEDGED", "NETTED", "SPREAD_BETTING"), weights=(70, 25, 5))[0]
        if account_type == "SPREAD_BETTING" and code != "GBP":
            account_type = "HEDGED"  # spread betting is a UK product
        leverage = rng.choice((200, 500, 1000)) if code == "BTC" else rng.choice(_LEVERAGES)
        city, state, zip_pattern = rng.choice(region.cities)
        trader = Trader(
            login=login,
            environment=environment,
            password_md5=md5_hex(trading_password(login)),
            group_id=group,
            broker_name=broker,
            deposit_currency=code,
            name=first,
            last_name=last,
            description=rng.choice(DESCRIPTIONS),
            access_rights=rng.choices(
                ("FULL_ACCESS", "CLOSE_ONLY", "NO_TRADING", "NO_LOGIN"), weights=(85, 6, 5, 4)
            )[0],
            account_type=account_type,
            balance=money.balance,
            bonus=money.bonus,
            non_withdrawable_bonus=money.credit,
            equity=money.equity,
            used_margin=money.used_margin,
            free_margin=money.equity - money.used_margin,
            cash_equity=money.balance + money.pnl,
            money_digits=digits,
            leverage_in_cents=leverage,
            max_leverage=max(leverage, rng.choice(_LEVERAGES)),
            total_margin_calculation_type=rng.choices(("MAX", "SUM", "NET"), weights=(70, 15, 15))[
                0
            ],
            is_limited_risk=rng.random() < 0.05,
            swap_free=group == _ISLAMIC,
            send_own_statement=rng.random() < 0.9,
            send_statement_to_broker=rng.random() < 0.15,
            registration_ts=registered,
            last_update_ts=rng.randrange(registered, SEED_ANCHOR_MS),
            last_connection_ts=rng.randrange(registered, SEED_ANCHOR_MS),
            contact_address=f"{rng.randrange(1, 180)} {rng.choice(region.streets)}".replace(
                "_", " "
            ),
            contact_city=city,
            contact_country_id=region.country_id,
            contact_email=user.email,
            contact_phone=f"{region.phone_prefix} {rng.randrange(10**8, 10**9)}",
            contact_state=state,
            contact_zip_code=_fill_digits(rng, zip_pattern),
            # Partner labels are decided with the attributions (attribution_seed.py).
            contact_introducing_broker1="",
            contact_introducing_broker2="",
        )
        self.data.traders.append(trader)
        return trader

    def _registration(self, user_created_ms: int) -> int:
        """A unique registration time, up to 90 days after the user, never after the anchor."""
        moment = min(user_created_ms + self.rng.randrange(60_000, 90 * _DAY_MS), SEED_ANCHOR_MS - 1)
        while moment in self.registrations:
            moment -= 1
        self.registrations.add(moment)
        return moment

    def _group(self, currency: str, environment: str) -> int:
        if environment == "demo":
            return _DEMO
        draw = self.rng.random()
        if draw < 0.05 and currency != "BTC":
            return _ISLAMIC
        if draw < 0.20 and currency in ("USD", "EUR", "GBP"):
            return _PRO
        return _RETAIL_GROUP[currency]


def _fill_digits(rng: random.Random, pattern: str) -> str:
    """A postcode from a pattern such as "10###" (each # becomes a digit)."""
    return "".join(str(rng.randrange(10)) if c == "#" else c for c in pattern)


_LEVERAGES = (3_000, 5_000, 10_000, 20_000, 50_000, 100_000)


class _Money:
    """Plausible balances for one account, scaled by 10**digits as the API sends them."""

    def __init__(self, rng: random.Random, typical: float, digits: int, *, demo: bool) -> None:
        scale = 10**digits
        if demo:
            units = rng.choice((1_000.0, 10_000.0, 50_000.0, 100_000.0)) * typical / 2_000.0
        elif rng.random() < 0.1:
            units = 0.0  # opened, never funded
        else:
            units = min(rng.lognormvariate(0.0, 1.2) * typical, typical * 1_000)
        self.balance = round(units * scale)
        self.bonus = round(self.balance * 0.05) if rng.random() < 0.10 else 0
        self.credit = round(self.balance * 0.10) if rng.random() < 0.08 else 0
        in_market = self.balance > 0 and rng.random() < 0.4
        self.used_margin = round(self.balance * rng.uniform(0.02, 0.4)) if in_market else 0
        self.pnl = round(self.balance * rng.uniform(-0.1, 0.1)) if in_market else 0
        self.equity = self.balance + self.bonus + self.credit + self.pnl


_ASCII_FALLBACKS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "ß": "ss", "ı": "i", "đ": "d"})


def _ascii(name: str) -> str:
    """A name as an e-mail local part, in lowercase ASCII ("Wiśniewski" -> "wisniewski")."""
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII_FALLBACKS))
    return "".join(c for c in folded.encode("ascii", "ignore").decode().lower() if c.isalnum())
