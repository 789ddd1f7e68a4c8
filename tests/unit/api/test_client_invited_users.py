"""ApiClient.list_invited_users / iter_invited_user_pages against respx: Bearer auth, paging
parameters, the cursor that makes pulls incremental, 404 = Invite not enabled, both error
dialects, tolerant parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from ctrader_admin.api import (
    ApiClient,
    BadRequest,
    InvitedUser,
    InvitedUsersCursor,
    InvitedUsersPage,
    InviteNotEnabled,
    NotFound,
    ResponseValidationError,
    Unauthorized,
)

PATH = "/v1/social/invitedUsers"


def _row(invited: int, ts: int, partner: int = 1000001, **extra: Any) -> dict[str, Any]:
    return {
        "invitedUserId": invited,
        "partnerUserId": partner,
        "brokerName": "sandbox_main",
        "createTimestamp": ts,
        **extra,
    }


class FakeInvite:
    """A respx side effect serving ``rows`` the documented way, recording each query."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        self.queries.append(query)
        created_from = int(query.get("createdFrom", 0))
        limit, skip = int(query.get("limit", 100)), int(query.get("skip", 0))
        chosen = [r for r in self.rows if r["createTimestamp"] >= created_from]
        return httpx.Response(200, json={"invitedUsers": chosen[skip : skip + limit]})


async def _pages(client: ApiClient, cursor: InvitedUsersCursor | None, size: int) -> list[Any]:
    return [page async for page in client.iter_invited_user_pages(cursor, page_size=size)]


def test_one_page_with_bearer_auth_and_paging(
    router: respx.MockRouter, call: Any, token: str
) -> None:
    route = router.get(PATH).respond(
        200,
        json={
            "invitedUsers": [
                _row(7, 1_700_000_000_000, brokerPartnerId="IB-1042", extraField=1),
                _row(8, 1_700_000_000_500),
            ]
        },
    )
    since = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    rows = call(lambda c: c.list_invited_users(since, limit=50, skip=100))
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {token}"
    assert dict(request.url.params) == {
        "createdFrom": "1700000000000",
        "limit": "50",
        "skip": "100",
    }
    assert "token" not in request.url.params
    assert rows[0] == InvitedUser(
        invited_user_id=7,
        partner_user_id=1000001,
        broker_partner_id="IB-1042",
        broker_name="sandbox_main",
        create_timestamp=1_700_000_000_000,
    )
    assert rows[1].broker_partner_id is None  # "if known"
    assert rows[0].created_at == since
    with pytest.raises(ValueError, match="frozen"):
        rows[0].partner_user_id = 1  # type: ignore[misc]


def test_created_from_accepts_ms_and_any_aware_datetime(
    router: respx.MockRouter, call: Any
) -> None:
    route = router.get(PATH).respond(200, json={"invitedUsers": []})
    call(lambda c: c.list_invited_users(1_234))
    assert route.calls.last.request.url.params["createdFrom"] == "1234"
    paris = timezone(timedelta(hours=2))
    call(lambda c: c.list_invited_users(datetime(1970, 1, 1, 2, 0, 0, 1000, tzinfo=paris)))
    assert route.calls.last.request.url.params["createdFrom"] == "1"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"created_from": datetime(2024, 1, 1)},
        {"created_from": -1},
        {"limit": 0},
        {"limit": 1001},
        {"skip": -1},
    ],
)
def test_bad_arguments_send_nothing(router: respx.MockRouter, call: Any, kwargs: Any) -> None:
    route = router.get(PATH).respond(200, json={"invitedUsers": []})
    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's or ours, both say which
        call(lambda c: c.list_invited_users(**kwargs))
    assert not route.called


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"errorCode": "NOT_FOUND", "description": "Invite is not enabled"}},
        {"error": "Not Found", "message": "Invite is not enabled", "code": "NOT_FOUND"},
        {"errorCode": "NOT_FOUND", "description": "Invite is not enabled"},
    ],
    ids=["nested", "flat", "toplevel"],
)
def test_404_means_invite_is_not_enabled(
    router: respx.MockRouter, call: Any, body: dict[str, Any]
) -> None:
    router.get(PATH).respond(404, json=body)
    with pytest.raises(InviteNotEnabled) as caught:
        call(lambda c: c.list_invited_users())
    assert isinstance(caught.value, NotFound)  # callers handling NotFound keep working
    assert "Invite is not enabled for this broker" in str(caught.value)
    assert caught.value.status == 404


def test_a_bare_404_is_invite_not_enabled_too(router: respx.MockRouter, call: Any) -> None:
    router.get(PATH).respond(404, text="<html>Not Found</html>")
    with pytest.raises(InviteNotEnabled):
        call(lambda c: c.list_invited_users())


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"error": {"errorCode": "CH_CLIENT_AUTH_FAILURE", "description": "x"}}, Unauthorized),
        (403, {"error": "Forbidden", "message": "bad token", "code": None}, Unauthorized),
        (400, {"error": "Bad Request", "message": "limit", "code": "INVALID_REQUEST"}, BadRequest),
        (400, {"error": {"errorCode": "INVALID_REQUEST", "description": "limit"}}, BadRequest),
    ],
)
def test_other_errors_in_either_dialect(
    router: respx.MockRouter, call: Any, status: int, body: Any, expected: type[Exception]
) -> None:
    router.get(PATH).respond(status, json=body)
    with pytest.raises(expected) as caught:
        call(lambda c: c.list_invited_users())
    assert not isinstance(caught.value, InviteNotEnabled)


@pytest.mark.parametrize(
    "body",
    [
        {"invitedUsers": [{"partnerUserId": 1, "createTimestamp": 5}]},  # no invitedUserId
        {"invitedUsers": [{"invitedUserId": 1, "partnerUserId": 2}]},  # no timestamp
        {"invitedUsers": "none"},
    ],
)
def test_malformed_rows_are_a_validation_error(
    router: respx.MockRouter, call: Any, body: Any
) -> None:
    router.get(PATH).respond(200, json=body)
    with pytest.raises(ResponseValidationError):
        call(lambda c: c.list_invited_users())


def test_an_empty_body_object_is_no_rows(router: respx.MockRouter, call: Any) -> None:
    router.get(PATH).respond(200, json={})
    assert call(lambda c: c.list_invited_users()) == []


def test_pages_carry_the_cursor_to_resume_from(router: respx.MockRouter, call: Any) -> None:
    # Timestamps with ties, also across a page boundary.
    stamps = [10, 20, 20, 20, 30, 40, 40]
    fake = FakeInvite([_row(100 + i, ts) for i, ts in enumerate(stamps)])
    router.get(PATH).mock(side_effect=fake)
    pages: list[InvitedUsersPage] = call(lambda c: _pages(c, None, 3))
    assert [[r.invited_user_id for r in p.rows] for p in pages] == [
        [100, 101, 102],
        [103, 104, 105],
        [106],
    ]
    assert [p.last for p in pages] == [False, False, True]
    assert [(p.cursor.created_from, p.cursor.skip) for p in pages] == [(20, 2), (40, 1), (40, 2)]
    # Each request starts where the previous page ended: no growing skip.
    assert [(q["createdFrom"], q["skip"]) for q in fake.queries] == [
        ("0", "0"),
        ("20", "2"),
        ("40", "1"),
    ]


def test_a_pull_from_the_saved_cursor_fetches_only_new_rows(
    router: respx.MockRouter, call: Any
) -> None:
    fake = FakeInvite([_row(1, 10), _row(2, 20)])
    router.get(PATH).mock(side_effect=fake)
    first: list[InvitedUsersPage] = call(lambda c: _pages(c, None, 100))
    saved = first[-1].cursor

    # Nothing new: one round trip, no rows, the same cursor.
    fake.queries.clear()
    again: list[InvitedUsersPage] = call(lambda c: _pages(c, saved, 100))
    assert len(fake.queries) == 1
    assert again == [InvitedUsersPage(rows=(), cursor=saved, last=True)]

    # New rows, one sharing the last timestamp seen: exactly those come back.
    fake.rows += [_row(3, 20), _row(4, 25)]
    new: list[InvitedUsersPage] = call(lambda c: _pages(c, saved, 100))
    assert [r.invited_user_id for r in new[0].rows] == [3, 4]
    assert new[0].cursor == InvitedUsersCursor(created_from=25, skip=1)


def test_a_page_entirely_on_one_timestamp_keeps_counting(
    router: respx.MockRouter, call: Any
) -> None:
    fake = FakeInvite([_row(i, 50) for i in range(5)])
    router.get(PATH).mock(side_effect=fake)
    pages: list[InvitedUsersPage] = call(lambda c: _pages(c, None, 2))
    assert [p.cursor.skip for p in pages] == [2, 4, 5]
    assert [q["skip"] for q in fake.queries] == ["0", "2", "4"]
    assert sum(len(p.rows) for p in pages) == 5


def test_404_while_paging_stops_the_pull(router: respx.MockRouter, call: Any) -> None:
    router.get(PATH).respond(404, json={"errorCode": "NOT_FOUND", "description": "no Invite"})
    with pytest.raises(InviteNotEnabled):
        call(lambda c: _pages(c, None, 10))
