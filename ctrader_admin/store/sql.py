"""What the stores need of a database, whichever engine holds it (docs/team-mode.md).

``sqlite3.Connection`` fits ``Connection`` as it is; the PostgreSQL store hands out an adapter
(store/pg/database.py) that speaks the same ``?`` placeholders, so a store's SQL is written once
where the engines agree and only the differences live in per-engine code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, Self

Engine = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Store(Protocol):
    """``read`` for short reads, ``transaction`` for writes (nested use joins), ``snapshot`` for a
    consistent long scan that does not block writers."""

    @property
    def engine(self) -> Engine: ...

    @property
    def path(self) -> Path | str: ...

    def read(self) -> AbstractContextManager[Connection]: ...

    def transaction(self) -> AbstractContextManager[Connection]: ...

    def snapshot(self) -> AbstractContextManager[Connection]: ...

    def close(self) -> None: ...


class ClosedOnExit:
    """``with`` closes it: for the databases, whose ``close`` ends their connections."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def apply_migrations(conn: Connection, migrations: Sequence[Sequence[str]], current: int) -> None:
    """Run the steps after ``current``, each recorded in ``schema_version`` (in the caller's
    transaction: all or nothing)."""
    for version in range(current + 1, len(migrations) + 1):
        for statement in migrations[version - 1]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (version, datetime.now(UTC).isoformat(timespec="milliseconds")),
        )
