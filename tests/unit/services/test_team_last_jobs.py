"""The Jobs list's last state in team mode (services/team_link.py, services/job_summary.py): the
list read live is kept — in memory at once, in a private file at most every 30 s and when the
server goes away or the app closes — and stands in for the list, read-only, while the team
database cannot be reached. A file for another server, or a damaged one, counts as none kept."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctrader_admin.services import team_link
from ctrader_admin.services.job_summary import listed_jobs
from ctrader_admin.services.team_link import LAST_JOBS_FILE, TeamLink
from ctrader_admin.store.checkpoints import CheckpointStore, NewJob, RowCheckpoint
from ctrader_admin.store.database import Database, DatabaseUnreachable

SERVER = "anna@db.example.com:5432/team"


class Server:
    """What TeamLink asks of the team database: its name and whether it answers."""

    def __init__(self, path: str = SERVER) -> None:
        self.path = path
        self.unreachable_since: float | None = None

    @property
    def reachable(self) -> bool:
        return self.unreachable_since is None


class GoneStore(CheckpointStore):
    """A checkpoint store whose server has just gone away: the read finds it gone."""

    def __init__(self, server: Server) -> None:
        self._server = server

    def jobs(self, profile_id: str | None = None, limit: int = 50) -> list[object]:  # type: ignore[override]
        self._server.unreachable_since = time.time()
        raise DatabaseUnreachable("the team database cannot be reached")


@pytest.fixture
def store() -> Iterator[CheckpointStore]:
    database = Database()
    checkpoints = CheckpointStore(database)
    plan = json.dumps({"source": "fix.csv", "rows": ["a very long plan"]})
    for n, profile in enumerate(("sandbox", "sandbox", "live")):
        checkpoints.create_job(
            NewJob(f"job-{n}", profile, "h", plan, "30001", f"reason {n}", "SUP-1"),
            [RowCheckpoint(1, "ok"), RowCheckpoint(2, "pending")],
        )
    yield checkpoints
    checkpoints.close()
    database.close()


def _link(server: Server, data_dir: Path) -> TeamLink:
    return TeamLink(server, data_dir)  # type: ignore[arg-type]


def test_the_list_read_live_stands_in_read_only_while_the_server_is_away(
    store: CheckpointStore, tmp_path: Path
) -> None:
    server = Server()
    link = _link(server, tmp_path)
    live = listed_jobs(store, link, "sandbox", running_id="job-1")
    assert not live.offline
    assert {s.job.id for s in live.jobs} == {"job-0", "job-1"}
    assert [s.running_here for s in live.jobs if s.job.id == "job-1"] == [True]

    server.unreachable_since = time.time()
    kept = listed_jobs(store, link, "sandbox", running_id=None)
    assert kept.offline
    assert kept.seen_at is not None
    assert abs(kept.seen_at - time.time()) < 60
    assert [(s.job.id, s.counts, s.source, s.job.reason) for s in kept.jobs] == [
        (s.job.id, s.counts, s.source, s.job.reason) for s in live.jobs
    ]
    assert not any(s.running_here for s in kept.jobs)  # that process's run, not this one's
    assert all(s.job.plan_json == "" for s in kept.jobs)  # the plan stays in the team's database
    # Another connection's list was never seen here: said so, not another's shown.
    assert listed_jobs(store, link, "live", None) == type(kept)([], offline=True)

    file = tmp_path / LAST_JOBS_FILE
    assert file.stat().st_mode & 0o777 == 0o600
    assert "a very long plan" not in file.read_text(encoding="utf-8")


def test_a_read_that_finds_the_server_gone_shows_the_last_list(
    store: CheckpointStore, tmp_path: Path
) -> None:
    server = Server()
    link = _link(server, tmp_path)
    listed_jobs(store, link, "sandbox", None)
    kept = listed_jobs(GoneStore(server), link, "sandbox", None)
    assert kept.offline
    assert len(kept.jobs) == 2
    with pytest.raises(DatabaseUnreachable):  # the local path has no last state to fall back on
        listed_jobs(GoneStore(Server()), None, "sandbox", None)


def test_copies_are_throttled_and_the_rest_is_kept_when_the_server_goes(
    store: CheckpointStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(team_link, "LAST_STATE_EVERY_SECONDS", 3600.0)
    server = Server()
    link = _link(server, tmp_path)
    listed_jobs(store, link, "sandbox", None)  # the first list is copied at once
    file = tmp_path / LAST_JOBS_FILE
    first = file.read_text(encoding="utf-8")
    listed_jobs(store, link, "live", None)  # within the throttle: in memory only
    assert file.read_text(encoding="utf-8") == first

    link.keep_last_jobs()  # the server has gone away: what was seen since is written now
    later = _link(Server(), tmp_path)  # the next run of the app
    kept = later.last_jobs("live")
    assert kept is not None
    assert [record["job"]["id"] for record in kept[1]] == ["job-2"]
    assert later.last_jobs("sandbox") is not None


def test_two_processes_on_one_workstation_keep_each_others_newer_lists(
    store: CheckpointStore, tmp_path: Path
) -> None:
    """Two app processes on one home (two windows, on two connections): each keeps the file's
    lists it read at its start, and a write by one must not put back the other's older list."""
    window_a, window_b = _link(Server(), tmp_path), _link(Server(), tmp_path)
    listed_jobs(store, window_a, "sandbox", None)  # A's first copy: the sandbox's list
    assert window_b.last_jobs("live") is None  # B has read the file now: no live list in it
    listed_jobs(store, window_b, "live", None)  # B's first copy, written under the file's lock
    listed_jobs(store, window_a, "sandbox", None)  # A again: a newer list, in memory (throttle)
    window_a.keep_last_jobs()
    window_b.keep_last_jobs()  # B has nothing unwritten: A's newer sandbox list stays

    next_start = _link(Server(), tmp_path)
    live, sandbox = next_start.last_jobs("live"), next_start.last_jobs("sandbox")
    newest = window_a.last_jobs("sandbox")
    assert live is not None
    assert sandbox is not None
    assert newest is not None
    assert [record["job"]["id"] for record in live[1]] == ["job-2"]
    assert sandbox[0] == newest[0]


def test_another_servers_file_or_a_damaged_one_counts_as_none(
    store: CheckpointStore, tmp_path: Path
) -> None:
    listed_jobs(store, _link(Server(), tmp_path), "sandbox", None)
    elsewhere = Server("bob@other.example.com:5432/team")
    elsewhere.unreachable_since = time.time()
    listing = listed_jobs(store, _link(elsewhere, tmp_path), "sandbox", None)
    assert (listing.jobs, listing.offline, listing.seen_at) == ([], True, None)

    file = tmp_path / LAST_JOBS_FILE
    state = json.loads(file.read_text(encoding="utf-8"))
    del state["profiles"]["sandbox"]["jobs"][0]["job"]["reason"]
    file.write_text(json.dumps(state), encoding="utf-8")
    away = Server()
    away.unreachable_since = time.time()
    listing = listed_jobs(store, _link(away, tmp_path), "sandbox", None)
    assert (listing.jobs, listing.offline) == ([], True)
    file.write_text("{not json", encoding="utf-8")
    assert listed_jobs(store, _link(away, tmp_path), "sandbox", None).jobs == []
