"""POST /cid/ctid/create: get-or-create a cTID user by e-mail."""

from __future__ import annotations

import pytest
from sandbox_helpers import Api, FakeClock, error_of

from ctrader_admin.sandbox import Sandbox

CREATE = "/cid/ctid/create"


def test_a_new_email_creates_a_user_with_the_full_answer(
    sandbox: Sandbox, api: Api, clock: FakeClock
) -> None:
    response = api.post(
        CREATE,
        {"email": "New.Trader@Example.com", "brokerName": "sandbox_eu", "preferredLanguage": "DE"},
    )
    assert response.status_code == 200
    body = response.json()
    user_id = body["userId"]
    assert body == {
        "userId": user_id,
        "nickname": f"ctid{user_id}",
        "email": "New.Trader@Example.com",
        "preferredLanguage": "DE",  # as given
        "utcCreateTimestamp": int(clock.now * 1000),
        "status": "CTID_NEW",
    }
    stored = sandbox.user(user_id)
    assert stored is not None
    assert stored["broker_name"] == "sandbox_eu"
    assert sandbox.request_log[-1].applied


def test_defaults_are_the_managers_first_white_label_and_english(
    sandbox: Sandbox, api: Api
) -> None:
    body = api.post(CREATE, {"email": "plain@example.org"}).json()
    assert body["preferredLanguage"] == "en"
    stored = sandbox.user(body["userId"])
    assert stored is not None
    assert stored["broker_name"] == "sandbox_main"


def test_user_ids_are_fresh(api: Api) -> None:
    first = api.post(CREATE, {"email": "one@example.org"}).json()["userId"]
    second = api.post(CREATE, {"email": "two@example.org"}).json()["userId"]
    assert second == first + 1


def test_a_known_email_answers_only_its_user_id_whatever_the_case(
    sandbox: Sandbox, api: Api
) -> None:
    created = api.post(CREATE, {"email": "twice@example.com"}).json()["userId"]
    again = api.post(CREATE, {"email": "TWICE@example.COM", "preferredLanguage": "fr"})
    assert again.status_code == 200
    assert again.json() == {"userId": created}
    assert not sandbox.request_log[-1].applied
    seeded = api.post(CREATE, {"email": "emily.carter@example.com"})
    assert seeded.json() == {"userId": 1000001}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": 42}, "email"),
        ({"email": "no-at-sign.example.com"}, "email"),
        ({"email": "two@@example.com"}, "email"),
        ({"email": "nodomain@localhost"}, "email"),
        ({"email": "a" * 243 + "@example.com"}, "email"),  # 255 characters
        ({"email": "x@example.com", "preferredLanguage": "xx"}, "preferredLanguage"),
        ({"email": "x@example.com", "preferredLanguage": "eng"}, "preferredLanguage"),
        ({"email": "x@example.com", "preferredLanguage": 7}, "preferredLanguage"),
        ({"email": "x@example.com", "brokerName": ["sandbox_main"]}, "brokerName"),
    ],
)
def test_invalid_fields_are_named(api: Api, body: dict[str, object], field: str) -> None:
    response = api.post(CREATE, body)
    assert error_of(response) == (400, "INVALID_REQUEST")
    assert field in response.json()["error"]["description"]


def test_the_longest_valid_email_and_every_iso_639_1_code_are_accepted(api: Api) -> None:
    longest = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
    assert len(longest) == 254
    assert api.post(CREATE, {"email": longest}).status_code == 200
    for code in ("aa", "BH", "zu", "Yo"):
        response = api.post(
            CREATE, {"email": f"lang-{code}@example.com", "preferredLanguage": code}
        )
        assert response.status_code == 200, code


def test_unknown_keys_are_ignored(api: Api) -> None:
    response = api.post(CREATE, {"email": "extra@example.com", "firstName": "Ann", "x": [1]})
    assert response.status_code == 200


def test_unknown_broker_name_is_ch_plant_invalid(api: Api) -> None:
    response = api.post(CREATE, {"email": "x@example.com", "brokerName": "sandbox_nowhere"})
    assert error_of(response) == (400, "CH_PLANT_INVALID")


def test_white_labels_out_of_reach_are_not_enough_rights(api: Api, limited_api: Api) -> None:
    offlimits = api.post(CREATE, {"email": "x@example.com", "brokerName": "sandbox_offlimits"})
    assert error_of(offlimits) == (403, "NOT_ENOUGH_RIGHTS")
    eu = limited_api.post(CREATE, {"email": "x@example.com", "brokerName": "sandbox_eu"})
    assert error_of(eu) == (403, "NOT_ENOUGH_RIGHTS")


@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b'{"email": "x@example.com"', "application/json", "not valid JSON"),
        (b'["x@example.com"]', "application/json", "JSON object"),
        (b"", "application/json", "required"),
        (b'{"email": "x@example.com"}', "text/plain", "Content-Type"),
        (b"<email>x@example.com</email>", "application/xml", "Content-Type"),
    ],
)
def test_cid_accepts_json_objects_only(
    api: Api, content: bytes, content_type: str, problem: str
) -> None:
    response = api.request("POST", CREATE, content=content, headers={"Content-Type": content_type})
    assert error_of(response) == (400, "INVALID_REQUEST")
    assert problem in response.json()["error"]["description"]


def test_json_with_a_charset_parameter_is_json(api: Api) -> None:
    response = api.request(
        "POST",
        CREATE,
        content=b'{"email": "charset@example.com"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
