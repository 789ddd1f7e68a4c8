"""POST /v2/webserv/managers/token — the manager token (docs/ctrader-api.md §3)."""

from __future__ import annotations

from ..calls import Call, Reply
from ..errors import ApiError, Code
from ..validation import body_int, body_md5


def issue_token(call: Call) -> Reply:
    login = body_int(call.body, "login")
    hashed_password = body_md5(call.body, "hashedPassword")
    issued = call.tx.token_for(login, hashed_password)
    if issued is None:
        raise ApiError(
            call.dialect.auth_failure_status,
            Code.CH_CLIENT_AUTH_FAILURE,
            "Invalid manager login or password",
        )
    token, fresh = issued
    return Reply(body={"webservToken": token}, applied=fresh)
