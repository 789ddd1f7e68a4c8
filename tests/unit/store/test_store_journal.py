from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from store_fakes import journal_attempts, make_draft
from team_db import agent_store

from ctrader_admin.redaction import register_secret
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import (
    ENTRY_FIELDS,
    GENESIS_HASH,
    RECOVERED_ERROR,
    Journal,
    JournalAttempt,
    JournalError,
    JournalFilter,
    canonical_body,
    entry_hash,
)
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.sql import Connection, Store

T0 = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture
def db() -> Database:
    return Database()


@pytest.fixture
def journal(store: Store) -> Journal:
    return Journal(store)


def unlock(db: Database) -> None:
    """What an attacker with the file would do first: drop the append-only triggers."""
    with db.transaction() as conn:
        conn.execute("DROP TRIGGER journal_no_update")
        conn.execute("DROP TRIGGER journal_no_delete")


@contextlib.contextmanager
def tampering(store: Store) -> Iterator[Connection]:
    """What an attacker with full control of the database would do: the append-only triggers
    dropped (SQLite) or switched off by a superuser (PostgreSQL), then raw SQL."""
    if isinstance(store, Database):
        unlock(store)
        with store.transaction() as conn:
            yield conn
        return
    assert isinstance(store, PgDatabase)
    superuser = dataclasses.replace(store.settings, user="postgres")
    with PgDatabase(superuser, None) as admin, admin.transaction() as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        yield conn


# --- begin / complete / recover -----------------------------------------------------------------


def test_begin_then_complete_appends_one_chained_entry(journal: Journal) -> None:
    intent = journal.begin(make_draft(), at=T0)
    assert journal.pending_count() == 1
    assert journal.count() == 0

    entry = journal.complete(intent, "ok", response_text='{"ok": true}')

    assert journal.pending_count() == 0
    assert entry.id == 1
    assert entry.at_utc == "2024-05-01T12:00:00.123Z"
    assert (entry.operator, entry.workstation, entry.action, entry.target) == (
        "30001", "desk-7", "set_partner", "user:123",
    )  # fmt: skip
    assert (entry.before, entry.after, entry.outcome) == ("IB-1", "IB-2", "ok")
    assert entry.response == '{"ok": true}'
    assert entry.error is None
    assert entry.prev_hash == GENESIS_HASH
    body = canonical_body({k: getattr(entry, k) for k in ENTRY_FIELDS if k != "hash"})
    assert entry.hash == entry_hash(body)
    assert journal.entry(1) == entry
    assert journal.entry(2) is None

    second = journal.complete(journal.begin(make_draft(action="move_wl")), "failed", error="boom")
    assert second.id == 2
    assert second.prev_hash == entry.hash
    assert second.outcome == "failed"


def test_at_utc_defaults_to_now(journal: Journal) -> None:
    entry = journal.complete(journal.begin(make_draft()), "ok")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.at_utc)
    assert entry.at_utc[:4] == str(datetime.now(UTC).year)


def test_complete_needs_a_pending_intent(journal: Journal) -> None:
    intent = journal.begin(make_draft())
    journal.complete(intent, "ok")
    with pytest.raises(JournalError, match="completed or recovered already"):
        journal.complete(intent, "ok")
    with pytest.raises(JournalError, match="Unknown outcome"):
        journal.complete(journal.begin(make_draft()), "maybe")  # type: ignore[arg-type]


def test_drafts_are_checked(journal: Journal) -> None:
    with pytest.raises(JournalError, match="needs a target"):
        journal.begin(make_draft(target=" "))
    with pytest.raises(JournalError, match="cannot be reverted"):
        journal.begin(make_draft(reverts_id=99))
    first = journal.complete(journal.begin(make_draft()), "ok")
    revert = journal.complete(journal.begin(make_draft(reverts_id=first.id)), "ok")
    assert revert.reverts_id == first.id


def test_every_text_field_is_redacted(journal: Journal) -> None:
    register_secret("manager-secret-42")
    draft = make_draft(
        request="PUT /cid/oauth2/ctid/referral?token=abcdef123 "
        '{"traderPasswordHash": "5f4dcc3b5aa765d61d8327deb882cf99"}',
        reason="pasted manager-secret-42 by mistake",
        after="manager-secret-42",
    )
    entry = journal.complete(
        journal.begin(draft),
        "failed",
        response_text='{"webservToken": "manager-secret-42"}',
        error="GET ...?token=zzz999&x=1 failed",
    )
    with journal.store.read() as conn:  # the stored text, not just the returned object
        stored = " ".join(r[0] for r in conn.execute("SELECT body FROM journal"))
    for text in (stored, repr(entry)):
        assert "abcdef123" not in text
        assert "5f4dcc3b" not in text
        assert "manager-secret-42" not in text
        assert "zzz999" not in text
    assert entry.after == "***"
    assert journal.verify().ok


def test_intents_hold_no_secret_either(store: Store, journal: Journal) -> None:
    journal.begin(make_draft(request="GET /x?token=secretvalue1"))
    with store.read() as conn:
        assert (
            "secretvalue1" not in conn.execute("SELECT fields FROM journal_intents").fetchone()[0]
        )


def test_recover_turns_crashed_attempts_into_unknown(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    db = Database(path)
    before_crash = Journal(db)
    done = before_crash.complete(before_crash.begin(make_draft(target="user:1")), "ok")
    before_crash.begin(make_draft(target="user:2"))
    before_crash.begin(make_draft(target="user:3"))
    before_crash.close()  # the app dies between send and answer: its session ends
    db.close()

    db = Database(path)
    journal = Journal(db)
    in_flight = journal.begin(make_draft(target="user:4"))  # this session's: not a crash
    recovered = journal.recover()

    assert [(e.id, e.target, e.outcome) for e in recovered] == [
        (2, "user:2", "unknown"),
        (3, "user:3", "unknown"),
    ]
    assert all(e.error == RECOVERED_ERROR for e in recovered)
    assert recovered[0].prev_hash == done.hash
    assert journal.pending_count() == 1
    assert journal.recover() == []
    assert journal.complete(in_flight, "ok").id == 4
    assert journal.verify().ok


def test_recover_takes_only_the_intents_of_ended_sessions(store: Store) -> None:
    first, second = Journal(store), Journal(store)  # two workstations (or processes)
    done = first.complete(first.begin(make_draft(target="user:1")), "ok")
    left = first.begin(make_draft(target="user:2"))
    mine = second.begin(make_draft(target="user:3"))
    assert second.recover() == []  # the first session is alive: its write is in flight
    first.close()  # it ends with a write unanswered

    recovered = second.recover()

    assert [(e.id, e.target, e.outcome, e.error) for e in recovered] == [
        (2, "user:2", "unknown", RECOVERED_ERROR)
    ]
    assert recovered[0].prev_hash == done.hash
    assert second.recover() == []
    assert second.pending_count() == 1  # its own write in flight stays
    with pytest.raises(JournalError, match="completed or recovered already"):
        second.complete(left, "ok")
    assert second.complete(mine, "ok").id == 3
    assert second.pending_count() == 0
    assert second.verify().ok
    second.close()


# --- verify and tampering -----------------------------------------------------------------------


def test_verify_empty_and_full_chain(journal: Journal) -> None:
    assert journal.verify().ok
    assert journal.verify().checked == 0
    journal.append_many(journal_attempts(300))
    journal.complete(journal.begin(make_draft()), "ok")
    report = journal.verify()
    assert report.ok
    assert report.checked == 301
    assert report.first_bad_id is None
    assert "301" in report.message


def test_the_journal_refuses_updates_and_deletes(db: Database) -> None:  # SQLite's; team: roles
    Journal(db).append_many(journal_attempts(3))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), db.transaction() as conn:
        conn.execute("UPDATE journal SET hash = 'x' WHERE id = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), db.transaction() as conn:
        conn.execute("DELETE FROM journal WHERE id = 2")
    # Displayed fields are generated from the hashed body: they cannot be edited on their own.
    unlock(db)
    with pytest.raises(sqlite3.DatabaseError, match="generated column"), db.transaction() as conn:
        conn.execute("UPDATE journal SET after = 'IB-666' WHERE id = 2")


def test_editing_after_is_caught_at_that_entry(store: Store, journal: Journal) -> None:
    journal.append_many(journal_attempts(10))
    with tampering(store) as conn:
        body = json.loads(conn.execute("SELECT body FROM journal WHERE id = 6").fetchone()[0])
        conn.execute(
            "UPDATE journal SET body = ? WHERE id = 6",
            (canonical_body(body | {"after": "IB-666"}),),
        )
    edited = journal.entry(6)
    assert edited is not None
    assert edited.after == "IB-666"
    if journal.full_text_index:
        assert journal.count(JournalFilter(text="IB-666")) == 0  # the index is not the truth
    report = journal.verify()
    assert not report.ok
    assert report.first_bad_id == 6
    assert report.checked == 5
    assert "changed" in report.message


def test_a_rehashed_edit_breaks_the_next_link(store: Store, journal: Journal) -> None:
    journal.append_many(journal_attempts(10))
    entry = journal.entry(6)
    assert entry is not None
    fields = {k: getattr(entry, k) for k in ENTRY_FIELDS if k != "hash"} | {"after": "IB-666"}
    body = canonical_body(fields)
    with tampering(store) as conn:
        conn.execute("UPDATE journal SET body = ?, hash = ? WHERE id = 6", (body, entry_hash(body)))
    report = journal.verify()
    assert report.first_bad_id == 7
    assert "does not follow" in report.message


def test_deleting_a_middle_entry_is_caught(store: Store, journal: Journal) -> None:
    journal.append_many(journal_attempts(10))
    with tampering(store) as conn:
        conn.execute("DELETE FROM journal WHERE id = 5")
    report = journal.verify()
    assert not report.ok
    assert report.first_bad_id == 6
    assert "5–5 are missing" in report.message


def test_deleting_the_last_entries_is_caught(store: Store, journal: Journal) -> None:
    journal.append_many(journal_attempts(10))
    with tampering(store) as conn:
        conn.execute("DELETE FROM journal WHERE id >= 9")
    report = journal.verify()
    assert not report.ok
    assert report.first_bad_id == 9
    assert "missing from the end" in report.message
    # ids are never reused, so the gap stays visible after new entries
    assert journal.complete(journal.begin(make_draft()), "ok").id == 11
    assert journal.verify().first_bad_id == 11


def test_swapping_bodies_is_caught(store: Store, journal: Journal) -> None:
    journal.append_many(journal_attempts(4))
    with tampering(store) as conn:
        two = conn.execute("SELECT body, hash FROM journal WHERE id = 2").fetchone()
        conn.execute("UPDATE journal SET body = ?, hash = ? WHERE id = 3", two)
    assert journal.verify().first_bad_id == 3


# --- filters, pages, export ---------------------------------------------------------------------


@pytest.fixture(scope="module", params=["fts", "like", "postgresql"])
def filled(request: pytest.FixtureRequest) -> Iterator[Journal]:
    """500 entries, one minute apart from 2024-01-01; checked with and without SQLite's index,
    and in a team database. Shared by the module's read-only tests."""
    if request.param == "postgresql":
        team = agent_store(request.getfixturevalue("pg_server"))
        Journal(team).append_many(journal_attempts(500))
        journal = Journal(team)
        yield journal
        journal.close()
        team.close()
        return
    db = Database()
    Journal(db).append_many(journal_attempts(500))
    journal = Journal(db, full_text=request.param == "fts")
    assert journal.full_text_index is (request.param == "fts")
    yield journal


def test_count_and_page_without_filter(filled: Journal) -> None:
    assert filled.count() == 500
    page = filled.page(None, 0, 20)
    assert [e.id for e in page] == list(range(500, 480, -1))
    assert [e.id for e in filled.page(JournalFilter(), 490, 20)] == list(range(10, 0, -1))
    assert filled.page(None, 500, 20) == []
    assert filled.page(None, 0, 0) == []


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (JournalFilter(action="move_wl"), 100),
        (JournalFilter(outcome="failed"), 10),
        (JournalFilter(profile_id="acme-live"), 167),
        (JournalFilter(batch_id="batch-3"), 1),
        (JournalFilter(operator="30001"), 72),
        (JournalFilter(action="move_wl", outcome="failed"), 0),
        (JournalFilter(action="delete_partner", outcome="failed"), 10),
        (JournalFilter(since=datetime(2024, 1, 1, 1, 0, tzinfo=UTC)), 440),
        (JournalFilter(until=datetime(2024, 1, 1, 1, 0, tzinfo=UTC)), 60),
        (
            JournalFilter(
                since=datetime(2024, 1, 1, 2, tzinfo=UTC),
                until=datetime(2024, 1, 1, 3, tzinfo=UTC),
            ),
            60,
        ),
        (JournalFilter(text="login:3100042@"), 1),
        (JournalFilter(text="LOGIN:31000"), 100),
        (JournalFilter(text="timeout"), 10),  # error field, any case
        (JournalFilter(text="TCK-49"), 11),  # ticket: 49 and 490-499
        (JournalFilter(text="IB4"), 158),  # before/after
        (JournalFilter(text="4"), 296),  # one character: the scan path
        (JournalFilter(text="IB4", action="set_partner"), 31),
        (JournalFilter(text="50%"), 0),
        (JournalFilter(text='"'), 0),
        (JournalFilter(text='a"b'), 0),
        (JournalFilter(text="   "), 500),
    ],
)
def test_filters(filled: Journal, flt: JournalFilter, expected: int) -> None:
    entries = filled.page(flt, 0, 1000)
    assert filled.count(flt) == expected
    assert len(entries) == expected
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)


def test_filters_agree_with_a_plain_scan(filled: Journal) -> None:
    everything = filled.page(None, 0, 1000)
    for text in ("IB4", "partner", "moVE_wl", "3100", "desk", "30003"):
        fields = ("target", "action", "operator", "reason", "ticket", "before", "after", "error")
        expected = [
            e.id for e in everything
            if any(text.lower() in (getattr(e, f) or "").lower() for f in fields)
        ]  # fmt: skip
        assert [e.id for e in filled.page(JournalFilter(text=text), 0, 1000)] == expected


def test_naive_datetimes_are_refused(filled: Journal) -> None:
    with pytest.raises(ValueError, match="naive"):
        filled.count(JournalFilter(since=datetime(2024, 1, 1)))


def test_index_is_rebuilt_when_its_trigger_went_missing(db: Database) -> None:  # SQLite's
    journal = Journal(db)
    with db.transaction() as conn:
        conn.execute("DROP TRIGGER journal_fts_insert")
    journal.append_many(journal_attempts(5))
    assert Journal(db).count(JournalFilter(text="3100003")) == 1


def test_append_many_continues_the_chain(journal: Journal) -> None:
    first = journal.complete(journal.begin(make_draft()), "ok")
    assert journal.append_many(journal_attempts(3)) == 3
    second = journal.entry(2)
    assert second is not None
    assert second.prev_hash == first.hash
    with pytest.raises(JournalError, match="does not exist"):
        journal.append_many([JournalAttempt(make_draft(reverts_id=99), "ok")])
    assert journal.count() == 4  # the failed batch left nothing behind
    assert journal.verify().ok


def test_export_csv_streams_matching_rows_oldest_first(filled: Journal) -> None:
    out = io.StringIO()
    assert filled.export_csv(JournalFilter(outcome="failed"), out) == 10
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == [*ENTRY_FIELDS, "imported_from"]
    assert {r["imported_from"] for r in rows} == {""}  # written here, not imported
    assert [int(r["id"]) for r in rows] == list(range(50, 501, 50))
    assert rows[0]["error"] == "Timeout talking to the server"
    assert rows[0]["batch_id"] == ""
    entry = filled.entry(50)
    assert entry is not None
    assert rows[0]["hash"] == entry.hash


def test_export_csv_defuses_spreadsheet_formulas(journal: Journal) -> None:
    journal.complete(journal.begin(make_draft(reason='=HYPERLINK("x")', after="-1")), "ok")
    out = io.StringIO()
    journal.export_csv(None, out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["reason"] == '\'=HYPERLINK("x")'
    assert row["after"] == "'-1"


def test_entries_are_plain_json_in_the_database(store: Store, journal: Journal) -> None:
    entry = journal.complete(journal.begin(make_draft(reason="café ✓")), "ok")
    with store.read() as conn:
        body, stored = conn.execute("SELECT body, hash FROM journal").fetchone()
    assert json.loads(body)["reason"] == "café ✓"
    assert stored == entry.hash == entry_hash(body)


def test_a_big_journal_verifies_quickly(journal: Journal) -> None:
    journal.append_many(journal_attempts(5000, start=T0 - timedelta(days=30)))
    report = journal.verify()
    assert report.ok
    assert report.checked == 5000
