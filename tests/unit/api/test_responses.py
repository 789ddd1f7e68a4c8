"""What the client makes of 2xx answers, in every variant docs/sandbox.md says it must tolerate."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import respx
from pydantic import ValidationError

from ctrader_admin.api import (
    ChangeWhiteLabelRequest,
    CreateCtidRequest,
    CreateCtidResult,
    DeleteReferralRequest,
    LinkAccountRequest,
    NotFound,
    Referral,
    ReferralQuery,
    ResponseValidationError,
    SetReferralRequest,
    Trader,
    TraderListQuery,
    UsersQuery,
)

CREATE = CreateCtidRequest(email="ana.lima@example.com")
LINK = LinkAccountRequest(
    trader_login=3000123,
    trader_password_hash="0" * 32,
    user_id=41,
    broker_name="sandbox_main",
    environment_name="live",
)
CHANGE_WL = ChangeWhiteLabelRequest(
    trader_login=3000123, broker_name="sandbox_eu", environment_name="live"
)
USER_LEVEL = ReferralQuery(broker_crm_name="sandbox_crm", user_id=41)
ACCOUNT_LEVEL = ReferralQuery(broker_crm_name="sandbox_crm", ctid_trader_account_id=9002)
DELETE = DeleteReferralRequest(broker_crm_name="sandbox_crm", user_id=41)
WINDOW = TraderListQuery(
    from_=datetime(2024, 1, 1, tzinfo=UTC), to=datetime(2024, 2, 1, tzinfo=UTC)
)

FULL_USER = {
    "userId": 41,
    "nickname": "ctid41",
    "email": "ana.lima@example.com",
    "preferredLanguage": "pt",
    "utcCreateTimestamp": 1679898064783,
    "status": "CTID_NEW",
}


# --- create / link / change White Label ----------------------------------------------------------


def test_create_ctid_full_user_means_created(router: respx.MockRouter, call: Any) -> None:
    router.post("/cid/ctid/create").respond(200, json=FULL_USER)

    result = call(lambda c: c.create_ctid(CREATE))

    assert result.created is True
    assert result.user.user_id == 41
    assert result.user.nickname == "ctid41"
    assert result.user.status == "CTID_NEW"
    assert result.user.utc_create_timestamp == 1679898064783


def test_create_ctid_user_id_only_means_existing_user(router: respx.MockRouter, call: Any) -> None:
    router.post("/cid/ctid/create").respond(200, json={"userId": 77})

    result = call(lambda c: c.create_ctid(CREATE))

    assert result.created is False
    assert result.user.user_id == 77
    assert result.user.email is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [({}, None), ({"content": b""}, None), ({"json": {"ctidTraderAccountId": 9001}}, 9001)],
    ids=["no-body", "empty-bytes", "with-id"],
)
def test_link_result(router: respx.MockRouter, call: Any, answer: dict, expected: Any) -> None:
    router.post("/cid/ctid/link").respond(200, **answer)

    assert call(lambda c: c.link_account(LINK)).ctid_trader_account_id == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [({}, None), ({"json": {"ctidTraderAccountId": 9001}}, 9001)],
    ids=["empty", "with-id"],
)
def test_change_white_label_result(
    router: respx.MockRouter, call: Any, answer: dict, expected: Any
) -> None:
    router.post("/cid/ctid/changeCtidTraderAccount").respond(200, **answer)

    assert call(lambda c: c.change_white_label(CHANGE_WL)).ctid_trader_account_id == expected


# --- referral reads ------------------------------------------------------------------------------

USER_RECORD = {"userId": 41, "partnerId": "IB-USER"}
ACCOUNT_9001 = {"userId": 41, "ctidTraderAccountId": 9001, "partnerId": "IB-9001"}
ACCOUNT_9002 = {"userId": 41, "ctidTraderAccountId": 9002, "partnerId": "IB-9002"}


@pytest.mark.parametrize(
    ("query", "answer", "expected"),
    [
        # one object (the documented shape and the sandbox default)
        (USER_LEVEL, {"json": USER_RECORD}, "IB-USER"),
        (ACCOUNT_LEVEL, {"json": ACCOUNT_9002}, "IB-9002"),
        # an array (Deriv's reading): the user-level record is the one without an account
        (USER_LEVEL, {"json": [ACCOUNT_9001, USER_RECORD, ACCOUNT_9002]}, "IB-USER"),
        (ACCOUNT_LEVEL, {"json": [USER_RECORD, ACCOUNT_9001, ACCOUNT_9002]}, "IB-9002"),
        (USER_LEVEL, {"json": [ACCOUNT_9001, ACCOUNT_9002]}, None),
        (ACCOUNT_LEVEL, {"json": [USER_RECORD, ACCOUNT_9001]}, None),
        # nothing recorded
        (USER_LEVEL, {}, None),
        (USER_LEVEL, {"content": b"  \n"}, None),
        (USER_LEVEL, {"json": []}, None),
        (ACCOUNT_LEVEL, {"json": []}, None),
    ],
    ids=[
        "object-user",
        "object-account",
        "array-user-picks-record-without-account",
        "array-account-picks-matching-id",
        "array-user-only-account-records",
        "array-account-no-match",
        "empty-body",
        "blank-body",
        "empty-array-user",
        "empty-array-account",
    ],
)
def test_get_referral_variants(
    router: respx.MockRouter, call: Any, query: ReferralQuery, answer: dict, expected: str | None
) -> None:
    router.get("/cid/oauth2/ctid/referral").respond(200, **answer)

    record = call(lambda c: c.get_referral(query))

    if expected is None:
        assert record is None
    else:
        assert isinstance(record, Referral)
        assert record.partner_id == expected


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"text": "<html><body>Not Found</body></html>"},
        {"json": {"error": {"errorCode": "REFERRAL_NOT_FOUND", "description": "no record"}}},
    ],
    ids=["empty", "html", "referral-not-found"],
)
def test_get_referral_404_means_none(router: respx.MockRouter, call: Any, answer: dict) -> None:
    router.get("/cid/oauth2/ctid/referral").respond(404, **answer)

    assert call(lambda c: c.get_referral(USER_LEVEL)) is None


@pytest.mark.parametrize("status", [400, 404])
def test_get_referral_unknown_user_is_an_error_not_none(
    router: respx.MockRouter, call: Any, status: int
) -> None:
    router.get("/cid/oauth2/ctid/referral").respond(
        status, json={"error": {"errorCode": "USER_NOT_FOUND", "description": "User 41 not found"}}
    )

    with pytest.raises(NotFound) as caught:
        call(lambda c: c.get_referral(USER_LEVEL))
    assert caught.value.code == "USER_NOT_FOUND"
    assert caught.value.status == status
    assert "No cTID user with this userId." in str(caught.value)


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (200, {}),
        (200, {"json": {"userId": 41}}),
        (404, {"json": {"error": {"errorCode": "REFERRAL_NOT_FOUND", "description": "gone"}}}),
        (404, {"json": {"errorCode": "REFERRAL_NOT_FOUND", "description": "gone"}}),
        (404, {}),
    ],
    ids=["200-empty", "200-body", "404-nested", "404-top-level", "404-empty"],
)
def test_delete_referral_already_gone_is_not_an_error(
    router: respx.MockRouter, call: Any, status: int, answer: dict
) -> None:
    route = router.delete("/cid/oauth2/ctid/referral").respond(status, **answer)

    assert call(lambda c: c.delete_referral(DELETE)) is None
    assert route.call_count == 1


def test_delete_referral_unknown_user_is_an_error(router: respx.MockRouter, call: Any) -> None:
    router.delete("/cid/oauth2/ctid/referral").respond(
        400, json={"error": {"errorCode": "USER_NOT_FOUND", "description": "User 41 not found"}}
    )

    with pytest.raises(NotFound, match="USER_NOT_FOUND"):
        call(lambda c: c.delete_referral(DELETE))


@pytest.mark.parametrize(
    "answer",
    [{}, {"json": {"userId": 41}}, {"json": {"ctidTraderAccountId": 9001}}, {"text": "OK"}],
    ids=["empty", "user-id", "account-id", "plain-text"],
)
def test_set_referral_accepts_any_2xx_body(
    router: respx.MockRouter, call: Any, answer: dict
) -> None:
    route = router.put("/cid/oauth2/ctid/referral").respond(200, **answer)
    request = SetReferralRequest(broker_crm_name="sandbox_crm", user_id=41, partner_id="IB-1")

    assert call(lambda c: c.set_referral(request)) is None
    assert route.call_count == 1


# --- trading accounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "raw", "expected"),
    [
        (0, 123456, "123456"),
        (2, 234512, "2345.12"),
        (2, -5, "-0.05"),
        (8, 12345678901, "123.45678901"),
        (8, 1, "1E-8"),
    ],
)
def test_trader_money_is_an_exact_decimal(
    router: respx.MockRouter, call: Any, digits: int, raw: int, expected: str
) -> None:
    router.get("/v2/webserv/traders/7").respond(
        200, json={"login": 7, "moneyDigits": digits, "balance": raw, "equity": raw}
    )

    trader = call(lambda c: c.get_trader(7))

    for field in ("balance", "equity"):
        value = trader.money(field)
        assert isinstance(value, Decimal)
        assert value == Decimal(expected)
        assert str(value) == str(Decimal(expected))
    assert trader.money("bonus") is None  # absent stays absent, not 0


def test_trader_money_digits_default_to_zero_and_non_money_fields_are_refused() -> None:
    trader = Trader.model_validate({"login": 7, "balance": 1050})
    assert trader.money("balance") == Decimal(1050)
    with pytest.raises(ValueError, match="not a money field"):
        trader.money("login")


@pytest.mark.parametrize(
    ("cents", "expected"), [(10000, "1:100"), (100, "1:1"), (150, "1:1.5"), (50000, "1:500")]
)
def test_trader_leverage(cents: int, expected: str) -> None:
    assert Trader.model_validate({"login": 7, "leverageInCents": cents}).leverage == expected


def test_trader_without_leverage() -> None:
    assert Trader.model_validate({"login": 7}).leverage is None


def test_trader_full_object_and_unknown_keys(router: respx.MockRouter, call: Any) -> None:
    router.get("/v2/webserv/traders/3000123").respond(
        200,
        json={
            "login": 3000123,
            "groupName": "default",
            "depositCurrency": "EUR",
            "brokerName": "sandbox_main",
            "accessRights": "FULL_ACCESS",
            "accountType": "HEDGED",
            "balance": 234512,
            "moneyDigits": 2,
            "leverageInCents": 10000,
            "registrationTimestamp": 1680163530801,
            "contactDetails": {"email": "ana.lima@example.com", "countryId": 620, "fax": "-"},
            # keys real servers send and the docs do not list
            "frenchRisk": False,
            "ranks": [{"x": 1}],
            "introducingBrokerCommissionRate": 3,
        },
    )

    trader = call(lambda c: c.get_trader(3000123))

    assert trader.broker_name == "sandbox_main"
    assert trader.deposit_currency == "EUR"
    assert trader.money("balance") == Decimal("2345.12")
    assert trader.leverage == "1:100"
    assert trader.contact_details is not None
    assert trader.contact_details.country_id == 620
    assert not hasattr(trader, "french_risk")
    assert "frenchRisk" not in trader.model_dump(by_alias=True)


def test_response_models_are_frozen() -> None:
    trader = Trader.model_validate({"login": 7, "balance": 1})
    referral = Referral.model_validate(USER_RECORD)
    result = CreateCtidResult.model_validate({"user": {"userId": 1}, "created": True})
    with pytest.raises(ValidationError, match="frozen"):
        trader.balance = 2
    with pytest.raises(ValidationError, match="frozen"):
        referral.partner_id = "someone-else"
    with pytest.raises(ValidationError, match="frozen"):
        result.created = False
    assert trader.balance == 1


# --- answers that cannot be understood -----------------------------------------------------------

NOT_JSON = {"text": "<html><body>maintenance</body></html>"}


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("GET", "/v2/webserv/traders/7", lambda c: c.get_trader(7)),
        ("POST", "/cid/ctid/create", lambda c: c.create_ctid(CREATE)),
        ("POST", "/cid/ctid/link", lambda c: c.link_account(LINK)),
        ("GET", "/cid/oauth2/ctid/referral", lambda c: c.get_referral(USER_LEVEL)),
        ("GET", "/v1/users", lambda c: c.list_users(UsersQuery())),
        ("POST", "/v2/webserv/managers/token", lambda c: c.login(1001, "a-password")),
    ],
    ids=["get_trader", "create_ctid", "link_account", "get_referral", "list_users", "login"],
)
def test_2xx_non_json_is_a_response_validation_error(
    router: respx.MockRouter, call: Any, method: str, path: str, action: Any
) -> None:
    route = router.route(method=method, path=path).respond(200, **NOT_JSON)

    with pytest.raises(ResponseValidationError) as caught:
        call(action)
    assert "HTTP 200" in str(caught.value)
    assert "not JSON" in str(caught.value)
    assert caught.value.detail is not None
    assert "maintenance" in caught.value.detail
    assert route.call_count == 1  # a 2xx is never retried


@pytest.mark.parametrize(
    ("method", "path", "action", "answer", "field"),
    [
        ("GET", "/v2/webserv/traders/7", lambda c: c.get_trader(7), {"login": "seven"}, "login"),
        (
            "GET",
            "/v2/webserv/traders/7",
            lambda c: c.get_trader(7),
            {"login": 7, "balance": "a lot"},
            "balance",
        ),
        (
            "GET",
            "/v2/webserv/traders/7",
            lambda c: c.get_trader(7),
            {"login": 7, "moneyDigits": 99},
            "moneyDigits",
        ),
        ("GET", "/v2/webserv/traders/7", lambda c: c.get_trader(7), [1, 2], "body"),
        ("POST", "/cid/ctid/create", lambda c: c.create_ctid(CREATE), {"userId": "x"}, "userId"),
        ("POST", "/cid/ctid/create", lambda c: c.create_ctid(CREATE), {}, "userId"),
        (
            "POST",
            "/cid/ctid/link",
            lambda c: c.link_account(LINK),
            {"ctidTraderAccountId": "n/a"},
            "ctidTraderAccountId",
        ),
        (
            "GET",
            "/cid/oauth2/ctid/referral",
            lambda c: c.get_referral(USER_LEVEL),
            {"userId": 41},
            "partnerId",
        ),
        (
            "GET",
            "/cid/oauth2/ctid/referral",
            lambda c: c.get_referral(USER_LEVEL),
            ["junk", USER_RECORD],
            "body",
        ),
        (
            "GET",
            "/v2/webserv/traders",
            lambda c: c.list_traders(WINDOW),
            {"trader": {"login": 1}},
            "trader",
        ),
        ("GET", "/v1/users", lambda c: c.list_users(UsersQuery()), {"users": "none"}, "users"),
        (
            "POST",
            "/v2/webserv/managers/token",
            lambda c: c.login(1001, "a-password"),
            {"webservToken": ""},
            "webservToken",
        ),
    ],
)
def test_wrong_types_are_a_response_validation_error(
    router: respx.MockRouter,
    call: Any,
    method: str,
    path: str,
    action: Any,
    answer: Any,
    field: str,
) -> None:
    router.route(method=method, path=path).respond(200, json=answer)

    with pytest.raises(ResponseValidationError, match="could not be understood") as caught:
        call(action)
    assert caught.value.detail is not None
    assert field in caught.value.detail
