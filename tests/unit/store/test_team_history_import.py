"""Importing a workstation's own SQLite journal into the team database (issue 13): the file's
chain verified first, its entries appended in order in one transaction with their provenance,
the team chain still one verifiable line, a second import adding nothing, administrators only
(enforced through SQL), and two workstations importing at once."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from pg_cluster import PgServer
from store_fakes import journal_attempts, make_draft
from team_db import agent_settings, new_team_database, team_settings
from test_team_concurrency import Workers

from ctrader_admin.services.history_import import (
    HistoryImportError,
    import_history,
    preview_import,
)
from ctrader_admin.store.database import Database
from ctrader_admin.store.directory import SOURCE_READ, Directory
from ctrader_admin.store.journal import Journal, JournalFilter, canonical_body, entry_hash
from ctrader_admin.store.pg.admin import add_member
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings


def _workstation_file(folder: Path, count: int, *, host: str = "WS-3") -> Path:
    """A workstation's journal as the app leaves it: entries, one of them a revert."""
    file = folder / "ctrader-admin.sqlite3"
    with Database(file) as db:
        journal = Journal(db)
        journal.append_many(
            replace(a, draft=replace(a.draft, workstation=host)) for a in journal_attempts(count)
        )
        intent = journal.begin(make_draft(workstation=host, reverts_id=2, reason="undo"))
        journal.complete(intent, "ok", '{"ok": true}')
        journal.close()
    return file


@pytest.fixture
def team(pg_server: PgServer) -> Iterator[Journal]:
    """The team's journal with two entries already, opened as the superuser (an administrator)."""
    settings = new_team_database(pg_server)
    db = PgDatabase(settings, None)
    journal = Journal(db)
    journal.append_many(journal_attempts(2))
    yield journal
    journal.close()
    db.close()


def test_entries_land_in_order_with_their_provenance_and_both_chains_verify(
    team: Journal, tmp_path: Path
) -> None:
    file = _workstation_file(tmp_path, 5)
    with Database(file) as db:
        local = list(Journal(db).iter_entries())

    result = import_history(file, team)

    assert (result.imported, result.skipped, result.first_id, result.last_id) == (6, 0, 3, 8)
    assert result.workstation == "WS-3"
    imported = list(team.iter_entries(JournalFilter()))[2:]
    assert [e.id for e in imported] == [3, 4, 5, 6, 7, 8]
    for mine, theirs in zip(local, imported, strict=True):
        assert theirs.origin is not None
        assert (theirs.origin.id, theirs.origin.hash) == (mine.id, mine.hash)
        assert (theirs.operator, theirs.at_utc, theirs.target) == (
            mine.operator,
            mine.at_utc,
            mine.target,
        )
        assert theirs.origin.workstation == "WS-3"
        assert theirs.origin.imported_by == team.store.settings.user  # type: ignore[attr-defined]
    # The revert points at the team's copy of what it reverted; the original link is kept.
    assert imported[-1].reverts_id == 4
    assert imported[-1].origin.reverts_id == 2  # type: ignore[union-attr]
    assert imported[0].origin.describe().startswith("Imported from WS-3, #1 (")  # type: ignore[union-attr]
    report = team.verify()
    assert report.ok, report.message
    assert report.checked == 8


def test_a_tampered_file_is_refused_naming_the_entry_and_nothing_is_imported(
    team: Journal, tmp_path: Path
) -> None:
    file = _workstation_file(tmp_path, 5)
    with sqlite3.connect(file) as raw:
        body = raw.execute("SELECT body FROM journal WHERE id = 3").fetchone()[0]
        raw.execute("DROP TRIGGER journal_no_update")
        raw.execute("UPDATE journal SET body = ? WHERE id = 3", (body.replace('"ok"', '"failed"'),))
    with pytest.raises(HistoryImportError, match="Entry 3 was changed after it was written"):
        import_history(file, team)
    with pytest.raises(HistoryImportError, match="Entry 3"):
        preview_import(file, team)
    assert team.count() == 2


def test_a_second_import_adds_nothing_and_a_grown_file_adds_only_the_new(
    team: Journal, tmp_path: Path
) -> None:
    file = _workstation_file(tmp_path, 4)
    assert preview_import(file, team).new == 5
    import_history(file, team)
    assert preview_import(file, team).new == 0

    again = import_history(file, team)
    assert (again.imported, again.skipped) == (0, 5)
    with Database(file) as db:
        Journal(db).append_many(journal_attempts(3))
    grown = import_history(file, team)
    assert (grown.imported, grown.skipped) == (3, 5)
    assert team.count() == 2 + 8
    assert team.verify().ok


def test_an_imported_entry_changed_and_rechained_is_found_by_its_original_hash(
    team: Journal, tmp_path: Path
) -> None:
    import_history(_workstation_file(tmp_path, 3), team)
    # Someone able to switch the triggers off rewrites the last entry's operator and recomputes
    # its team hash and the head: the team chain alone would not show it, the origin does.
    admin = team.store.settings  # type: ignore[attr-defined]
    with psycopg.connect(**admin.connect_kwargs(), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # triggers off (superuser)
        row = conn.execute("SELECT body FROM journal WHERE id = 6").fetchone()
        assert row is not None
        record = json.loads(row[0])
        record["operator"] = "someone-else"
        body = canonical_body(record)
        conn.execute(
            "UPDATE journal SET body = %s, hash = %s WHERE id = 6", (body, entry_hash(body))
        )
        conn.execute("UPDATE journal_head SET last_hash = %s", (entry_hash(body),))
    report = team.verify()
    assert (report.ok, report.first_bad_id) == (False, 6)
    assert "imported from WS-3, #4) no longer matches its original hash" in report.message


def test_pending_writes_of_a_gone_process_are_imported_as_unknown(
    team: Journal, tmp_path: Path
) -> None:
    file = _workstation_file(tmp_path, 2)
    with Database(file) as db:
        crashed = Journal(db)
        crashed.begin(make_draft(workstation="WS-3", target="user:777"))
        crashed.close()  # its session ends with the intent left: the process is "gone"

    result = import_history(file, team)

    assert result.recovered == 1
    last = team.page(None, 0, 1)[0]
    assert (last.target, last.outcome, last.origin is not None) == ("user:777", "unknown", True)


def test_a_running_workstations_writes_in_flight_refuse_the_import(
    team: Journal, tmp_path: Path
) -> None:
    file = _workstation_file(tmp_path, 2)
    with Database(file) as db:
        running = Journal(db)
        running.begin(make_draft(workstation="WS-3"))
        with pytest.raises(HistoryImportError, match=r"1 write\(s\) are still in flight"):
            import_history(file, team)
        running.close()
    assert team.count() == 2


def test_the_directory_is_merged_and_the_teams_newer_facts_win(
    team: Journal, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    file = _workstation_file(tmp_path, 2)
    old, new = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    with Database(file) as db:
        mine = Directory(db)
        mine.upsert_link("sandbox", 900, user_id=1, login=3100001, source=SOURCE_READ,
                         environment="demo", broker_name="old_wl", observed_at=old)  # fmt: skip
        mine.upsert_link("sandbox", 901, user_id=2, login=3100002, source=SOURCE_READ,
                         environment="demo", observed_at=old)  # fmt: skip
    teams = Directory(team.store)
    teams.upsert_link("sandbox", 900, user_id=1, login=3100001, source=SOURCE_READ,
                      environment="demo", broker_name="new_wl", observed_at=new)  # fmt: skip

    result = import_history(file, team)

    assert result.directory.links == 2
    assert teams.link_by_ctid("sandbox", 900).broker_name == "new_wl"  # type: ignore[union-attr]
    assert teams.link_by_ctid("sandbox", 901).login == 3100002  # type: ignore[union-attr]


def _admin_role(server: PgServer, settings: TeamSettings, name: str) -> TeamSettings:
    with PgDatabase(settings, None) as db:
        add_member(db, name, None, administrator=True)
    return team_settings(server, settings.database, name)


def _insert_refused(who: TeamSettings, body: str, refusal: str) -> None:
    with (
        psycopg.connect(**who.connect_kwargs(), autocommit=True) as conn,
        pytest.raises(psycopg.errors.RaiseException, match=refusal),
    ):
        conn.execute("INSERT INTO journal (id, body, hash) VALUES (1, %s, %s)", (body, "b" * 64))


def test_an_agent_cannot_import_and_cannot_forge_an_import_through_sql(
    pg_server: PgServer, tmp_path: Path
) -> None:
    settings = new_team_database(pg_server)
    agent = agent_settings(pg_server, settings, f"agent_{uuid.uuid4().hex[:8]}")
    admin = _admin_role(pg_server, settings, f"lead_{uuid.uuid4().hex[:8]}")
    file = _workstation_file(tmp_path, 2)
    with PgDatabase(agent, None) as db:
        journal = Journal(db)
        with pytest.raises(HistoryImportError, match="Only a team administrator"):
            import_history(file, journal)
        journal.close()
    # Straight through SQL, as the agent: an entry carrying an origin is refused by the server.
    origin = {"hash": "a" * 64, "id": 1, "imported_by": agent.user}
    body = json.dumps({"id": 1, "origin": origin})
    _insert_refused(agent, body, "only a team administrator")
    # An administrator imports, and cannot name somebody else as the importer.
    _insert_refused(admin, body, "must name who imports it")
    with PgDatabase(admin, None) as db:
        journal = Journal(db)
        assert import_history(file, journal).imported == 3
        assert journal.page(None, 0, 1)[0].origin.imported_by == admin.user  # type: ignore[union-attr]
        journal.close()


def test_two_workstations_importing_at_once_both_land_in_one_linear_chain(
    pg_server: PgServer, tmp_path: Path
) -> None:
    settings = new_team_database(pg_server)
    workers = Workers()
    try:
        files = []
        for n in range(2):
            folder = tmp_path / f"ws{n}"
            folder.mkdir()
            files.append(_workstation_file(folder, 300, host=f"WS-{n}"))
            admin = _admin_role(pg_server, settings, f"lead{n}_{uuid.uuid4().hex[:6]}")
            workers.start("import", admin, files[-1])
        results = workers.results()
    finally:
        workers.kill_all()
    assert sorted(r["imported"] for r in results) == [301, 301]  # type: ignore[type-var]
    with PgDatabase(settings, None) as db:
        journal = Journal(db)
        report = journal.verify()
        assert report.ok, report.message
        entries = list(journal.iter_entries())
        journal.close()
    assert [e.id for e in entries] == list(range(1, 603))
    # Each workstation's entries are one block, in their original order.
    hosts = [e.origin.workstation for e in entries]  # type: ignore[union-attr]
    assert hosts in (["WS-0"] * 301 + ["WS-1"] * 301, ["WS-1"] * 301 + ["WS-0"] * 301)
    for host in ("WS-0", "WS-1"):
        ids = [e.origin.id for e in entries if e.origin.workstation == host]  # type: ignore[union-attr]
        assert ids == list(range(1, 302))
