"""The journal: one entry per write attempt, append-only and hash-chained.

Each entry is stored as the exact JSON text its hash covers (``body``); the columns used for
filtering are generated from that text, so what is shown and searched is what is verified.

An attempt's outcome is known only after the network call, and the app may die in between.
So ``begin`` records the attempt in a write-ahead *intent* table (not chained) before the request
is sent; ``complete`` appends the chained entry and removes the intent in one transaction; and
``recover`` turns intents left by a crash into entries with outcome "unknown".

Several processes share the journal. Each ``Journal`` is a session that holds an OS lock for its
life (store/ownership.py), and every intent records its session: ``recover`` takes only intents
whose session's lock is free — their process is gone — so a job starting never touches the
writes another live process has in flight.

Concurrent writers (a bulk job) use ``begin_async``/``complete_async``: the calls made while a
transaction is being written are grouped into the next one, on a worker thread, so N writes in
flight share one fsync instead of paying 2·N, and the event loop never waits for the disk.

Size (~650 lines): append, complete, recover, verify and the group commit share one lock
discipline and one hash rule, so they stay together; the filter query (journal_search.py) and
what differs per engine (journal_engine.py, store/pg/journal_engine.py) live apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import json
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, TextIO

from ctrader_admin.errors import ExpectedError
from ctrader_admin.redaction import redact
from ctrader_admin.store import journal_search

# GENESIS_HASH and sessions_folder are re-exported: where callers have always found them.
from ctrader_admin.store.journal_engine import GENESIS_HASH as GENESIS_HASH
from ctrader_admin.store.journal_engine import EntryRow, JournalEngine, SqliteJournalEngine
from ctrader_admin.store.journal_engine import sessions_folder as sessions_folder
from ctrader_admin.store.journal_origin import ImportOrigin, OriginCheck
from ctrader_admin.store.spreadsheet import safe_cell
from ctrader_admin.store.sql import Connection, Store
from ctrader_admin.store.timestamps import utc_iso

# refused: not sent, because a check just before sending refused it (the target had changed
# since the operator confirmed); failed: sent, and an answer proved nothing was applied.
Outcome = Literal["ok", "failed", "unknown", "refused"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "failed", "unknown", "refused")
RECOVERED_ERROR = (
    "The app stopped after sending this request and before the answer arrived; "
    "check on the server whether the change was applied."
)
_APPEND_CHUNK = 5000


class JournalError(ExpectedError):
    """A journal operation that cannot be done; the message is meant for the operator."""


@dataclass(frozen=True, slots=True)
class JournalDraft:
    """What is known about a write before it is sent."""

    operator: str  # the manager login
    profile_id: str
    profile_name: str
    environment: str
    broker_name: str
    action: str  # create_user, link_account, move_wl, set_partner, delete_partner, …
    target: str  # user:123, account:9000012, login:3100042@demo, …
    before: str | None = None
    after: str | None = None
    reason: str = ""
    ticket: str = ""
    request: str = ""
    batch_id: str | None = None
    reverts_id: int | None = None
    workstation: str = field(default_factory=socket.gethostname)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    at_utc: str  # when the attempt began
    operator: str
    workstation: str
    profile_id: str
    profile_name: str
    environment: str
    broker_name: str
    action: str
    target: str
    before: str | None
    after: str | None
    reason: str
    ticket: str
    outcome: Outcome
    request: str
    response: str | None
    error: str | None
    batch_id: str | None
    reverts_id: int | None
    prev_hash: str
    hash: str
    # Set on entries imported from a workstation's own journal (store/journal_origin.py).
    origin: ImportOrigin | None = None


# The fields every entry has (the origin, only imported ones have, is exported as words).
ENTRY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(JournalEntry) if f.name != "origin")
EXPORT_FIELDS: tuple[str, ...] = (*ENTRY_FIELDS, "imported_from")
_DRAFT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(JournalDraft))


@dataclass(frozen=True, slots=True)
class JournalAttempt:
    """A finished attempt for ``append_many`` (imports, benchmarks)."""

    draft: JournalDraft
    outcome: Outcome
    response: str | None = None
    error: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_id: int | None
    message: str


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """Every set field narrows the result. ``since`` is inclusive, ``until`` exclusive."""

    text: str | None = None  # substring of target/action/operator/reason/ticket/before/after/error
    action: str | None = None
    outcome: Outcome | None = None
    profile_id: str | None = None
    batch_id: str | None = None
    operator: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    targets: tuple[str, ...] | None = None  # any of these exact targets (user:N, account:N, …)


def _clean(value: str | None) -> str | None:
    """Redacted, and valid UTF-8 so the hash input is well defined."""
    if value is None:
        return None
    return redact(value).encode("utf-8", "replace").decode("utf-8")


def canonical_body(values: dict[str, Any]) -> str:
    """The text an entry's hash covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _entry(body: str, stored_hash: str) -> JournalEntry:
    return _entry_of(json.loads(body), stored_hash)


def _entry_of(record: dict[str, Any], digest: str) -> JournalEntry:
    origin = record.get("origin")
    values = {key: value for key, value in record.items() if key != "origin"}
    return JournalEntry(
        **values, hash=digest, origin=None if origin is None else ImportOrigin.from_json(origin)
    )


def record_hash(record: dict[str, Any]) -> str:
    """The hash of an entry's fields as the chain stores them."""
    return entry_hash(canonical_body(record))


def _draft_fields(draft: JournalDraft, at: datetime | None) -> dict[str, Any]:
    for name in ("operator", "profile_id", "action", "target"):
        if not getattr(draft, name).strip():
            raise JournalError(f"A journal entry needs a {name}.")
    values: dict[str, Any] = {}
    for name in _DRAFT_FIELDS:
        value = getattr(draft, name)
        values[name] = _clean(value) if isinstance(value, str) else value
    values["at_utc"] = utc_iso(at)
    return values


def _engine_for(database: Store) -> JournalEngine:
    if database.engine == "postgresql":
        from ctrader_admin.store.pg.database import PgDatabase
        from ctrader_admin.store.pg.journal_engine import PgJournalEngine

        assert isinstance(database, PgDatabase)
        return PgJournalEngine(database)
    return SqliteJournalEngine(database)


class Journal:
    """The journal on either engine (store/journal_engine.py: what differs)."""

    def __init__(self, database: Store, *, full_text: bool = True) -> None:
        self._db = database
        self._engine = _engine_for(database)
        # Intents of live sessions are in flight, not crashed: recover() leaves them alone.
        self._owner = self._engine.claim_session()
        self._session = self._owner.session
        self._group = _GroupCommit(self)
        self._indexed = False
        if not self._engine.sets_up_text_index:
            # The team database: nothing to set up, so no round trip — a server that does not
            # answer would cost the whole connect timeout here (docs/team-mode.md).
            return
        try:
            with database.transaction() as conn:
                self._indexed = self._engine.ensure_index(conn, wanted=full_text)
        except BaseException:
            self._owner.release()
            raise

    def close(self) -> None:
        """End this session (the database stays open: its owner closes it). Intents it leaves
        are then another session's to recover."""
        self._owner.release()

    @property
    def session(self) -> str:
        return self._session

    @property
    def store(self) -> Store:
        """The database the journal lives in, whichever engine."""
        return self._db

    @property
    def owner(self) -> object:
        """This session's claim (tests look at a team session's server connection)."""
        return self._owner

    @property
    def full_text_index(self) -> bool:
        """False where SQLite lacks FTS5 trigrams: text filters then scan (slow on big journals)."""
        return self._indexed

    # --- writing ---------------------------------------------------------------------------

    def begin(self, draft: JournalDraft, *, at: datetime | None = None) -> int:
        """Record an attempt before its request is sent; returns the intent id."""
        values = _draft_fields(draft, at)
        with self._db.transaction() as conn:
            self._check_reverts(conn, values["reverts_id"])
            return self._engine.insert_intent(
                conn, self._session, json.dumps(values, ensure_ascii=False)
            )

    def complete(
        self,
        intent_id: int,
        outcome: Outcome,
        response_text: str | None = None,
        error: str | None = None,
    ) -> JournalEntry:
        """Append the chained entry for an intent and drop the intent, atomically."""
        if outcome not in OUTCOMES:
            raise JournalError(f"Unknown outcome {outcome!r}.")
        with self._db.transaction() as conn:
            # The chain first: holding its head, no other session can finish this intent.
            chain = _Chain(self._engine, conn)
            fields_ = self._engine.pending_intent(conn, intent_id)
            if fields_ is None:
                raise JournalError(
                    f"No pending attempt {intent_id}: it was completed or recovered already."
                )
            entry = chain.append(json.loads(fields_), outcome, response_text, error, intent_id)
            chain.flush()
            self._engine.finish_intents(conn, [intent_id])
        return entry

    async def begin_async(self, draft: JournalDraft) -> int:
        """``begin``, grouped with the other calls in flight. If the caller is cancelled, the
        attempt is completed as failed (it was never sent)."""
        result = await self._group.submit(_GroupOp("begin", draft=draft))
        assert isinstance(result, int)
        return result

    async def complete_async(
        self,
        intent_id: int,
        outcome: Outcome,
        response_text: str | None = None,
        error: str | None = None,
    ) -> JournalEntry:
        """``complete``, grouped with the other calls in flight. Written even if the caller is
        cancelled meanwhile."""
        if outcome not in OUTCOMES:
            raise JournalError(f"Unknown outcome {outcome!r}.")
        op = _GroupOp("complete", intent_id=intent_id, outcome=outcome)
        op.response_text, op.error = response_text, error
        result = await self._group.submit(op)
        assert isinstance(result, JournalEntry)
        return result

    def _run_group(self, ops: list[_GroupOp]) -> list[int | JournalEntry | JournalError]:
        """Every op in one transaction; an op that is refused does not stop the others."""
        results: list[int | JournalEntry | JournalError] = []
        with self._db.transaction() as conn:
            chain: _Chain | None = None
            for op in ops:
                try:
                    if op.kind == "begin":
                        assert op.draft is not None
                        results.append(self._insert_intent(conn, op.draft))
                        continue
                    chain = chain or _Chain(self._engine, conn)
                    text = self._engine.pending_intent(conn, op.intent_id)
                    if text is None:
                        raise JournalError(
                            f"No pending attempt {op.intent_id}: it was completed or recovered "
                            "already."
                        )
                    results.append(
                        chain.append(
                            json.loads(text), op.outcome, op.response_text, op.error, op.intent_id
                        )
                    )
                    self._engine.finish_intents(conn, [op.intent_id])
                except JournalError as exc:
                    results.append(exc)
            if chain is not None:
                chain.flush()
        return results

    def _insert_intent(self, conn: Connection, draft: JournalDraft) -> int:
        values = _draft_fields(draft, None)
        self._check_reverts(conn, values["reverts_id"])
        return self._engine.insert_intent(
            conn, self._session, json.dumps(values, ensure_ascii=False)
        )

    def recover(self) -> list[JournalEntry]:
        """Turn attempts left by a crash (sent, never answered) into 'unknown' entries.

        Only intents whose session has ended (its process is gone) are taken: those of this
        Journal and of any other live process are in flight and kept. Lock files of ended
        sessions are removed on the way.
        """
        with self._db.transaction() as conn:
            chain = _Chain(self._engine, conn)
            rows = self._engine.unfinished_intents(conn, self._session)
            gone = {session for session in {r[1] for r in rows} if self._owner.is_gone(session)}
            intents = [(intent_id, text) for intent_id, session, text in rows if session in gone]
            entries = [
                chain.append(json.loads(text), "unknown", None, RECOVERED_ERROR, intent_id)
                for intent_id, text in intents
            ]
            chain.flush()
            self._engine.finish_intents(conn, [intent_id for intent_id, _ in intents])
        self._owner.sweep()
        return entries

    def pending_count(self) -> int:
        """Attempts begun and not yet completed (in flight, or left by a crash)."""
        with self._db.read() as conn:
            return self._engine.pending_count(conn)

    def append_many(self, attempts: Iterable[JournalAttempt]) -> int:
        """Append finished attempts in one transaction through the same chain logic.

        For imports and for generating large journals in tests and benchmarks; the iterable is
        consumed in chunks, so it may be a generator of any length.
        """
        count = 0
        with self.appending() as chain:
            for attempt in attempts:
                values = _draft_fields(attempt.draft, attempt.at)
                if values["reverts_id"] is not None and values["reverts_id"] >= chain.next_id:
                    raise JournalError(f"Entry {values['reverts_id']} does not exist.")
                chain.append(values, attempt.outcome, attempt.response, attempt.error)
                count += 1
                if len(chain.pending) >= _APPEND_CHUNK:
                    chain.flush()
            chain.flush()
        return count

    @contextlib.contextmanager
    def appending(self) -> Iterator[_Chain]:
        """A transaction holding the chain's head, for appending whole records (imports): what
        is appended is written when the block ends, all or nothing."""
        with self._db.transaction() as conn:
            chain = _Chain(self._engine, conn)
            yield chain
            chain.flush()

    @staticmethod
    def _check_reverts(conn: Connection, reverts_id: int | None) -> None:
        if reverts_id is None:
            return
        if conn.execute("SELECT 1 FROM journal WHERE id = ?", (reverts_id,)).fetchone() is None:
            raise JournalError(f"Entry {reverts_id} does not exist, so it cannot be reverted.")

    # --- reading ---------------------------------------------------------------------------

    def entry(self, entry_id: int) -> JournalEntry | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT body, hash FROM journal WHERE id = ?", (entry_id,)
            ).fetchone()
        return _entry(*row) if row else None

    def count(self, flt: JournalFilter | None = None) -> int:
        source, where, params = self._query(flt or JournalFilter())
        with self._db.read() as conn:
            return int(conn.execute(f"SELECT count(*) {source} {where}", params).fetchone()[0])

    def page(self, flt: JournalFilter | None, offset: int, limit: int) -> list[JournalEntry]:
        """Entries matching ``flt``, newest first, for a lazy table model."""
        source, where, params = self._query(flt or JournalFilter())
        order = f"ORDER BY {_order_key(source)} DESC LIMIT ? OFFSET ?"
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT j.body, j.hash {source} {where} {order}",
                [*params, max(limit, 0), max(offset, 0)],
            ).fetchall()
        return [_entry(body, stored_hash) for body, stored_hash in rows]

    def iter_entries(self, flt: JournalFilter | None = None) -> Iterator[JournalEntry]:
        """Matching entries oldest first, streamed from a snapshot (constant memory)."""
        source, where, params = self._query(flt or JournalFilter())
        with self._db.snapshot() as conn:
            cursor = conn.execute(
                f"SELECT j.body, j.hash {source} {where} ORDER BY {_order_key(source)}", params
            )
            for body, stored_hash in cursor:
                yield _entry(body, stored_hash)

    def export_csv(self, flt: JournalFilter | None, file: TextIO) -> int:
        """Write matching entries, oldest first, as CSV; returns the number of rows.

        Cells that a spreadsheet would run as a formula (=, +, -, @ first) get a leading "'".
        """
        writer = csv.writer(file)
        writer.writerow(EXPORT_FIELDS)
        count = 0
        for entry in self.iter_entries(flt):
            origin = entry.origin.describe() if entry.origin is not None else ""
            writer.writerow([*(safe_cell(getattr(entry, name)) for name in ENTRY_FIELDS), origin])
            count += 1
        return count

    def _query(self, flt: JournalFilter) -> tuple[str, str, list[Any]]:
        """FROM clause, WHERE clause and parameters for a filter."""
        clauses: list[str] = []
        params: list[Any] = []
        if flt.targets:
            clauses.append(f"j.target IN ({', '.join('?' * len(flt.targets))})")
            params.extend(flt.targets)
        for name in ("action", "outcome", "profile_id", "batch_id", "operator"):
            value = getattr(flt, name)
            if value is not None:
                clauses.append(f"j.{name} = ?")
                params.append(value)
        if flt.since is not None:
            clauses.append("j.at_utc >= ?")
            params.append(utc_iso(flt.since))
        if flt.until is not None:
            clauses.append("j.at_utc < ?")
            params.append(utc_iso(flt.until))
        source = "FROM journal j"
        text = (flt.text or "").strip()
        if text and self._indexed and len(text) >= journal_search.MIN_INDEXED_LENGTH:
            # CROSS JOIN fixes the index as the outer loop: SQLite walks only the matching rows.
            index = journal_search.INDEX_TABLE
            source = f"FROM {index} CROSS JOIN journal j ON j.id = {index}.rowid"
            clauses.insert(0, f"{index} MATCH ?")
            params.insert(0, journal_search.match_phrase(text))
        elif text:
            clause, like = self._engine.text_filter(journal_search.like_pattern(text))
            clauses.append(clause)
            params.extend(like)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return source, where, params

    # --- verification ----------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute the whole chain from a snapshot, streaming (constant memory)."""
        expected_id = 1
        prev_hash = GENESIS_HASH
        checked = 0
        origins = OriginCheck(record_hash)
        with self._db.snapshot() as conn:
            cursor = self._engine.verify_rows(conn)
            for entry_id, body, stored_hash, body_id, body_prev in cursor:
                problem = None
                if entry_id != expected_id:
                    problem = (
                        f"Entries {expected_id}–{entry_id - 1} are missing: "
                        f"the journal jumps to entry {entry_id}."
                    )
                elif body_id != entry_id:
                    problem = f"Entry {entry_id} carries the content of another entry."
                elif entry_hash(body) != stored_hash:
                    problem = f"Entry {entry_id} was changed after it was written."
                elif body_prev != prev_hash:
                    problem = (
                        f"Entry {entry_id} does not follow entry {entry_id - 1}: an earlier "
                        "entry was changed, removed or inserted."
                    )
                else:
                    problem = origins.problem(entry_id, body)
                if problem is not None:
                    return VerifyReport(False, checked, entry_id, problem)
                checked += 1
                expected_id = entry_id + 1
                prev_hash = stored_hash
            written = self._engine.written_up_to(conn)
            if written is not None and written >= expected_id:
                return VerifyReport(
                    False,
                    checked,
                    expected_id,
                    f"Entries {expected_id}–{written} are missing from the end of the journal.",
                )
        return VerifyReport(True, checked, None, f"All {checked:,} entries are intact.")


def _order_key(source: str) -> str:
    # Same order as j.id, but lets the full-text index deliver rows already sorted.
    index = journal_search.INDEX_TABLE
    return f"{index}.rowid" if source.startswith(f"FROM {index}") else "j.id"


class _Chain:
    """Appends entries inside the caller's transaction, batching inserts; holds the chain's
    head from creation to the end of the transaction (store/journal_engine.py)."""

    def __init__(self, engine: JournalEngine, conn: Connection) -> None:
        self._engine = engine
        self.conn = conn
        self.next_id, self.prev_hash = engine.open_chain(conn)
        self.pending: list[EntryRow] = []

    def append(
        self,
        values: dict[str, Any],
        outcome: Outcome,
        response: str | None,
        error: str | None,
        intent_id: int | None = None,
    ) -> JournalEntry:
        if outcome not in OUTCOMES:
            raise JournalError(f"Unknown outcome {outcome!r}.")
        record = {name: values[name] for name in (*_DRAFT_FIELDS, "at_utc")}
        record.update(outcome=outcome, response=_clean(response), error=_clean(error))
        return self.append_record(record, intent_id)

    def append_record(self, record: dict[str, Any], intent_id: int | None = None) -> JournalEntry:
        """Chain a whole record (its id and previous hash are set here)."""
        record = {**record, "id": self.next_id, "prev_hash": self.prev_hash}
        body = canonical_body(record)
        digest = entry_hash(body)
        self.pending.append((self.next_id, body, digest, intent_id))
        self.next_id += 1
        self.prev_hash = digest
        return _entry_of(record, digest)

    def flush(self) -> None:
        if self.pending:
            self._engine.write_entries(self.conn, self.pending)
            self.pending.clear()


@dataclass(slots=True)
class _GroupOp:
    kind: Literal["begin", "complete"]
    draft: JournalDraft | None = None
    intent_id: int = 0
    outcome: Outcome = "failed"
    response_text: str | None = None
    error: str | None = None


_CANCELLED_BEFORE_SENDING = "Cancelled before the request was sent: nothing was sent."


class _GroupCommit:
    """Group commit for one Journal: whatever is submitted while a group is being written goes
    into the next group. One group at a time, on a worker thread, for the event loop that
    started it; a call from another loop meanwhile runs on its own (correct, just not grouped)."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._pending: list[tuple[_GroupOp, asyncio.Future[object]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, op: _GroupOp) -> int | JournalEntry:
        future = self._enqueue(op, asyncio.get_running_loop())
        if future is None:
            result = await asyncio.to_thread(self._journal._run_group, [op])
            return _unwrap(result[0])
        try:
            # Shielded: once submitted, the op is written whatever happens to this caller.
            return _unwrap(await asyncio.shield(future))
        except asyncio.CancelledError:
            if op.kind == "begin":
                future.add_done_callback(self._abandon)
            raise

    def _enqueue(
        self, op: _GroupOp, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[object] | None:
        """The op's future, or None when another loop's group is being written."""
        with self._lock:
            busy = self._task is not None and not self._task.done()
            if busy and self._loop is not loop:
                return None
            future: asyncio.Future[object] = loop.create_future()
            future.add_done_callback(_retrieve)
            self._pending.append((op, future))
            if not busy:
                self._loop = loop
                self._task = loop.create_task(self._flush())
            return future

    def _abandon(self, done: asyncio.Future[object]) -> None:
        """The caller of a begin went away: its intent, if written, is completed as failed."""
        if done.cancelled() or done.exception() is not None:
            return
        intent_id = done.result()
        if isinstance(intent_id, int) and self._loop is not None:
            op = _GroupOp("complete", intent_id=intent_id, error=_CANCELLED_BEFORE_SENDING)
            if self._enqueue(op, self._loop) is None:
                self._journal.complete(intent_id, "failed", error=_CANCELLED_BEFORE_SENDING)

    async def _flush(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    return
            try:
                results = await asyncio.to_thread(self._journal._run_group, [op for op, _ in batch])
            except BaseException as exc:
                failure = exc if isinstance(exc, Exception) else JournalError("interrupted")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


def _retrieve(future: asyncio.Future[object]) -> None:
    # An op whose caller was cancelled may still fail; that is not an unhandled error.
    if not future.cancelled():
        future.exception()


def _unwrap(result: object) -> int | JournalEntry:
    if isinstance(result, JournalError):
        raise result
    assert isinstance(result, int | JournalEntry)
    return result
