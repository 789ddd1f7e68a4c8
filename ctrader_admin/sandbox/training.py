"""The sandbox's fixed, published training data: plant names, managers and password rules.

These are training credentials for a local sandbox, printed by ``ctrader-admin sandbox --help``
and shown on the sandbox profile. They open nothing outside this machine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

BROKER_CRM_NAME = "sandbox_crm"
WHITE_LABELS = ("sandbox_main", "sandbox_eu", "sandbox_offlimits")
ENVIRONMENTS = ("demo", "live")


@dataclass(frozen=True)
class TrainingManager:
    login: int
    password: str
    token: str
    description: str
    broker_names: tuple[str, ...]


TRAINING_MANAGERS: tuple[TrainingManager, ...] = (
    TrainingManager(
        login=30001,
        password="sandbox-manager",  # noqa: S106 - a published training credential
        token="7d1e2f40-5a3b-4c6d-8e9f-0a1b2c3d4e5f",  # noqa: S106
        description="full rights on sandbox_main and sandbox_eu (not sandbox_offlimits)",
        broker_names=("sandbox_main", "sandbox_eu"),
    ),
    TrainingManager(
        login=30002,
        password="sandbox-limited",  # noqa: S106
        token="3b9c8a71-2d4e-4f60-9a1b-c2d3e4f5a6b7",  # noqa: S106
        description="rights on sandbox_main only",
        broker_names=("sandbox_main",),
    ),
)

TRADING_PASSWORD_RULE = 'every seeded trading account\'s password is "trader-<login>"'  # noqa: S105 - a rule, not a secret


def trading_password(login: int) -> str:
    """The password of a seeded trading account (see TRADING_PASSWORD_RULE)."""
    return f"trader-{login}"


def md5_hex(text: str) -> str:
    """MD5 as the API wants it: 32 lowercase hex characters. Not a security measure here."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
