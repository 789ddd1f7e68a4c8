"""ApiClient's cTrader Invite attribution reads against the sandbox over real loopback sockets:
paging, incremental pulls checked in the sandbox's request log, 404 and both error dialects."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
import pytest

from ctrader_admin.api import (
    ApiClient,
    ConnectionConfig,
    InvitedUsersCursor,
    InvitedUsersPage,
    InviteNotEnabled,
    Unauthorized,
)
from ctrader_admin.sandbox import TRAINING_MANAGERS, Dialect, Sandbox

T = TypeVar("T")
PATH = "/v1/social/invitedUsers"
FULL = TRAINING_MANAGERS[0]


def run(base_url: str, body: Callable[[ApiClient], Awaitable[T]], token: str = FULL.token) -> T:
    async def main() -> T:
        async with ApiClient(ConnectionConfig(base_url=base_url, timeout=5), token=token) as client:
            return await body(client)

    return asyncio.run(main())


def pull(
    base_url: str, cursor: InvitedUsersCursor | None = None, page_size: int = 50
) -> list[InvitedUsersPage]:
    async def body(client: ApiClient) -> list[InvitedUsersPage]:
        return [p async for p in client.iter_invited_user_pages(cursor, page_size=page_size)]

    return run(base_url, body)


def invite_requests(sandbox: Sandbox) -> list[dict[str, str]]:
    return [entry.query for entry in sandbox.request_log if entry.path == PATH]


def test_a_full_pull_pages_through_every_row_once(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    if dialect == "variant":  # Invite not enabled for this broker
        with pytest.raises(InviteNotEnabled):
            pull(base_url)
        return
    everything = run(base_url, lambda c: c.list_invited_users(0, limit=1000))
    assert len(everything) > 100
    pages = pull(base_url)
    rows = [row for page in pages for row in page.rows]
    assert rows == everything
    assert pages[-1].last
    assert not any(page.last for page in pages[:-1])
    assert pages[-1].cursor.created_from == everything[-1].create_timestamp


def test_incremental_pulls_fetch_only_new_rows(base_url: str, sandbox: Sandbox) -> None:
    saved = pull(base_url)[-1].cursor

    # Nothing new: one request, no rows.
    sandbox.clear_log()
    again = pull(base_url, saved)
    assert [(len(p.rows), p.cursor) for p in again] == [(0, saved)]
    assert invite_requests(sandbox) == [
        {"createdFrom": str(saved.created_from), "limit": "50", "skip": str(saved.skip)}
    ]

    # A trainer adds invitations through the control endpoint; the next pull gets exactly them.
    added = httpx.post(f"{base_url}/_sandbox/invitations", json={"count": 7}).json()
    sandbox.clear_log()
    new_pages = pull(base_url, saved, page_size=5)
    new_rows = [row for page in new_pages for row in page.rows]
    assert [r.invited_user_id for r in new_rows] == [
        r["invitedUserId"] for r in added["invitedUsers"]
    ]
    assert [len(p.rows) for p in new_pages] == [5, 2]
    requests = invite_requests(sandbox)
    assert len(requests) == 2
    assert requests[0]["createdFrom"] == str(saved.created_from)
    # The second request starts after the first page, not from the beginning.
    assert int(requests[1]["createdFrom"]) == new_rows[4].create_timestamp


def test_invite_switched_off_is_a_typed_error(base_url: str, sandbox: Sandbox) -> None:
    sandbox.config.dialect = dataclasses.replace(sandbox.config.dialect, invite_enabled=False)
    with pytest.raises(InviteNotEnabled) as caught:
        pull(base_url)
    assert "not enabled for this broker" in str(caught.value)


@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_a_bad_token_asks_for_a_new_login_in_either_dialect(
    base_url: str, sandbox: Sandbox, shape: str
) -> None:
    sandbox.config.dialect = Dialect(error_shape=shape)  # type: ignore[arg-type]
    with pytest.raises(Unauthorized) as caught:
        run(base_url, lambda c: c.list_invited_users(), token="not-a-token")
    assert caught.value.needs_login
    assert caught.value.code == "CH_CLIENT_AUTH_FAILURE"
