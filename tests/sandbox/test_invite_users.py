"""GET /v1/users: the cTrader Invite user list (Bearer token)."""

from __future__ import annotations

import pytest
from sandbox_helpers import LIMITED_TOKEN, MAIN_TOKEN, Api, error_of

from ctrader_admin.sandbox import DIALECTS, Sandbox

USERS = "/v1/users"


def _users(api: Api, token: str = MAIN_TOKEN, **params: object) -> list[dict[str, object]]:
    response = api.get(USERS, params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    users: list[dict[str, object]] = response.json()["users"]
    return users


def test_users_are_listed_oldest_first(api: Api) -> None:
    users = _users(api, limit=1000)
    assert users[0] == {
        "userId": 1000001,
        "email": "emily.carter@example.com",
        "brokerName": "sandbox_main",
        "utcCreateTimestamp": users[0]["utcCreateTimestamp"],
    }
    keys = [(u["utcCreateTimestamp"], u["userId"]) for u in users]
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert {u["brokerName"] for u in users} == {"sandbox_main", "sandbox_eu"}


def test_default_limit_and_paging_with_skip(sandbox: Sandbox, api: Api) -> None:
    everyone = _users(api, limit=1000)
    assert len(_users(api)) == min(100, len(everyone))
    pages = [_users(api, limit=7, skip=skip) for skip in range(0, len(everyone), 7)]
    assert [u for page in pages for u in page] == everyone


def test_created_from_is_inclusive(api: Api) -> None:
    everyone = _users(api, limit=1000)
    pivot = everyone[10]
    later = _users(api, limit=1000, createdFrom=pivot["utcCreateTimestamp"])
    assert later[0] == pivot
    assert later == everyone[10:]


def test_a_new_user_appears_last(api: Api) -> None:
    created = api.post("/cid/ctid/create", {"email": "fresh@example.com"}).json()["userId"]
    assert _users(api, limit=1000)[-1]["userId"] == created


def test_a_limited_manager_lists_its_white_label_only(api: Api) -> None:
    assert {u["brokerName"] for u in _users(api, LIMITED_TOKEN, limit=1000)} == {"sandbox_main"}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"skip": -1}, {"limit": "x"}])
def test_bad_paging_is_invalid(api: Api, params: dict[str, object]) -> None:
    response = api.get(USERS, params=params, headers={"Authorization": f"Bearer {MAIN_TOKEN}"})
    assert error_of(response) == (400, "INVALID_REQUEST")


def test_invite_disabled_is_404(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = DIALECTS["variant"]
    response = api.get(USERS, headers={"Authorization": f"Bearer {MAIN_TOKEN}"})
    assert response.status_code == 404
    assert "Invite is not enabled" in response.json()["message"]
