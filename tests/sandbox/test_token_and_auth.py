"""POST /v2/webserv/managers/token and how every other endpoint checks the token."""

from __future__ import annotations

import pytest
from sandbox_helpers import LIMITED_TOKEN, MAIN_TOKEN, SHOWCASE_LIVE, Api, error_of

from ctrader_admin.sandbox import (
    DIALECTS,
    TRAINING_MANAGERS,
    Faults,
    Sandbox,
    TrainingManager,
    md5_hex,
)

TOKEN_PATH = "/v2/webserv/managers/token"


def _credentials(login: int, password: str) -> dict[str, object]:
    return {"login": login, "hashedPassword": md5_hex(password)}


@pytest.mark.parametrize("manager", TRAINING_MANAGERS, ids=lambda m: str(m.login))
def test_training_credentials_give_the_seeded_token_every_time(
    api: Api, manager: TrainingManager
) -> None:
    for _ in range(2):
        response = api.as_token(None).post(
            TOKEN_PATH, _credentials(manager.login, manager.password)
        )
        assert response.status_code == 200
        assert response.json() == {"webservToken": manager.token}


@pytest.mark.parametrize(
    "body",
    [
        _credentials(30001, "wrong password"),
        _credentials(39999, "sandbox-manager"),
        _credentials(30002, "sandbox-manager"),
    ],
    ids=["wrong-password", "unknown-login", "other-managers-password"],
)
def test_wrong_credentials_are_an_auth_failure(api: Api, body: dict[str, object]) -> None:
    response = api.as_token(None).post(TOKEN_PATH, body)
    assert error_of(response) == (401, "CH_CLIENT_AUTH_FAILURE")
    assert response.json()["error"]["description"] == "Invalid manager login or password"


def test_wrong_credentials_answer_403_in_the_variant_dialect(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = DIALECTS["variant"]
    response = api.as_token(None).post(TOKEN_PATH, _credentials(30001, "nope"))
    assert response.status_code == 403
    assert response.json()["code"] == "CH_CLIENT_AUTH_FAILURE"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hashedPassword": md5_hex("x")}, "login"),
        ({"login": "30001", "hashedPassword": md5_hex("x")}, "login"),
        ({"login": True, "hashedPassword": md5_hex("x")}, "login"),
        ({"login": 30001}, "hashedPassword"),
        ({"login": 30001, "hashedPassword": "sandbox-manager"}, "hashedPassword"),
        ({"login": 30001, "hashedPassword": md5_hex("sandbox-manager").upper()}, "hashedPassword"),
    ],
)
def test_malformed_token_requests_name_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    response = api.as_token(None).post(TOKEN_PATH, body)
    assert error_of(response) == (400, "INVALID_REQUEST")
    assert field in response.json()["error"]["description"]


def test_invalidated_token_stops_working_and_a_new_one_is_issued(
    sandbox: Sandbox, api: Api
) -> None:
    trader_path = f"/v2/webserv/traders/{SHOWCASE_LIVE}"
    sandbox.invalidate_token(30001)
    assert error_of(api.get(trader_path)) == (401, "CH_CLIENT_AUTH_FAILURE")

    credentials = _credentials(30001, "sandbox-manager")
    fresh = api.as_token(None).post(TOKEN_PATH, credentials).json()["webservToken"]
    assert fresh != MAIN_TOKEN
    assert api.as_token(None).post(TOKEN_PATH, credentials).json()["webservToken"] == fresh
    assert api.as_token(fresh).get(trader_path).status_code == 200
    assert api.get(trader_path).status_code == 401  # the old one stays dead
    assert sandbox.request_log[-4].applied  # issuing a new token changed state


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_missing_or_unknown_query_token(api: Api, token: str | None) -> None:
    response = api.as_token(None).get(
        f"/v2/webserv/traders/{SHOWCASE_LIVE}", params={} if token is None else {"token": token}
    )
    assert error_of(response) == (401, "CH_CLIENT_AUTH_FAILURE")
    assert response.json()["error"]["description"] == "Token is missing or invalid"


@pytest.mark.parametrize(
    "path",
    ["/cid/ctid/create", "/cid/oauth2/ctid/referral", "/v2/webserv/tradergroups"],
)
def test_every_cid_and_v2_endpoint_wants_the_token(api: Api, path: str) -> None:
    method = "POST" if path.endswith("create") else "GET"
    response = api.as_token(None).request(method, path, json={"email": "a@example.com"})
    assert error_of(response) == (401, "CH_CLIENT_AUTH_FAILURE")


def test_v1_takes_a_bearer_header_not_a_query_token(api: Api) -> None:
    bearer = {"Authorization": f"Bearer {LIMITED_TOKEN}"}
    assert api.as_token(None).get("/v1/users", headers=bearer).status_code == 200
    by_query = api.as_token(None).get("/v1/users", params={"token": MAIN_TOKEN})
    assert error_of(by_query) == (401, "CH_CLIENT_AUTH_FAILURE")
    basic = api.as_token(None).get("/v1/users", headers={"Authorization": f"Basic {MAIN_TOKEN}"})
    assert error_of(basic) == (401, "CH_CLIENT_AUTH_FAILURE")


def test_token_endpoint_is_never_rate_limited_nor_faulted(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.write_cap_per_hour = 0
    sandbox.config.faults = Faults(error_rate=1.0)
    for _ in range(3):
        response = api.as_token(None).post(TOKEN_PATH, _credentials(30001, "sandbox-manager"))
        assert response.status_code == 200
    assert all(entry.fault is None for entry in sandbox.request_log)
