"""What a handler receives and returns. Handlers are synchronous and run inside one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import Dialect
from .records import Manager
from .storage import Tx


@dataclass(frozen=True)
class Call:
    tx: Tx
    manager: Manager | None  # None only on the token endpoint, which needs no token
    query: Mapping[str, str]
    body: Mapping[str, Any]  # {} for requests without a body
    path_params: Mapping[str, str]
    dialect: Dialect
    now_ms: int
    traders_page_size: int

    def who(self) -> Manager:
        """The authenticated manager (the pipeline guarantees one on token-protected routes)."""
        assert self.manager is not None, "route must require a token"
        return self.manager


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # None = an empty body
    applied: bool = False  # whether this call changed state
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]
