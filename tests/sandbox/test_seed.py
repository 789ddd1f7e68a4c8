"""The seed: deterministic, realistic, and full of things to practise on."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ctrader_admin.sandbox import TRAINING_MANAGERS, WHITE_LABELS, Sandbox, SandboxConfig, md5_hex
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
    assert 0.28 <= len(seed.user_referrals) / users <= 0.42
    assert 0.18 <= len(seed.account_referrals) / links <= 0.32


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


def test_attribution_mismatches_exist(seed: SeedData) -> None:
    user_level = dict(seed.user_referrals)
    account_level = dict(seed.account_referrals)
    links_by_user: dict[int, list[int]] = {}
    for link in seed.links:
        links_by_user.setdefault(link.user_id, []).append(link.ctid_trader_account_id)
    disagree = [
        ctid
        for link in seed.links
        if (ctid := link.ctid_trader_account_id) in account_level
        and link.user_id in user_level
        and account_level[ctid] != user_level[link.user_id]
    ]
    agree = [
        link
        for link in seed.links
        if account_level.get(link.ctid_trader_account_id) == user_level.get(link.user_id, "-")
    ]
    siblings_missing = [
        user
        for user, ctids in links_by_user.items()
        if any(c in account_level for c in ctids) and any(c not in account_level for c in ctids)
    ]
    account_only = [
        link
        for link in seed.links
        if link.ctid_trader_account_id in account_level and link.user_id not in user_level
    ]
    assert len(disagree) >= 3
    assert len(agree) >= 10
    assert len(siblings_missing) >= 5
    assert len(account_only) >= 3
    assert user_level[1000001] == "IB-1042"
    assert "IB-2077" in account_level.values()


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
