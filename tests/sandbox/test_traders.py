"""GET /v2/webserv/traders/{login}, GET /v2/webserv/traders, GET /v2/webserv/tradergroups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sandbox_helpers import EU_LIVE, OFFLIMITS_LIVE, SHOWCASE_LIVE, Api, FakeClock, error_of

from ctrader_admin.sandbox import Sandbox, SandboxConfig

TRADER_FIELDS = {
    "login", "groupName", "depositCurrency", "brokerName", "name", "lastName", "description",
    "accessRights", "accountType", "balance", "bonus", "nonWithdrawableBonus", "equity",
    "usedMargin", "freeMargin", "cashEquity", "moneyDigits", "leverageInCents", "maxLeverage",
    "totalMarginCalculationType", "isLimitedRisk", "swapFree", "sendOwnStatement",
    "sendStatementToBroker", "registrationTimestamp", "lastUpdateTimestamp",
    "lastConnectionTimestamp", "contactDetails",
}  # fmt: skip
CONTACT_FIELDS = {
    "address", "city", "countryId", "email", "phone", "state", "zipCode",
    "introducingBroker1", "introducingBroker2",
}  # fmt: skip
EVERYTHING = {"from": "2000-01-01T00:00:00.000", "to": "2100-01-01T00:00:00.000"}


def _query_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def test_get_trader_is_a_full_trader_to(sandbox: Sandbox, api: Api) -> None:
    response = api.get(f"/v2/webserv/traders/{SHOWCASE_LIVE}")
    assert response.status_code == 200
    trader = response.json()
    assert set(trader) == TRADER_FIELDS
    assert set(trader["contactDetails"]) == CONTACT_FIELDS
    assert trader["login"] == SHOWCASE_LIVE
    assert trader["brokerName"] == "sandbox_main"
    assert (trader["name"], trader["lastName"]) == ("Emily", "Carter")
    assert trader["contactDetails"]["email"] == "emily.carter@example.com"
    assert trader["freeMargin"] == trader["equity"] - trader["usedMargin"]
    assert trader == sandbox.trader(SHOWCASE_LIVE)


def test_money_is_scaled_by_money_digits(sandbox: Sandbox, api: Api) -> None:
    digits_by_currency: dict[str, set[int]] = {}
    for login in sandbox.logins(broker_name="sandbox_main"):
        trader = api.get(f"/v2/webserv/traders/{login}").json()
        digits_by_currency.setdefault(trader["depositCurrency"], set()).add(trader["moneyDigits"])
        for field in ("balance", "equity", "usedMargin", "freeMargin", "cashEquity", "bonus"):
            assert isinstance(trader[field], int), field
    assert digits_by_currency.get("USD") == {2}
    assert digits_by_currency.get("JPY", {0}) == {0}
    assert digits_by_currency.get("BTC", {8}) == {8}


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("5299999", (400, "TRADER_NOT_FOUND")),
        ("emily", (400, "INVALID_REQUEST")),
        (str(OFFLIMITS_LIVE), (403, "NOT_ENOUGH_RIGHTS")),
    ],
)
def test_get_trader_errors(api: Api, login: str, expected: tuple[int, str]) -> None:
    assert error_of(api.get(f"/v2/webserv/traders/{login}")) == expected


def test_a_limited_manager_sees_only_its_white_label(limited_api: Api) -> None:
    assert limited_api.get(f"/v2/webserv/traders/{SHOWCASE_LIVE}").status_code == 200
    assert error_of(limited_api.get(f"/v2/webserv/traders/{EU_LIVE}")) == (
        403,
        "NOT_ENOUGH_RIGHTS",
    )


def test_listing_pages_newest_first_through_every_visible_account(clock: FakeClock) -> None:
    sandbox = Sandbox(SandboxConfig(users=60, clock=clock, traders_page_size=7))
    api = Api(sandbox)
    seen: list[dict[str, object]] = []
    params = dict(EVERYTHING)
    pages = 0
    while True:
        body = api.get("/v2/webserv/traders", params=params).json()
        pages += 1
        assert len(body["trader"]) <= 7
        seen += body["trader"]
        if not body["hasMore"]:
            break
        params["to"] = _query_date(min(t["registrationTimestamp"] for t in body["trader"]))
    stamps = [t["registrationTimestamp"] for t in seen]
    assert stamps == sorted(stamps, reverse=True)
    visible = sandbox.logins(broker_name="sandbox_main") + sandbox.logins(broker_name="sandbox_eu")
    assert sorted(t["login"] for t in seen) == sorted(visible)
    assert pages > 3
    assert all(set(t) == TRADER_FIELDS for t in seen)
    sandbox.close()


def test_listing_window_is_from_inclusive_to_exclusive(sandbox: Sandbox, api: Api) -> None:
    stamp = api.get(f"/v2/webserv/traders/{SHOWCASE_LIVE}").json()["registrationTimestamp"]
    exact = {"from": _query_date(stamp), "to": _query_date(stamp + 1)}
    listed = api.get("/v2/webserv/traders", params=exact).json()
    assert [t["login"] for t in listed["trader"]] == [SHOWCASE_LIVE]
    assert listed["hasMore"] is False
    before = {"from": _query_date(stamp - 1), "to": _query_date(stamp)}
    assert SHOWCASE_LIVE not in [
        t["login"] for t in api.get("/v2/webserv/traders", params=before).json()["trader"]
    ]


def test_listing_by_group(api: Api) -> None:
    groups = api.get("/v2/webserv/tradergroups").json()["traderGroup"]
    demo = next(g for g in groups if g["name"] == "Demo")
    listed = api.get("/v2/webserv/traders", params={**EVERYTHING, "groupId": demo["id"]}).json()
    assert listed["trader"]
    assert {t["groupName"] for t in listed["trader"]} == {"Demo"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({**EVERYTHING, "groupId": 999}, (400, "TRADER_GROUP_NOT_FOUND")),
        ({**EVERYTHING, "groupId": "demo"}, (400, "INVALID_REQUEST")),
        ({"to": EVERYTHING["to"]}, (400, "INVALID_REQUEST")),
        ({"from": EVERYTHING["from"]}, (400, "INVALID_REQUEST")),
        ({**EVERYTHING, "from": "2024-01-01"}, (400, "INVALID_REQUEST")),
        ({**EVERYTHING, "from": "2024-01-01T00:00:00Z"}, (400, "INVALID_REQUEST")),
        ({**EVERYTHING, "from": "2024-02-30T00:00:00.000"}, (400, "INVALID_REQUEST")),
    ],
)
def test_listing_errors(api: Api, params: dict[str, object], expected: tuple[int, str]) -> None:
    response = api.get("/v2/webserv/traders", params=params)
    assert error_of(response) == expected


def test_trader_groups(api: Api) -> None:
    groups = api.get("/v2/webserv/tradergroups").json()["traderGroup"]
    assert len(groups) >= 5
    for group in groups:
        assert set(group) == {"id", "name", "description"}
        assert isinstance(group["id"], int)
