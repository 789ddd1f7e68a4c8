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
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import astuple, dataclass, fields
from typing import Literal

from ctrader_admin.store.database import Database

Source = Literal["invite", "ib_label", "crm"]
SOURCES: tuple[Source, ...] = ("invite", "ib_label", "crm")
RegistrySource = Literal["ctrader", "crm"]
Level = Literal["user", "account"]


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
    f"INSERT OR REPLACE INTO partner_registry (profile_id, {_REGISTRY_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_REGISTRY_SELECT = (
    f"SELECT {_REGISTRY_COLUMNS} FROM partner_registry WHERE profile_id = ? "  # noqa: S608
    "ORDER BY partner_user_id, level DESC, ctid_trader_account_id, source"
)
# Each client's latest statement per source (a re-attribution supersedes the first touch); an
# account's IB labels are all current, one per level.
_CURRENT = (
    "a.client_user_id IS NOT NULL AND NOT EXISTS ("
    " SELECT 1 FROM attribution b WHERE b.profile_id = a.profile_id"
    " AND b.source = a.source AND b.client_user_id = a.client_user_id AND b.source != 'ib_label'"
    " AND (b.attributed_at > a.attributed_at"
    "      OR (b.attributed_at = a.attributed_at AND b.id > a.id)))"
)
_BY_CLIENT = " ORDER BY a.client_user_id, a.source"


class AttributionLedger:
    def __init__(self, database: Database) -> None:
        self._db = database

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
        values = [(profile_id, *astuple(row)) for row in rows]
        with self._db.transaction() as conn:
            conn.executemany(_UPSERT, values)
            if cursor is not None:
                source, position = cursor
                conn.execute(
                    "INSERT INTO attribution_cursor (profile_id, source, position) "
                    "VALUES (?, ?, ?) ON CONFLICT (profile_id, source) "
                    "DO UPDATE SET position = excluded.position",
                    (profile_id, source, position),
                )
        return len(values)

    def replace_source(self, profile_id: str, source: Source, rows: Iterable[Attribution]) -> int:
        """A new export of a whole source (the CRM's) replaces the previous one."""
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM attribution WHERE profile_id = ? AND source = ?", (profile_id, source)
            )
            return self.save_page(profile_id, rows)

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

    # --- reading -----------------------------------------------------------------------------

    def registry(self, profile_id: str) -> list[RegisteredCode]:
        with self._db.read() as conn:
            rows = conn.execute(_REGISTRY_SELECT, (profile_id,)).fetchall()
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
        limit: int = 200,
        offset: int = 0,
    ) -> list[Attribution]:
        """Rows that name this partner (by cTID user or by one of its codes), newest first."""
        where, params = _partner_clause(partner_user_id, codes, source)
        return self._select(
            where + " ORDER BY a.attributed_at DESC, a.id DESC LIMIT ? OFFSET ?",
            (profile_id, *params, limit, offset),
        )

    def count_referrals(
        self,
        profile_id: str,
        *,
        partner_user_id: int | None,
        codes: Collection[str],
        source: Source | None = None,
    ) -> int:
        where, params = _partner_clause(partner_user_id, codes, source)
        with self._db.read() as conn:
            return int(conn.execute(_COUNT + where, (profile_id, *params)).fetchone()[0])

    def current(self, profile_id: str, client_user_id: int | None = None) -> list[Attribution]:
        """Each client's current statement per source (of one client, when given): for the
        conflict report and a client's case."""
        if client_user_id is None:
            return self._select(_CURRENT + _BY_CLIENT, (profile_id,))
        where = _CURRENT + " AND a.client_user_id = ?" + _BY_CLIENT
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


def _partner_clause(
    partner_user_id: int | None, codes: Collection[str], source: Source | None
) -> tuple[str, tuple[object, ...]]:
    """The rows naming a partner: a WHERE fragment of constant text and placeholders."""
    names: list[str] = []
    params: list[object] = []
    if partner_user_id is not None:
        names.append("a.partner_user_id = ?")
        params.append(partner_user_id)
    if codes:
        names.append(f"a.partner_code IN ({', '.join('?' * len(codes))})")
        params.extend(sorted(codes))
    where = f"({' OR '.join(names) or '0'})"
    if source is not None:
        where += " AND a.source = ?"
        params.append(source)
    return where, tuple(params)
