"""Retry policy (docs/design.md rule 4): the pure function, then what the client does with it."""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrader_admin.api import (
    ApiConnectionError,
    ApiTimeoutError,
    BadRequest,
    CreateCtidRequest,
    DeleteReferralRequest,
    LinkAccountRequest,
    OutcomeUnknown,
    RateLimited,
    RetryPolicy,
    ServerError,
    SetReferralRequest,
    Unauthorized,
)
from ctrader_admin.api.retry import DEFAULT_POLICY, Failure, retry_delay

POLICY = RetryPolicy(max_attempts=3, base_delay=0.25, max_delay=4.0, max_retry_after=30.0)
TRANSIENT = [Failure.CONNECT, Failure.TIMEOUT, Failure.DROPPED, Failure.SERVER]
IDEMPOTENT = ["GET", "PUT", "DELETE", "get", "put", "delete"]
CREATE = CreateCtidRequest(email="ana.lima@example.com")
LINK = LinkAccountRequest(
    trader_login=3000123,
    trader_password_hash="0" * 32,
    user_id=41,
    broker_name="sandbox_main",
    environment_name="live",
)
SET = SetReferralRequest(broker_crm_name="sandbox_crm", user_id=41, partner_id="IB-0042")
DELETE = DeleteReferralRequest(broker_crm_name="sandbox_crm", user_id=41)


def delay(
    method: str,
    attempt: int,
    failure: Failure,
    retry_after: float | None = None,
    jitter: float = 0.5,
    policy: RetryPolicy = POLICY,
) -> float | None:
    return retry_delay(
        policy,
        method=method,
        attempt=attempt,
        failure=failure,
        retry_after=retry_after,
        jitter=jitter,
    )


# --- the pure function ---------------------------------------------------------------------------


def test_default_policy_is_three_attempts_with_capped_backoff() -> None:
    assert DEFAULT_POLICY == POLICY


@pytest.mark.parametrize("method", ["POST", "PATCH", "post"])
@pytest.mark.parametrize("failure", list(Failure))
@pytest.mark.parametrize("retry_after", [None, 0.0, 2.0])
def test_writes_that_are_not_idempotent_are_never_retried(
    method: str, failure: Failure, retry_after: float | None
) -> None:
    assert delay(method, 1, failure, retry_after) is None


@pytest.mark.parametrize("method", IDEMPOTENT)
@pytest.mark.parametrize("failure", TRANSIENT)
@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 0.1875), (2, 0.375), (3, None), (4, None)],  # 0.25·2^(n-1) · (0.5 + 0.5/2)
)
def test_idempotent_transient_failures_back_off_then_stop(
    method: str, failure: Failure, attempt: int, expected: float | None
) -> None:
    assert delay(method, attempt, failure) == expected


@pytest.mark.parametrize("method", IDEMPOTENT)
@pytest.mark.parametrize("retry_after", [None, 1.0])
def test_other_failures_are_not_retried(method: str, retry_after: float | None) -> None:
    assert delay(method, 1, Failure.OTHER, retry_after) is None


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(None, None), (0.0, 0.0), (2.0, 2.0), (30.0, 30.0), (30.5, None), (3600.0, None)],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_rate_limited_waits_exactly_retry_after_up_to_the_cap(
    method: str, retry_after: float | None, expected: float | None
) -> None:
    assert delay(method, 1, Failure.RATE_LIMITED, retry_after, jitter=0.9) == expected


def test_rate_limited_stops_at_max_attempts_too() -> None:
    assert delay("GET", 2, Failure.RATE_LIMITED, 1.0) == 1.0
    assert delay("GET", 3, Failure.RATE_LIMITED, 1.0) is None


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(None, 0.1875), (0.05, 0.1875), (5.0, 5.0), (30.0, 30.0), (500.0, 30.0)],
)
def test_server_error_honours_retry_after_capped(
    retry_after: float | None, expected: float
) -> None:
    assert delay("GET", 1, Failure.SERVER, retry_after) == expected


@pytest.mark.parametrize("failure", [Failure.CONNECT, Failure.TIMEOUT, Failure.DROPPED])
def test_retry_after_only_matters_for_answers(failure: Failure) -> None:
    assert delay("GET", 1, failure, retry_after=20.0) == 0.1875


def test_backoff_is_capped_at_max_delay() -> None:
    long = RetryPolicy(max_attempts=20)
    delays = [delay("GET", n, Failure.SERVER, jitter=0.999999, policy=long) for n in range(1, 20)]
    assert all(d is not None and d <= long.max_delay for d in delays)
    assert delays[-1] == pytest.approx(long.max_delay, rel=1e-5)
    assert delays == sorted(delays)  # never shrinks


@settings(max_examples=100, deadline=None, database=None)
@given(
    method=st.sampled_from(["GET", "PUT", "DELETE"]),
    failure=st.sampled_from(TRANSIENT),
    attempt=st.integers(1, 9),
    jitter=st.floats(0.0, 1.0, exclude_max=True),
)
def test_jitter_stays_within_half_and_full_backoff(
    method: str, failure: Failure, attempt: int, jitter: float
) -> None:
    policy = RetryPolicy(max_attempts=10)
    backoff = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    result = delay(method, attempt, failure, jitter=jitter, policy=policy)
    assert result is not None
    assert backoff / 2 <= result <= backoff  # never zero, never above the backoff


# --- through the client --------------------------------------------------------------------------


def test_get_retried_on_503_then_succeeds(router: respx.MockRouter, call: Any, sleeps: Any) -> None:
    route = router.get("/v2/webserv/traders/7").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"login": 7})]
    )

    trader = call(lambda c: c.get_trader(7))

    assert trader.login == 7
    assert route.call_count == 2
    assert sleeps.delays == [0.1875]


def test_get_gives_up_after_max_attempts(router: respx.MockRouter, call: Any, sleeps: Any) -> None:
    route = router.get("/v2/webserv/traders/7").respond(503, text="busy")

    with pytest.raises(ServerError) as caught:
        call(lambda c: c.get_trader(7))

    assert route.call_count == 3
    assert sleeps.delays == [0.1875, 0.375]
    assert caught.value.status == 503


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        (httpx.ReadTimeout("timed out"), ApiTimeoutError),
        (httpx.ConnectError("refused"), ApiConnectionError),
        (httpx.RemoteProtocolError("peer closed"), ApiConnectionError),
    ],
    ids=["timeout", "connect", "dropped"],
)
def test_get_retries_transport_failures_then_reports_them(
    router: respx.MockRouter, call: Any, sleeps: Any, exception: Exception, error: type
) -> None:
    route = router.get("/v2/webserv/traders/7").mock(side_effect=exception)

    with pytest.raises(error) as caught:
        call(lambda c: c.get_trader(7))

    assert type(caught.value) is error  # a read is never "outcome unknown"
    assert route.call_count == 3
    assert len(sleeps.delays) == 2


def test_get_timeout_message_names_the_timeout(router: respx.MockRouter, call: Any) -> None:
    router.get("/v2/webserv/traders/7").mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(ApiTimeoutError, match=r"did not answer within 7\.5 s") as caught:
        call(lambda c: c.get_trader(7), timeout=7.5)
    assert "GET /v2/webserv/traders/7" in str(caught.value)


@pytest.mark.parametrize(
    "first_failure",
    [httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("peer closed"), None],
    ids=["timeout", "dropped", "503"],
)
def test_put_referral_is_retried_with_the_same_body(
    router: respx.MockRouter, call: Any, sleeps: Any, first_failure: Exception | None
) -> None:
    first = first_failure if first_failure is not None else httpx.Response(503)
    route = router.put("/cid/oauth2/ctid/referral").mock(
        side_effect=[first, httpx.Response(200, json={"userId": 41})]
    )

    assert call(lambda c: c.set_referral(SET)) is None

    assert route.call_count == 2
    bodies = [json.loads(c.request.content) for c in route.calls]
    assert bodies[0] == bodies[1] == SET.wire()
    assert sleeps.delays == [0.1875]


def test_put_referral_that_never_answers_is_outcome_unknown_but_safe_to_resend(
    router: respx.MockRouter, call: Any
) -> None:
    route = router.put("/cid/oauth2/ctid/referral").mock(side_effect=httpx.ReadTimeout("t/o"))

    with pytest.raises(OutcomeUnknown) as caught:
        call(lambda c: c.set_referral(SET))

    assert route.call_count == 3
    assert "safe to send again" in caught.value.what_to_check
    assert "PUT /cid/oauth2/ctid/referral" in str(caught.value)


def test_delete_referral_is_retried_on_503(
    router: respx.MockRouter, call: Any, sleeps: Any
) -> None:
    route = router.delete("/cid/oauth2/ctid/referral").mock(
        side_effect=[httpx.Response(503), httpx.Response(200)]
    )

    call(lambda c: c.delete_referral(DELETE))

    assert route.call_count == 2
    assert sleeps.delays == [0.1875]


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/cid/ctid/create", lambda c: c.create_ctid(CREATE)),
        ("/cid/ctid/link", lambda c: c.link_account(LINK)),
        ("/v2/webserv/managers/token", lambda c: c.login(1001, "some-password")),
    ],
    ids=["create", "link", "login"],
)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_is_not_retried_on_5xx(
    router: respx.MockRouter, call: Any, sleeps: Any, path: str, action: Any, status: int
) -> None:
    route = router.post(path).respond(status)

    with pytest.raises(ServerError):
        call(action)

    assert route.call_count == 1
    assert sleeps.delays == []


@pytest.mark.parametrize(
    "exception",
    [
        httpx.ReadTimeout("timed out"),
        httpx.WriteTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
    ],
    ids=["read-timeout", "write-timeout", "remote-protocol", "read-error"],
)
@pytest.mark.parametrize(
    ("path", "action"),
    [
        ("/cid/ctid/create", lambda c: c.create_ctid(CREATE)),
        ("/cid/ctid/link", lambda c: c.link_account(LINK)),
    ],
    ids=["create", "link"],
)
def test_post_without_an_answer_is_outcome_unknown_after_one_call(
    router: respx.MockRouter, call: Any, sleeps: Any, exception: Exception, path: str, action: Any
) -> None:
    route = router.post(path).mock(side_effect=exception)

    with pytest.raises(OutcomeUnknown) as caught:
        call(action)

    assert route.call_count == 1
    assert sleeps.delays == []
    error = caught.value
    assert f"POST {path}" in str(error)
    assert "may or may not have been applied" in str(error)
    assert "Read the target back" in error.what_to_check
    assert error.detail is not None
    assert type(exception).__name__ in error.detail


@pytest.mark.parametrize(
    "exception",
    [httpx.ConnectError("Connection refused"), httpx.ConnectTimeout("connect timed out")],
    ids=["connect-error", "connect-timeout"],
)
def test_post_that_could_not_connect_is_a_plain_connection_error(
    router: respx.MockRouter, call: Any, sleeps: Any, exception: Exception
) -> None:
    route = router.post("/cid/ctid/create").mock(side_effect=exception)

    with pytest.raises(ApiConnectionError) as caught:
        call(lambda c: c.create_ctid(CREATE))

    assert not isinstance(caught.value, OutcomeUnknown)
    assert "Nothing was sent" in str(caught.value)
    assert route.call_count == 1
    assert sleeps.delays == []


def test_429_with_retry_after_on_a_get_waits_then_succeeds(
    router: respx.MockRouter, call: Any, sleeps: Any
) -> None:
    route = router.get("/v2/webserv/traders/7").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json={"login": 7}),
        ]
    )

    assert call(lambda c: c.get_trader(7)).login == 7

    assert route.call_count == 2
    assert sleeps.delays == [2.0]


def test_429_with_an_http_date_on_a_get_waits_until_then(
    router: respx.MockRouter, call: Any, sleeps: Any
) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    router.get("/v2/webserv/traders/7").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": when}),
            httpx.Response(200, json={"login": 7}),
        ]
    )

    call(lambda c: c.get_trader(7))

    assert len(sleeps.delays) == 1
    assert 8.0 <= sleeps.delays[0] <= 10.0


@pytest.mark.parametrize(
    "headers", [{}, {"Retry-After": "3600"}, {"Retry-After": "soon"}], ids=["none", "long", "junk"]
)
def test_429_not_waited_in_line_goes_up_at_once(
    router: respx.MockRouter, call: Any, sleeps: Any, headers: dict
) -> None:
    route = router.get("/v2/webserv/traders/7").respond(429, headers=headers)

    with pytest.raises(RateLimited):
        call(lambda c: c.get_trader(7))

    assert route.call_count == 1
    assert sleeps.delays == []


def test_429_on_a_post_is_not_retried(router: respx.MockRouter, call: Any, sleeps: Any) -> None:
    route = router.post("/cid/ctid/create").respond(429, headers={"Retry-After": "2"})

    with pytest.raises(RateLimited) as caught:
        call(lambda c: c.create_ctid(CREATE))

    assert caught.value.retry_after == 2.0
    assert route.call_count == 1
    assert sleeps.delays == []


def test_503_retry_after_on_a_get_is_honoured(
    router: respx.MockRouter, call: Any, sleeps: Any
) -> None:
    router.get("/v2/webserv/traders/7").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "3"}),
            httpx.Response(200, json={"login": 7}),
        ]
    )

    call(lambda c: c.get_trader(7))

    assert sleeps.delays == [3.0]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": {"errorCode": "INVALID_REQUEST", "description": "bad"}}, BadRequest),
        (401, {}, Unauthorized),
        (
            400,
            {"error": {"errorCode": "REQUEST_FREQUENCY_EXCEEDED", "description": "cap"}},
            RateLimited,
        ),
    ],
    ids=["400", "401", "400-rate-limit-without-retry-after"],
)
def test_get_is_not_retried_on_errors_retrying_cannot_fix(
    router: respx.MockRouter, call: Any, sleeps: Any, status: int, body: dict, error: type
) -> None:
    route = router.get("/v2/webserv/traders/7").respond(status, **({"json": body} if body else {}))

    with pytest.raises(error):
        call(lambda c: c.get_trader(7))

    assert route.call_count == 1
    assert sleeps.delays == []


def test_retry_policy_from_the_connection_config(
    router: respx.MockRouter, call: Any, sleeps: Any
) -> None:
    route = router.get("/v2/webserv/traders/7").respond(502)

    with pytest.raises(ServerError):
        call(lambda c: c.get_trader(7), retry=RetryPolicy(max_attempts=5, base_delay=1.0))

    assert route.call_count == 5
    assert sleeps.delays == [0.75, 1.5, 3.0, 3.0]  # capped by max_delay 4.0 · 0.75
