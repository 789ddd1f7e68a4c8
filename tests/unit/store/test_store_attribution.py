"""The attribution ledger on both engines: the same answers from SQLite and the team database —
the referrals' order with undated rows last, a registry re-read that replaces codes, cursors
kept with their page, and a kept conflict report equal to the computed one after any sequence
of changes (Hypothesis)."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_cluster import PgServer
from team_db import team_of_two

from ctrader_admin.store.attribution import Attribution, AttributionLedger, RegisteredCode
from ctrader_admin.store.database import Database
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.sql import Store


@pytest.fixture
def ledger(store: Store) -> AttributionLedger:
    return AttributionLedger(store)


def kept_equals_computed(ledger: AttributionLedger, profile_id: str) -> list[object]:
    kept = ledger.kept_conflicts(profile_id)
    assert kept == ledger.computed_conflicts(profile_id)
    return [k.conflict for k in kept]


def _row(source: str, key: str, client: int | None, *, code: str | None = None,
         partner: int | None = None, day: int = 1) -> Attribution:  # fmt: skip
    return Attribution(
        source=source,  # type: ignore[arg-type]
        source_key=key,
        client_user_id=client,
        client_login=None,
        partner_code=code,
        partner_user_id=partner,
        attributed_at=f"2026-01-{day:02d}T00:00:00.000Z" if source != "ib_label" else None,
        read_at="2026-02-01T00:00:00.000Z",
    )


def test_referrals_newest_first_undated_last_in_pages(ledger: AttributionLedger) -> None:
    rows = [
        _row("ib_label", "label-1", 11, code="IB-1"),
        _row("invite", "i1", 12, code="IB-1", partner=7, day=3),
        _row("crm", "c1", 13, code="IB-1", day=9),
        _row("invite", "i2", 14, partner=7, day=9),
        _row("ib_label", "label-2", 15, code="IB-1"),
        _row("crm", "c2", 16, code="OTHER", day=20),
    ]
    assert ledger.save_page("p", rows) == 6
    seen: list[int | None] = []
    after = None
    while True:
        page = ledger.referrals("p", partner_user_id=7, codes={"IB-1"}, after=after, limit=2)
        seen += [r.client_user_id for r in page.rows]
        if page.after is None:
            break
        after = page.after
    # 9 Jan twice (the later row first), 3 Jan, then the undated IB labels (the later first)
    assert seen == [14, 13, 12, 15, 11]
    assert ledger.referral_counts("p", partner_user_id=7, codes={"IB-1"}) == {
        "invite": 2, "ib_label": 2, "crm": 1,
    }  # fmt: skip
    found = ledger.referrals("p", partner_user_id=None, codes={"IB-1"}, text="ib-", source="crm")
    assert [r.client_user_id for r in found.rows] == [13]
    assert ledger.count("p") == 6
    assert ledger.count("p", "ib_label") == 2
    assert ledger.counts_by_partner_user("p") == {7: 2}
    assert ledger.counts_by_code("p") == {("IB-1", "ib_label"): 2, ("IB-1", "crm"): 1,
                                          ("OTHER", "crm"): 1}  # fmt: skip


def test_rereads_replace_their_own_rows_and_cursors_follow_pages(ledger: AttributionLedger) -> None:
    ledger.save_page("p", [_row("invite", "i1", 1, code="A", day=1)], cursor=("invite", "page-2"))
    ledger.save_page("p", [_row("invite", "i1", 2, code="B", day=2)], cursor=("invite", "page-3"))
    assert ledger.cursor("p", "invite") == "page-3"
    assert ledger.cursor("p", "crm") is None
    assert ledger.for_client("p", 1) == []
    assert [r.partner_code for r in ledger.for_client("p", 2)] == ["B"]

    ledger.save_page("p", [_row("crm", "c1", 2, code="B"), _row("crm", "c2", 3, code="C")])
    assert ledger.replace_source("p", "crm", [_row("crm", "c9", 4, code="D")]) == 1
    assert ledger.for_client("p", 3) == []
    assert [(r.source, r.client_user_id) for r in ledger.current("p")] == [
        ("invite", 2), ("crm", 4),
    ]  # fmt: skip


def test_a_registry_reread_replaces_a_partners_codes(ledger: AttributionLedger) -> None:
    def code(partner: int, value: str, account: int = 0) -> RegisteredCode:
        level = "account" if account else "user"
        return RegisteredCode("ctrader", partner, level, account, value, "2026-02-01T00:00:00.000Z")

    ledger.save_page("p", [_row("invite", "i1", 10, code="X", partner=5)])
    ledger.set_registry("p", "ctrader", [code(5, "X"), code(5, "X-ACC", 77), code(6, "Y")])
    assert [getattr(c, "kind", "") for c in kept_equals_computed(ledger, "p")] == [
        "levels_differ"  # X at user level, X-ACC at account level
    ]
    # Partner 5's user-level code is now Z (same key, new code); its account code is gone.
    ledger.set_registry("p", "ctrader", [code(5, "Z")], partners={5})
    assert [(c.partner_user_id, c.code) for c in ledger.registry("p")] == [(5, "Z"), (6, "Y")]
    assert [c.code for c in ledger.registry("p", partner_user_id=5)] == ["Z"]
    assert [getattr(c, "kind", "") for c in kept_equals_computed(ledger, "p")] == ["unknown_code"]
    assert ledger.conflict_counts("p")["unknown_code"] == 1


def test_a_database_from_before_the_kept_report_gets_it_at_first_use(tmp_path: Path) -> None:
    database = Database(tmp_path / "app.sqlite3")
    ledger = AttributionLedger(database)
    ledger.save_page("p", [_row("invite", "1", 10, code="X-1"), _row("crm", "1", 10, code="Y")])
    with database.transaction() as conn:  # as the migration leaves an older database
        conn.execute("DELETE FROM attribution_conflict")
        conn.execute("DELETE FROM attribution_conflict_built")
    fresh = AttributionLedger(database)
    found = kept_equals_computed(fresh, "p")
    assert [getattr(c, "kind", "") for c in found] == [
        "unknown_code",
        "unknown_code",
        "sources_disagree",
    ]
    database.close()


def test_a_first_write_that_fails_leaves_the_report_to_be_built_again(tmp_path: Path) -> None:
    database = Database(tmp_path / "app.sqlite3")
    AttributionLedger(database).save_page("p", [_row("invite", "1", 10, code="X-1")])
    with database.transaction() as conn:  # as the migration leaves an older database
        conn.execute("DELETE FROM attribution_conflict")
        conn.execute("DELETE FROM attribution_conflict_built")
    fresh = AttributionLedger(database)
    with pytest.raises(sqlite3.IntegrityError):  # a source the table does not take
        fresh.save_page("p", [_row("invite", "2", 11), _row("fax", "3", 12)])
    assert [getattr(c, "kind", "") for c in kept_equals_computed(fresh, "p")] == ["unknown_code"]
    database.close()


CLIENTS = st.integers(1, 6)
PARTNERS = st.integers(1, 4)
CODES = st.sampled_from(["A", "B", "C", "D"])
ROWS = st.builds(
    _row,
    source=st.sampled_from(["invite", "ib_label", "crm"]),
    key=st.sampled_from(["k1", "k2", "k3", "k4", "k5"]),
    client=st.one_of(st.none(), CLIENTS),
    code=st.one_of(st.none(), CODES),
    partner=st.one_of(st.none(), CLIENTS, PARTNERS),
    day=st.integers(1, 28),
)
CODES_READ = st.lists(
    st.builds(
        RegisteredCode,
        source=st.sampled_from(["ctrader", "crm"]),
        partner_user_id=st.one_of(CLIENTS, PARTNERS),
        level=st.sampled_from(["user", "account"]),
        ctid_trader_account_id=st.integers(0, 2),
        code=CODES,
        read_at=st.just("2026-02-01T00:00:00.000Z"),
    ),
    max_size=5,
)
CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("save"), st.lists(ROWS, max_size=6)),
        st.tuples(st.just("replace"), st.lists(ROWS, max_size=6)),
        st.tuples(st.just("registry"), CODES_READ, st.one_of(st.none(), st.sets(PARTNERS))),
    ),
    min_size=1,
    max_size=8,
)


# One database per engine for all examples: each example writes a profile of its own.
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(changes=CHANGES)
def test_any_sequence_of_changes_keeps_the_report_equal_to_the_computed_one(
    ledger: AttributionLedger, changes: list[tuple[object, ...]]
) -> None:
    profile = uuid.uuid4().hex
    for change in changes:
        if change[0] == "save":
            ledger.save_page(profile, change[1])  # type: ignore[arg-type]
        elif change[0] == "replace":
            rows = [r for r in change[1] if r.source == "crm"]  # type: ignore[attr-defined]
            ledger.replace_source(profile, "crm", rows)
        else:
            codes, partners = change[1], change[2]
            source = "ctrader" if partners is not None else "crm"
            mine = [c for c in codes if c.source == source]  # type: ignore[attr-defined]
            if partners is not None:
                mine = [c for c in mine if c.partner_user_id in partners]  # type: ignore[operator]
            ledger.set_registry(profile, source, mine, partners=partners)  # type: ignore[arg-type]
        kept_equals_computed(ledger, profile)


def test_team_writers_of_one_profile_queue_so_the_kept_report_sees_both(
    pg_server: PgServer,
) -> None:
    """Two workstations write statements about one client at once (different rows, so no row
    lock makes them wait): the second waits for the first to commit, then keeps a report that
    sees both — without the queue it would miss that the sources disagree."""
    admin, anna, bob = team_of_two(pg_server)
    with PgDatabase(anna, None) as anna_db, PgDatabase(bob, None) as bob_db:
        anna_ledger, bob_ledger = AttributionLedger(anna_db), AttributionLedger(bob_db)
        anna_ledger.kept_conflicts("p")  # the (empty) report built before the race
        failed: list[BaseException] = []

        def bob_saves() -> None:
            try:
                bob_ledger.save_page("p", [_row("crm", "c1", 10, code="Y")])
            except BaseException as exc:  # reported by the test below
                failed.append(exc)

        with anna_db.transaction():  # anna's write, not committed yet
            anna_ledger.save_page("p", [_row("invite", "i1", 10, code="X")])
            bob = threading.Thread(target=bob_saves)
            bob.start()
            with psycopg.connect(**admin.connect_kwargs(), autocommit=True) as conn:
                for _ in range(200):  # bob's transaction is seen waiting on the ledger's lock
                    waiting = conn.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    ).fetchone()
                    if waiting and waiting[0]:
                        break
                    time.sleep(0.05)
                else:
                    pytest.fail("the second writer did not queue behind the first")
        bob.join(timeout=30)
        assert failed == []
        kinds = [getattr(c, "kind", "") for c in kept_equals_computed(anna_ledger, "p")]
        assert "sources_disagree" in kinds
