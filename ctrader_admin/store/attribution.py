"""The attribution ledger and the partner registry, as read — never computed.

- The **ledger**: who referred which client, one row per statement of a source (cTrader Invite,
  an account's IB label, the broker's CRM export), with when the source says it happened and
  when the app read it. Re-reading a source overwrites its own rows (``source_key``), never
  another source's.
- The **registry**: which partner carries which partner code (partnerId), as cTrader's referral
  records and the CRM say it. A partnerId marks a partner; it attributes nobody
  (docs/partners-and-attribution.md).

Questions asked of these rows (conflicts, a partner's referrals) live in services/attribution.py.
Incremental pulls keep their cursor here, written in the same transaction as the page it
follows, so a pull stopped anywhere resumes without a gap or a duplicate.

Size (~560 lines): the ledger, the registry and the kept conflict report change in the same
transactions, so they stay one store; the rules live in attribution_rules.py and conflict_table.py.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import astuple, dataclass, fields
from itertools import groupby
from typing import Literal

from ctrader_admin.store import conflict_table
from ctrader_admin.store.attribution_rules import (
    Conflict,
    ConflictKind,
    Registry,
    client_conflicts,
    period_start,
    registry_conflicts,
)
from ctrader_admin.store.conflict_table import KeptConflict
from ctrader_admin.store.sql import Connection, Store
from ctrader_admin.store.timestamps import utc_iso

Source = Literal["invite", "ib_label", "crm"]
SOURCES: tuple[Source, ...] = ("invite", "ib_label", "crm")
RegistrySource = Literal["ctrader", "crm"]
Level = Literal["user", "account"]
ReferralKey = tuple[str | None, int]  # (attributed_at, row id) of the last referral shown


@dataclass(frozen=True, slots=True)
class Attribution:
    source: Source
    source_key: str  # unique within the source: what a re-read of the same fact overwrites
    client_user_id: int | None
    client_login: int | None
    partner_code: str | None
    partner_user_id: int | None
    attributed_at: str | None  # when the source says it happened (UTC ISO 8601)
    read_at: str  # when the app read it
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RegisteredCode:
    source: RegistrySource
    partner_user_id: int
    level: Level
    ctid_trader_account_id: int  # 0 at user level
    code: str
    read_at: str


# SQL assembled from constant column names and "?" placeholders only, never from input; so
# S608 (SQL built from strings) does not apply to the statements below.
_ATTRIBUTION_COLUMNS = ", ".join(f.name for f in fields(Attribution))
_REGISTRY_COLUMNS = ", ".join(f.name for f in fields(RegisteredCode))
_SELECT = f"SELECT {_ATTRIBUTION_COLUMNS} FROM attribution a WHERE a.profile_id = ? AND "  # noqa: S608
_COUNT = "SELECT count(*) FROM attribution a WHERE a.profile_id = ? AND "
_UPSERT = (
    f"INSERT INTO attribution (profile_id, {_ATTRIBUTION_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (profile_id, source, source_key) DO UPDATE SET "
    "client_user_id = excluded.client_user_id, client_login = excluded.client_login, "
    "partner_code = excluded.partner_code, partner_user_id = excluded.partner_user_id, "
    "attributed_at = excluded.attributed_at, read_at = excluded.read_at, detail = excluded.detail"
)
_REGISTRY_INSERT = (
    f"INSERT INTO partner_registry (profile_id, {_REGISTRY_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
    "(profile_id, source, partner_user_id, level, ctid_trader_account_id) "
    "DO UPDATE SET code = excluded.code, read_at = excluded.read_at"
)
_REGISTRY_SELECT = (
    f"SELECT {_REGISTRY_COLUMNS} FROM partner_registry WHERE profile_id = ? "  # noqa: S608
    "ORDER BY partner_user_id, level DESC, ctid_trader_account_id, source"
)
# Each client's latest statement per source (a re-attribution supersedes the first touch); an
# account's IB labels are all current, one per level.
_LATEST = (
    "NOT EXISTS ("
    " SELECT 1 FROM attribution b WHERE b.profile_id = a.profile_id"
    " AND b.source = a.source AND b.client_user_id = a.client_user_id AND b.source != 'ib_label'"
    " AND (b.attributed_at > a.attributed_at"
    "      OR (b.attributed_at = a.attributed_at AND b.id > a.id)))"
)
_CURRENT = "a.client_user_id IS NOT NULL AND " + _LATEST
_BY_CLIENT = " ORDER BY a.client_user_id, a.source, a.id"


@dataclass(frozen=True, slots=True)
class ReferralPage:
    rows: list[Attribution]  # newest first
    after: ReferralKey | None  # where the next page starts; None when this one is the last


class AttributionLedger:
    """Every write keeps the conflict report (store/conflict_table.py) in the same transaction:
    the clients whose statements changed, or who name a code whose owner changed, are
    recomputed; the registry's own conflicts are recomputed with the registry."""

    def __init__(self, database: Store) -> None:
        self._db = database
        self._built: set[str] = set()  # profiles whose kept report is known to be complete

    def _writing(self, conn: Connection, profile_id: str) -> None:
        """At the start of every write transaction. The kept report is recomputed from what
        the transaction reads, so writers of one profile must queue: SQLite's write
        transactions do already (one writer at a time); on PostgreSQL (READ COMMITTED, many
        workstations) they queue on a lock per profile, released with the transaction."""
        if self._db.engine == "postgresql":
            from ctrader_admin.store.pg.database import LOCK_LEDGER

            conn.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (LOCK_LEDGER, profile_id))

    # --- writing -----------------------------------------------------------------------------

    def save_page(
        self,
        profile_id: str,
        rows: Iterable[Attribution],
        *,
        cursor: tuple[Source, str] | None = None,
    ) -> int:
        """Upsert ``rows``; with ``cursor``, store where the pull goes on, in the same
        transaction. Returns the number of rows written."""
        rows = list(rows)
        with self._db.transaction() as conn:
            self._writing(conn, profile_id)
            self._ensure_built(conn, profile_id)
            touched = self._upsert(conn, profile_id, rows)
            if cursor is not None:
                source, position = cursor
                conn.execute(
                    "INSERT INTO attribution_cursor (profile_id, source, position) "
                    "VALUES (?, ?, ?) ON CONFLICT (profile_id, source) "
                    "DO UPDATE SET position = excluded.position",
                    (profile_id, source, position),
                )
            self._refresh_clients(conn, profile_id, touched)
        return len(rows)

    def replace_source(self, profile_id: str, source: Source, rows: Iterable[Attribution]) -> int:
        """A new export of a whole source (the CRM's) replaces the previous one."""
        rows = list(rows)
        with self._db.transaction() as conn:
            self._writing(conn, profile_id)
            self._ensure_built(conn, profile_id)
            touched = {
                int(client)
                for (client,) in conn.execute(
                    "SELECT DISTINCT client_user_id FROM attribution "
                    "WHERE profile_id = ? AND source = ? AND client_user_id IS NOT NULL",
                    (profile_id, source),
                )
            }
            conn.execute(
                "DELETE FROM attribution WHERE profile_id = ? AND source = ?", (profile_id, source)
            )
            touched |= self._upsert(conn, profile_id, rows)
            self._refresh_clients(conn, profile_id, touched)
        return len(rows)

    def cursor(self, profile_id: str, source: Source) -> str | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT position FROM attribution_cursor WHERE profile_id = ? AND source = ?",
                (profile_id, source),
            ).fetchone()
        return str(row[0]) if row else None

    def set_registry(
        self,
        profile_id: str,
        source: RegistrySource,
        codes: Iterable[RegisteredCode],
        *,
        partners: Collection[int] | None = None,
    ) -> None:
        """The codes of ``partners`` (every partner of the source when None) as just read:
        their earlier rows of that source are replaced, so a code removed since disappears."""
        values = [(profile_id, *astuple(code)) for code in codes]
        with self._db.transaction() as conn:
            self._writing(conn, profile_id)
            self._ensure_built(conn, profile_id)
            if partners is None:
                old = conn.execute(
                    "SELECT code FROM partner_registry WHERE profile_id = ? AND source = ?",
                    (profile_id, source),
                ).fetchall()
            else:
                old = []
                for users in conflict_table.chunks(partners):
                    old += conn.execute(
                        "SELECT code FROM partner_registry WHERE profile_id = ? "  # noqa: S608
                        f"AND source = ? AND partner_user_id IN ({', '.join('?' * len(users))})",
                        (profile_id, source, *users),
                    ).fetchall()
            # Only codes whose owner (or being known at all) changes change clients' conflicts.
            candidates = {code for (code,) in old} | {code.code for code in codes}
            before = self._verdicts(conn, profile_id, candidates)
            if partners is None:
                conn.execute(
                    "DELETE FROM partner_registry WHERE profile_id = ? AND source = ?",
                    (profile_id, source),
                )
            else:
                conn.executemany(
                    "DELETE FROM partner_registry "
                    "WHERE profile_id = ? AND source = ? AND partner_user_id = ?",
                    [(profile_id, source, user_id) for user_id in partners],
                )
            conn.executemany(_REGISTRY_INSERT, values)
            after = self._verdicts(conn, profile_id, candidates)
            changed = {code for code in candidates if before[code] != after[code]}
            clients: set[int] = set()
            for part in conflict_table.chunks(changed):
                clients.update(
                    int(client)
                    for (client,) in conn.execute(
                        "SELECT DISTINCT client_user_id FROM attribution "  # noqa: S608
                        f"WHERE profile_id = ? AND partner_code IN ({', '.join('?' * len(part))})",
                        (profile_id, *part),
                    )
                    if client is not None
                )
            self._refresh_clients(conn, profile_id, clients)
            registry = Registry(self._registry(conn, profile_id))
            conflict_table.replace_registry(conn, profile_id, registry_conflicts(registry))

    # --- keeping the conflict report -------------------------------------------------------

    def _upsert(self, conn: Connection, profile_id: str, rows: list[Attribution]) -> set[int]:
        """Write ``rows``; returns the clients whose statements changed (a re-read row may
        name another client than before, e.g. an account with a new owner)."""
        touched = {row.client_user_id for row in rows if row.client_user_id is not None}
        by_source: dict[str, list[str]] = {}
        for row in rows:
            by_source.setdefault(row.source, []).append(row.source_key)
        for source, keys in by_source.items():
            for part in conflict_table.chunks(keys):
                touched.update(
                    int(client)
                    for (client,) in conn.execute(
                        "SELECT client_user_id FROM attribution "  # noqa: S608
                        "WHERE profile_id = ? AND source = ? "
                        f"AND source_key IN ({', '.join('?' * len(part))})",
                        (profile_id, source, *part),
                    )
                    if client is not None
                )
        conn.executemany(_UPSERT, [(profile_id, *_values(row)) for row in rows])
        return touched

    def _refresh_clients(self, conn: Connection, profile_id: str, clients: Collection[int]) -> None:
        for part in conflict_table.chunks(clients):
            marks = ", ".join("?" * len(part))
            rows = [
                Attribution(*row)
                for row in conn.execute(
                    # IN first: "IS NOT NULL" would lead the planner to read every client.
                    _SELECT + f"a.client_user_id IN ({marks}) AND " + _LATEST + _BY_CLIENT,
                    (profile_id, *part),
                )
            ]
            codes = {row.partner_code for row in rows if row.partner_code}
            registry = Registry(self._registry(conn, profile_id, codes))
            conflict_table.replace_clients(
                conn,
                profile_id,
                part,
                _client_findings(rows, registry),
            )

    def _verdicts(
        self, conn: Connection, profile_id: str, codes: Collection[str]
    ) -> dict[str, tuple[int | None, bool]]:
        registry = Registry(self._registry(conn, profile_id, codes))
        return {code: registry.verdict(code) for code in codes}

    def _registry(
        self, conn: Connection, profile_id: str, codes: Collection[str] | None = None
    ) -> list[RegisteredCode]:
        """The whole registry, or the rows carrying one of ``codes``."""
        if codes is None:
            return [RegisteredCode(*row) for row in conn.execute(_REGISTRY_SELECT, (profile_id,))]
        found: list[RegisteredCode] = []
        for part in conflict_table.chunks(codes):
            found += [
                RegisteredCode(*row)
                for row in conn.execute(
                    f"SELECT {_REGISTRY_COLUMNS} FROM partner_registry "  # noqa: S608
                    f"WHERE profile_id = ? AND code IN ({', '.join('?' * len(part))})",
                    (profile_id, *part),
                )
            ]
        return found

    def _ensure_built(self, conn: Connection, profile_id: str) -> None:
        """A database from before the kept report (or a profile never written) gets it
        complete once, in the caller's transaction; from then on every write keeps it."""
        if profile_id in self._built or conflict_table.is_built(conn, profile_id):
            return
        clients, registry = self._compute(conn, profile_id)
        conflict_table.clear(conn, profile_id)
        conflict_table.replace_clients(conn, profile_id, (), clients)
        conflict_table.replace_registry(conn, profile_id, registry)
        conflict_table.mark_built(conn, profile_id, utc_iso())

    def _compute(
        self, conn: Connection, profile_id: str
    ) -> tuple[list[tuple[int, str | None, list[Conflict]]], list[Conflict]]:
        """The whole report from the rows, at read time: what the kept one must equal."""
        registry = Registry(self._registry(conn, profile_id))
        rows = [
            Attribution(*row)
            for row in conn.execute(_SELECT + _CURRENT + _BY_CLIENT, (profile_id,))
        ]
        return _client_findings(rows, registry), list(registry_conflicts(registry))

    # --- reading -----------------------------------------------------------------------------

    def kept_conflicts(
        self,
        profile_id: str,
        *,
        kind: ConflictKind | None = None,
        after: tuple[int, int, int] | None = None,
        limit: int | None = None,
    ) -> list[KeptConflict]:
        """The kept conflict report in its order (clients by userId, then the registry's)."""
        self._build_if_needed(profile_id)
        with self._db.read() as conn:
            return conflict_table.page(conn, profile_id, kind=kind, after=after, limit=limit)

    def conflict_counts(self, profile_id: str) -> dict[ConflictKind, int]:
        self._build_if_needed(profile_id)
        with self._db.read() as conn:
            return conflict_table.counts(conn, profile_id)

    def computed_conflicts(self, profile_id: str) -> list[KeptConflict]:
        """The same report computed over every current row now (slow on a big ledger): for
        checking the kept one, and as the benchmark's baseline."""
        with self._db.read() as conn:
            clients, registry = self._compute(conn, profile_id)
        found = [
            KeptConflict((conflict_table.CLIENT, client, n), start, conflict)
            for client, start, conflicts in clients
            for n, conflict in enumerate(conflicts)
        ]
        found += [
            KeptConflict((conflict_table.REGISTRY, 0, n), None, conflict)
            for n, conflict in enumerate(registry)
        ]
        return found

    def _build_if_needed(self, profile_id: str) -> None:
        if profile_id not in self._built:
            with self._db.transaction() as conn:
                self._writing(conn, profile_id)
                self._ensure_built(conn, profile_id)
            # Remembered once committed: a build rolled back with its transaction is redone.
            self._built.add(profile_id)

    def registry(
        self,
        profile_id: str,
        *,
        codes: Collection[str] | None = None,
        partner_user_id: int | None = None,
    ) -> list[RegisteredCode]:
        """The whole registry; or the rows carrying one of ``codes``; or one partner's rows."""
        with self._db.read() as conn:
            if partner_user_id is None:
                return self._registry(conn, profile_id, codes)
            rows = conn.execute(
                f"SELECT {_REGISTRY_COLUMNS} FROM partner_registry "  # noqa: S608
                # Both sources named: the primary key (profile, source, partner) is then a seek.
                "WHERE profile_id = ? AND source IN ('ctrader', 'crm') AND partner_user_id = ? "
                "ORDER BY partner_user_id, level DESC, ctid_trader_account_id, source",
                (profile_id, partner_user_id),
            ).fetchall()
        return [RegisteredCode(*row) for row in rows]

    def for_client(self, profile_id: str, user_id: int) -> list[Attribution]:
        """Every row about one client, oldest statement first."""
        return self._select(
            "a.client_user_id = ? ORDER BY a.attributed_at, a.source", (profile_id, user_id)
        )

    def referrals(
        self,
        profile_id: str,
        *,
        partner_user_id: int | None,
        codes: Collection[str],
        source: Source | None = None,
        text: str = "",
        conflicts_only: bool = False,
        after: ReferralKey | None = None,
        limit: int = 200,
    ) -> ReferralPage:
        """Rows that name this partner (by cTID user or by one of its codes), newest first;
        ``text`` keeps rows whose client userId, login or code contains it; ``conflicts_only``
        those whose client has a conflict. One query per way of naming the partner, each
        along its index, merged here: an OR of them would read and sort every referral."""
        names: list[tuple[str, object]] = []
        if partner_user_id is not None:
            names.append(("a.partner_user_id = ?", partner_user_id))
        names += [("a.partner_code = ?", code) for code in sorted(codes)]
        if conflicts_only:
            self._build_if_needed(profile_id)
        where, params = _referral_filter(source, text, conflicts_only, after)
        found: dict[int, tuple[ReferralKey, Attribution]] = {}
        with self._db.read() as conn:
            for name, value in names:
                query = (
                    f"SELECT a.id, {_ATTRIBUTION_COLUMNS} FROM attribution a "  # noqa: S608
                    f"WHERE a.profile_id = ? AND {name}{where} "
                    # Undated rows (IB labels) last: SQLite's DESC does so anyway (the same
                    # plan, along the index); PostgreSQL's needs NULLS LAST, and its indexes
                    # are built for this order (store/pg/migrations.py).
                    "ORDER BY a.attributed_at DESC NULLS LAST, a.id DESC LIMIT ?"
                )
                for row_id, *row in conn.execute(query, (profile_id, value, *params, limit + 1)):
                    found[row_id] = ((row[6], row_id), Attribution(*row))
        ordered = sorted(found.values(), key=lambda item: _newest_first(item[0]), reverse=True)
        rows = [row for _, row in ordered[:limit]]
        more = len(ordered) > limit
        return ReferralPage(rows, ordered[limit - 1][0] if more and limit else None)

    def referral_counts(
        self, profile_id: str, *, partner_user_id: int | None, codes: Collection[str]
    ) -> dict[Source, int]:
        """A partner's rows per source, from the indexes alone: the rows naming the user, plus
        those naming one of the codes and not the user (so no row counts twice)."""
        counts: dict[Source, int] = dict.fromkeys(SOURCES, 0)
        with self._db.read() as conn:
            if partner_user_id is not None:
                for source, n in conn.execute(
                    "SELECT source, count(*) FROM attribution "
                    "WHERE profile_id = ? AND partner_user_id = ? GROUP BY source",
                    (profile_id, partner_user_id),
                ):
                    counts[source] += int(n)
            for code in sorted(codes):
                for source, n in conn.execute(
                    "SELECT source, count(*) FROM attribution WHERE profile_id = ? "
                    "AND partner_code = ? AND (partner_user_id IS NULL OR partner_user_id != ?) "
                    "GROUP BY source",
                    (profile_id, code, -1 if partner_user_id is None else partner_user_id),
                ):
                    counts[source] += int(n)
        return counts

    def current(self, profile_id: str, client_user_id: int | None = None) -> list[Attribution]:
        """Each client's current statement per source (of one client, when given): for the
        conflict report and a client's case."""
        if client_user_id is None:
            return self._select(_CURRENT + _BY_CLIENT, (profile_id,))
        where = "a.client_user_id = ? AND " + _LATEST + _BY_CLIENT
        return self._select(where, (profile_id, client_user_id))

    def count(self, profile_id: str, source: Source | None = None) -> int:
        with self._db.read() as conn:
            return int(
                conn.execute(_COUNT + "a.source LIKE ?", (profile_id, source or "%")).fetchone()[0]
            )

    def counts_by_partner_user(self, profile_id: str) -> dict[int, int]:
        """Invite rows per inviting partner (cTID user)."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT partner_user_id, count(*) FROM attribution "
                "WHERE profile_id = ? AND partner_user_id IS NOT NULL GROUP BY partner_user_id",
                (profile_id,),
            ).fetchall()
        return {int(user): int(n) for user, n in rows}

    def counts_by_code(self, profile_id: str) -> dict[tuple[str, Source], int]:
        """Rows per (partner code, source) among rows that name no partner user."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT partner_code, source, count(*) FROM attribution "
                "WHERE profile_id = ? AND partner_code IS NOT NULL AND partner_user_id IS NULL "
                "GROUP BY partner_code, source",
                (profile_id,),
            ).fetchall()
        return {(str(code), source): int(n) for code, source, n in rows}

    def _select(self, where: str, params: tuple[object, ...]) -> list[Attribution]:
        """``where``: constant text and placeholders; ``params[0]`` is the profile id."""
        with self._db.read() as conn:
            rows = conn.execute(_SELECT + where, params).fetchall()
        return [Attribution(*row) for row in rows]


_FIELDS = tuple(f.name for f in fields(Attribution))


def _values(row: Attribution) -> tuple[object, ...]:
    """The row's columns (dataclasses.astuple deep-copies: too slow for a million rows)."""
    return tuple(getattr(row, name) for name in _FIELDS)


def _client_findings(
    rows: list[Attribution], registry: Registry
) -> list[tuple[int, str | None, list[Conflict]]]:
    """(client, period start, conflicts) of each client with any, from current rows sorted by
    client."""
    found: list[tuple[int, str | None, list[Conflict]]] = []
    for client, group in groupby(rows, key=lambda row: row.client_user_id):
        assert client is not None
        mine = list(group)
        conflicts = list(client_conflicts(client, mine, registry))
        if conflicts:
            found.append((client, period_start(mine), conflicts))
    return found


def _newest_first(key: ReferralKey) -> tuple[bool, str, int]:
    """The referrals' order as SQL sorts it, for merging: by date, undated last, then id."""
    at, row_id = key
    return at is not None, at or "", row_id


def _referral_filter(
    source: Source | None, text: str, conflicts_only: bool, after: ReferralKey | None
) -> tuple[str, tuple[object, ...]]:
    """The filters of a partner's referrals: a WHERE fragment of constant text and
    placeholders."""
    where: list[str] = []
    params: list[object] = []
    if source is not None:
        where.append("a.source = ?")
        params.append(source)
    wanted = text.strip().casefold()
    if wanted:
        pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # lower() on both sides: LIKE ignores case in SQLite but not in PostgreSQL.
        where.append(
            "(CAST(a.client_user_id AS TEXT) LIKE ? ESCAPE '\\' "
            "OR CAST(a.client_login AS TEXT) LIKE ? ESCAPE '\\' "
            "OR lower(a.partner_code) LIKE ? ESCAPE '\\')"
        )
        params += [pattern] * 3
    if conflicts_only:
        where.append(
            # scope 0: a client's conflicts (conflict_table.CLIENT)
            "EXISTS (SELECT 1 FROM attribution_conflict c WHERE c.profile_id = a.profile_id "
            "AND c.scope = 0 AND c.subject = a.client_user_id)"
        )
    if after is not None:
        at, row_id = after
        if at is None:
            where.append("a.attributed_at IS NULL AND a.id < ?")
            params.append(row_id)
        else:
            where.append(
                "(a.attributed_at < ? OR (a.attributed_at = ? AND a.id < ?) "
                "OR a.attributed_at IS NULL)"
            )
            params += [at, at, row_id]
    return "".join(f" AND {w}" for w in where), tuple(params)
