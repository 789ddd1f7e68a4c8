"""The write budget believes the server: a REQUEST_FREQUENCY_EXCEEDED answer lowers it for the
rest of the hour, the next write is refused locally (nothing sent), and the operator is told why.
Against the in-process sandbox with a hidden hourly cap lower than the profile's budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ctrader_admin.api import ApiClient, ConnectionConfig, RateLimited
from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.services import partners
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.errors import WriteBudgetExhausted
from ctrader_admin.services.partners import PartnerTarget
from ctrader_admin.store.database import Database
from ctrader_admin.store.directory import Directory
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.store.tokens import TokenStore

MANAGER = TRAINING_MANAGERS[0]
USER = PartnerTarget.user(1000001)  # sandbox_main: the manager may write there


def test_a_rate_limit_answer_lowers_the_budget_and_the_next_write_is_not_sent(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(SandboxConfig(users=60, write_cap_per_hour=3))
    database = Database(tmp_path / "app.sqlite3")

    def client_for(profile: Profile) -> ApiClient:
        config = ConnectionConfig(base_url=profile.base_url, timeout=5)
        return ApiClient(config, transport=sandbox.transport())

    office = Backoffice(
        profiles=ProfileStore(AppPaths.under(tmp_path / "home")),
        tokens=TokenStore(),
        journal=Journal(database),
        directory=Directory(database),
        client_factory=client_for,
        workstation="test",
    )

    async def scenario() -> tuple[list[str], str]:
        session = await office.open("sandbox")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        outcomes: list[str] = []
        for n in range(4):
            try:
                await partners.set_partner(session, USER, f"AB-{n}", reason="t")
                outcomes.append("ok")
            except RateLimited:
                outcomes.append("rate limited")
        with pytest.raises(WriteBudgetExhausted) as refused:
            await partners.set_partner(session, USER, "AB-9", reason="t")
        assert session.budget.per_hour == 3
        assert session.budget.configured_per_hour == 1000
        await office.close()
        return outcomes, str(refused.value)

    try:
        outcomes, message = asyncio.run(scenario())
        writes = [r for r in sandbox.request_log if r.method == "PUT"]
    finally:
        database.close()
        sandbox.close()
    assert outcomes == ["ok", "ok", "ok", "rate limited"]
    assert "allows 3 writes per hour instead of 1000" in message
    assert "nothing was sent" in message
    assert len(writes) == 4  # the fifth write never left the app
