"""Several processes on one database file: no lock is lost, a busy database is said in words,
a failed transaction never hides its error behind a second ROLLBACK, and recovery takes only
the intents of sessions whose process is gone."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from store_fakes import make_draft

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.checkpoints import CheckpointError
from ctrader_admin.store.database import BUSY_MESSAGE, Database, DatabaseBusyError, DatabaseError
from ctrader_admin.store.journal import RECOVERED_ERROR, Journal, JournalError, sessions_folder
from ctrader_admin.store.ownership import LOCK_SUFFIX, SessionOwner
from ctrader_admin.store.profiles import ProfileError

INSERT_USER = (
    "INSERT INTO directory_users (profile_id, user_id, source, updated_at) "
    "VALUES ('p', ?, 't', 'n')"
)


def other_process(code: str) -> None:
    """Run ``code`` with ``sqlite3`` imported, in a process of its own."""
    subprocess.run([sys.executable, "-c", f"import sqlite3\n{code}"], check=True, timeout=60)


def users(path: Path) -> int:
    """What a fresh connection (as another process would) sees."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM directory_users").fetchone()[0])


# --- no lock is lost ------------------------------------------------------------------------------


def test_opening_the_file_again_keeps_the_locks_of_the_open_connection(tmp_path: Path) -> None:
    """POSIX drops every lock a process holds on a file when any descriptor of it is closed. A
    second open must not do that to the first connection: otherwise the next process to close
    its connection believes it is the last one, checkpoints and deletes the WAL, and the first
    connection's later commits go to a deleted file (lost: the journal then "misses" entries)."""
    path = tmp_path / "db.sqlite3"
    with Database(path) as first:
        with first.transaction() as conn:
            conn.execute(INSERT_USER, (1,))
        Database(path).close()  # e.g. a second store of the same process
        other_process(f"sqlite3.connect({str(path)!r}).execute('SELECT 1').connection.close()")
        assert Path(f"{path}-wal").exists()  # still in use by us: nobody may delete it
        with first.transaction() as conn:
            conn.execute(INSERT_USER, (2,))
        assert users(path) == 2  # the second commit reached the file others read


def test_the_file_is_private_without_a_descriptor_of_our_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only SQLite opens the file: a descriptor of our own, once closed, would drop SQLite's
    locks (the window lasts until the next commit re-takes them; another process closing its
    connection meanwhile deletes the WAL that this process still writes to)."""
    path = tmp_path / "data" / "db.sqlite3"
    opened: list[str] = []
    real_open = os.open

    def spy(file: str | os.PathLike[str], *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    with Database(path), Database(path):
        pass
    assert not [name for name in opened if name.startswith(str(path))]
    assert path.stat().st_mode & 0o777 == 0o600


# --- busy in words --------------------------------------------------------------------------------


def test_every_access_to_a_busy_database_says_so_in_words(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Database(path, busy_timeout=0.05) as db:
        holder = sqlite3.connect(path, isolation_level=None, timeout=0)
        holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than we wait
        try:
            with pytest.raises(DatabaseBusyError) as busy, db.transaction() as conn:
                conn.execute(INSERT_USER, (1,))
            assert busy.value.message == BUSY_MESSAGE
            assert "another ctrader-admin process" in str(busy.value)
            with pytest.raises(DatabaseBusyError):
                Database(path, busy_timeout=0.05)  # opening checks the schema in a transaction
            with db.snapshot() as conn:  # WAL: reading goes on meanwhile
                assert conn.execute("SELECT count(*) FROM directory_users").fetchone()[0] == 0
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        with db.transaction() as conn:  # and once the other process is done, it works again
            conn.execute(INSERT_USER, (1,))
    assert users(path) == 1


def test_a_transaction_sqlite_rolled_back_itself_keeps_its_own_error(tmp_path: Path) -> None:
    """SQLite rolls a transaction back by itself on some errors (busy, I/O, full disk); the
    rollback on the way out must not then fail with "no transaction is active" and hide why."""

    def write_then_fail(db: Database) -> None:
        with db.transaction() as conn:
            conn.execute(INSERT_USER, (1,))
            conn.execute("ROLLBACK")  # what SQLite does on SQLITE_FULL / SQLITE_IOERR
            raise OSError("disk full")

    with Database(tmp_path / "db.sqlite3") as db:
        with pytest.raises(OSError, match="disk full"):
            write_then_fail(db)
        with db.read() as conn:
            assert conn.execute("SELECT count(*) FROM directory_users").fetchone()[0] == 0
            assert not conn.in_transaction


def test_a_damaged_file_is_said_in_words(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database, it was overwritten " * 200)
    with pytest.raises(DatabaseError, match="is damaged") as damaged:
        Database(path)
    assert str(path) in damaged.value.message


def test_store_errors_are_expected_errors_with_a_message() -> None:
    for error in (
        DatabaseBusyError(),
        DatabaseError("x"),
        JournalError("x"),
        CheckpointError("x"),
        ProfileError("x"),
    ):
        assert isinstance(error, ExpectedError)
        assert error.message


# --- journal sessions: recovery takes only what a gone process left ----------------------------


def test_recovery_leaves_a_live_sessions_intents_alone(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with Database(path) as db_a, Database(path) as db_b:
        job_a, job_b = Journal(db_a), Journal(db_b)  # as two processes would
        live = job_a.begin(make_draft(target="user:1"))
        assert job_b.recover() == []  # a second job starts: the first one's write is in flight
        entry = job_a.complete(live, "ok")  # and completes normally
        assert entry.outcome == "ok"
        left = job_a.begin(make_draft(target="user:2"))
        job_a.close()  # the first process ends with a write unanswered
        recovered = job_b.recover()
        assert [(e.target, e.outcome, e.error) for e in recovered] == [
            ("user:2", "unknown", RECOVERED_ERROR)
        ]
        with pytest.raises(JournalError, match="completed or recovered already"):
            job_a.complete(left, "ok")
        assert job_b.verify().ok
        job_b.close()


def test_intents_without_a_lock_file_are_from_an_older_version_and_recovered(
    tmp_path: Path,
) -> None:
    with Database(tmp_path / "db.sqlite3") as db:
        journal = Journal(db)
        intent = journal.begin(make_draft(target="user:7"))
        with db.transaction() as conn:
            conn.execute(
                "UPDATE journal_intents SET session = 'before-locks' WHERE id = ?", (intent,)
            )
        assert [e.target for e in journal.recover()] == ["user:7"]
        journal.close()


def test_stale_lock_files_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    with Database(tmp_path / "db.sqlite3") as db:
        folder = sessions_folder(db)
        assert folder is not None
        live, me = Journal(db), Journal(db)
        gone = SessionOwner.claim(folder)
        gone_file = folder / f"{gone.session}{LOCK_SUFFIX}"
        gone.release()
        gone_file.touch()  # as a killed process leaves it: the file, no lock
        me.recover()
        assert not gone_file.exists()
        assert (folder / f"{live.session}{LOCK_SUFFIX}").exists()
        assert (folder / f"{me.session}{LOCK_SUFFIX}").exists()
        live.close()
        assert not (folder / f"{live.session}{LOCK_SUFFIX}").exists()
        me.close()


def test_only_a_free_lock_means_gone(tmp_path: Path) -> None:
    owner = SessionOwner.claim(tmp_path)
    watcher = SessionOwner.claim(tmp_path)
    assert not watcher.is_gone(owner.session)  # held: alive, even within one process
    assert (tmp_path / f"{owner.session}{LOCK_SUFFIX}").exists()  # a probe does not remove it
    assert not owner.is_gone(owner.session)
    owner.release()
    assert watcher.is_gone(owner.session)
    assert watcher.is_gone("0" * 32)  # never had a file
    outside = tmp_path.parent / "outside.lock"
    outside.touch()
    assert watcher.is_gone("../outside")  # a name from the database never becomes a path
    assert outside.exists()
    watcher.release()


def test_in_memory_sessions_end_when_released() -> None:
    db = Database()
    first, second = Journal(db), Journal(db)
    intent = first.begin(make_draft(target="user:1"))
    assert second.recover() == []
    first.close()
    assert [e.target for e in second.recover()] == ["user:1"]
    with pytest.raises(JournalError):
        first.complete(intent, "ok")
    second.close()
    db.close()
