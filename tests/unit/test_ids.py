"""The one parser of ids typed by people (ctrader_admin/ids.py): ASCII digits only, within the
API's int64 range, and a reason in an operator's words for everything else — never a traceback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrader_admin.ids import ID_MAX, NotAnId, parse_id

DIGITS = "must be a whole number made of the digits 0–9"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("  3100001\t", 3100001),  # pasted with the cell's whitespace
        ("3 100 001", 3100001),  # thousands separators, as spreadsheets and CRMs show them
        ("3,100,001", 3100001),
        ("3_100_001", 3100001),
        ("0003100001", 3100001),  # leading zeros do not count towards the length
        ("9223372036854775807", ID_MAX),
        ("", None),
        ("   ", None),
    ],
)
def test_accepted(text: str, value: int | None) -> None:
    assert parse_id(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("100000²", f"{DIGITS} (not '²', U+00B2)"),  # isdigit() says yes, int() raises
        ("١٠٠٠٠٠١", f"{DIGITS} (not '١', U+0661)"),  # Arabic-Indic: int() would read 1000001
        ("۱۲۳", f"{DIGITS} (not '۱', U+06F1)"),  # Extended Arabic-Indic (Persian)
        ("１０００００１", f"{DIGITS} (not '１', U+FF11)"),  # fullwidth: int() would read 1000001
        ("+1000001", f"{DIGITS} (not '+')"),
        ("1000001.0", f"{DIGITS} (not '.')"),
        ("1e6", f"{DIGITS} (not 'e')"),
        ("0x10", f"{DIGITS} (not 'x')"),
        # Only the listed separators are tolerated, not a no-break space.
        ("12\u00a0345", f"{DIGITS} (not '\\xa0', U+00A0)"),
        ("-5", "must be a positive number"),
        ("- 5", "must be a positive number"),
        ("0", "must be a positive number"),
        ("000", "must be a positive number"),
        ("-", f"{DIGITS} (not '-')"),
        ("1" * 20, "is too long: at most 19 digits"),
        ("7" * 5000, "is too long: at most 19 digits"),  # int() itself refuses > 4300 digits
        ("9223372036854775808", f"is too large: at most {ID_MAX}"),
        ("9999999999999999999", f"is too large: at most {ID_MAX}"),
    ],
)
def test_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(NotAnId) as caught:
        parse_id(text)
    assert caught.value.reason == reason


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_any_text_is_an_id_none_or_a_reason(text: str) -> None:
    try:
        value = parse_id(text)
    except NotAnId as exc:
        reason = exc.reason
        assert reason.startswith(("must be", "is too"))
        return
    if value is not None:
        assert 0 < value <= ID_MAX
        # Only ASCII digits (and the tolerated separators) made it through.
        assert set(text.strip()) <= set("0123456789 ,_")


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=1, max_value=ID_MAX))
def test_every_id_reads_back(value: int) -> None:
    assert parse_id(str(value)) == value
    assert parse_id(f" {value:,} ") == value
