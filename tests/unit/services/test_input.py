"""Input typed by operators: what the lookup box understands, and messages for bad fields."""

from __future__ import annotations

import pytest

from ctrader_admin.api import CreateCtidRequest, LinkAccountRequest
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.lookup import Kind, parse_query
from ctrader_admin.services.validation import build, parse_int


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("jane.doe@example.com", Kind.EMAIL, None),
        ("  1000001 ", None, 1000001),
        ("1 000 001", None, 1000001),
        ("user:1000001", Kind.USER, 1000001),
        ("login 3100001", Kind.LOGIN, 3100001),
        ("ctid:9000002", Kind.CTID, 9000002),
        ("CTID=9000002", Kind.CTID, 9000002),
        ("partner:IB-1042", Kind.PARTNER, None),
        ("IB-1042", Kind.PARTNER, None),  # matches no other kind: a partner code
        ("abc", Kind.PARTNER, None),
    ],
)
def test_the_lookup_box_understands(text: str, kind: Kind | None, number: int | None) -> None:
    query = parse_query(text)
    assert query.kind is kind
    assert query.number == number


@pytest.mark.parametrize(
    "text",
    [
        *("", "   ", "-5", "0", "login:x", "12.5", "IB 1042"),
        # Numerals that str.isdigit() accepts and int() refuses or misreads, and oversized ids.
        *("100000²", "user:100000²", "١٠٠٠٠٠١", "login:１０００００１", "+1000001"),
        *("1" * 5000, "ctid:" + "9" * 5000, "9223372036854775808"),
    ],
)
def test_the_lookup_box_rejects_with_a_message(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query(text)
    assert caught.value.problems


def test_bad_fields_are_named_as_the_form_names_them() -> None:
    with pytest.raises(InvalidInput) as caught:
        build(CreateCtidRequest, email="not-an-email", preferred_language="xx")
    assert caught.value.problems == {
        "Email": "is not a valid email address",
        "Language": "must be a two-letter ISO 639-1 language code, e.g. en, de, es",
    }
    assert str(caught.value).startswith("Please correct: Email: is not a valid email address")


def test_missing_and_non_positive_ids() -> None:
    with pytest.raises(InvalidInput) as caught:
        build(
            LinkAccountRequest,
            trader_login=0,
            trader_password_hash="0" * 32,
            user_id=5,
            broker_name="  ",
            environment_name="demo",
        )
    assert caught.value.problems["Login"] == "must be a positive number"
    assert caught.value.problems["White Label"] == "must not be empty"


@pytest.mark.parametrize(("text", "value"), [("42", 42), (" 3,100,001 ", 3100001), (7, 7)])
def test_parse_int_accepts_what_operators_paste(text: str | int, value: int) -> None:
    assert parse_int("Login", text) == value


def test_parse_int_optional_and_required() -> None:
    assert parse_int("Login", "", required=False) is None
    with pytest.raises(InvalidInput, match="Login: is required"):
        parse_int("Login", " ")
    with pytest.raises(InvalidInput, match="Login: must be a whole number"):
        parse_int("Login", "12a")


@pytest.mark.parametrize(
    ("value", "message"),
    [(0, "must be a positive number"), (-3, "must be a positive number"), (2**63, "is too large")],
)
def test_parse_int_checks_the_range_of_numbers_given_as_numbers(value: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"Login: {message}"):
        parse_int("Login", value)
