"""Reading a CRM export (CSV) into directory rows, with a message for every row it refuses.

Columns (any order, names compared ignoring case, spaces, '_' and '-'): userId (required),
email, login, ctidTraderAccountId, brokerName, environment. A row describes a user, optionally
with an account (login + environment) and a link (ctidTraderAccountId).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ctrader_admin.ids import NotAnId, parse_id

_HEADER_ALIASES: dict[str, str] = {
    "userid": "user_id",
    "email": "email",
    "login": "login",
    "traderlogin": "login",
    "ctidtraderaccountid": "ctid_trader_account_id",
    "brokername": "broker_name",
    "environment": "environment",
    "environmentname": "environment",
}
_DISPLAY = {
    "user_id": "userId",
    "email": "email",
    "login": "login",
    "ctid_trader_account_id": "ctidTraderAccountId",
    "broker_name": "brokerName",
    "environment": "environment",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass(frozen=True, slots=True)
class ImportRow:
    line_no: int
    user_id: int
    email: str | None = None
    login: int | None = None
    ctid_trader_account_id: int | None = None
    broker_name: str | None = None
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    line_no: int
    message: str


@dataclass(frozen=True)
class ImportPreview:
    rows_ok: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Accepted rows worth a second look (e.g. an environment the profile does not list).
    warnings: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # recognised, as written in the file
    ignored_columns: list[str] = field(default_factory=list)


def _normalize_header(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lstrip("\ufeff")).lower()


def _delimiter(header_line: str) -> str:
    # Spreadsheets in many locales export with ';' or tabs.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse_int(name: str, raw: str, problems: list[str]) -> int | None:
    try:
        return parse_id(raw)
    except NotAnId as exc:
        shown = raw if len(raw) <= 24 else f"{raw[:20]}…"
        problems.append(f"{name} {shown!r} {exc.reason}")
        return None


class _Consistency:
    """Remembers accepted rows to catch duplicates and rows contradicting earlier ones."""

    def __init__(self) -> None:
        self.rows: dict[ImportRow, int] = {}
        self.email_of_user: dict[int, tuple[str, int]] = {}
        self.user_of_email: dict[str, tuple[int, int]] = {}
        self.link: dict[int, tuple[ImportRow, int]] = {}
        self.account: dict[tuple[int, str], tuple[ImportRow, int]] = {}

    def problems(self, row: ImportRow) -> list[str]:
        key = _without_line(row)
        if key in self.rows:
            return [f"the same as line {self.rows[key]}"]
        found: list[str] = []
        if row.email is not None:
            email = row.email.casefold()
            if row.user_id in self.email_of_user:
                other, line = self.email_of_user[row.user_id]
                if other != email:
                    found.append(f"userId {row.user_id} has email {other} on line {line}")
            if email in self.user_of_email:
                other_user, line = self.user_of_email[email]
                if other_user != row.user_id:
                    found.append(f"email {row.email} belongs to userId {other_user} on line {line}")
        ctid = row.ctid_trader_account_id
        if ctid is not None and ctid in self.link:
            earlier, line = self.link[ctid]
            diffs = _differences(earlier, row, ("user_id", "login", "environment", "broker_name"))
            if diffs:
                found.append(f"ctidTraderAccountId {ctid} has {diffs} on line {line}")
        if row.login is not None and row.environment is not None:
            account = (row.login, row.environment)
            if account in self.account:
                earlier, line = self.account[account]
                diffs = _differences(
                    earlier, row, ("user_id", "ctid_trader_account_id", "broker_name")
                )
                if diffs:
                    found.append(
                        f"login {row.login} on {row.environment} has {diffs} on line {line}"
                    )
        return found

    def remember(self, row: ImportRow) -> None:
        self.rows[_without_line(row)] = row.line_no
        if row.email is not None:
            self.email_of_user.setdefault(row.user_id, (row.email.casefold(), row.line_no))
            self.user_of_email.setdefault(row.email.casefold(), (row.user_id, row.line_no))
        if row.ctid_trader_account_id is not None:
            self.link.setdefault(row.ctid_trader_account_id, (row, row.line_no))
        if row.login is not None and row.environment is not None:
            self.account.setdefault((row.login, row.environment), (row, row.line_no))


def _without_line(row: ImportRow) -> ImportRow:
    email = row.email.casefold() if row.email else None
    return ImportRow(
        0,
        row.user_id,
        email,
        row.login,
        row.ctid_trader_account_id,
        row.broker_name,
        row.environment,
    )


def _differences(earlier: ImportRow, row: ImportRow, names: tuple[str, ...]) -> str:
    """'login 9000012 (here 9000013)' for each field both rows give with different values."""
    parts = []
    for name in names:
        before, now = getattr(earlier, name), getattr(row, name)
        if before is not None and now is not None and before != now:
            parts.append(f"{_DISPLAY[name]} {before} (here {now})")
    return ", ".join(parts)


def preview_csv(
    text: str,
    *,
    default_environment: str | None = None,
    known_environments: Iterable[str] | None = None,
) -> ImportPreview:
    """Parse and check a CRM export. Nothing is written; pass ``rows_ok`` to import_rows.

    ``default_environment`` applies to rows with a login but no environment value;
    ``known_environments`` only turns unknown environments into warnings, never errors.
    """
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return ImportPreview(errors=[RowError(1, "The file is empty.")])
    reader = csv.reader(io.StringIO("".join(lines[first:])), delimiter=_delimiter(lines[first]))
    header = next(reader)
    positions: dict[str, int] = {}
    columns: list[str] = []
    ignored: list[str] = []
    errors: list[RowError] = []
    for index, raw_name in enumerate(header):
        name = _HEADER_ALIASES.get(_normalize_header(raw_name))
        if name is None:
            if raw_name.strip():
                ignored.append(raw_name.strip())
        elif name in positions:
            errors.append(
                RowError(first + 1, f"The column {_DISPLAY[name]} appears twice in the header.")
            )
        else:
            positions[name] = index
            columns.append(raw_name.strip())
    if "user_id" not in positions:
        errors.append(
            RowError(
                first + 1,
                "The first line must name the columns, and a userId column is required "
                "(columns: userId, email, login, ctidTraderAccountId, brokerName, environment).",
            )
        )
    if errors:
        return ImportPreview(errors=errors, columns=columns, ignored_columns=ignored)

    known = set(known_environments) if known_environments is not None else None
    default_environment = (default_environment or "").strip() or None
    seen = _Consistency()
    rows_ok: list[ImportRow] = []
    warnings: list[RowError] = []
    for cells in reader:
        line_no = first + reader.line_num
        if not any(cell.strip() for cell in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            index = positions.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        problems: list[str] = []
        raw_user = cell("user_id")
        user_id = _parse_int("userId", raw_user, problems)
        if not raw_user:
            problems.append("userId is missing")
        email = cell("email") or None
        if email is not None and not _EMAIL.match(email):
            problems.append(f"email {email!r} is not a valid address")
        login = _parse_int("login", cell("login"), problems)
        ctid = _parse_int("ctidTraderAccountId", cell("ctid_trader_account_id"), problems)
        environment = cell("environment") or None
        if ctid is not None and login is None and "login" not in " ".join(problems):
            problems.append(f"ctidTraderAccountId {ctid} needs a login on the same row")
        if login is not None and environment is None:
            if default_environment is None:
                problems.append(
                    f"login {login} needs an environment "
                    "(add an environment column or choose a default environment)"
                )
            environment = default_environment
        if problems or user_id is None:
            errors.append(RowError(line_no, _sentence(problems)))
            continue
        row = ImportRow(
            line_no=line_no,
            user_id=user_id,
            email=email,
            login=login,
            ctid_trader_account_id=ctid,
            broker_name=cell("broker_name") or None,
            environment=environment,
        )
        conflicts = seen.problems(row)
        if conflicts:
            errors.append(RowError(line_no, _sentence(conflicts)))
            continue
        seen.remember(row)
        rows_ok.append(row)
        if known is not None and environment is not None and environment not in known:
            warnings.append(
                RowError(
                    line_no,
                    f"Environment {environment!r} is not one of this profile's environments "
                    f"({', '.join(sorted(known))}); the row is imported anyway.",
                )
            )
    return ImportPreview(
        rows_ok=rows_ok, errors=errors, warnings=warnings, columns=columns, ignored_columns=ignored
    )


def _sentence(problems: list[str]) -> str:
    text = "; ".join(problems)
    return text[:1].upper() + text[1:] + "."
