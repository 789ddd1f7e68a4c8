"""PUT/GET/DELETE /cid/oauth2/ctid/referral: partnerIds at user and account level."""

from __future__ import annotations

import pytest
from sandbox_helpers import (
    CRM,
    EU_LIVE,
    EU_USER,
    OFFLIMITS_LIVE,
    OFFLIMITS_USER,
    SHOWCASE_DEMO,
    SHOWCASE_LIVE,
    SHOWCASE_USER,
    Api,
    error_of,
)

from ctrader_admin.sandbox import Dialect, Sandbox

REFERRAL = "/cid/oauth2/ctid/referral"


def _ctid(sandbox: Sandbox, login: int) -> int:
    link = sandbox.link(trader_login=login)
    assert link is not None
    return int(link["ctid_trader_account_id"])


# --- PUT -----------------------------------------------------------------------------------------


def test_put_at_user_level_overwrites_and_answers_the_user_id(sandbox: Sandbox, api: Api) -> None:
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"
    response = api.put_referral("IB-2077", userId=SHOWCASE_USER)
    assert response.status_code == 200
    assert response.json() == {"userId": SHOWCASE_USER}
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-2077"
    assert sandbox.request_log[-1].applied
    # Writing the same value again is accepted and changes nothing.
    assert api.put_referral("IB-2077", userId=SHOWCASE_USER).status_code == 200
    assert not sandbox.request_log[-1].applied


def test_put_at_account_level_answers_the_link_id(sandbox: Sandbox, api: Api) -> None:
    ctid = _ctid(sandbox, SHOWCASE_DEMO)
    assert sandbox.referral(ctid_trader_account_id=ctid) is None
    response = api.put_referral("AFF-UK-027", ctidTraderAccountId=ctid)
    assert response.json() == {"ctidTraderAccountId": ctid}
    assert sandbox.referral(ctid_trader_account_id=ctid) == "AFF-UK-027"
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"  # the user level is untouched


def test_put_answers_an_empty_body_in_that_dialect(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = Dialect(referral_put_body="empty")
    response = api.put_referral("IB-7", userId=SHOWCASE_USER)
    assert response.status_code == 200
    assert response.content == b""
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-7"


@pytest.mark.parametrize(
    ("body", "expected", "field"),
    [
        ({"userId": SHOWCASE_USER, "ctidTraderAccountId": 9_000_001}, "INVALID_REQUEST", "userId"),
        ({}, "INVALID_REQUEST", "ctidTraderAccountId"),
        ({"userId": str(SHOWCASE_USER)}, "INVALID_REQUEST", "userId"),
        ({"userId": SHOWCASE_USER, "partnerId": ""}, "INVALID_REQUEST", "partnerId"),
        ({"userId": SHOWCASE_USER, "partnerId": "P" * 65}, "INVALID_REQUEST", "partnerId"),
        ({"userId": SHOWCASE_USER, "partnerId": " IB-1"}, "INVALID_REQUEST", "partnerId"),
        ({"userId": SHOWCASE_USER, "partnerId": "IB-1\t"}, "INVALID_REQUEST", "partnerId"),
        ({"userId": SHOWCASE_USER, "partnerId": "IB\n1"}, "INVALID_REQUEST", "partnerId"),
        ({"userId": SHOWCASE_USER, "partnerId": 1042}, "INVALID_REQUEST", "partnerId"),
        ({"userId": SHOWCASE_USER, "brokerCrmName": None}, "INVALID_REQUEST", "brokerCrmName"),
        ({"userId": SHOWCASE_USER, "brokerCrmName": "other_crm"}, "CH_BROKER_NOT_FOUND", "other"),
        ({"userId": 999}, "USER_NOT_FOUND", "999"),
        ({"ctidTraderAccountId": 999}, "CTID_TRADER_ACCOUNT_NOT_FOUND", "999"),
    ],
)
def test_put_errors(
    sandbox: Sandbox, api: Api, body: dict[str, object], expected: str, field: str
) -> None:
    response = api.put(REFERRAL, {"brokerCrmName": CRM, "partnerId": "IB-5", **body})
    assert error_of(response) == (400, expected)
    assert field in response.json()["error"]["description"]
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"


def test_partner_ids_up_to_64_printable_characters_are_fine(api: Api) -> None:
    for partner_id in ("P" * 64, "IB-Müller-9", "Ayşe Partners Ltd"):
        assert api.put_referral(partner_id, userId=SHOWCASE_USER).status_code == 200


def test_put_rights_follow_the_user_or_the_linked_account(
    sandbox: Sandbox, api: Api, limited_api: Api
) -> None:
    assert error_of(limited_api.put_referral("IB-1", userId=EU_USER)) == (403, "NOT_ENOUGH_RIGHTS")
    assert error_of(api.put_referral("IB-1", userId=OFFLIMITS_USER))[1] == "NOT_ENOUGH_RIGHTS"
    offlimits_link = _ctid(sandbox, OFFLIMITS_LIVE)
    assert error_of(api.put_referral("IB-1", ctidTraderAccountId=offlimits_link)) == (
        403,
        "NOT_ENOUGH_RIGHTS",
    )
    # Move the showcase user's live account to sandbox_eu: its user stays on sandbox_main.
    move = {"traderLogin": SHOWCASE_LIVE, "brokerName": "sandbox_eu", "environmentName": "live"}
    assert api.post("/cid/ctid/changeCtidTraderAccount", move).status_code == 200
    live_link = _ctid(sandbox, SHOWCASE_LIVE)
    assert limited_api.put_referral("IB-1", userId=SHOWCASE_USER).status_code == 200
    assert error_of(limited_api.put_referral("IB-1", ctidTraderAccountId=live_link)) == (
        403,
        "NOT_ENOUGH_RIGHTS",
    )


# --- GET -----------------------------------------------------------------------------------------


def test_get_object_mode(sandbox: Sandbox, api: Api) -> None:
    live = _ctid(sandbox, SHOWCASE_LIVE)
    assert api.get_referral(userId=SHOWCASE_USER).json() == {
        "userId": SHOWCASE_USER,
        "partnerId": "IB-1042",
    }
    assert api.get_referral(ctidTraderAccountId=live).json() == {
        "userId": SHOWCASE_USER,
        "ctidTraderAccountId": live,
        "partnerId": "IB-2077",
    }


def test_get_without_a_record_is_an_empty_200_by_default(sandbox: Sandbox, api: Api) -> None:
    response = api.get_referral(ctidTraderAccountId=_ctid(sandbox, SHOWCASE_DEMO))
    assert response.status_code == 200
    assert response.content == b""


def test_get_without_a_record_is_404_in_that_dialect(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = Dialect(referral_none="404")
    response = api.get_referral(ctidTraderAccountId=_ctid(sandbox, SHOWCASE_DEMO))
    assert error_of(response) == (404, "REFERRAL_NOT_FOUND")
    assert api.delete_referral(userId=SHOWCASE_USER).status_code == 200
    assert error_of(api.get_referral(userId=SHOWCASE_USER)) == (404, "REFERRAL_NOT_FOUND")


def test_get_array_mode(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = Dialect(referral_read="array")
    live, demo = _ctid(sandbox, SHOWCASE_LIVE), _ctid(sandbox, SHOWCASE_DEMO)
    assert api.put_referral("AFF-UK-027", ctidTraderAccountId=demo).status_code == 200
    assert api.get_referral(userId=SHOWCASE_USER).json() == [
        {"userId": SHOWCASE_USER, "partnerId": "IB-1042"},
        {"userId": SHOWCASE_USER, "ctidTraderAccountId": live, "partnerId": "IB-2077"},
        {"userId": SHOWCASE_USER, "ctidTraderAccountId": demo, "partnerId": "AFF-UK-027"},
    ]
    assert api.get_referral(ctidTraderAccountId=live).json() == [
        {"userId": SHOWCASE_USER, "ctidTraderAccountId": live, "partnerId": "IB-2077"}
    ]
    assert api.delete_referral(userId=SHOWCASE_USER).status_code == 200
    assert api.delete_referral(userId=SHOWCASE_USER, ctidTraderAccountId=live).status_code == 200
    assert api.get_referral(ctidTraderAccountId=live).json() == []
    assert api.get_referral(userId=SHOWCASE_USER).json() == [
        {"userId": SHOWCASE_USER, "ctidTraderAccountId": demo, "partnerId": "AFF-UK-027"}
    ]


def test_array_mode_hides_account_records_out_of_the_managers_reach(
    sandbox: Sandbox, api: Api, limited_api: Api
) -> None:
    sandbox.config.dialect = Dialect(referral_read="array")
    move = {"traderLogin": SHOWCASE_LIVE, "brokerName": "sandbox_eu", "environmentName": "live"}
    assert api.post("/cid/ctid/changeCtidTraderAccount", move).status_code == 200
    assert [
        r.get("ctidTraderAccountId") for r in api.get_referral(userId=SHOWCASE_USER).json()
    ] == [
        None,
        _ctid(sandbox, SHOWCASE_LIVE),
    ]
    assert limited_api.get_referral(userId=SHOWCASE_USER).json() == [
        {"userId": SHOWCASE_USER, "partnerId": "IB-1042"}
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (400, "INVALID_REQUEST")),
        ({"userId": SHOWCASE_USER, "ctidTraderAccountId": 9_000_001}, (400, "INVALID_REQUEST")),
        ({"userId": "me"}, (400, "INVALID_REQUEST")),
        ({"userId": 999}, (400, "USER_NOT_FOUND")),
        ({"ctidTraderAccountId": 999}, (400, "CTID_TRADER_ACCOUNT_NOT_FOUND")),
        ({"userId": EU_USER, "brokerCrmName": "nope"}, (400, "CH_BROKER_NOT_FOUND")),
        ({"userId": OFFLIMITS_USER}, (403, "NOT_ENOUGH_RIGHTS")),
    ],
)
def test_get_errors(api: Api, params: dict[str, object], expected: tuple[int, str]) -> None:
    response = api.get(REFERRAL, params={"brokerCrmName": CRM, **params})
    assert error_of(response) == expected


def test_get_needs_the_crm_name(api: Api) -> None:
    response = api.get(REFERRAL, params={"userId": SHOWCASE_USER})
    assert error_of(response) == (400, "INVALID_REQUEST")
    assert "brokerCrmName" in response.json()["error"]["description"]


# --- DELETE --------------------------------------------------------------------------------------


def test_delete_without_account_removes_only_the_user_level_record(
    sandbox: Sandbox, api: Api
) -> None:
    live = _ctid(sandbox, SHOWCASE_LIVE)
    response = api.delete_referral(userId=SHOWCASE_USER)
    assert response.status_code == 200
    assert response.content == b""
    assert sandbox.referral(user_id=SHOWCASE_USER) is None
    assert sandbox.referral(ctid_trader_account_id=live) == "IB-2077"
    assert sandbox.request_log[-1].applied


def test_delete_with_account_removes_that_links_record(sandbox: Sandbox, api: Api) -> None:
    live = _ctid(sandbox, SHOWCASE_LIVE)
    assert api.delete_referral(userId=SHOWCASE_USER, ctidTraderAccountId=live).status_code == 200
    assert sandbox.referral(ctid_trader_account_id=live) is None
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"


def test_deleting_nothing_is_fine_by_default(sandbox: Sandbox, api: Api) -> None:
    demo = _ctid(sandbox, SHOWCASE_DEMO)
    response = api.delete_referral(userId=SHOWCASE_USER, ctidTraderAccountId=demo)
    assert response.status_code == 200
    assert not sandbox.request_log[-1].applied


def test_deleting_nothing_is_404_in_that_dialect(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = Dialect(referral_delete_missing="error")
    demo = _ctid(sandbox, SHOWCASE_DEMO)
    response = api.delete_referral(userId=SHOWCASE_USER, ctidTraderAccountId=demo)
    assert error_of(response) == (404, "REFERRAL_NOT_FOUND")
    assert api.delete_referral(userId=SHOWCASE_USER).status_code == 200
    assert error_of(api.delete_referral(userId=SHOWCASE_USER)) == (404, "REFERRAL_NOT_FOUND")


def test_delete_needs_the_account_to_belong_to_the_user(sandbox: Sandbox, api: Api) -> None:
    eu_link = _ctid(sandbox, EU_LIVE)
    response = api.delete_referral(userId=SHOWCASE_USER, ctidTraderAccountId=eu_link)
    assert error_of(response) == (400, "INVALID_REQUEST")
    assert response.json()["error"]["description"] == (
        f"account {eu_link} is not linked to user {SHOWCASE_USER}"
    )
    assert sandbox.referral(ctid_trader_account_id=eu_link) == "AFF-EU-318"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (400, "INVALID_REQUEST")),
        ({"ctidTraderAccountId": 9_000_001}, (400, "INVALID_REQUEST")),  # userId is required
        ({"userId": 999}, (400, "USER_NOT_FOUND")),
        (
            {"userId": SHOWCASE_USER, "ctidTraderAccountId": 999},
            (400, "CTID_TRADER_ACCOUNT_NOT_FOUND"),
        ),
        ({"userId": OFFLIMITS_USER}, (403, "NOT_ENOUGH_RIGHTS")),
        ({"userId": SHOWCASE_USER, "brokerCrmName": "x"}, (400, "CH_BROKER_NOT_FOUND")),
    ],
)
def test_delete_errors(api: Api, params: dict[str, object], expected: tuple[int, str]) -> None:
    response = api.delete(REFERRAL, params={"brokerCrmName": CRM, **params})
    assert error_of(response) == expected


def test_delete_rights_follow_the_linked_account(sandbox: Sandbox, limited_api: Api) -> None:
    eu_link = _ctid(sandbox, EU_LIVE)
    response = limited_api.delete_referral(userId=EU_USER, ctidTraderAccountId=eu_link)
    assert error_of(response) == (403, "NOT_ENOUGH_RIGHTS")
    assert error_of(limited_api.delete_referral(userId=EU_USER)) == (403, "NOT_ENOUGH_RIGHTS")
    assert sandbox.referral(user_id=EU_USER) == "AFF-EU-318"
