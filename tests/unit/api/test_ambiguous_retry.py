"""A write's try whose answer was lost may have been applied: the later tries of the same call
cannot undo that. Only a success settles it; any other end is OutcomeUnknown, never a failure."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from ctrader_admin.api import (
    ApiConnectionError,
    DeleteReferralRequest,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    SetReferralRequest,
    Unauthorized,
)
from ctrader_admin.api.retry import Failure, may_have_applied

SET = SetReferralRequest(broker_crm_name="sandbox_crm", user_id=41, partner_id="IB-0042")
DELETE = DeleteReferralRequest(broker_crm_name="sandbox_crm", user_id=41)
REFERRAL = "/cid/oauth2/ctid/referral"
TIMEOUT = httpx.ReadTimeout("timed out")
DROP = httpx.RemoteProtocolError("Server disconnected without sending a response.")
RATE_LIMIT = httpx.Response(
    400,
    json={"error": {"errorCode": "REQUEST_FREQUENCY_EXCEEDED", "description": "Hourly limit"}},
)


def server_error() -> httpx.Response:
    return httpx.Response(500, json={"error": {"errorCode": "UNKNOWN_ERROR"}})


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST", "put"])
@pytest.mark.parametrize("failure", [Failure.TIMEOUT, Failure.DROPPED])
def test_a_write_sent_without_an_answer_may_have_been_applied(
    method: str, failure: Failure
) -> None:
    assert may_have_applied(method, failure)


@pytest.mark.parametrize("failure", list(Failure))
def test_a_read_never_changes_anything(failure: Failure) -> None:
    assert not may_have_applied("GET", failure)
    assert not may_have_applied("HEAD", failure)


@pytest.mark.parametrize(
    "failure", [Failure.CONNECT, Failure.RATE_LIMITED, Failure.SERVER, Failure.OTHER]
)
def test_a_write_that_got_an_answer_or_never_left_was_not_applied(failure: Failure) -> None:
    assert not may_have_applied("PUT", failure)


@pytest.mark.parametrize(
    ("answers", "last_error"),
    [
        ([TIMEOUT, server_error(), server_error()], ServerError),
        ([TIMEOUT, RATE_LIMIT], RateLimited),
        ([TIMEOUT, server_error(), DROP], ApiConnectionError),
        ([DROP, server_error(), server_error()], ServerError),
        ([DROP, RATE_LIMIT], RateLimited),
        ([server_error(), TIMEOUT, server_error()], ServerError),
        ([TIMEOUT, server_error(), httpx.ConnectError("refused")], ApiConnectionError),
    ],
    ids=[
        "timeout-500-500",
        "timeout-ratelimit",
        "timeout-500-drop",
        "drop-500-500",
        "drop-ratelimit",
        "500-timeout-500",
        "timeout-500-refused",
    ],
)
def test_a_put_that_may_have_been_applied_stays_unknown_whatever_follows(
    router: respx.MockRouter, call: Any, answers: list[Any], last_error: type[Exception]
) -> None:
    route = router.put(REFERRAL).mock(side_effect=answers)

    with pytest.raises(OutcomeUnknown) as caught:
        call(lambda c: c.set_referral(SET))

    assert route.call_count == len(answers)
    assert all(json.loads(c.request.content) == SET.wire() for c in route.calls)
    error = caught.value
    assert isinstance(error.last_error, last_error)
    assert "may or may not have been applied" in str(error)
    assert f"try {len(answers)} failed" in str(error)
    assert "safe to send again" in error.what_to_check
    assert not error.needs_login


def test_a_later_success_settles_it(router: respx.MockRouter, call: Any) -> None:
    route = router.put(REFERRAL).mock(
        side_effect=[TIMEOUT, server_error(), httpx.Response(200, json={"userId": 41})]
    )

    assert call(lambda c: c.set_referral(SET)) is None
    assert route.call_count == 3


def test_only_answers_that_prove_nothing_was_applied_stay_errors(
    router: respx.MockRouter, call: Any
) -> None:
    route = router.put(REFERRAL).mock(side_effect=[server_error(), server_error(), server_error()])

    with pytest.raises(ServerError):
        call(lambda c: c.set_referral(SET))
    assert route.call_count == 3


def test_a_retry_refused_for_the_token_is_unknown_and_asks_for_a_login(
    router: respx.MockRouter, call: Any
) -> None:
    router.delete(REFERRAL).mock(
        side_effect=[DROP, httpx.Response(401, json={"error": {"errorCode": "CID_TOKEN_EXPIRED"}})]
    )

    with pytest.raises(OutcomeUnknown) as caught:
        call(lambda c: c.delete_referral(DELETE))

    assert isinstance(caught.value.last_error, Unauthorized)
    assert caught.value.needs_login


def test_a_note_keeps_everything_else(router: respx.MockRouter, call: Any) -> None:
    router.put(REFERRAL).mock(side_effect=[TIMEOUT, RATE_LIMIT])
    with pytest.raises(OutcomeUnknown) as caught:
        call(lambda c: c.set_referral(SET))

    noted = caught.value.noting("Read back: IB-0041.")

    assert str(noted) == f"{caught.value} Read back: IB-0041."
    assert noted.last_error is caught.value.last_error
    assert noted.what_to_check == caught.value.what_to_check
    assert noted.detail == caught.value.detail
