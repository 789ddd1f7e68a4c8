from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ctrader_admin.store.directory import (
    SOURCE_CREATED,
    SOURCE_LINKED,
    SOURCE_READ,
    Directory,
    ImportCounts,
)
from ctrader_admin.store.directory_csv import ImportRow
from ctrader_admin.store.sql import Store

P = "acme-live"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def directory(store: Store) -> Directory:
    """Every directory test runs on SQLite and on the team database (conftest ``store``)."""
    return Directory(store)


def test_upsert_user_and_read_back(directory: Directory) -> None:
    user = directory.upsert_user(
        P, 123, source=SOURCE_CREATED, email=" Alice@Example.com ", broker_name="acme",
        preferred_language="en", created_ms=1680163530801, observed_at=T0,
    )  # fmt: skip
    assert user.email == "Alice@Example.com"
    assert user.updated_at == "2024-05-01T12:00:00.000Z"
    assert directory.user(P, 123) == user
    assert directory.user("other-profile", 123) is None
    assert directory.users_by_email(P, "ALICE@example.COM") == [user]
    assert directory.users_by_email(P, "bob@example.com") == []


def test_none_never_erases_and_newer_facts_win(directory: Directory) -> None:
    directory.upsert_user(P, 1, source=SOURCE_CREATED, email="a@x.io", broker_name="acme",
                          observed_at=T0)  # fmt: skip
    merged = directory.upsert_user(P, 1, source=SOURCE_READ, preferred_language="de",
                                   observed_at=T0 + timedelta(hours=1))  # fmt: skip
    assert (merged.email, merged.broker_name, merged.preferred_language) == ("a@x.io", "acme", "de")
    assert merged.source == SOURCE_READ

    newer = directory.upsert_user(P, 1, source=SOURCE_READ, email="new@x.io",
                                  observed_at=T0 + timedelta(hours=2))  # fmt: skip
    assert newer.email == "new@x.io"
    assert directory.users_by_email(P, "a@x.io") == []

    # An older fact only fills gaps.
    older = directory.upsert_user(P, 1, source="import", email="old@x.io", created_ms=5,
                                  observed_at=T0 - timedelta(days=1))  # fmt: skip
    assert older.email == "new@x.io"
    assert older.created_ms == 5
    assert older.source == SOURCE_READ
    assert older.updated_at == "2024-05-01T14:00:00.000Z"


def test_blank_text_is_no_fact(directory: Directory) -> None:
    directory.upsert_user(P, 1, source=SOURCE_CREATED, email="a@x.io")
    assert directory.upsert_user(P, 1, source=SOURCE_READ, email="  ").email == "a@x.io"


def test_accounts_and_links(directory: Directory) -> None:
    account = directory.upsert_account(
        P, 9000012, "demo", source=SOURCE_READ, broker_name="acme", deposit_currency="EUR",
        group_name="retail", registered_ms=1, observed_at=T0,
    )  # fmt: skip
    assert account.user_id is None
    link = directory.upsert_link(
        P, 555, user_id=123, login=9000012, environment="demo", broker_name="acme",
        source=SOURCE_LINKED, observed_at=T0 + timedelta(minutes=1),
    )  # fmt: skip
    assert directory.link_by_ctid(P, 555) == link
    assert directory.links_for_login(P, 9000012) == [link]
    assert directory.links_for_login(P, 9000012, "live") == []
    assert directory.links_for_user(P, 123) == [link]
    owned = directory.account(P, 9000012, "demo")
    assert owned is not None
    assert owned.user_id == 123  # the link told who owns the account
    assert owned.deposit_currency == "EUR"  # and erased nothing
    assert directory.accounts_for_user(P, 123) == [owned]
    assert directory.accounts_for_login(P, 9000012) == [owned]
    assert directory.link_by_ctid(P, 556) is None


def test_link_without_environment_does_not_invent_an_account(directory: Directory) -> None:
    directory.upsert_link(P, 555, user_id=1, login=2, source=SOURCE_LINKED)
    assert directory.accounts_for_login(P, 2) == []
    assert directory.links_for_login(P, 2)[0].environment is None


def test_move_account_wl(directory: Directory) -> None:
    directory.upsert_link(P, 555, user_id=1, login=2, environment="live", broker_name="old",
                          source=SOURCE_LINKED, observed_at=T0)  # fmt: skip
    directory.upsert_link(P, 556, user_id=1, login=2, environment="demo", broker_name="old",
                          source=SOURCE_LINKED, observed_at=T0)  # fmt: skip
    moved = directory.move_account_wl(P, 2, "live", "new", observed_at=T0 + timedelta(hours=1))
    assert moved.broker_name == "new"
    assert moved.user_id == 1
    link_live = directory.link_by_ctid(P, 555)
    link_demo = directory.link_by_ctid(P, 556)
    assert link_live is not None
    assert link_live.broker_name == "new"
    assert link_demo is not None
    assert link_demo.broker_name == "old"
    # an account the directory never saw is recorded by the move
    assert directory.move_account_wl(P, 77, "demo", "new").login == 77


def test_profiles_are_separate(directory: Directory) -> None:
    directory.upsert_user(P, 1, source=SOURCE_CREATED, email="a@x.io")
    directory.upsert_user("other", 1, source=SOURCE_CREATED, email="b@x.io")
    assert [u.email for u in directory.users_by_email(P, "a@x.io")] == ["a@x.io"]
    assert directory.users_by_email("other", "a@x.io") == []
    assert directory.search("other", "a@") == []


def test_search_by_prefix(directory: Directory) -> None:
    directory.upsert_user(P, 123, source=SOURCE_CREATED, email="alice@example.com")
    directory.upsert_user(P, 1234, source=SOURCE_CREATED, email="alfred@example.com")
    directory.upsert_user(P, 99, source=SOURCE_CREATED, email="123go@example.com")
    directory.upsert_account(P, 12300, "demo", source=SOURCE_READ, user_id=123)
    directory.upsert_link(P, 1239, user_id=123, login=12300, environment="demo",
                          source=SOURCE_LINKED)  # fmt: skip

    hits = directory.search(P, "AL")
    assert {h.email for h in hits} == {"alice@example.com", "alfred@example.com"}
    assert directory.search(P, "alice@example.com")[0].exact

    hits = directory.search(P, "123")
    assert hits[0].kind == "user"
    assert hits[0].user_id == 123
    assert hits[0].exact
    kinds = {(h.kind, h.user_id, h.login, h.ctid_trader_account_id) for h in hits}
    assert ("user", 1234, None, None) in kinds
    assert ("user", 99, None, None) in kinds  # the email starts with 123
    assert ("account", 123, 12300, None) in kinds
    assert ("link", 123, 12300, 1239) in kinds
    assert len(directory.search(P, "123", limit=2)) == 2
    assert directory.search(P, "  ") == []
    assert directory.search(P, "0123") == []
    assert directory.search(P, "9" * 25) == []


def test_search_handles_the_largest_ids(directory: Directory) -> None:
    big = 2**63 - 1
    directory.upsert_user(P, big, source=SOURCE_READ)
    assert [h.user_id for h in directory.search(P, str(big)[:5])] == [big]


def test_import_rows_writes_users_accounts_links(directory: Directory) -> None:
    rows = [
        ImportRow(2, 123, "a@x.io", 9000012, 555, "acme", "demo"),
        ImportRow(3, 123, "a@x.io", 9000013, None, "acme_eu", "live"),
        ImportRow(4, 124, "b@x.io", broker_name="acme"),
    ]
    counts = directory.import_rows(P, rows, observed_at=T0)
    assert counts == ImportCounts(users=2, accounts=2, links=1)
    user = directory.user(P, 124)
    assert user is not None
    assert user.broker_name == "acme"
    assert user.source == "import"
    first = directory.user(P, 123)
    assert first is not None
    assert first.broker_name is None
    live = directory.account(P, 9000013, "live")
    assert live is not None
    assert live.user_id == 123
    assert live.broker_name == "acme_eu"
    link = directory.link_by_ctid(P, 555)
    assert link is not None
    assert (link.login, link.environment) == (9000012, "demo")


def test_preview_then_import(directory: Directory) -> None:
    preview = directory.preview_csv(
        "userId,email,login,ctidTraderAccountId,brokerName,environment\n"
        "123,a@x.io,9000012,555,acme,demo\n"
    )
    assert not preview.errors
    assert directory.import_rows(P, preview.rows_ok) == ImportCounts(1, 1, 1)


@pytest.mark.parametrize("text", ["12²", "١٢٣", "１２３", "1" * 5000, "+123"])
def test_search_with_non_ascii_or_oversized_numerals_matches_no_id(
    directory: Directory, text: str
) -> None:
    """The Lookup box's suggestions: "²" passes str.isdigit() and int() raises on it; Arabic-Indic
    and fullwidth digits would be read as 123. None of them is an id prefix."""
    directory.upsert_user(P, 123, source=SOURCE_CREATED, email="alice@example.com")
    assert directory.search(P, text) == []
