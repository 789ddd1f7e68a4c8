"""The documented variants the sandbox can speak (docs/sandbox.md's table), switched at runtime."""

from __future__ import annotations

import dataclasses

import pytest
from sandbox_helpers import SHOWCASE_DEMO, SHOWCASE_USER, Api

from ctrader_admin.sandbox import DIALECTS, Dialect, Faults, Sandbox


def test_default_is_every_left_hand_column_choice() -> None:
    assert DIALECTS["default"] == Dialect()
    assert Dialect() == Dialect(
        error_shape="nested",
        rate_limit_status=400,
        auth_failure_status=401,
        referral_read="object",
        referral_none="empty",
        referral_put_body="ids",
        referral_delete_missing="ok",
        change_wl_body="empty",
        invite_enabled=True,
    )


def test_variant_is_every_right_hand_column_choice() -> None:
    variant = DIALECTS["variant"]
    assert (
        variant.error_shape,
        variant.rate_limit_status,
        variant.auth_failure_status,
        variant.referral_read,
        variant.referral_put_body,
        variant.referral_delete_missing,
        variant.change_wl_body,
        variant.invite_enabled,
    ) == ("flat", 429, 403, "array", "empty", "error", "ids", False)


def test_toplevel_differs_from_default_in_errors_and_missing_referrals_only() -> None:
    expected = dataclasses.replace(Dialect(), error_shape="toplevel", referral_none="404")
    assert DIALECTS["toplevel"] == expected


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            "default",
            {"error": {"errorCode": "TRADER_NOT_FOUND", "description": "Trader 5299999 not found"}},
        ),
        (
            "variant",
            {
                "error": "Bad Request",
                "message": "Trader 5299999 not found",
                "code": "TRADER_NOT_FOUND",
            },
        ),
        ("toplevel", {"errorCode": "TRADER_NOT_FOUND", "description": "Trader 5299999 not found"}),
    ],
)
def test_error_shapes(sandbox: Sandbox, api: Api, dialect: str, expected: object) -> None:
    sandbox.config.dialect = DIALECTS[dialect]
    response = api.get("/v2/webserv/traders/5299999")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == expected


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_error_in_every_dialect_carries_code_and_description(
    sandbox: Sandbox, api: Api, dialect: str
) -> None:
    sandbox.config.dialect = DIALECTS[dialect]
    codes = {
        api.get("/v2/webserv/traders/5299999").status_code,
        api.as_token(None).get("/v2/webserv/traders/5200001").status_code,
        api.get("/v2/webserv/traders/5200004").status_code,
        api.get("/no/such/endpoint").status_code,
    }
    assert codes <= {400, 401, 403, 404}
    response = api.get("/v2/webserv/traders/5200004")
    body = response.json()
    code = body.get("code") or body.get("errorCode") or body["error"]["errorCode"]
    assert code == "NOT_ENOUGH_RIGHTS"


def test_flat_errors_use_the_reason_phrase_of_their_status(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = DIALECTS["variant"]
    assert api.as_token(None).get("/v2/webserv/tradergroups").json()["error"] == "Forbidden"
    sandbox.config.faults = Faults(error_rate=1.0)
    assert api.get("/v2/webserv/tradergroups").json() == {
        "error": "Internal Server Error",
        "message": "Internal server error (injected fault)",
        "code": "UNKNOWN_ERROR",
    }


def test_a_switch_takes_effect_on_the_next_request(sandbox: Sandbox, api: Api) -> None:
    assert api.get_referral(userId=SHOWCASE_USER).json() == {
        "userId": SHOWCASE_USER,
        "partnerId": "IB-1042",
    }
    sandbox.config.dialect = DIALECTS["variant"]
    assert isinstance(api.get_referral(userId=SHOWCASE_USER).json(), list)
    sandbox.config.dialect = DIALECTS["toplevel"]
    demo = sandbox.link(trader_login=SHOWCASE_DEMO)
    assert demo is not None
    missing = api.get_referral(ctidTraderAccountId=demo["ctid_trader_account_id"])
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "REFERRAL_NOT_FOUND"


@pytest.mark.parametrize(
    "bad",
    [
        {"error_shape": "xml"},
        {"rate_limit_status": 503},
        {"auth_failure_status": 400},
        {"referral_read": "csv"},
        {"referral_none": "null"},
        {"referral_put_body": "full"},
        {"referral_delete_missing": "ignore"},
        {"change_wl_body": "full"},
        {"invite_enabled": "yes"},
    ],
)
def test_dialect_rejects_unknown_variants(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Dialect(**bad)  # type: ignore[arg-type]
