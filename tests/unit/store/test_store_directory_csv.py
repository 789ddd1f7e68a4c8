from __future__ import annotations

from ctrader_admin.store.directory_csv import ImportRow, RowError, preview_csv

HEADER = "userId,email,login,ctidTraderAccountId,brokerName,environment\n"


def test_full_rows_and_user_only_rows() -> None:
    preview = preview_csv(HEADER + "123,a@x.io,9000012,555,acme,demo\n124,b@x.io,,,,\n")
    assert preview.errors == []
    assert preview.rows_ok == [
        ImportRow(2, 123, "a@x.io", 9000012, 555, "acme", "demo"),
        ImportRow(3, 124, "b@x.io"),
    ]
    assert preview.columns == [
        "userId", "email", "login", "ctidTraderAccountId", "brokerName", "environment",
    ]  # fmt: skip


def test_header_names_any_case_spacing_and_order_with_bom_and_semicolons() -> None:
    text = "\ufeff\n  Environment ; CTID trader account id;USER_ID; Login ;Notes\n" + (
        "live;555;123;9000012;hello\n"
    )
    preview = preview_csv(text)
    assert preview.errors == []
    assert preview.rows_ok == [ImportRow(3, 123, None, 9000012, 555, None, "live")]
    assert preview.ignored_columns == ["Notes"]


def test_missing_optional_columns_are_fine() -> None:
    preview = preview_csv("userid\r\n1\r\n2\r\n")
    assert [r.user_id for r in preview.rows_ok] == [1, 2]


def test_header_problems() -> None:
    assert preview_csv("").errors == [RowError(1, "The file is empty.")]
    no_user = preview_csv("email,login\na@x.io,1\n")
    assert no_user.rows_ok == []
    assert "userId column is required" in no_user.errors[0].message
    assert "appears twice" in preview_csv("userId,user id\n1,1\n").errors[0].message


def test_row_errors_name_the_line_and_the_problem() -> None:
    text = HEADER + "\n".join(
        [
            "abc,a@x.io,,,,",  # line 2
            "1,not-an-email,,,,",  # 3
            "2,b@x.io,12x,,,",  # 4
            "3,c@x.io,,555,,demo",  # 5
            "4,d@x.io,9000012,,acme,",  # 6
            ",e@x.io,,,,",  # 7
            "-5,,,,,",  # 8
            "1.0E5,,,,,",  # 9
        ]
    )
    errors = {e.line_no: e.message for e in preview_csv(text).errors}
    assert errors[2] == "UserId 'abc' must be a whole number made of the digits 0–9 (not 'a')."
    assert errors[3] == "Email 'not-an-email' is not a valid address."
    assert errors[4] == "Login '12x' must be a whole number made of the digits 0–9 (not 'x')."
    assert errors[5] == "CtidTraderAccountId 555 needs a login on the same row."
    assert "login 9000012 needs an environment" in errors[6].lower()
    assert errors[7] == "UserId is missing."
    assert errors[8] == "UserId '-5' must be a positive number."
    assert errors[9] == "UserId '1.0E5' must be a whole number made of the digits 0–9 (not '.')."


def test_default_environment_fills_blanks() -> None:
    preview = preview_csv(HEADER + "4,d@x.io,9000012,,acme,\n", default_environment="live")
    assert preview.rows_ok[0].environment == "live"


def test_unknown_environment_is_a_warning_not_an_error() -> None:
    preview = preview_csv(HEADER + "1,a@x.io,2,3,acme,live2\n", known_environments=["demo", "live"])
    assert preview.errors == []
    assert len(preview.rows_ok) == 1
    assert "live2" in preview.warnings[0].message
    assert preview_csv(HEADER + "1,a@x.io,2,3,acme,live2\n").warnings == []


def test_duplicates_and_conflicts_with_earlier_rows() -> None:
    text = HEADER + "\n".join(
        [
            "123,a@x.io,9000012,555,acme,demo",  # 2 ok
            "123,A@X.io,9000012,555,acme,demo",  # 3 duplicate of 2 (email case ignored)
            "123,a@x.io,9000013,555,acme,demo",  # 4 same ctid, other login
            "124,a@x.io,,,,",  # 5 same email, other user
            "123,z@x.io,,,,",  # 6 same user, other email
            "125,c@x.io,9000012,,acme,demo",  # 7 same account, other owner
            "123,a@x.io,9000012,555,acme,live",  # 8 same ctid, other environment
            "123,a@x.io,9000012,,acme,demo",  # 9 subset of line 2: consistent
        ]
    )
    preview = preview_csv(text)
    errors = {e.line_no: e.message for e in preview.errors}
    assert errors[3] == "The same as line 2."
    assert errors[4] == "CtidTraderAccountId 555 has login 9000012 (here 9000013) on line 2."
    assert errors[5] == "Email a@x.io belongs to userId 123 on line 2."
    assert errors[6] == "UserId 123 has email a@x.io on line 2."
    assert errors[7] == "Login 9000012 on demo has userId 123 (here 125) on line 2."
    assert errors[8] == "CtidTraderAccountId 555 has environment demo (here live) on line 2."
    assert [r.line_no for r in preview.rows_ok] == [2, 9]


def test_quoted_fields_and_blank_lines() -> None:
    text = HEADER + '"123","a@x.io","9000012","555","acme, EU","demo"\n\n,,,,,\n'
    preview = preview_csv(text)
    assert preview.errors == []
    assert preview.rows_ok[0].broker_name == "acme, EU"
