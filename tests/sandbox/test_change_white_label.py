"""POST /cid/ctid/changeCtidTraderAccount: move an account to another White Label."""

from __future__ import annotations

import pytest
from sandbox_helpers import (
    OFFLIMITS_LIVE,
    SHOWCASE_LIVE,
    SHOWCASE_UNLINKED,
    Api,
    FakeClock,
    error_of,
)

from ctrader_admin.sandbox import DIALECTS, Dialect, Sandbox

CHANGE = "/cid/ctid/changeCtidTraderAccount"


def test_moving_changes_the_broker_name_and_answers_empty(
    sandbox: Sandbox, api: Api, clock: FakeClock
) -> None:
    clock.advance(5)
    response = api.post(
        CHANGE,
        {"traderLogin": SHOWCASE_LIVE, "brokerName": "sandbox_eu", "environmentName": "live"},
    )
    assert response.status_code == 200
    assert response.content == b""
    trader = sandbox.trader(SHOWCASE_LIVE)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_eu"
    assert trader["lastUpdateTimestamp"] == int(clock.now * 1000)
    assert sandbox.request_log[-1].applied
    assert api.get(f"/v2/webserv/traders/{SHOWCASE_LIVE}").json()["brokerName"] == "sandbox_eu"


def test_moving_to_the_same_white_label_changes_nothing(sandbox: Sandbox, api: Api) -> None:
    response = api.post(
        CHANGE,
        {"traderLogin": SHOWCASE_LIVE, "brokerName": "sandbox_main", "environmentName": "live"},
    )
    assert response.status_code == 200
    assert not sandbox.request_log[-1].applied


def test_ids_dialect_answers_the_link_id_when_linked(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = Dialect(change_wl_body="ids")
    linked = api.post(
        CHANGE,
        {"traderLogin": SHOWCASE_LIVE, "brokerName": "sandbox_eu", "environmentName": "live"},
    )
    link = sandbox.link(trader_login=SHOWCASE_LIVE)
    assert link is not None
    assert linked.json() == {"ctidTraderAccountId": link["ctid_trader_account_id"]}
    unlinked = api.post(
        CHANGE,
        {"traderLogin": SHOWCASE_UNLINKED, "brokerName": "sandbox_eu", "environmentName": "live"},
    )
    assert unlinked.status_code == 200
    assert unlinked.content == b""
    assert DIALECTS["variant"].change_wl_body == "ids"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"environmentName": "staging"}, (400, "ENVIRONMENT_NOT_FOUND")),
        ({"environmentName": "demo"}, (400, "TRADER_NOT_FOUND")),
        ({"traderLogin": 5_299_999}, (400, "TRADER_NOT_FOUND")),
        ({"brokerName": "sandbox_atlantis"}, (400, "CH_PLANT_INVALID")),
        ({"brokerName": "sandbox_offlimits"}, (403, "NOT_ENOUGH_RIGHTS")),
        ({"brokerName": None}, (400, "INVALID_REQUEST")),
        ({"traderLogin": 5200001.0}, (400, "INVALID_REQUEST")),
    ],
)
def test_change_errors(
    sandbox: Sandbox, api: Api, body: dict[str, object], expected: tuple[int, str]
) -> None:
    base = {"traderLogin": SHOWCASE_LIVE, "brokerName": "sandbox_eu", "environmentName": "live"}
    assert error_of(api.post(CHANGE, {**base, **body})) == expected
    trader = sandbox.trader(SHOWCASE_LIVE)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_main"


def test_rights_are_needed_on_both_source_and_target(api: Api, limited_api: Api) -> None:
    # The limited manager may touch sandbox_main only: not the target...
    to_eu = {"traderLogin": SHOWCASE_LIVE, "brokerName": "sandbox_eu", "environmentName": "live"}
    assert error_of(limited_api.post(CHANGE, to_eu)) == (403, "NOT_ENOUGH_RIGHTS")
    # ...nor, once it has moved there, the source.
    assert api.post(CHANGE, to_eu).status_code == 200
    back = {**to_eu, "brokerName": "sandbox_main"}
    assert error_of(limited_api.post(CHANGE, back)) == (403, "NOT_ENOUGH_RIGHTS")
    # And nobody in training may move an account out of sandbox_offlimits.
    out = {"traderLogin": OFFLIMITS_LIVE, "brokerName": "sandbox_main", "environmentName": "live"}
    assert error_of(api.post(CHANGE, out)) == (403, "NOT_ENOUGH_RIGHTS")
