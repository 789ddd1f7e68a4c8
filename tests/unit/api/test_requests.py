"""On the wire: method, path, auth, query and body of every endpoint (docs/ctrader-api.md)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from ctrader_admin import __version__
from ctrader_admin.api import (
    ChangeWhiteLabelRequest,
    CreateCtidRequest,
    DeleteReferralRequest,
    LinkAccountRequest,
    ReferralQuery,
    SetReferralRequest,
    TraderListQuery,
    UsersQuery,
)

MANAGER_PASSWORD = "Corr3ct-Horse-Battery"
ACCOUNT_PASSWORD = "Tr4ding-Acc0unt-pw"
NEW_TOKEN = "tok-9a8b7c6d-issued-by-login"

CREATE = CreateCtidRequest(
    email="ana.lima@example.com", broker_name="sandbox_main", preferred_language="PT"
)
LINK = LinkAccountRequest.with_password(
    password=ACCOUNT_PASSWORD,
    trader_login=3000123,
    user_id=41,
    broker_name="sandbox_main",
    environment_name="live",
)
CHANGE_WL = ChangeWhiteLabelRequest(
    trader_login=3000123, broker_name="sandbox_eu", environment_name="demo"
)
SET_USER = SetReferralRequest(broker_crm_name="sandbox_crm", user_id=41, partner_id="IB-0042")
SET_ACCOUNT = SetReferralRequest(
    broker_crm_name="sandbox_crm", ctid_trader_account_id=9001, partner_id="IB-0042"
)
READ_USER = ReferralQuery(broker_crm_name="sandbox_crm", user_id=41)
DELETE_USER = DeleteReferralRequest(broker_crm_name="sandbox_crm", user_id=41)
WINDOW = TraderListQuery(
    from_=datetime(2024, 3, 1, tzinfo=UTC), to=datetime(2024, 3, 2, 12, 30, 5, 7000, tzinfo=UTC)
)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def only_request(route: respx.Route) -> httpx.Request:
    assert route.call_count == 1
    return route.calls.last.request


# --- every endpoint: method, path, auth, common headers ------------------------------------------

ENDPOINTS = [
    pytest.param(
        "POST", "/v2/webserv/managers/token", "none",
        lambda c: c.login(1001, MANAGER_PASSWORD), {"json": {"webservToken": NEW_TOKEN}},
        id="login",
    ),
    pytest.param(
        "POST", "/cid/ctid/create", "query",
        lambda c: c.create_ctid(CREATE), {"json": {"userId": 41}},
        id="create_ctid",
    ),
    pytest.param(
        "POST", "/cid/ctid/link", "query",
        lambda c: c.link_account(LINK), {"json": {"ctidTraderAccountId": 9001}},
        id="link_account",
    ),
    pytest.param(
        "POST", "/cid/ctid/changeCtidTraderAccount", "query",
        lambda c: c.change_white_label(CHANGE_WL), {},
        id="change_white_label",
    ),
    pytest.param(
        "PUT", "/cid/oauth2/ctid/referral", "query",
        lambda c: c.set_referral(SET_USER), {},
        id="set_referral",
    ),
    pytest.param(
        "GET", "/cid/oauth2/ctid/referral", "query",
        lambda c: c.get_referral(READ_USER), {"json": {"userId": 41, "partnerId": "IB-0042"}},
        id="get_referral",
    ),
    pytest.param(
        "DELETE", "/cid/oauth2/ctid/referral", "query",
        lambda c: c.delete_referral(DELETE_USER), {},
        id="delete_referral",
    ),
    pytest.param(
        "GET", "/v2/webserv/traders/3000123", "query",
        lambda c: c.get_trader(3000123), {"json": {"login": 3000123}},
        id="get_trader",
    ),
    pytest.param(
        "GET", "/v2/webserv/traders", "query",
        lambda c: c.list_traders(WINDOW), {"json": {"trader": [], "hasMore": False}},
        id="list_traders",
    ),
    pytest.param(
        "GET", "/v1/users", "bearer",
        lambda c: c.list_users(UsersQuery()), {"json": {"users": []}},
        id="list_users",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "auth", "action", "answer"), ENDPOINTS)
def test_endpoint_method_path_and_auth(
    router: respx.MockRouter, call: Any, token: str, method, path, auth, action, answer
) -> None:
    route = router.route(method=method, path=path).respond(200, **answer)

    call(action)

    request = only_request(route)
    assert request.method == method
    assert request.url.scheme == "https"
    assert request.url.host == "broker.example"
    assert request.url.port == 8443
    assert request.url.path == path
    params = request.url.params
    if auth == "query":
        assert params["token"] == token
        assert "authorization" not in request.headers
    elif auth == "bearer":
        assert "token" not in params
        assert token not in str(request.url)
        assert request.headers["authorization"] == f"Bearer {token}"
    else:  # the token endpoint: no token of any kind, even when the client already holds one
        assert "token" not in params
        assert token not in str(request.url)
        assert "authorization" not in request.headers
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == f"ctrader-admin/{__version__}"
    assert __version__ in request.headers["user-agent"]


# --- login ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("existing_token", [None, "tok-old-1234567890"])
def test_login_sends_md5_of_password_and_keeps_the_token(
    router: respx.MockRouter, make_client: Any, existing_token: str | None
) -> None:
    route = router.post("/v2/webserv/managers/token").respond(200, json={"webservToken": NEW_TOKEN})

    async def go() -> tuple[str, str | None]:
        async with make_client(token=existing_token) as client:
            returned = await client.login(1001, MANAGER_PASSWORD)
            return returned, client.token

    returned, kept = asyncio.run(go())

    request = only_request(route)
    assert body(request) == {
        "login": 1001,
        "hashedPassword": hashlib.md5(MANAGER_PASSWORD.encode()).hexdigest(),
    }
    assert request.url.query == b""
    assert request.headers["content-type"] == "application/json"
    raw = request.content + str(request.url).encode() + str(request.headers).encode()
    assert MANAGER_PASSWORD.encode() not in raw
    assert returned == NEW_TOKEN
    assert kept == NEW_TOKEN


def test_login_then_calls_use_the_new_token(router: respx.MockRouter, make_client: Any) -> None:
    router.post("/v2/webserv/managers/token").respond(200, json={"webservToken": NEW_TOKEN})
    trader = router.get("/v2/webserv/traders/7").respond(200, json={"login": 7})

    async def go() -> None:
        async with make_client(token=None) as client:
            await client.login(1001, MANAGER_PASSWORD)
            await client.get_trader(7)

    asyncio.run(go())
    assert only_request(trader).url.params["token"] == NEW_TOKEN


# --- cTID users and links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            CREATE,
            {
                "email": "ana.lima@example.com",
                "brokerName": "sandbox_main",
                "preferredLanguage": "pt",
            },
        ),
        (CreateCtidRequest(email="  bo@example.org "), {"email": "bo@example.org"}),
    ],
    ids=["all-fields", "email-only"],
)
def test_create_ctid_body(
    router: respx.MockRouter, call: Any, token: str, request_: CreateCtidRequest, expected: dict
) -> None:
    route = router.post("/cid/ctid/create").respond(200, json={"userId": 41})

    call(lambda c: c.create_ctid(request_))

    request = only_request(route)
    assert dict(request.url.params) == {"token": token}
    assert body(request) == expected
    assert request.headers["content-type"] == "application/json"


def test_link_body_carries_md5_of_account_password_and_asks_for_details(
    router: respx.MockRouter, call: Any, token: str
) -> None:
    route = router.post("/cid/ctid/link").respond(200, json={"ctidTraderAccountId": 9001})

    call(lambda c: c.link_account(LINK))

    request = only_request(route)
    assert dict(request.url.params) == {"token": token}
    assert body(request) == {
        "traderLogin": 3000123,
        "traderPasswordHash": hashlib.md5(ACCOUNT_PASSWORD.encode()).hexdigest(),
        "userId": 41,
        "brokerName": "sandbox_main",
        "environmentName": "live",
        "returnAccountDetails": True,
    }
    assert ACCOUNT_PASSWORD.encode() not in request.content
    assert ACCOUNT_PASSWORD not in str(request.url)


def test_link_request_built_from_a_password_forgets_it() -> None:
    assert ACCOUNT_PASSWORD not in repr(LINK)
    assert ACCOUNT_PASSWORD not in json.dumps(LINK.wire())
    with pytest.raises(ValueError, match="password is required"):
        LinkAccountRequest.with_password(
            password="", trader_login=1, user_id=1, broker_name="b", environment_name="live"
        )


def test_change_white_label_body(router: respx.MockRouter, call: Any, token: str) -> None:
    route = router.post("/cid/ctid/changeCtidTraderAccount").respond(200)

    call(lambda c: c.change_white_label(CHANGE_WL))

    request = only_request(route)
    assert dict(request.url.params) == {"token": token}
    assert body(request) == {
        "traderLogin": 3000123,
        "brokerName": "sandbox_eu",
        "environmentName": "demo",
    }


# --- partner attribution -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (SET_USER, {"brokerCrmName": "sandbox_crm", "userId": 41, "partnerId": "IB-0042"}),
        (
            SET_ACCOUNT,
            {"brokerCrmName": "sandbox_crm", "ctidTraderAccountId": 9001, "partnerId": "IB-0042"},
        ),
    ],
    ids=["user-level", "account-level"],
)
def test_set_referral_puts_a_json_body(
    router: respx.MockRouter, call: Any, token: str, request_: SetReferralRequest, expected: dict
) -> None:
    route = router.put("/cid/oauth2/ctid/referral").respond(200)

    call(lambda c: c.set_referral(request_))

    request = only_request(route)
    assert dict(request.url.params) == {"token": token}
    assert body(request) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (READ_USER, {"brokerCrmName": "sandbox_crm", "userId": "41"}),
        (
            ReferralQuery(broker_crm_name="sandbox_crm", ctid_trader_account_id=9001),
            {"brokerCrmName": "sandbox_crm", "ctidTraderAccountId": "9001"},
        ),
    ],
    ids=["user-level", "account-level"],
)
def test_get_referral_sends_a_query_string_and_no_body(
    router: respx.MockRouter, call: Any, token: str, query: ReferralQuery, expected: dict
) -> None:
    route = router.get("/cid/oauth2/ctid/referral").respond(200)

    call(lambda c: c.get_referral(query))

    request = only_request(route)
    assert dict(request.url.params) == {**expected, "token": token}
    assert request.content == b""


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (DELETE_USER, {"brokerCrmName": "sandbox_crm", "userId": "41"}),
        (
            DeleteReferralRequest(
                broker_crm_name="sandbox_crm", user_id=41, ctid_trader_account_id=9
            ),
            {"brokerCrmName": "sandbox_crm", "userId": "41", "ctidTraderAccountId": "9"},
        ),
    ],
    ids=["user-level", "one-link"],
)
def test_delete_referral_sends_a_query_string_and_no_body(
    router: respx.MockRouter, call: Any, token: str, request_: DeleteReferralRequest, expected: dict
) -> None:
    route = router.delete("/cid/oauth2/ctid/referral").respond(200)

    call(lambda c: c.delete_referral(request_))

    request = only_request(route)
    assert dict(request.url.params) == {**expected, "token": token}
    assert request.content == b""


# --- trading accounts ----------------------------------------------------------------------------


def test_get_trader_puts_the_login_in_the_path(
    router: respx.MockRouter, call: Any, token: str
) -> None:
    route = router.get("/v2/webserv/traders/3000123").respond(200, json={"login": 3000123})

    trader = call(lambda c: c.get_trader(3000123))

    request = only_request(route)
    assert dict(request.url.params) == {"token": token}
    assert request.content == b""
    assert trader.login == 3000123


@pytest.mark.parametrize("login", [0, -5])
def test_get_trader_rejects_a_non_positive_login_before_sending(
    router: respx.MockRouter, call: Any, login: int
) -> None:
    with pytest.raises(ValueError, match="positive"):
        call(lambda c: c.get_trader(login))
    assert router.calls.call_count == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (WINDOW, {"from": "2024-03-01T00:00:00.000", "to": "2024-03-02T12:30:05.007"}),
        (
            # Another zone is converted to UTC; microseconds are cut to milliseconds.
            TraderListQuery(
                from_=datetime(2024, 3, 1, 12, 0, 0, 123999, tzinfo=timezone(timedelta(hours=2))),
                to=datetime(2024, 3, 1, 23, 59, 59, 999000, tzinfo=UTC),
                group_id=12,
            ),
            {"from": "2024-03-01T10:00:00.123", "to": "2024-03-01T23:59:59.999", "groupId": "12"},
        ),
    ],
    ids=["utc", "offset-and-group"],
)
def test_list_traders_query_time_format(
    router: respx.MockRouter, call: Any, token: str, query: TraderListQuery, expected: dict
) -> None:
    route = router.get("/v2/webserv/traders").respond(200, json={"trader": [], "hasMore": False})

    call(lambda c: c.list_traders(query))

    request = only_request(route)
    assert dict(request.url.params) == {**expected, "token": token}


def test_list_traders_follows_has_more_with_to_at_the_earliest_registration(
    router: respx.MockRouter, call: Any
) -> None:
    # 1680163530801 ms = 2023-03-30T08:05:30.801 UTC (a value from the WebServices docs).
    first = {
        "hasMore": True,
        "trader": [
            {"login": 11, "registrationTimestamp": 1680170000000},
            {"login": 12, "registrationTimestamp": 1680163530801},
            {"login": 13, "registrationTimestamp": 1680165000000},
        ],
    }
    second = {"hasMore": False, "trader": [{"login": 14, "registrationTimestamp": 1680100000000}]}
    route = router.get("/v2/webserv/traders").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    window = TraderListQuery(
        from_=datetime(2023, 3, 1, tzinfo=UTC), to=datetime(2023, 4, 1, tzinfo=UTC)
    )

    traders = call(lambda c: c.list_traders(window))

    assert [t.login for t in traders] == [11, 12, 13, 14]
    assert route.call_count == 2
    one, two = (c.request.url.params for c in route.calls)
    assert (one["from"], one["to"]) == ("2023-03-01T00:00:00.000", "2023-04-01T00:00:00.000")
    assert (two["from"], two["to"]) == ("2023-03-01T00:00:00.000", "2023-03-30T08:05:30.801")


def test_list_traders_stops_when_the_server_makes_no_progress(
    router: respx.MockRouter, call: Any
) -> None:
    # hasMore with a page whose earliest registration is the window start: nothing left to ask.
    start = datetime(2023, 3, 1, tzinfo=UTC)
    page = {
        "hasMore": True,
        "trader": [{"login": 1, "registrationTimestamp": int(start.timestamp() * 1000)}],
    }
    route = router.get("/v2/webserv/traders").respond(200, json=page)
    window = TraderListQuery(from_=start, to=datetime(2023, 4, 1, tzinfo=UTC))

    traders = call(lambda c: c.list_traders(window))

    assert [t.login for t in traders] == [1]
    assert route.call_count == 1


# --- cTrader Invite user list --------------------------------------------------------------------


def test_list_users_query_and_bearer(router: respx.MockRouter, call: Any, token: str) -> None:
    route = router.get("/v1/users").respond(200, json={"users": [{"userId": 5}]})

    users = call(lambda c: c.list_users(UsersQuery(created_from=1700000000000, limit=50, skip=100)))

    request = only_request(route)
    assert dict(request.url.params) == {
        "createdFrom": "1700000000000",
        "limit": "50",
        "skip": "100",
    }
    assert request.headers["authorization"] == f"Bearer {token}"
    assert [u.user_id for u in users] == [5]


def test_iter_users_pages_with_skip_until_a_short_page(router: respx.MockRouter, call: Any) -> None:
    pages = [
        {"users": [{"userId": 1}, {"userId": 2}]},
        {"users": [{"userId": 3}, {"userId": 4}]},
        {"users": [{"userId": 5}]},
    ]
    route = router.get("/v1/users").mock(
        side_effect=[httpx.Response(200, json=page) for page in pages]
    )

    async def collect(client: Any) -> list[int]:
        return [u.user_id async for u in client.iter_users(created_from=42, page_size=2)]

    assert call(collect) == [1, 2, 3, 4, 5]
    sent = [dict(c.request.url.params) for c in route.calls]
    assert sent == [
        {"createdFrom": "42", "limit": "2", "skip": "0"},
        {"createdFrom": "42", "limit": "2", "skip": "2"},
        {"createdFrom": "42", "limit": "2", "skip": "4"},
    ]
