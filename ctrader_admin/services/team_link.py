"""The team database while it cannot be reached (docs/team-mode.md, "When the team server is
unreachable"): the workstation keeps working read-only.

- Reads from the broker go on; every write and job start is refused in words before anything
  is recorded or sent (``refuse_writes``), since a write the team never sees is what team mode
  exists to prevent. Nothing is queued for later.
- The views show the last state this workstation saw: the newest journal entries, copied from
  the team's journal whenever it was read live (``save_last_state``) into one private file in the
  workstation's data folder, and the Jobs tab's list of each connection's jobs, kept the same way
  in a file beside it (``save_last_jobs``). Those copies hold what the journal and the jobs list
  show (never a secret: neither ever holds one) and are never sent anywhere or merged back; they
  only stand in for the views.
- Reconnecting is the live-updates thread's (services/journal_live.py, with a backoff): it calls
  ``reachable``/``unreachable`` here, and the UI reopens the profile and reloads the views.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctrader_admin.services.errors import ServiceError
from ctrader_admin.store.atomic import write_private_text
from ctrader_admin.store.database import Database, DatabaseError
from ctrader_admin.store.journal import ENTRY_FIELDS, Journal, JournalEntry, canonical_body
from ctrader_admin.store.ownership import exclusive

if TYPE_CHECKING:
    from ctrader_admin.store.pg.database import PgDatabase
    from ctrader_admin.store.pg.settings import TeamSettings

log = logging.getLogger(__name__)

LAST_STATE_FILE = "team-last-state.json"
LAST_JOBS_FILE = "team-last-jobs.json"  # the Jobs tab's list, per connection (profile id)
LAST_STATE_ENTRIES = 500  # the Journal view's first pages; the rest is the team's to show
# At most one copy per this many seconds while the team writes (each is one read of the
# newest entries); "last state from HH:MM" is then at most this old.
LAST_STATE_EVERY_SECONDS = 30.0


def clock_time(epoch: float) -> str:
    """HH:MM in this computer's time zone (what the operator's clock shows)."""
    return datetime.fromtimestamp(epoch).strftime("%H:%M")


def _seen_at(kept: object) -> float:
    """When a kept jobs list was read (-1: none, or not one this version wrote)."""
    seen = kept.get("saved_at") if isinstance(kept, dict) else None
    return float(seen) if isinstance(seen, int | float) else -1.0


def connecting_text(settings: TeamSettings) -> str:
    """The window's line while the start waits for the team database (off the GUI thread)."""
    return (
        f"Connecting to the team database ({settings.described})… If it does not answer within "
        f"{settings.connect_timeout} s, the app opens read-only and keeps trying."
    )


class TeamUnreachable(ServiceError):
    """A write or job start refused while the team database cannot be reached: nothing sent."""

    def __init__(self, server: str, since: float | None) -> None:
        if since is None:  # it answers again; this session was opened while it did not
            super().__init__(
                f"Nothing was sent: this connection was opened while the team database "
                f"({server}) could not be reached, so the team's rules for it are not known "
                "yet. Open the connection again (the app does it by itself once it notices)."
            )
            return
        super().__init__(
            f"Nothing was sent: the team database ({server}) cannot be reached since "
            f"{clock_time(since)}, and this workstation is read-only until it answers again. "
            "Changes are not kept to send later (the team would not see them); the app "
            "reconnects by itself."
        )


class TeamLink:
    """Whether the team database answers, since when not, and the last state seen of it."""

    def __init__(self, database: PgDatabase, data_dir: Path | None) -> None:
        """``data_dir``: the workstation's data folder, where the last state is kept (None:
        nowhere, e.g. a test's back office)."""
        self._db = database
        self._file = None if data_dir is None else data_dir / LAST_STATE_FILE
        self._jobs_file = None if data_dir is None else data_dir / LAST_JOBS_FILE
        self._lock = threading.Lock()
        self._last_journal: Journal | None = None
        self._saved_at = 0.0  # when this process last copied the state
        self._kept_at: float | None = None  # the kept copy's time, once read or written
        # The jobs lists by profile id ({"saved_at", "jobs"}): the file's, with what this
        # process saw since; None until first needed. Written at most every
        # LAST_STATE_EVERY_SECONDS while lists are read; the rest when the server goes away.
        self._jobs: dict[str, Any] | None = None
        self._jobs_written_at = 0.0
        self._jobs_unwritten = False

    @property
    def server(self) -> str:
        return self._db.path

    @property
    def down_since(self) -> float | None:
        """When the server last failed to answer; None while it answers."""
        return self._db.unreachable_since

    @property
    def up(self) -> bool:
        return self._db.reachable

    def refuse_writes(self, *, opened_offline: bool = False) -> None:
        """Raise TeamUnreachable (in words) while the server does not answer, or while the
        session asking was opened when it did not (the team's policy for it is unknown: the
        app reopens it once the server answers)."""
        if not self.up or opened_offline:
            raise TeamUnreachable(self.server, self.down_since)

    def band_text(self) -> str | None:
        """The band's line while the server does not answer; None while it does."""
        since = self.down_since
        if since is None:
            return None
        saved = self.last_state_saved_at()
        last = f"last state from {clock_time(saved)}" if saved else "no last state on this computer"
        return f"Team database unreachable since {clock_time(since)} — read-only, {last}; retrying"

    def read_only_notice(self) -> str | None:
        """One sentence for a command that starts while the server does not answer."""
        since = self.down_since
        if since is None:
            return None
        return (
            f"the team database ({self.server}) cannot be reached since {clock_time(since)}: "
            "working read-only — reads from the broker go on, every write is refused and none "
            "is kept to send later."
        )

    # --- the last state ------------------------------------------------------------------------

    def save_last_state(self, journal: Journal, *, now: bool = False) -> None:
        """Copy the team journal's newest entries to this workstation (after a live read; at
        most every ``LAST_STATE_EVERY_SECONDS`` unless ``now``)."""
        if self._file is None:
            return
        if not now and time.time() - self._saved_at < LAST_STATE_EVERY_SECONDS:
            return
        self._saved_at = time.time()
        try:
            entries = journal.page(None, 0, LAST_STATE_ENTRIES)
        except DatabaseError as exc:  # gone again meanwhile: the copy stays as it was
            log.info("Last state not saved: %s", exc)
            return
        text = json.dumps(
            {
                "server": self.server,
                "saved_at": self._saved_at,
                "entries": [asdict(entry) for entry in entries],
            },
            ensure_ascii=False,
        )
        with self._lock:
            write_private_text(self._file, text)
            self._kept_at = self._saved_at
            self._drop_last_journal()

    def last_state_saved_at(self) -> float | None:
        """When the kept copy was made (read from the file once; the band asks often)."""
        if self._kept_at is None:
            state = self._read(self._file)
            self._kept_at = None if state is None else float(state["saved_at"])
        return self._kept_at

    def last_state_journal(self) -> Journal:
        """The last state's entries as a read-only journal in memory (the Journal view reads it
        like the team's; nothing is ever appended to it)."""
        with self._lock:
            if self._last_journal is None:
                state = self._read(self._file)
                rows = [] if state is None else [_entry(e) for e in state["entries"]]
                self._last_journal = _memory_journal(rows)
            return self._last_journal

    # --- the last jobs lists -------------------------------------------------------------------

    def save_last_jobs(self, profile_id: str, jobs: list[dict[str, Any]]) -> None:
        """The jobs list of ``profile_id`` just read from the team (records that JSON can hold):
        kept at once in memory, copied to this workstation at most every
        ``LAST_STATE_EVERY_SECONDS`` (``keep_last_jobs`` writes what is left)."""
        with self._lock:
            self._jobs_by_profile()[profile_id] = {"saved_at": time.time(), "jobs": jobs}
            self._jobs_unwritten = True
            if time.time() - self._jobs_written_at < LAST_STATE_EVERY_SECONDS:
                return
            self._write_jobs()

    def keep_last_jobs(self) -> None:
        """Write the lists seen since the last copy (the server has just gone away, or the app
        closes): the last state is then the last list the operator saw."""
        with self._lock:
            if self._jobs_unwritten:
                self._write_jobs()

    def last_jobs(self, profile_id: str) -> tuple[float, list[dict[str, Any]]] | None:
        """The last jobs list seen of ``profile_id`` and when it was read (None: none kept)."""
        with self._lock:
            kept = self._jobs_by_profile().get(profile_id)
        if not isinstance(kept, dict) or not isinstance(kept.get("jobs"), list):
            return None
        return float(kept["saved_at"]), kept["jobs"]

    def _jobs_by_profile(self) -> dict[str, Any]:
        if self._jobs is None:
            self._jobs = self._kept_jobs()
        return self._jobs

    def _kept_jobs(self) -> dict[str, Any]:
        state = self._read(self._jobs_file)
        profiles = None if state is None else state.get("profiles")
        return profiles if isinstance(profiles, dict) else {}

    def _write_jobs(self) -> None:
        self._jobs_written_at = time.time()
        self._jobs_unwritten = False
        if self._jobs_file is None:
            return
        mine = self._jobs_by_profile()
        # Other processes of this workstation (a second window, another profile's) keep their
        # lists in the same file: under its lock, a connection's newer list stays, whoever saw it.
        with exclusive(self._jobs_file.with_name(f"{LAST_JOBS_FILE}.lock")):
            for profile_id, kept in self._kept_jobs().items():
                if _seen_at(kept) > _seen_at(mine.get(profile_id)):
                    mine[profile_id] = kept
            state = {"server": self.server, "profiles": mine}
            write_private_text(self._jobs_file, json.dumps(state, ensure_ascii=False))

    def close(self) -> None:
        self.keep_last_jobs()
        with self._lock:
            self._drop_last_journal()

    def _drop_last_journal(self) -> None:
        if self._last_journal is not None:
            self._last_journal.close()
            self._last_journal.store.close()
            self._last_journal = None

    def _read(self, file: Path | None) -> dict[str, Any] | None:
        """A saved state, if it is this server's and readable (else as if none were kept)."""
        if file is None:
            return None
        try:
            state = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("The team's last state on this computer cannot be read: %s", exc)
            return None
        if not isinstance(state, dict) or state.get("server") != self.server:
            return None
        return state


def _entry(values: dict[str, Any]) -> JournalEntry:
    return JournalEntry(**{name: values[name] for name in ENTRY_FIELDS})


def _memory_journal(entries: list[JournalEntry]) -> Journal:
    """A journal in memory holding ``entries`` as the team's journal has them (ids, bodies and
    hashes unchanged)."""
    database = Database()
    journal = Journal(database)  # first: its text index then follows the rows put in
    rows = []
    for entry in entries:
        record = asdict(entry)
        digest = record.pop("hash")
        rows.append((entry.id, canonical_body(record), digest))
    with database.transaction() as conn:
        conn.executemany("INSERT INTO journal (id, body, hash) VALUES (?, ?, ?)", rows)
    return journal
