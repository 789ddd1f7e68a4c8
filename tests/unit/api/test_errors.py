"""Every way a call can fail, and what the operator is told (docs/ctrader-api.md §7, sandbox.md)."""

from __future__ import annotations

import asyncio
import email.utils
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest
import respx

from ctrader_admin.api import (
    ApiClient,
    ApiConnectionError,
    ApiError,
    BadRequest,
    ChangeWhiteLabelRequest,
    ConfigurationError,
    ConnectionConfig,
    CreateCtidRequest,
    DeleteReferralRequest,
    Forbidden,
    InvalidCredentials,
    LinkAccountRequest,
    NotFound,
    NotLoggedIn,
    RateLimited,
    ReferralQuery,
    RetryPolicy,
    ServerError,
    SetReferralRequest,
    StatusError,
    TraderListQuery,
    Unauthorized,
    UsersQuery,
)
from ctrader_admin.api.errors import CODE_MESSAGES, Conflict, TlsFailure

CREATE = CreateCtidRequest(email="ana.lima@example.com")
NO_RETRY = RetryPolicy(max_attempts=1)

# The class each documented code maps to, whatever the status (the code wins over the status).
# A code added to CODE_MESSAGES without a line here fails test_every_code_has_an_expectation.
EXPECTED_CLASS: dict[str, type[StatusError]] = {
    "UNKNOWN_ERROR": BadRequest,
    "INVALID_REQUEST": BadRequest,
    "MISSING_REQUIRED_PARAMETER": BadRequest,
    "NOT_ENOUGH_RIGHTS": Forbidden,
    "CH_INSUFFICIENT_PERMISSIONS": Forbidden,
    "CH_BROKER_NOT_FOUND": NotFound,
    "REQUEST_FREQUENCY_EXCEEDED": RateLimited,
    "TRADER_NOT_FOUND": NotFound,
    "CH_PLANT_INVALID": BadRequest,
    "NOT_ENOUGH_MONEY": BadRequest,
    "CHANGE_BALANCE_BAD_AMOUNT": BadRequest,
    "TRADER_GROUP_NOT_FOUND": NotFound,
    "WRONG_PASSWORD": BadRequest,
    "CH_EMAIL_ALREADY_EXISTS": BadRequest,
    "CH_CLIENT_AUTH_FAILURE": Unauthorized,
    "CID_TOKEN_EXPIRED": Unauthorized,
    "CID_NON_EXISTED_TOKEN": Unauthorized,
    "ENVIRONMENT_NOT_FOUND": NotFound,
    "TRADER_ALREADY_LINKED": BadRequest,
    "USER_NOT_FOUND": NotFound,
    "CTID_TRADER_ACCOUNT_NOT_FOUND": NotFound,
    "REFERRAL_NOT_FOUND": NotFound,
}


def nested(code: str, description: str) -> dict:
    return {"error": {"errorCode": code, "description": description}}


def flat(code: str, description: str) -> dict:
    return {"error": "Bad Request", "message": description, "code": code}


def top_level(code: str, description: str) -> dict:
    return {"errorCode": code, "description": description}


SHAPES = [nested, flat, top_level]


def fail_with(call: Any, action: Any = None, **client_kwargs: Any) -> ApiError:
    """Run one call that must fail; return the ApiError (nothing else may escape)."""
    with pytest.raises(ApiError) as caught:
        call(action or (lambda c: c.get_trader(7)), **client_kwargs)
    return caught.value


def test_every_code_has_an_expectation() -> None:
    assert set(EXPECTED_CLASS) == set(CODE_MESSAGES)


# --- body shapes × documented codes --------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.__name__)
@pytest.mark.parametrize("code", sorted(CODE_MESSAGES))
def test_documented_code_in_every_body_shape(
    router: respx.MockRouter, call: Any, code: str, shape: Any
) -> None:
    description = f"Backend text for {code.lower()} #7"
    route = router.get("/v2/webserv/traders/7").respond(400, json=shape(code, description))

    error = fail_with(call)

    assert type(error) is EXPECTED_CLASS[code]
    assert isinstance(error, StatusError)
    assert (error.status, error.code, error.description) == (400, code, description)
    text = str(error)
    assert CODE_MESSAGES[code] in text
    assert f"({code})" in text
    assert description in text  # the backend's own words are kept
    assert error.needs_login is (EXPECTED_CLASS[code] is Unauthorized)
    assert route.call_count == 1  # a 400 is never retried


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.__name__)
@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_unknown_code_shows_its_description_verbatim(
    router: respx.MockRouter, call: Any, shape: Any, status: int
) -> None:
    description = "Trader 7 is locked by compliance review #A-19 (until 2025-01-01)."
    router.get("/v2/webserv/traders/7").respond(status, json=shape("COMPLIANCE_LOCK", description))

    error = fail_with(call)

    assert isinstance(error, StatusError)
    assert error.code == "COMPLIANCE_LOCK"
    assert description in str(error)
    assert "(COMPLIANCE_LOCK)" in str(error)
    assert type(error) is {400: BadRequest, 403: Forbidden, 409: Conflict, 422: BadRequest}[status]


def test_nested_error_with_code_and_message_keys(router: respx.MockRouter, call: Any) -> None:
    # The flat contract's key names inside the nested object: seen behind some broker proxies.
    router.get("/v2/webserv/traders/7").respond(
        400, json={"error": {"code": "TRADER_NOT_FOUND", "message": "login 7 is unknown"}}
    )

    error = fail_with(call)

    assert type(error) is NotFound
    assert (error.code, error.description) == ("TRADER_NOT_FOUND", "login 7 is unknown")
    assert "login 7 is unknown" in str(error)


def test_unknown_code_without_description_names_the_status(
    router: respx.MockRouter, call: Any
) -> None:
    router.get("/v2/webserv/traders/7").respond(400, json={"error": {"errorCode": "NEW_THING"}})

    error = fail_with(call)

    assert type(error) is BadRequest
    assert "HTTP 400" in str(error)
    assert "NEW_THING" in str(error)


def test_known_description_is_not_repeated(router: respx.MockRouter, call: Any) -> None:
    router.get("/v2/webserv/traders/7").respond(
        400, json=nested("TRADER_NOT_FOUND", "No trading account with this login.")
    )

    error = fail_with(call)

    assert str(error) == "No trading account with this login. (TRADER_NOT_FOUND)"


def test_a_very_long_description_is_clipped(router: respx.MockRouter, call: Any) -> None:
    router.get("/v2/webserv/traders/7").respond(400, json=nested("TRADER_NOT_FOUND", "x" * 5000))

    error = fail_with(call)

    assert isinstance(error, NotFound)
    assert len(str(error)) < 700
    assert str(error).endswith("…")


# --- bodies that are not JSON, or empty ----------------------------------------------------------

HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx/1.25</body></html>"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Unauthorized),  # a 403 with no code is the sandbox's "bad token" variant
        (404, NotFound),
        (409, Conflict),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
@pytest.mark.parametrize("body", [HTML, "", "   "], ids=["html", "empty", "blank"])
def test_non_json_and_empty_bodies(
    router: respx.MockRouter, call: Any, status: int, cls: type, body: str
) -> None:
    router.get("/v2/webserv/traders/7").respond(status, text=body)

    error = fail_with(call, retry=NO_RETRY)

    assert type(error) is cls
    assert isinstance(error, StatusError)
    assert error.status == status
    assert error.code is None
    assert f"HTTP {status}" in str(error)
    if body == HTML:
        assert "502 Bad Gateway" in str(error)  # shown as text, status beside it
        assert error.description == HTML


@pytest.mark.parametrize(
    "body", ['["a", "list"]', '{"unexpected": true}', '"just a string"', "null"]
)
def test_json_bodies_without_a_code_are_shown_as_text(
    router: respx.MockRouter, call: Any, body: str
) -> None:
    router.get("/v2/webserv/traders/7").respond(400, text=body)

    error = fail_with(call)

    assert type(error) is BadRequest
    assert error.code is None
    assert body in str(error)
    assert "HTTP 400" in str(error)


# --- status mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls", "needs_login"),
    [
        (400, {}, BadRequest, False),
        (401, {}, Unauthorized, True),
        (401, nested("INVALID_REQUEST", "bad token"), Unauthorized, True),
        (403, {}, Unauthorized, True),
        (403, nested("CH_CLIENT_AUTH_FAILURE", "bad token"), Unauthorized, True),
        (403, nested("CID_TOKEN_EXPIRED", "expired"), Unauthorized, True),
        (403, nested("NOT_ENOUGH_RIGHTS", "no rights on sandbox_offlimits"), Forbidden, False),
        (403, flat("CH_INSUFFICIENT_PERMISSIONS", "WL disabled"), Forbidden, False),
        (404, {}, NotFound, False),
        (404, nested("TRADER_NOT_FOUND", "no such login"), NotFound, False),
        (400, nested("TRADER_NOT_FOUND", "no such login"), NotFound, False),
        (409, {}, Conflict, False),
        (500, {}, ServerError, False),
        (503, nested("UNKNOWN_ERROR", "down"), ServerError, False),
    ],
)
def test_status_mapping(
    router: respx.MockRouter, call: Any, status: int, body: dict, cls: type, needs_login: bool
) -> None:
    answer = {"json": body} if body else {}
    router.get("/v2/webserv/traders/7").respond(status, **answer)

    error = fail_with(call, retry=NO_RETRY)

    assert type(error) is cls
    assert error.needs_login is needs_login


def test_429_retry_after_in_seconds(router: respx.MockRouter, call: Any) -> None:
    router.post("/cid/ctid/create").respond(429, headers={"Retry-After": "120"})

    error = fail_with(call, lambda c: c.create_ctid(CREATE))

    assert isinstance(error, RateLimited)
    assert error.retry_after == 120.0
    assert error.status == 429


def test_429_retry_after_as_an_http_date(router: respx.MockRouter, call: Any) -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    router.post("/cid/ctid/create").respond(
        429, headers={"Retry-After": email.utils.format_datetime(when, usegmt=True)}
    )

    error = fail_with(call, lambda c: c.create_ctid(CREATE))

    assert isinstance(error, RateLimited)
    assert error.retry_after is not None
    assert 80 <= error.retry_after <= 91


@pytest.mark.parametrize(
    "header",
    ["soon", "Someday, 99 Foo 2025", "", "Wed, 21 Oct 2015 07:28:00 GMT", "-5"],
    ids=["word", "bad-date", "empty", "past-date", "negative"],
)
def test_429_odd_retry_after_values(
    router: respx.MockRouter, call: Any, sleeps: Any, header: str
) -> None:
    route = router.get("/v2/webserv/traders/7").respond(429, headers={"Retry-After": header})

    error = fail_with(call, retry=NO_RETRY)

    assert isinstance(error, RateLimited)  # never a bare ValueError
    assert error.retry_after in (None, 0.0)
    assert route.call_count == 1


def test_400_request_frequency_exceeded_is_rate_limited(
    router: respx.MockRouter, call: Any
) -> None:
    router.post("/cid/ctid/create").respond(
        400, json=nested("REQUEST_FREQUENCY_EXCEEDED", "hourly cap of 500 writes reached")
    )

    error = fail_with(call, lambda c: c.create_ctid(CREATE))

    assert isinstance(error, RateLimited)
    assert error.retry_after is None
    assert "hourly write limit" in str(error)
    assert "hourly cap of 500 writes reached" in str(error)


# --- login ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {}),
        (403, {}),
        (403, nested("CH_CLIENT_AUTH_FAILURE", "bad password")),
        (401, flat("INVALID_REQUEST", "bad credentials")),
        (400, nested("WRONG_PASSWORD", "wrong password")),
        (400, {}),
    ],
)
def test_login_refused_is_invalid_credentials(
    router: respx.MockRouter, make_client: Any, status: int, body: dict
) -> None:
    router.post("/v2/webserv/managers/token").respond(status, **({"json": body} if body else {}))

    async def go() -> tuple[ApiError, str | None]:
        async with make_client(token=None) as client:
            with pytest.raises(InvalidCredentials) as caught:
                await client.login(1001, "wrong-password-1")
            return caught.value, client.token

    error, token = asyncio.run(go())
    assert str(error) == "The manager login or password is wrong."
    assert token is None
    assert not isinstance(error, StatusError)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (403, nested("NOT_ENOUGH_RIGHTS", "manager may not use WebServices"), Forbidden),
        (400, nested("REQUEST_FREQUENCY_EXCEEDED", "slow down"), RateLimited),
        (503, {}, ServerError),
    ],
)
def test_login_other_failures_are_not_called_wrong_password(
    router: respx.MockRouter, call: Any, status: int, body: dict, cls: type
) -> None:
    route = router.post("/v2/webserv/managers/token").respond(
        status, **({"json": body} if body else {})
    )

    error = fail_with(call, lambda c: c.login(1001, "some-password"), token=None)

    assert type(error) is cls
    assert route.call_count == 1  # a POST: never retried


# --- not logged in -------------------------------------------------------------------------------

WINDOW = TraderListQuery(
    from_=datetime(2024, 1, 1, tzinfo=UTC), to=datetime(2024, 2, 1, tzinfo=UTC)
)
CALLS_NEEDING_A_TOKEN = [
    lambda c: c.create_ctid(CREATE),
    lambda c: c.link_account(
        LinkAccountRequest(
            trader_login=1, trader_password_hash="a" * 32, user_id=1,
            broker_name="sandbox_main", environment_name="live",
        )
    ),
    lambda c: c.change_white_label(
        ChangeWhiteLabelRequest(trader_login=1, broker_name="sandbox_eu", environment_name="live")
    ),
    lambda c: c.set_referral(SetReferralRequest(broker_crm_name="c", user_id=1, partner_id="p")),
    lambda c: c.get_referral(ReferralQuery(broker_crm_name="c", user_id=1)),
    lambda c: c.delete_referral(DeleteReferralRequest(broker_crm_name="c", user_id=1)),
    lambda c: c.get_trader(1),
    lambda c: c.list_traders(WINDOW),
    lambda c: c.list_users(UsersQuery()),
]  # fmt: skip


@pytest.mark.parametrize(
    "action",
    CALLS_NEEDING_A_TOKEN,
    ids=[
        "create_ctid", "link_account", "change_white_label", "set_referral", "get_referral",
        "delete_referral", "get_trader", "list_traders", "list_users",
    ],
)  # fmt: skip
@pytest.mark.parametrize("token", [None, ""], ids=["none", "empty"])
def test_calls_without_token_send_nothing(
    router: respx.MockRouter, call: Any, action: Any, token: str | None
) -> None:
    error = fail_with(call, action, token=token)

    assert type(error) is NotLoggedIn
    assert error.needs_login is True
    assert "log in" in str(error)
    assert router.calls.call_count == 0


# --- transport failures --------------------------------------------------------------------------


def test_connect_error(router: respx.MockRouter, call: Any) -> None:
    router.post("/cid/ctid/create").mock(side_effect=httpx.ConnectError("Connection refused"))

    error = fail_with(call, lambda c: c.create_ctid(CREATE))

    assert type(error) is ApiConnectionError
    assert "Could not connect" in str(error)
    assert "Connection refused" in str(error)
    assert "Nothing was sent" in str(error)
    assert error.detail == "ConnectError: Connection refused"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_tls_verification_failure_explains_the_ca_bundle(
    router: respx.MockRouter, call: Any, method: str
) -> None:
    failure = httpx.ConnectError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "self-signed certificate in certificate chain (_ssl.c:1000)"
    )
    path, action = (
        ("/v2/webserv/traders/7", lambda c: c.get_trader(7))
        if method == "GET"
        else ("/cid/ctid/create", lambda c: c.create_ctid(CREATE))
    )
    route = router.route(method=method, path=path).mock(side_effect=failure)

    error = fail_with(call, action)

    assert type(error) is TlsFailure
    assert "TLS certificate could not be verified" in str(error)
    assert "CA bundle" in str(error)
    assert error.detail is not None
    assert "CERTIFICATE_VERIFY_FAILED" in error.detail
    assert route.call_count == 1  # retrying cannot fix a certificate


def test_no_httpx_exception_is_chained_to_the_api_error(
    router: respx.MockRouter, call: Any
) -> None:
    # httpx exceptions carry the request, whose URL carries the token: none may ride along.
    router.get("/v2/webserv/traders/7").mock(side_effect=httpx.ConnectError("refused"))

    error = fail_with(call)

    assert error.__cause__ is None
    assert error.__context__ is None
    assert "httpx" not in "".join(traceback.format_exception(error))


# --- connection settings -------------------------------------------------------------------------


def test_missing_ca_bundle_is_a_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"

    with pytest.raises(ConfigurationError, match="does not exist") as caught:
        ApiClient(ConnectionConfig(base_url="https://broker.example:8443", ca_bundle=missing))
    assert str(missing) in str(caught.value)


def test_ca_bundle_that_is_a_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a file"):
        ApiClient(ConnectionConfig(base_url="https://broker.example:8443", ca_bundle=tmp_path))


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a certificate\n", b"-----BEGIN CERTIFICATE-----\nAAAA\n"],
    ids=["empty", "text", "broken-pem"],
)
def test_ca_bundle_that_is_not_pem_is_a_configuration_error(tmp_path: Path, content: bytes) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(content)

    with pytest.raises(ConfigurationError, match="not a readable PEM certificate bundle"):
        ApiClient(ConnectionConfig(base_url="https://broker.example:8443", ca_bundle=bundle))


def test_a_real_ca_bundle_is_accepted() -> None:
    client = ApiClient(
        ConnectionConfig(base_url="https://broker.example:8443", ca_bundle=Path(certifi.where()))
    )
    assert client.base_url == "https://broker.example:8443"


@pytest.mark.parametrize(
    "url",
    ["broker.example:8443", "ftp://broker.example", "https://", "", "http://[::1", "//host:1"],
)
def test_invalid_base_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="server address"):
        ApiClient(ConnectionConfig(base_url=url))
