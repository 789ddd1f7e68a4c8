"""The conflict report, kept: the answer of store/attribution_rules.py over the whole ledger,
stored so that its first screen is an index read instead of a pass over every ledger row.

The ledger (store/attribution.py) rewrites a client's rows here in the same transaction as any
change of that client's statements or of the registry's verdict on a code they name, and the
registry's rows whenever the registry changes. What moves with the clock (inside or past the
guaranteed period) is not stored: each client row keeps when its period started.

Order: clients first by userId, then the registry's conflicts — each in the order the rules
yield them (``scope``, ``subject``, ``ordinal``), which is also the keyset for paging.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import astuple, dataclass
from typing import TypeVar

from ctrader_admin.store.attribution_rules import Conflict, ConflictKind
from ctrader_admin.store.sql import Connection

CLIENT, REGISTRY = 0, 1  # scope: a client's conflicts come before the registry's

_COLUMNS = (
    "scope, subject, ordinal, period_from, kind, detail, client_user_id, partner_user_id, code"
)
# The constant text above only (no input): S608 does not apply.
_SELECT = f"SELECT {_COLUMNS} FROM attribution_conflict WHERE profile_id = ?"  # noqa: S608
_INSERT = (
    f"INSERT INTO attribution_conflict (profile_id, {_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
T = TypeVar("T", int, str)
_CHUNK = 500  # ids per IN (...): well under every database's limit on parameters


@dataclass(frozen=True, slots=True)
class KeptConflict:
    key: tuple[int, int, int]  # (scope, subject, ordinal): the report's order and its keyset
    period_from: str | None  # a client's first Invite attribution; None for the registry
    conflict: Conflict  # without its period, which depends on when it is read


def chunks(values: Collection[T]) -> Iterable[list[T]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def is_built(conn: Connection, profile_id: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM attribution_conflict_built WHERE profile_id = ?", (profile_id,)
    ).fetchone()
    return found is not None


def mark_built(conn: Connection, profile_id: str, at: str) -> None:
    conn.execute(
        "INSERT INTO attribution_conflict_built (profile_id, built_at) VALUES (?, ?) "
        "ON CONFLICT (profile_id) DO UPDATE SET built_at = excluded.built_at",
        (profile_id, at),
    )


def clear(conn: Connection, profile_id: str) -> None:
    conn.execute("DELETE FROM attribution_conflict WHERE profile_id = ?", (profile_id,))


def replace_clients(
    conn: Connection,
    profile_id: str,
    clients: Collection[int],
    found: Iterable[tuple[int, str | None, Sequence[Conflict]]],
) -> None:
    """``found``: (client, period start, conflicts) of every client in ``clients`` that has
    any; the others' rows go."""
    for part in chunks(clients):
        conn.execute(
            "DELETE FROM attribution_conflict WHERE profile_id = ? AND scope = ? "  # noqa: S608
            f"AND subject IN ({', '.join('?' * len(part))})",
            (profile_id, CLIENT, *part),
        )
    conn.executemany(
        _INSERT,
        (
            (profile_id, CLIENT, client, n, start, *_fields(conflict))
            for client, start, conflicts in found
            for n, conflict in enumerate(conflicts)
        ),
    )


def replace_registry(conn: Connection, profile_id: str, conflicts: Iterable[Conflict]) -> None:
    conn.execute(
        "DELETE FROM attribution_conflict WHERE profile_id = ? AND scope = ?",
        (profile_id, REGISTRY),
    )
    conn.executemany(
        _INSERT,
        (
            (profile_id, REGISTRY, 0, n, None, *_fields(conflict))
            for n, conflict in enumerate(conflicts)
        ),
    )


def _fields(conflict: Conflict) -> tuple[object, ...]:
    kind, detail, client, partner, code, _period = astuple(conflict)
    return kind, detail, client, partner, code


def page(
    conn: Connection,
    profile_id: str,
    *,
    kind: ConflictKind | None = None,
    after: tuple[int, int, int] | None = None,
    limit: int | None = None,
) -> list[KeptConflict]:
    """The report in its order, from after ``after`` (a row's key), ``limit`` rows at most."""
    where, params = "", [profile_id]
    if kind is not None:
        where += " AND kind = ?"
        params.append(kind)
    if after is not None:
        # Row values compare like the order below (SQLite 3.15+, PostgreSQL).
        where += " AND (scope, subject, ordinal) > (?, ?, ?)"
        params.extend(after)  # type: ignore[arg-type]
    where += " ORDER BY scope, subject, ordinal"
    if limit is not None:
        where += " LIMIT ?"
        params.append(limit)  # type: ignore[arg-type]
    rows = conn.execute(_SELECT + where, params).fetchall()
    return [
        KeptConflict(
            (scope, subject, ordinal),
            start,
            Conflict(kind, detail, client, partner, code),
        )
        for scope, subject, ordinal, start, kind, detail, client, partner, code in rows
    ]


def counts(conn: Connection, profile_id: str) -> dict[ConflictKind, int]:
    rows = conn.execute(
        "SELECT kind, count(*) FROM attribution_conflict WHERE profile_id = ? GROUP BY kind",
        (profile_id,),
    ).fetchall()
    return {kind: int(n) for kind, n in rows}
