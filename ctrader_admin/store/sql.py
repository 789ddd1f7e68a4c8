"""What the stores need of a database, whichever engine holds it (docs/team-mode.md).

``sqlite3.Connection`` fits ``Connection`` as it is; the PostgreSQL store hands out an adapter
(store/pg/database.py) that speaks the same ``?`` placeholders, so a store's SQL is written once
where the engines agree and only the differences live in per-engine code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, Protocol

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
