from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.database import (
    MEMORY,
    Database,
    DatabaseClosedError,
    DatabaseTooNewError,
)
from ctrader_admin.store.migrations import MIGRATIONS
from ctrader_admin.store.paths import AppPaths


def test_file_database_is_wal_private_and_migrated(paths: AppPaths) -> None:
    with Database.open(paths) as db:
        assert db.path == paths.database_file
        assert db.schema_version == len(MIGRATIONS)
        with db.read() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert stat.S_IMODE(paths.database_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.data_dir.stat().st_mode) == 0o700


def test_reopening_does_not_migrate_again(paths: AppPaths) -> None:
    with Database.open(paths) as db, db.transaction() as conn:
        conn.execute(
            "INSERT INTO directory_users (profile_id, user_id, source, updated_at) "
            "VALUES ('p', 1, 'test', 'now')"
        )
    with Database.open(paths) as db, db.read() as conn:
        assert conn.execute("SELECT count(*) FROM directory_users").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


def test_new_migrations_are_applied_forward_only(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(path, migrations=MIGRATIONS).close()
    extra = (*MIGRATIONS, ("CREATE TABLE later (x INTEGER)",))
    with Database(path, migrations=extra) as db, db.read() as conn:
        assert db.schema_version == len(extra)
        conn.execute("SELECT x FROM later")


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(path, migrations=(*MIGRATIONS, ("CREATE TABLE later (x INTEGER)",))).close()
    with pytest.raises(DatabaseTooNewError, match="newer ctrader-admin"):
        Database(path, migrations=MIGRATIONS)


def test_a_failing_migration_leaves_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(path).close()
    broken = (*MIGRATIONS, ("CREATE TABLE ok_table (x)", "NOT SQL"))
    with pytest.raises(Exception, match="syntax error"):
        Database(path, migrations=broken)
    with Database(path) as db, db.read() as conn:
        assert db.schema_version == len(MIGRATIONS)
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name='ok_table'").fetchall()


def test_transaction_rolls_back_on_error() -> None:
    db = Database(MEMORY)
    insert = (
        "INSERT INTO directory_users (profile_id, user_id, source, updated_at) "
        "VALUES ('p', ?, 't', 'n')"
    )

    def failing_write() -> None:
        with db.transaction() as conn:
            conn.execute(insert, (1,))
            with db.transaction() as inner:  # nested use joins the outer transaction
                inner.execute(insert, (2,))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_write()
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM directory_users").fetchone()[0] == 0


def test_usable_from_other_threads() -> None:
    db = Database(MEMORY)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                with db.transaction() as conn:
                    conn.execute(
                        "INSERT INTO directory_users (profile_id, user_id, source, updated_at) "
                        "VALUES ('p', ?, 't', 'n')",
                        (n * 1000 + i,),
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM directory_users").fetchone()[0] == 200


def test_snapshot_sees_a_consistent_view_while_writes_go_on(paths: AppPaths) -> None:
    with Database.open(paths) as db:
        insert = (
            "INSERT INTO directory_users (profile_id, user_id, source, updated_at) "
            "VALUES ('p', ?, 't', 'n')"
        )
        with db.transaction() as conn:
            conn.execute(insert, (1,))
        with db.snapshot() as snap:
            assert snap.execute("SELECT count(*) FROM directory_users").fetchone()[0] == 1
            with db.transaction() as conn:
                conn.execute(insert, (2,))
            assert snap.execute("SELECT count(*) FROM directory_users").fetchone()[0] == 1
            with pytest.raises(Exception, match="readonly"):
                snap.execute(insert, (3,))


@pytest.mark.parametrize("where", [MEMORY, "file"])
def test_work_that_reaches_a_closed_database_is_told_so_in_words(
    paths: AppPaths, where: str
) -> None:
    # A tab's reload runs off the loop; it may reach the database after the back office closed
    # it at exit: an operator's sentence, not sqlite3's "Cannot operate on a closed database".
    db = Database(MEMORY) if where == MEMORY else Database.open(paths)
    db.close()
    for use in (db.read, db.transaction, db.snapshot):
        with pytest.raises(DatabaseClosedError) as raised, use():
            pass
        assert isinstance(raised.value, ExpectedError)
        assert "closed" in str(raised.value)
