"""Reading bulk CSV files: both formats, with or without a header, and a clear reason for every
line that cannot be used (the file as a whole is refused only when it is not a bulk CSV)."""

from __future__ import annotations

import pytest

from ctrader_admin.services.bulk import parse_csv
from ctrader_admin.services.bulk.csv_input import MAX_PLAN_ROWS
from ctrader_admin.services.errors import InvalidInput

HEADER = "level,userId,ctidTraderAccountId,partnerId"


def test_partner_rows_with_a_header_in_any_column_order() -> None:
    parsed = parse_csv(
        "partnerId;Level;ctidTraderAccountId;user_id\n"
        "IB-1;user;;1000001\n"
        "IB-2;account;9000002;1000001\n"
        ";account;9000004;\n"
        ";USER;;1000002\n"
    )
    assert parsed.kind == "partner"
    assert [(r.op, r.level, r.user_id, r.ctid, r.proposed, r.line) for r in parsed.rows] == [
        ("set_partner", "user", 1000001, None, "IB-1", 2),
        ("set_partner", "account", 1000001, 9000002, "IB-2", 3),
        ("delete_partner", "account", None, 9000004, None, 4),
        ("delete_partner", "user", 1000002, None, None, 5),
    ]
    assert [r.target for r in parsed.rows] == [
        "user:1000001",
        "account:9000002",
        "account:9000004",
        "user:1000002",
    ]


def test_partner_rows_without_a_header_and_with_bom_blank_lines_and_comments() -> None:
    parsed = parse_csv(
        "\ufeff# exported from the CRM\nuser,1000001,,IB-1\n\n account , ,9000002, P \n"
    )
    assert parsed.kind == "partner"
    assert [(r.op, r.target, r.proposed) for r in parsed.rows] == [
        ("set_partner", "user:1000001", "IB-1"),
        ("set_partner", "account:9000002", "P"),
    ]
    assert [r.line for r in parsed.rows] == [2, 4]


def test_white_label_transfers_with_and_without_a_header() -> None:
    with_header = parse_csv("login,environment,brokerName\n3100001,demo,sandbox_eu\n")
    without = parse_csv("3100001,demo,sandbox_eu\n5200001,live,sandbox_main\n")
    for parsed in (with_header, without):
        assert parsed.kind == "white_label"
        row = parsed.rows[0]
        assert (row.op, row.login, row.environment, row.proposed) == (
            "move_wl",
            3100001,
            "demo",
            "sandbox_eu",
        )
        assert row.target == "login:3100001@demo"
    assert len(without.rows) == 2


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("group,1000001,,IB-1", "level must be 'user' or 'account'"),
        ("user,abc,,IB-1", "userId: must be a whole number made of the digits 0–9 (not 'a')"),
        ("user,-5,,IB-1", "userId: must be a positive number"),
        ("user,0,,IB-1", "userId: must be a positive number"),
        ("user,,,IB-1", "userId: is required"),
        ("account,1000001,,IB-1", "ctidTraderAccountId: is required"),
        (
            "account,1000001,9.5,IB-1",
            "ctidTraderAccountId: must be a whole number made of the digits 0–9 (not '.')",
        ),
        ("user,1000001,9000002,IB-1", "a user-level row takes no ctidTraderAccountId"),
        ("user,1000001,,IB-1,extra", "has 5 cells, expected 4"),
        ("user,1000001,,IB\u00071", "partnerId: must contain only printable characters"),
        ("user,1000001,," + "x" * 65, "partnerId: must be at most 64 characters"),
    ],
)
def test_bad_partner_lines_keep_their_cells_and_say_why(line: str, problem: str) -> None:
    row = parse_csv(f"user,1000002,,OK\n{line}\n").rows[1]
    assert row.op is None
    assert row.problem == problem
    assert row.target == ""
    assert row.cells == [cell.strip() for cell in line.split(",")]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "x3100001,demo,sandbox_eu",
            "login: must be a whole number made of the digits 0–9 (not 'x')",
        ),
        ("3100001,,sandbox_eu", "environment: is required"),
        ("3100001,demo,", "brokerName: is required"),
        ("3100001,demo,sandbox_eu,more", "has 4 cells, expected 3"),
    ],
)
def test_bad_white_label_lines(line: str, problem: str) -> None:
    row = parse_csv(f"login,environment,brokerName\n{line}\n").rows[0]
    assert (row.op, row.problem) == (None, problem)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "File"),
        ("\n# only a comment\n", "File"),
        ("level,userId,ctidTraderAccountId,partnerId\n", "File"),
        ("level,userId,login,partnerId\nuser,1,2,3\n", "Header"),
        ("userId,partnerId\n1,IB\n", "Header"),
        ("level,userId,userId,partnerId\n", "Header"),
        ("hello,world\n", "File"),
        ('user,1,,"IB\n', "File"),
    ],
)
def test_files_that_are_not_bulk_csv_are_refused(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert field in caught.value.problems


DIGITS = "must be a whole number made of the digits 0–9"


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("100000²", f"{DIGITS} (not '²', U+00B2)"),
        ("١٠٠٠٠٠١", f"{DIGITS} (not '١', U+0661)"),
        ("１０００００１", f"{DIGITS} (not '１', U+FF11)"),
        ("+1000001", f"{DIGITS} (not '+')"),
        ("-1000001", "must be a positive number"),
        ("0", "must be a positive number"),
        ("1" * 5000, "is too long: at most 19 digits"),
        ("9223372036854775808", "is too large: at most 9223372036854775807"),
    ],
)
def test_bad_numerals_are_a_row_problem_not_a_traceback(cell: str, problem: str) -> None:
    parsed = parse_csv(
        f"{HEADER}\nuser,{cell},,IB-1\naccount,1000001,{cell},IB-1\n"
        f"user,  1000001 ,,IB-1\n"  # the cell's surrounding spaces are the file's, not the id's
    )
    user, account, fine = parsed.rows
    assert (user.op, user.problem) == (None, f"userId: {problem}")
    assert (account.op, account.problem) == (None, f"ctidTraderAccountId: {problem}")
    assert (fine.op, fine.user_id, fine.problem) == ("set_partner", 1000001, None)
    wl = parse_csv(f"login,environment,brokerName\n{cell},demo,sandbox_eu\n").rows[0]
    assert (wl.op, wl.problem) == (None, f"login: {problem}")


def test_a_file_over_the_row_limit_is_refused_with_the_reason() -> None:
    rows = "".join(f"user,{1000001 + i},,IB-1\n" for i in range(MAX_PLAN_ROWS))
    assert len(parse_csv(f"{HEADER}\n{rows}").rows) == MAX_PLAN_ROWS
    with pytest.raises(InvalidInput) as caught:
        parse_csv(f"{HEADER}\n{rows}user,1,,IB-1\n")
    message = caught.value.problems["File"]
    assert message.startswith(f"has more than {MAX_PLAN_ROWS:,} rows, the most one plan takes")
    assert "Split it into files" in message
    assert "memory" in message
    assert "writes an hour" in message
