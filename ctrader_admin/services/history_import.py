"""Importing a workstation's own history into the team database (issue 13; docs/team-mode.md).

A workstation's SQLite journal (the file the app used before team mode) is verified first — a
chain that does not verify is refused, naming its first broken entry, and nothing is imported.
Its entries are then chained into the team's journal in their original order, in one transaction
(all or nothing), each carrying its provenance (store/journal_origin.py): the workstation and
file, the original id, hash and previous hash, and who imported it when. Operator, time, outcome
and the rest of the entry stay the original's. An entry already imported (same original hash) is
skipped and counted, so importing again imports only what is new.

Writes still in flight in the file (intents): attempts whose process is gone are first recorded
"unknown" in the workstation's own chain, as the app does when it starts (they may have reached
the broker; a read settles them), and imported as such. Attempts of a process still running are
refused: the import waits until that app is closed, rather than import an outcome that is about
to be known. The directory is merged (the newer fact wins); the attribution ledger, bulk jobs and
checkpoints are not imported (``NOT_IMPORTED``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.database import Database
from ctrader_admin.store.directory import Directory, ImportCounts
from ctrader_admin.store.journal import Journal, record_hash
from ctrader_admin.store.journal_origin import ImportOrigin, original_record
from ctrader_admin.store.sql import Connection, Store
from ctrader_admin.store.timestamps import utc_iso

NOT_IMPORTED = (
    "Not imported: the attribution ledger (a pull on the team database reads its sources "
    "again: `ctrader-admin attribution pull --registry`, the CRM export again), bulk jobs and "
    "their checkpoints (finish or stop them on the workstation first)."
)
_ADMINS = "ctrader_admin_admins"  # store/pg/admin.py ADMINS_ROLE (no import: the driver's)
_ORIGIN = "((body::jsonb) -> 'origin')"  # the expression of migration step 10's indexes
_CHUNK = 5000


class HistoryImportError(ExpectedError):
    """The history cannot be imported; nothing was."""


@dataclass(frozen=True, slots=True)
class ImportPreview:
    file: Path
    workstation: str
    entries: int  # in the workstation's chain
    new: int  # not in the team's journal yet
    in_flight: int  # writes begun and not finished in the file
    directory: ImportCounts


@dataclass(frozen=True, slots=True)
class ImportResult:
    file: Path
    workstation: str
    imported: int
    skipped: int  # imported before
    recovered: int  # attempts of a gone process recorded "unknown" in the file first
    first_id: int | None  # the team ids the imported entries got
    last_id: int | None
    directory: ImportCounts


class _Source:
    """The workstation's file, opened as the app opens it, verified."""

    def __init__(self, file: Path) -> None:
        if not file.is_file():
            raise HistoryImportError(f"There is no journal file at {file}.")
        self.file = file
        self.database = Database(file)
        try:
            self.journal = Journal(self.database, full_text=False)
        except BaseException:
            self.database.close()
            raise

    def close(self) -> None:
        self.journal.close()
        self.database.close()

    def verified(self) -> int:
        report = self.journal.verify()
        if not report.ok:
            raise HistoryImportError(
                f"The journal in {self.file} does not verify: {report.message} "
                "Nothing was imported."
            )
        return report.checked

    def workstation(self) -> str:
        """The computer that wrote the file: its newest entry says (the file may have been
        copied here), else this one."""
        newest = self.journal.page(None, 0, 1)
        return newest[0].workstation if newest else socket.gethostname()

    def rows(self) -> Iterator[tuple[int, str, str]]:
        with self.database.snapshot() as conn:
            yield from conn.execute("SELECT id, body, hash FROM journal ORDER BY id")


def _imported(conn: Connection) -> dict[str, int]:
    """Original hash → team id of every entry imported so far."""
    rows = conn.execute(
        f"SELECT {_ORIGIN} ->> 'hash', id FROM journal WHERE {_ORIGIN} IS NOT NULL"  # noqa: S608
    ).fetchall()
    return {str(digest): int(entry_id) for digest, entry_id in rows}


def _refuse_unless_administrator(conn: Connection) -> str:
    """The role logged in, if it may import (the database refuses the others anyway)."""
    who, allowed = conn.execute(
        "SELECT session_user, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ? "
        "AND pg_has_role(session_user, oid, 'MEMBER'))",
        (_ADMINS,),
    ).fetchone()
    if not allowed:
        raise HistoryImportError(
            f"Only a team administrator may import a workstation's history ({who} is an agent). "
            "Nothing was imported."
        )
    return str(who)


def preview_import(file: Path, team: Journal) -> ImportPreview:
    """What an import would do; changes nothing (dry run)."""
    source = _Source(file)
    try:
        entries = source.verified()
        with team.store.read() as conn:
            _refuse_unless_administrator(conn)
            known = _imported(conn)
        new = sum(1 for _, _, digest in source.rows() if digest not in known)
        directory = _directory_counts(source.database)
        return ImportPreview(
            file, source.workstation(), entries, new, source.journal.pending_count(), directory
        )
    finally:
        source.close()


def import_history(file: Path, team: Journal) -> ImportResult:
    """Import the file's journal into the team's (and merge its directory), all or nothing."""
    source = _Source(file)
    try:
        source.verified()
        recovered = len(source.journal.recover())
        in_flight = source.journal.pending_count()
        if in_flight:
            raise HistoryImportError(
                f"{in_flight} write(s) are still in flight in {file}: the app is running on "
                "that workstation. Close it, then import again. Nothing was imported."
            )
        workstation = source.workstation()
        with team.appending() as chain:
            imported_by = _refuse_unless_administrator(chain.conn)
            now = chain.conn.execute("SELECT now()").fetchone()[0]
            stamp = {"workstation": workstation, "source": str(file.resolve())}
            stamp |= {"imported_by": imported_by, "imported_at": utc_iso(now)}
            team_ids = _imported(chain.conn)  # read holding the chain: imports queue
            same_file = _from_file(chain.conn, stamp)
            skipped = 0
            by_local: dict[int, int] = {}  # the file's id → the team's
            new_ids: list[int] = []
            for entry_id, body, digest in source.rows():
                if digest in team_ids:
                    skipped += 1
                    by_local[entry_id] = team_ids[digest]
                    continue
                if entry_id in same_file:
                    raise HistoryImportError(
                        f"Entry {entry_id} of {file} is not the entry {entry_id} imported from "
                        f"it before: the file was replaced. Nothing was imported."
                    )
                record = _with_origin(json.loads(body), entry_id, digest, by_local, stamp)
                new_ids.append(chain.append_record(record).id)
                team_ids[digest] = by_local[entry_id] = new_ids[-1]
                if len(chain.pending) >= _CHUNK:
                    chain.flush()
            directory = Directory(team.store).merge_from(Directory(source.database))
        return ImportResult(
            file=file, workstation=workstation, imported=len(new_ids), skipped=skipped,
            recovered=recovered, first_id=new_ids[0] if new_ids else None,
            last_id=new_ids[-1] if new_ids else None, directory=directory,
        )  # fmt: skip
    finally:
        source.close()


def _from_file(conn: Connection, stamp: dict[str, str]) -> set[int]:
    """The original ids imported before from this workstation's file."""
    rows = conn.execute(
        f"SELECT ({_ORIGIN} ->> 'id')::bigint FROM journal WHERE {_ORIGIN} IS NOT NULL "  # noqa: S608
        f"AND {_ORIGIN} ->> 'workstation' = ? AND {_ORIGIN} ->> 'source' = ?",
        (stamp["workstation"], stamp["source"]),
    ).fetchall()
    return {int(row[0]) for row in rows}


def _with_origin(
    record: dict[str, Any],
    entry_id: int,
    digest: str,
    by_local: dict[int, int],
    stamp: dict[str, str],
) -> dict[str, Any]:
    """The original record with its origin, and its revert link pointing at the team's copy
    of the reverted entry (imported before it: a revert comes after what it reverts)."""
    reverts = record.get("reverts_id")
    origin = ImportOrigin(
        workstation=stamp["workstation"], source=stamp["source"], id=entry_id, hash=digest,
        prev_hash=record["prev_hash"], reverts_id=reverts, imported_by=stamp["imported_by"],
        imported_at=stamp["imported_at"],
    )  # fmt: skip
    record = {**record, "origin": origin.as_json()}
    if reverts is not None:
        record["reverts_id"] = by_local[reverts]
    if record_hash(original_record(record)) != digest:
        # Verified, yet not rebuilt exactly: written by a version whose bodies differ.
        raise HistoryImportError(
            f"Entry {entry_id} cannot be imported with a provenance that verifies. "
            "Nothing was imported."
        )
    return record


def run_import(file: Path, database: Store, *, dry_run: bool) -> ImportPreview | ImportResult:
    """A dry run or an import on the team database, through a journal session of its own (the
    CLI's command and the Team dialog's button)."""
    journal = Journal(database)
    try:
        return preview_import(file, journal) if dry_run else import_history(file, journal)
    finally:
        journal.close()


def in_words(done: ImportPreview | ImportResult) -> list[str]:
    """What a dry run found or an import did, for the CLI and the Team dialog."""
    directory = done.directory
    facts = f"{directory.users:,} users, {directory.accounts:,} accounts, {directory.links:,} links"
    if isinstance(done, ImportPreview):
        lines = [
            f"{done.file} (written on {done.workstation}): {done.entries:,} journal entries, "
            "chain verified.",
            f"{done.new:,} would be imported into the team journal; "
            f"{done.entries - done.new:,} are there already.",
        ]
        if done.in_flight:
            lines.append(
                f"{done.in_flight:,} write(s) begun and not finished in that file: recorded "
                '"unknown" first if their app is closed; while it runs the import is refused.'
            )
        lines += [f"Directory to merge (the newer fact wins): {facts}.", NOT_IMPORTED]
        return [*lines, "Dry run: nothing was imported."]
    if done.imported:
        where = f"as team entries {done.first_id:,}–{done.last_id:,}"
        lines = [f"Imported {done.imported:,} journal entries from {done.workstation} {where}."]
    else:
        lines = [f"No journal entry to import from {done.workstation}."]
    if done.skipped:
        lines.append(f"{done.skipped:,} entries were imported before: skipped, not duplicated.")
    if done.recovered:
        lines.append(
            f'{done.recovered:,} write(s) left unfinished by a closed app were recorded "unknown" '
            "(check them on the server)."
        )
    return [*lines, f"Directory merged (the newer fact wins): {facts}.", NOT_IMPORTED]


def _directory_counts(database: Database) -> ImportCounts:
    with database.read() as conn:
        users, accounts, links = (
            int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in ("directory_users", "directory_accounts", "directory_links")
        )
    return ImportCounts(users=users, accounts=accounts, links=links)
