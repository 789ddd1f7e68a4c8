"""cTID calls: create a user, link an account, move an account to another White Label (§4)."""

from __future__ import annotations

from ..calls import Call, Reply
from ..errors import ApiError, Code, no_rights
from ..validation import (
    body_int,
    body_md5,
    body_optional_bool,
    body_optional_str,
    body_str,
    check_email,
    check_language,
)
from .rights import (
    require_environment,
    require_rights,
    require_trader,
    require_user,
    require_white_label,
)

DEFAULT_LANGUAGE = "en"


def create_user(call: Call) -> Reply:
    """POST /cid/ctid/create: get-or-create by e-mail (a known e-mail answers only its userId)."""
    manager = call.who()
    email = check_email(body_str(call.body, "email"))
    broker_name = body_optional_str(call.body, "brokerName")
    language = body_optional_str(call.body, "preferredLanguage")
    if language is not None:
        check_language(language)
    if broker_name is None:
        if not manager.broker_names:
            raise no_rights(f"Manager {manager.login} has no rights on any brokerName")
        broker_name = manager.broker_names[0]
    require_white_label(call.tx, broker_name)
    require_rights(manager, broker_name)

    existing = call.tx.user_by_email(email)
    if existing is not None:
        return Reply(body={"userId": existing.user_id})
    user = call.tx.create_user(email, broker_name, language or DEFAULT_LANGUAGE, call.now_ms)
    return Reply(
        body={
            "userId": user.user_id,
            "nickname": user.nickname,
            "email": user.email,
            "preferredLanguage": user.preferred_language,
            "utcCreateTimestamp": user.utc_create_ts,
            "status": user.status,
        },
        applied=True,
    )


def link_account(call: Call) -> Reply:
    """POST /cid/ctid/link: link a trading account to a user, proving its password hash."""
    manager = call.who()
    login = body_int(call.body, "traderLogin")
    password_hash = body_md5(call.body, "traderPasswordHash")
    user_id = body_int(call.body, "userId")
    broker_name = body_str(call.body, "brokerName")
    environment = body_str(call.body, "environmentName")
    return_details = body_optional_bool(call.body, "returnAccountDetails")

    require_environment(call.tx, environment)
    require_white_label(call.tx, broker_name)
    trader, _ = require_trader(call.tx, login, environment)
    require_user(call.tx, user_id)
    if trader.broker_name != broker_name:
        raise no_rights("brokerName has no access to this trader")
    require_rights(manager, broker_name)
    if password_hash != trader.password_md5:
        raise ApiError(400, Code.WRONG_PASSWORD, f"Wrong password for trader {login}")
    if call.tx.link_of_trader(login) is not None:
        raise ApiError(400, Code.TRADER_ALREADY_LINKED, f"Trader {login} is already linked")

    link = call.tx.create_link(user_id, login, environment)
    body = {"ctidTraderAccountId": link.ctid_trader_account_id} if return_details else None
    return Reply(body=body, applied=True)


def change_white_label(call: Call) -> Reply:
    """POST /cid/ctid/changeCtidTraderAccount: move an account to another brokerName."""
    manager = call.who()
    login = body_int(call.body, "traderLogin")
    target = body_str(call.body, "brokerName")
    environment = body_str(call.body, "environmentName")

    require_environment(call.tx, environment)
    trader, _ = require_trader(call.tx, login, environment)
    require_white_label(call.tx, target)
    # Moving takes rights on both ends (docs/ctrader-api.md §4.4).
    require_rights(manager, trader.broker_name)
    require_rights(manager, target)

    moved = trader.broker_name != target
    if moved:
        call.tx.move_trader(login, target, call.now_ms)
    body = None
    if call.dialect.change_wl_body == "ids":
        link = call.tx.link_of_trader(login)
        if link is not None:
            body = {"ctidTraderAccountId": link.ctid_trader_account_id}
    return Reply(body=body, applied=moved)
