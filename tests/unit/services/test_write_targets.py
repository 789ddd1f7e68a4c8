"""The write model's one codec: every kind of target to the journal's key and back, the keys
journals of earlier versions hold, and the action codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctrader_admin.services.errors import NotRevertible
from ctrader_admin.services.writes import (
    AccountTarget,
    Action,
    EmailTarget,
    LinkTarget,
    PartnerCode,
    Target,
    UnknownTarget,
    UserTarget,
    WhiteLabel,
    inverse,
    lookup_query,
    parse_target,
    target_key,
)
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalAttempt, JournalDraft
from ctrader_admin.store.paths import AppPaths

EVERY_KIND: list[tuple[Target, str]] = [
    (UserTarget(1000002), "user:1000002"),
    (LinkTarget(9000012), "account:9000012"),
    (AccountTarget(3100042, "demo"), "login:3100042@demo"),
    (AccountTarget(5200001, "live-eu@2"), "login:5200001@live-eu@2"),
    (EmailTarget("new.client@example.com"), "email:new.client@example.com"),
]


@pytest.mark.parametrize(("target", "key"), EVERY_KIND)
def test_every_kind_of_target_round_trips_through_the_journal_key(target: Target, key: str) -> None:
    assert target_key(target) == key
    assert parse_target(key) == target
    assert target_key(parse_target(key)) == key


def test_what_a_link_is_known_by_is_not_part_of_its_key() -> None:
    link = LinkTarget(9000012, owner=1000002, login=3100042, environment="demo")
    assert target_key(link) == "account:9000012"
    assert parse_target("account:9000012") == link  # identity: the ctidTraderAccountId only
    assert link.describe() == "account 3100042, demo (link 9000012)"


@pytest.mark.parametrize(
    "key",
    ["", "user:", "user:12a", "user:١٢", "account:-5", "login:42", "login:x@demo", "email:nobody",
     "partner:IB-1", "USER:5"],
)  # fmt: skip
def test_a_key_this_app_never_wrote_is_refused_in_words(key: str) -> None:
    with pytest.raises(UnknownTarget) as refused:
        parse_target(key)
    assert repr(key) in refused.value.message
    assert lookup_query(key) is None


def test_the_actions_are_the_journals_codes() -> None:
    assert {action.value for action in Action} == {
        "create_user",
        "link_account",
        "move_wl",
        "set_partner",
        "delete_partner",
    }
    assert Action("move_wl") is Action.MOVE_WL
    assert Action.SET_PARTNER == "set_partner"  # compares with the journal's text as it is


def _draft(action: str, target: str, before: str | None, after: str | None) -> JournalDraft:
    return JournalDraft(
        operator="30017",
        profile_id="sandbox",
        profile_name="Sandbox",
        environment="demo" if target.startswith("login:") else "",
        broker_name="",
        action=action,
        target=target,
        before=before,
        after=after,
        reason="earlier version",
        workstation="old-pc",
    )


def test_a_journal_written_by_the_previous_version_still_parses(tmp_path: Path) -> None:
    """Rows exactly as the previous version wrote them (its target strings and action codes):
    every target parses, Lookup finds it, and each revertible entry has its inverse change."""
    database = Database.open(AppPaths.under(tmp_path))
    journal = Journal(database)
    journal.append_many(
        JournalAttempt(_draft(*row), "ok")
        for row in [
            ("create_user", "email:ann@example.com", None, None),
            ("link_account", "login:3100042@demo", None, "user:1000002"),
            ("set_partner", "user:1000002", "AFF-EU-318", "IB-7"),
            ("set_partner", "account:9000012", None, "ACC-1"),
            ("delete_partner", "account:9000012", "ACC-1", None),
            ("move_wl", "login:3100042@demo", "sandbox_main", "sandbox_eu"),
        ]
    )
    entries = sorted(journal.iter_entries(), key=lambda entry: entry.id)
    database.close()
    assert [lookup_query(entry.target) for entry in entries] == [
        "ann@example.com",
        "login:3100042",
        "user:1000002",
        "ctid:9000012",
        "ctid:9000012",
        "login:3100042",
    ]
    assert [type(parse_target(entry.target)) for entry in entries] == [
        EmailTarget,
        AccountTarget,
        UserTarget,
        LinkTarget,
        LinkTarget,
        AccountTarget,
    ]
    for entry in entries[:2]:
        with pytest.raises(NotRevertible):
            inverse(entry)
    assert [inverse(entry) for entry in entries[2:]] == [
        PartnerCode(UserTarget(1000002), "AFF-EU-318"),
        PartnerCode(LinkTarget(9000012), None),
        PartnerCode(LinkTarget(9000012), "ACC-1"),
        WhiteLabel(AccountTarget(3100042, "demo"), "sandbox_main"),
    ]
    assert [inverse(entry).action for entry in entries[2:]] == [
        Action.SET_PARTNER,
        Action.DELETE_PARTNER,
        Action.SET_PARTNER,
        Action.MOVE_WL,
    ]
