"""GET /v1/users: the cTrader Invite user list (Bearer token). Paging: test_invited_users.py."""

from __future__ import annotations

from sandbox_helpers import LIMITED_TOKEN, MAIN_TOKEN, Api

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


def test_a_new_user_appears_last(api: Api) -> None:
    created = api.post("/cid/ctid/create", {"email": "fresh@example.com"}).json()["userId"]
    assert _users(api, limit=1000)[-1]["userId"] == created


def test_a_limited_manager_lists_its_white_label_only(api: Api) -> None:
    assert {u["brokerName"] for u in _users(api, LIMITED_TOKEN, limit=1000)} == {"sandbox_main"}


def test_invite_disabled_is_404(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = DIALECTS["variant"]
    response = api.get(USERS, headers={"Authorization": f"Bearer {MAIN_TOKEN}"})
    assert response.status_code == 404
    assert "Invite is not enabled" in response.json()["message"]
