"""POST /cid/ctid/link: link a trading account to a cTID user."""

from __future__ import annotations

import pytest
from sandbox_helpers import (
    EU_USER,
    SHOWCASE_DEMO,
    SHOWCASE_UNLINKED,
    SHOWCASE_USER,
    Api,
    error_of,
)

from ctrader_admin.sandbox import Sandbox, md5_hex


def test_link_with_account_details_returns_a_fresh_id(sandbox: Sandbox, api: Api) -> None:
    response = api.link(SHOWCASE_UNLINKED, EU_USER)
    assert response.status_code == 200
    ctid = response.json()["ctidTraderAccountId"]
    assert ctid > 9_000_000
    assert sandbox.link(trader_login=SHOWCASE_UNLINKED) == {
        "ctid_trader_account_id": ctid,
        "user_id": EU_USER,
        "trader_login": SHOWCASE_UNLINKED,
        "environment": "live",
    }
    assert sandbox.request_log[-1].applied


def test_link_without_account_details_answers_an_empty_body(sandbox: Sandbox, api: Api) -> None:
    response = api.link(SHOWCASE_UNLINKED, SHOWCASE_USER, returnAccountDetails=False)
    assert response.status_code == 200
    assert response.content == b""
    assert sandbox.link(trader_login=SHOWCASE_UNLINKED) is not None


def test_every_unlinked_seeded_account_can_be_linked_with_the_published_rule(
    sandbox: Sandbox, api: Api
) -> None:
    for login in sandbox.logins(broker_name="sandbox_main", linked=False)[:5]:
        assert api.link(login, SHOWCASE_USER).status_code == 200, login


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"environmentName": "live2"}, (400, "ENVIRONMENT_NOT_FOUND")),
        ({"environmentName": "demo"}, (400, "TRADER_NOT_FOUND")),  # it lives on live
        ({"traderLogin": 5_299_999}, (400, "TRADER_NOT_FOUND")),
        ({"userId": 999}, (400, "USER_NOT_FOUND")),
        ({"brokerName": "sandbox_eu"}, (403, "NOT_ENOUGH_RIGHTS")),  # not the trader's WL
        ({"brokerName": "sandbox_void"}, (400, "CH_PLANT_INVALID")),
        ({"traderPasswordHash": md5_hex("trader-1")}, (400, "WRONG_PASSWORD")),
        ({"traderPasswordHash": "1234"}, (400, "INVALID_REQUEST")),
        ({"traderLogin": "5200002"}, (400, "INVALID_REQUEST")),
        ({"userId": None}, (400, "INVALID_REQUEST")),
        ({"returnAccountDetails": "yes"}, (400, "INVALID_REQUEST")),
    ],
)
def test_link_errors(
    sandbox: Sandbox, api: Api, overrides: dict[str, object], expected: tuple[int, str]
) -> None:
    response = api.link(SHOWCASE_UNLINKED, SHOWCASE_USER, **overrides)
    assert error_of(response) == expected
    assert sandbox.link(trader_login=SHOWCASE_UNLINKED) is None


def test_the_wrong_broker_name_says_it_has_no_access(api: Api) -> None:
    response = api.link(SHOWCASE_UNLINKED, SHOWCASE_USER, brokerName="sandbox_eu")
    assert response.json()["error"]["description"] == "brokerName has no access to this trader"


def test_a_manager_without_rights_on_the_white_label_cannot_link(
    sandbox: Sandbox, limited_api: Api
) -> None:
    eu_unlinked = sandbox.logins(broker_name="sandbox_eu", linked=False)[0]
    assert error_of(limited_api.link(eu_unlinked, SHOWCASE_USER)) == (403, "NOT_ENOUGH_RIGHTS")
    offlimits = sandbox.logins(broker_name="sandbox_offlimits", linked=False)
    if offlimits:
        assert error_of(limited_api.link(offlimits[0], SHOWCASE_USER))[1] == "NOT_ENOUGH_RIGHTS"


def test_an_account_is_linked_at_most_once(api: Api) -> None:
    assert error_of(api.link(SHOWCASE_DEMO, EU_USER)) == (400, "TRADER_ALREADY_LINKED")
    assert api.link(SHOWCASE_UNLINKED, SHOWCASE_USER).status_code == 200
    again = api.link(SHOWCASE_UNLINKED, SHOWCASE_USER)
    assert error_of(again) == (400, "TRADER_ALREADY_LINKED")
