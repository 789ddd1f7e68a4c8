"""The seed: deterministic, realistic, and full of things to practise on."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ctrader_admin.sandbox import TRAINING_MANAGERS, WHITE_LABELS, Sandbox, SandboxConfig, md5_hex
from ctrader_admin.sandbox.attribution_seed import DAY_MS, ROLES
from ctrader_admin.sandbox.languages import ISO_639_1
from ctrader_admin.sandbox.seed import SEED_ANCHOR_MS, SeedData, generate


@pytest.fixture(scope="module")
def seed() -> SeedData:
    return generate(20260101, 300)


def test_the_same_seed_gives_the_same_plant(seed: SeedData) -> None:
    assert generate(20260101, 300) == seed
    other = generate(1, 300)
    assert other.users[3:] != seed.users[3:]
    # The showcase users are the same whatever the seed.
    assert [u.email for u in other.users[:3]] == [u.email for u in seed.users[:3]]


def test_sizes_and_shares(seed: SeedData) -> None:
    users, traders, links = len(seed.users), len(seed.traders), len(seed.links)
    assert users == 300
    assert 1.3 <= traders / users <= 1.7
    assert 0.65 <= links / traders <= 0.85
    # Partner codes sit on partners only: a minority; most users are clients without one.
    partners = {u for u, _ in seed.user_referrals} | {
        link.user_id
        for link in seed.links
        if link.ctid_trader_account_id in dict(seed.account_referrals)
    }
    assert 0.04 <= len(partners) / users <= 0.15
    assert 200 <= len(seed.invitations) <= 400  # "a few hundred" Invite attributions
    assert 0.15 <= sum(1 for t in seed.traders if t.contact_introducing_broker1) / traders <= 0.5


def test_identifiers_are_unique_and_in_their_ranges(seed: SeedData) -> None:
    logins = [t.login for t in seed.traders]
    assert len(set(logins)) == len(logins)
    for trader in seed.traders:
        low = 5_200_000 if trader.environment == "live" else 3_100_000
        assert low < trader.login < low + 100_000
    assert {t.environment for t in seed.traders} == {"demo", "live"}
    stamps = [t.registration_ts for t in seed.traders]
    assert len(set(stamps)) == len(stamps)
    assert max(stamps) < SEED_ANCHOR_MS
    emails = [u.email.lower() for u in seed.users]
    assert len(set(emails)) == len(emails)
    ctids = [link.ctid_trader_account_id for link in seed.links]
    assert len(set(ctids)) == len(ctids)
    assert min(ctids) > 9_000_000
    assert len({link.trader_login for link in seed.links}) == len(seed.links)


def test_people_look_real(seed: SeedData) -> None:
    email = re.compile(r"[a-z0-9.]+@(example\.(com|net|org)|mail\.example|inbox\.test)")
    assert all(email.fullmatch(u.email) for u in seed.users)
    assert all(u.preferred_language.lower() in ISO_639_1 for u in seed.users)
    assert len({u.preferred_language.lower() for u in seed.users}) >= 8
    created = sorted(u.utc_create_ts for u in seed.users)
    assert created[-1] - created[0] > 2.5 * 365 * 86_400_000  # spread over about 3 years
    assert Counter(u.broker_name for u in seed.users).keys() == set(WHITE_LABELS)


def test_accounts_vary(seed: SeedData) -> None:
    assert {t.money_digits for t in seed.traders} == {0, 2, 8}
    assert {t.deposit_currency for t in seed.traders} >= {"USD", "EUR", "GBP", "JPY", "BTC"}
    assert len({t.access_rights for t in seed.traders}) == 4
    assert len({t.group_id for t in seed.traders}) >= 6
    assert all(t.password_md5 == md5_hex(f"trader-{t.login}") for t in seed.traders)
    assert any(t.balance == 0 for t in seed.traders)


def test_partner_codes_disagree_where_training_needs_it(seed: SeedData) -> None:
    user_level = dict(seed.user_referrals)
    account_level = dict(seed.account_referrals)
    owner = {link.ctid_trader_account_id: link.user_id for link in seed.links}
    differ = [
        ctid
        for ctid, code in account_level.items()
        if owner[ctid] in user_level and user_level[owner[ctid]] != code
    ]
    assert len(differ) >= 2
    holders: dict[str, set[int]] = {}
    for user_id, code in seed.user_referrals:
        holders.setdefault(code, set()).add(user_id)
    for ctid, code in seed.account_referrals:
        holders.setdefault(code, set()).add(owner[ctid])
    assert [code for code, users in holders.items() if len(users) > 1] != []
    assert user_level[1000001] == "IB-1042"
    assert account_level[9000001] == "IB-2077"
    assert owner[9000001] == 1000001
    assert sorted(set(seed.partner_roles.values())) == sorted(ROLES)


def test_the_same_clock_gives_the_same_recent_attributions(seed: SeedData) -> None:
    later = generate(20260101, 300, SEED_ANCHOR_MS + 400 * DAY_MS)
    assert later.users == seed.users
    assert later.traders == seed.traders
    moved = [
        (a.create_ts, b.create_ts)
        for a, b in zip(seed.invitations, later.invitations, strict=True)
        if a != b
    ]
    # Only the few "recent" rows follow the clock: by the clock's move, or less where the
    # client signed up within the last days before the earlier clock.
    assert 1 <= len(moved) <= 10
    assert all(0 < b - a <= 400 * DAY_MS for a, b in moved)
    assert sum(1 for a, b in moved if b - a == 400 * DAY_MS) >= len(moved) - 2


def test_the_seeded_sandbox_holds_the_generated_data(seed: SeedData) -> None:
    sandbox = Sandbox(SandboxConfig(users=300))
    try:
        assert len(sandbox.logins()) == len(seed.traders)
        assert len(sandbox.logins(linked=True)) == len(seed.links)
        trader = seed.traders[10]
        stored = sandbox.trader(trader.login)
        assert stored is not None
        assert stored["balance"] == trader.balance
        user_id, partner_id = seed.user_referrals[5]
        assert sandbox.referral(user_id=user_id) == partner_id
    finally:
        sandbox.close()


def test_training_managers_are_as_published() -> None:
    assert [(m.login, m.password, m.broker_names) for m in TRAINING_MANAGERS] == [
        (30001, "sandbox-manager", ("sandbox_main", "sandbox_eu")),
        (30002, "sandbox-limited", ("sandbox_main",)),
    ]


def test_tiny_plants_work() -> None:
    for users in (0, 1, 4):
        data = generate(3, users)
        assert len(data.users) == users
