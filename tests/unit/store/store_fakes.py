"""Test doubles shared by the store tests (a unique module name: tests dirs have no __init__)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import keyring.errors
from keyring.backend import KeyringBackend

from ctrader_admin.store.journal import JournalAttempt, JournalDraft


class MemoryKeyring(KeyringBackend):
    """A secure-looking backend that keeps passwords in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


ACTIONS = ("create_user", "link_account", "move_wl", "set_partner", "delete_partner")


def make_draft(**overrides: object) -> JournalDraft:
    values: dict[str, object] = {
        "operator": "30001",
        "profile_id": "sandbox",
        "profile_name": "Sandbox",
        "environment": "demo",
        "broker_name": "sandbox_main",
        "action": "set_partner",
        "target": "user:123",
        "before": "IB-1",
        "after": "IB-2",
        "reason": "partner dispute",
        "ticket": "TCK-1",
        "request": 'PUT /cid/oauth2/ctid/referral {"userId": 123, "partnerId": "IB-2"}',
        "workstation": "desk-7",
    }
    values.update(overrides)
    return JournalDraft(**values)  # type: ignore[arg-type]


def journal_attempts(
    count: int, *, start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
) -> Iterator[JournalAttempt]:
    """A varied, deterministic stream of finished attempts, one minute apart."""
    for i in range(count):
        action = ACTIONS[i % len(ACTIONS)]
        yield JournalAttempt(
            draft=make_draft(
                operator=str(30001 + i % 7),
                profile_id=("sandbox", "acme-live", "acme-demo")[i % 3],
                action=action,
                target=f"login:{3100000 + i}@demo",
                before=f"IB{i % 977}",
                after=f"IB{(i * 7) % 977}",
                reason=f"CRM fix {i // 1000} partner dispute",
                ticket=f"TCK-{i % 50000}",
                batch_id=None if i % 100 else f"batch-{i // 100}",
            ),
            outcome="failed" if i % 50 == 49 else "ok",
            response="{}",
            error="Timeout talking to the server" if i % 50 == 49 else None,
            at=start + timedelta(minutes=i),
        )
