"""GET /v1/social/invitedUsers: cTrader Invite attributions (Bearer token), and new ones added
over time through POST /_sandbox/invitations."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import LIMITED_TOKEN, MAIN_TOKEN, SHOWCASE_USER, Api, FakeClock, error_of

from ctrader_admin.sandbox import DIALECTS, Dialect, Sandbox

INVITED = "/v1/social/invitedUsers"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _invited(api: Api, token: str = MAIN_TOKEN, **params: object) -> list[dict[str, Any]]:
    response = api.get(INVITED, params=params, headers=_bearer(token))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["invitedUsers"]
    return rows


def test_rows_carry_the_documented_fields_oldest_first(api: Api) -> None:
    rows = _invited(api, limit=1000)
    assert len(rows) >= 30
    keys = [r["createTimestamp"] for r in rows]
    assert keys == sorted(keys)
    for row in rows:
        assert set(row) <= {
            "invitedUserId",
            "partnerUserId",
            "brokerPartnerId",
            "brokerName",
            "createTimestamp",
        }
        assert {"invitedUserId", "partnerUserId", "brokerName", "createTimestamp"} <= set(row)
    # brokerPartnerId is sent "if known": both kinds of row exist.
    assert any("brokerPartnerId" in r for r in rows)
    assert any("brokerPartnerId" not in r for r in rows)


# Both Invite reads page the same way: (path, list key, timestamp key).
PAGED = pytest.mark.parametrize(
    ("path", "key", "stamp"),
    [(INVITED, "invitedUsers", "createTimestamp"), ("/v1/users", "users", "utcCreateTimestamp")],
    ids=["invitedUsers", "users"],
)


def _page(api: Api, path: str, key: str, **params: object) -> list[dict[str, Any]]:
    response = api.get(path, params=params, headers=_bearer(MAIN_TOKEN))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()[key]
    return rows


@PAGED
def test_default_limit_and_paging_with_skip(api: Api, path: str, key: str, stamp: str) -> None:
    everyone = _page(api, path, key, limit=1000)
    assert len(everyone) > 30
    assert len(_page(api, path, key)) == min(100, len(everyone))
    pages = [_page(api, path, key, limit=7, skip=skip) for skip in range(0, len(everyone), 7)]
    assert [row for page in pages for row in page] == everyone


@PAGED
def test_created_from_is_an_inclusive_lower_bound(
    api: Api, path: str, key: str, stamp: str
) -> None:
    everyone = _page(api, path, key, limit=1000)
    pivot = everyone[10]
    later = _page(api, path, key, limit=1000, createdFrom=pivot[stamp])
    assert later == [r for r in everyone if r[stamp] >= pivot[stamp]]
    assert later[0] == pivot


@PAGED
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"skip": -1}, {"limit": "x"}])
def test_bad_paging_is_invalid(
    api: Api, path: str, key: str, stamp: str, params: dict[str, object]
) -> None:
    response = api.get(path, params=params, headers=_bearer(MAIN_TOKEN))
    assert error_of(response) == (400, "INVALID_REQUEST")


def test_a_limited_manager_sees_its_white_label_only(api: Api) -> None:
    assert {r["brokerName"] for r in _invited(api, limit=1000)} <= {"sandbox_main", "sandbox_eu"}
    limited = _invited(api, LIMITED_TOKEN, limit=1000)
    assert limited
    assert {r["brokerName"] for r in limited} == {"sandbox_main"}


def test_the_bearer_token_is_required(sandbox: Sandbox, api: Api) -> None:
    # The query-string token that /v2 and /cid use does not count here.
    assert api.get(INVITED, params={"token": MAIN_TOKEN}).status_code == 401
    assert api.get(INVITED, headers=_bearer("not-a-token")).status_code == 401
    sandbox.config.dialect = Dialect(auth_failure_status=403)
    assert api.get(INVITED, headers={"Authorization": MAIN_TOKEN}).status_code == 403


def test_errors_come_in_each_dialect(sandbox: Sandbox, api: Api) -> None:
    assert api.get(INVITED, params={"limit": 0}, headers=_bearer(MAIN_TOKEN)).json() == {
        "error": {
            "errorCode": "INVALID_REQUEST",
            "description": "query parameter 'limit' must be within 1..1000",
        }
    }
    sandbox.config.dialect = Dialect(error_shape="flat")
    flat = api.get(INVITED, params={"limit": 0}, headers=_bearer(MAIN_TOKEN)).json()
    assert flat["code"] == "INVALID_REQUEST"
    assert flat["error"] == "Bad Request"


def test_invite_disabled_answers_404_on_every_v1_read(sandbox: Sandbox, api: Api) -> None:
    control = api.as_token(None)
    knobs = control.post("/_sandbox/knobs", {"invite_enabled": False}).json()
    assert knobs["invite_enabled"] is False
    for path in (INVITED, "/v1/users"):
        response = api.get(path, headers=_bearer(MAIN_TOKEN))
        assert error_of(response) == (404, "NOT_FOUND")
        assert "Invite is not enabled" in response.json()["error"]["description"]
    # The other reads are untouched, and the switch turns back.
    assert api.get("/v2/webserv/tradergroups").status_code == 200
    control.post("/_sandbox/knobs", {"invite_enabled": True})
    assert _invited(api, limit=1)
    # The "variant" dialect speaks without Invite; the switch can give it back.
    control.post("/_sandbox/knobs", {"dialect": "variant", "invite_enabled": True})
    assert sandbox.config.dialect == Dialect(
        **{**vars(DIALECTS["variant"]), "invite_enabled": True}
    )
    assert _invited(api, limit=1)


def test_new_invitations_come_after_everything_seen(
    sandbox: Sandbox, api: Api, clock: FakeClock
) -> None:
    seen = _invited(api, limit=1000)
    last = seen[-1]["createTimestamp"]
    control = api.as_token(None)
    added = control.post("/_sandbox/invitations", {"count": 5, "partnerUserId": SHOWCASE_USER})
    assert added.status_code == 201
    summary = added.json()
    assert summary["added"] == 5
    new_rows = summary["invitedUsers"]
    assert all(r["partnerUserId"] == SHOWCASE_USER for r in new_rows)
    assert all(r["brokerPartnerId"] == "IB-1042" for r in new_rows)
    # Each new row is a new user (an Invite signup), listed by /v1/users too.
    users = api.get("/v1/users", params={"limit": 1000}, headers=_bearer(MAIN_TOKEN)).json()
    assert {u["userId"] for u in users["users"]} >= {r["invitedUserId"] for r in new_rows}

    # An incremental pull: from the last timestamp seen, only that row again, then the new ones.
    sandbox.clear_log()
    since = _invited(api, limit=1000, createdFrom=last)
    assert since == [seen[-1], *new_rows]
    (entry,) = sandbox.request_log
    assert (entry.path, entry.query) == (INVITED, {"limit": "1000", "createdFrom": str(last)})
    assert MAIN_TOKEN not in repr(entry)  # the Bearer header is never logged

    # Later, by the partners in turn, stamped after the rows already there even if the clock
    # has not moved.
    more = control.post("/_sandbox/invitations", {"count": 3}).json()["invitedUsers"]
    assert more[0]["createTimestamp"] > new_rows[-1]["createTimestamp"]
    assert len({r["partnerUserId"] for r in more}) == 3
    clock.advance(3600)
    later = sandbox.add_invitations(1)
    assert later[0]["createTimestamp"] == int(clock.now * 1000)
    assert _invited(api, limit=1000, createdFrom=new_rows[-1]["createTimestamp"] + 1) == [
        *more,
        *later,
    ]


def test_explicit_invitations_between_existing_users(sandbox: Sandbox, api: Api) -> None:
    control = api.as_token(None)
    body = {"invitations": [{"invitedUserId": 1000004, "partnerUserId": 1000002}]}
    row = control.post("/_sandbox/invitations", body).json()["invitedUsers"][0]
    assert row == {
        "invitedUserId": 1000004,
        "partnerUserId": 1000002,
        "brokerPartnerId": "AFF-EU-318",
        "brokerName": "sandbox_main",
        "createTimestamp": row["createTimestamp"],
    }
    assert _invited(api, limit=1000)[-1] == row


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"count": 2, "invitations": []},
        {"count": -1},
        {"count": "5"},
        {"count": 1, "partnerUserId": 999},
        {"invitations": [{"invitedUserId": 999, "partnerUserId": 1000001}]},
        {"invitations": [{"invitedUserId": 1000004}]},
        {"colour": "red"},
        [1, 2],
    ],
)
def test_bad_invitation_requests_add_nothing(api: Api, body: object) -> None:
    before = _invited(api, limit=1000)
    response = api.as_token(None).post("/_sandbox/invitations", body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert _invited(api, limit=1000) == before
