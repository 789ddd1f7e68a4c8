"""Read a bulk CSV: partnerId operations or White Label transfers, with or without a header.

Partner rows:  level (user|account), userId, ctidTraderAccountId, partnerId (empty = delete)
WL transfers:  login, environment, brokerName (the target White Label)

Every line becomes one row; a line that cannot be understood keeps its cells and says why, so
the operator sees it in the plan (nothing is ever sent for it). Only a file that is not a bulk
CSV at all (empty, unknown columns, undecidable format) is refused as a whole.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from ctrader_admin.services.bulk.calls import change_of
from ctrader_admin.services.bulk.model import Level, Op, PlanKind
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.validation import one_line, parse_int
from ctrader_admin.services.writes import target_key, validate_partner_id
from ctrader_admin.store.profiles import Profile

_PARTNER_COLUMNS: dict[str, str] = {
    "level": "level",
    "userid": "user_id",
    "ctiduserid": "user_id",
    "ctidtraderaccountid": "ctid",
    "ctid": "ctid",
    "partnerid": "partner_id",
    "partner": "partner_id",
    "newpartnerid": "partner_id",
}
_WL_COLUMNS: dict[str, str] = {
    "login": "login",
    "traderlogin": "login",
    "environment": "environment",
    "environmentname": "environment",
    "env": "environment",
    "brokername": "broker_name",
    "targetbrokername": "broker_name",
    "whitelabel": "broker_name",
    "targetwhitelabel": "broker_name",
}
_PARTNER_ORDER = ("level", "user_id", "ctid", "partner_id")
_WL_ORDER = ("login", "environment", "broker_name")
_MAX_NAME = 100
# The most rows one plan takes (a bigger file is refused before it is read to the end): see
# _too_many_rows for why, and benchmarks/plan_memory.py for the memory it costs.
MAX_PLAN_ROWS = 100_000
DEFAULT_BUDGET: int = Profile.model_fields["write_budget_per_hour"].default  # writes an hour


@dataclass(frozen=True, slots=True)
class InputRow:
    """One data line. ``problem`` is set when the line cannot be used as it is."""

    line: int
    cells: list[str]
    op: Op | None = None
    level: Level | None = None
    user_id: int | None = None
    ctid: int | None = None
    login: int | None = None
    environment: str | None = None
    proposed: str | None = None
    problem: str | None = None
    # Revert rows: the entry undone, and the value the batch left (the target must still have
    # it, or someone changed it since and the revert would overwrite their change).
    reverts_id: int | None = None
    expected: str | None = None
    check_expected: bool = False

    @property
    def target(self) -> str:
        """The journal's name for what the row changes ("" while the row is unusable)."""
        if self.problem is not None:
            return ""
        return target_key(change_of(self).target)


@dataclass(frozen=True)
class ParsedCsv:
    kind: PlanKind
    rows: list[InputRow] = field(default_factory=list)


def parse_csv(text: str) -> ParsedCsv:
    """Parse the whole file; raises InvalidInput only when it is not a bulk CSV at all."""
    text = text.removeprefix("\ufeff")
    records = _records(text)
    if not records:
        raise InvalidInput({"File": "has no rows"})
    first_line, first = records[0]
    columns = _header(first)
    if columns is not None:
        kind, order = columns
        records = records[1:]
    else:
        kind, order = _guess_kind(first, first_line)
    if len(records) > MAX_PLAN_ROWS:
        raise _too_many_rows()
    parse = _partner_row if kind == "partner" else _wl_row
    rows = [parse(line, cells, order) for line, cells in records]
    if not rows:
        raise InvalidInput({"File": "has a header but no rows"})
    return ParsedCsv(kind, rows)


def _too_many_rows() -> InvalidInput:
    return InvalidInput(
        {
            "File": f"has more than {MAX_PLAN_ROWS:,} rows, the most one plan takes. Split it "
            f"into files of at most {MAX_PLAN_ROWS:,} rows. Why: planning reads every row's "
            "current value and keeps the whole plan in memory to show and seal it (about 4 KB "
            f"a row: {MAX_PLAN_ROWS:,} rows need some 400 MB), and at the default budget of "
            f"{DEFAULT_BUDGET} writes an hour {MAX_PLAN_ROWS:,} writes already take "
            f"{MAX_PLAN_ROWS // DEFAULT_BUDGET // 24} days to apply."
        }
    )


def _records(text: str) -> list[tuple[int, list[str]]]:
    """The non-empty, non-comment lines with their cells stripped; stops reading (InvalidInput)
    as soon as the file has more rows than a plan takes, before they cost memory."""
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect, strict=True)
    out: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
                continue
            if len(out) > MAX_PLAN_ROWS:  # the first record may be the header
                raise _too_many_rows()
            out.append((reader.line_num, [cell.strip() for cell in cells]))
    except csv.Error as exc:
        raise InvalidInput(
            {"File": f"is not valid CSV near line {reader.line_num}: {exc}"}
        ) from None
    return out


def _normal(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _header(cells: list[str]) -> tuple[PlanKind, list[str | None]] | None:
    """The kind and column order when ``cells`` is a header line, else None."""
    names = [_normal(cell) for cell in cells]
    partner = [_PARTNER_COLUMNS.get(name) for name in names]
    wl = [_WL_COLUMNS.get(name) for name in names]
    if not any(partner) and not any(wl):
        return None
    if any(partner) and any(wl):
        raise InvalidInput(
            {"Header": "mixes partnerId columns and White Label transfer columns; use two files"}
        )
    kind: PlanKind = "partner" if any(partner) else "white_label"
    order = partner if kind == "partner" else wl
    wanted = _PARTNER_ORDER if kind == "partner" else _WL_ORDER
    required = ("level", "partner_id") if kind == "partner" else wanted
    missing = [name for name in required if name not in order]
    if kind == "partner" and "user_id" not in order and "ctid" not in order:
        missing.append("userId or ctidTraderAccountId")
    if missing:
        raise InvalidInput({"Header": "lacks the column(s) " + ", ".join(missing)})
    doubled = {name for name in order if name is not None and order.count(name) > 1}
    if doubled:
        raise InvalidInput({"Header": "names a column twice: " + ", ".join(sorted(doubled))})
    return kind, order


def _guess_kind(cells: list[str], line: int) -> tuple[PlanKind, list[str | None]]:
    """No header: partner rows start with their level, WL transfers with a login."""
    head = cells[0].strip().lower()
    if head in ("user", "account"):
        return "partner", list(_PARTNER_ORDER)
    if head.isdigit() and len(cells) == len(_WL_ORDER):
        return "white_label", list(_WL_ORDER)
    raise InvalidInput(
        {
            "File": f"line {line} is neither a header nor a row: partnerId rows start with "
            "'user' or 'account', White Label transfers are 'login,environment,brokerName'"
        }
    )


def _cells_by_name(cells: list[str], order: list[str | None]) -> dict[str, str] | str:
    if len(cells) > len(order) and any(cells[len(order) :]):
        return f"has {len(cells)} cells, expected {len(order)}"
    values: dict[str, str] = {}
    for index, name in enumerate(order):
        if name is not None:
            values[name] = cells[index] if index < len(cells) else ""
    return values


def _partner_row(line: int, cells: list[str], order: list[str | None]) -> InputRow:
    values = _cells_by_name(cells, order)
    if isinstance(values, str):
        return InputRow(line, cells, problem=values)
    level_text = values.get("level", "").lower()
    if level_text not in ("user", "account"):
        return InputRow(line, cells, problem="level must be 'user' or 'account'")
    level: Level = "user" if level_text == "user" else "account"
    partner_text = values.get("partner_id", "")
    try:
        user_id = parse_int("userId", values.get("user_id", ""), required=level == "user")
        ctid = parse_int("ctidTraderAccountId", values.get("ctid", ""), required=level == "account")
        proposed = validate_partner_id(partner_text) if partner_text else None
    except InvalidInput as exc:
        return InputRow(line, cells, level=level, problem=one_line(exc))
    if level == "user" and ctid is not None:
        return InputRow(
            line, cells, level=level, problem="a user-level row takes no ctidTraderAccountId"
        )
    return InputRow(
        line,
        cells,
        op="set_partner" if proposed is not None else "delete_partner",
        level=level,
        user_id=user_id,
        ctid=ctid,
        proposed=proposed,
    )


def _wl_row(line: int, cells: list[str], order: list[str | None]) -> InputRow:
    values = _cells_by_name(cells, order)
    if isinstance(values, str):
        return InputRow(line, cells, problem=values)
    try:
        login = parse_int("login", values.get("login", ""))
    except InvalidInput as exc:
        return InputRow(line, cells, problem=one_line(exc))
    environment = values.get("environment", "")
    broker_name = values.get("broker_name", "")
    for label, value in (("environment", environment), ("brokerName", broker_name)):
        if not value:
            return InputRow(line, cells, login=login, problem=f"{label}: is required")
        if len(value) > _MAX_NAME:
            return InputRow(line, cells, login=login, problem=f"{label}: is too long")
    return InputRow(
        line,
        cells,
        op="move_wl",
        login=login,
        environment=environment,
        proposed=broker_name,
    )
