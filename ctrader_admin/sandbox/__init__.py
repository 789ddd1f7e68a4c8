"""The embedded sandbox: an ASGI app that behaves like Spotware's broker backend (docs/sandbox.md).

A product feature, not a test helper: the default connection of a new install, the target of
every integration test, a training ground for support agents and the benchmark target. It
depends on nothing else in ctrader_admin and never on Qt.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import DIALECTS, Dialect, Faults, SandboxConfig
from .request_log import LoggedRequest
from .training import (
    BROKER_CRM_NAME,
    ENVIRONMENTS,
    TRADING_PASSWORD_RULE,
    TRAINING_MANAGERS,
    WHITE_LABELS,
    TrainingManager,
    md5_hex,
    trading_password,
)

if TYPE_CHECKING:
    from .app import Sandbox


def __getattr__(name: str) -> Any:
    """Import the app (Starlette, httpx, SQLite) on first use only, so that reading the
    training constants, e.g. for ``ctrader-admin --help``, stays cheap."""
    if name == "Sandbox":
        value = importlib.import_module(".app", __name__).Sandbox
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BROKER_CRM_NAME",
    "DIALECTS",
    "ENVIRONMENTS",
    "TRADING_PASSWORD_RULE",
    "TRAINING_MANAGERS",
    "WHITE_LABELS",
    "Dialect",
    "Faults",
    "LoggedRequest",
    "Sandbox",
    "SandboxConfig",
    "TrainingManager",
    "md5_hex",
    "trading_password",
]
