"""Which rows of a job to act on (a revert of some rows): ``1,3,5-9`` (the job's row numbers)
and targets such as ``user:1000001`` — one reading for the Jobs tab and the CLI's ``--rows``."""

from __future__ import annotations

from collections.abc import Sequence

from ctrader_admin.services.errors import InvalidInput


def parse_row_choice(text: str) -> list[int | str]:
    """The rows ``text`` names, in its order; InvalidInput (field "Rows") for a part that is
    neither a number, a range nor a target. Empty text names no row (an empty list)."""
    chosen: list[int | str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if ":" in part:
            chosen.append(part)
            continue
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise InvalidInput(
                {"Rows": f"{part!r} is neither a row number, a range nor a target"}
            ) from None
        if low < 1 or high < low:
            raise InvalidInput({"Rows": f"{part!r} is not a valid range"})
        chosen.extend(range(low, high + 1))
    return chosen


def rows_text(numbers: Sequence[int]) -> str:
    """Row numbers as ranges: 1,3,5-9 (what ``parse_row_choice`` reads back)."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    index = 0
    while index < len(ordered):
        first = last = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == last + 1:
            index += 1
            last = ordered[index]
        parts.append(str(first) if first == last else f"{first}-{last}")
        index += 1
    return ",".join(parts)
