"""Partner attribution: PUT/GET/DELETE /cid/oauth2/ctid/referral (docs/ctrader-api.md §5)."""

from __future__ import annotations

from typing import Any

from ..calls import Call, Reply
from ..errors import ApiError, Code, invalid
from ..records import Link, Manager
from ..storage import Tx
from ..training import BROKER_CRM_NAME
from ..validation import (
    body_optional_int,
    body_str,
    check_partner_id,
    query_int,
    query_optional_int,
    query_str,
)
from .rights import require_link, require_rights, require_user


def put_referral(call: Call) -> Reply:
    """Set (or overwrite) the partnerId of a user or of one user-account link."""
    manager = call.who()
    _require_crm(body_str(call.body, "brokerCrmName"))
    partner_id = check_partner_id(body_str(call.body, "partnerId"))
    user_id = body_optional_int(call.body, "userId")
    ctid = body_optional_int(call.body, "ctidTraderAccountId")
    _require_one_target(user_id, ctid)

    ids: dict[str, int]
    if user_id is not None:
        _user_in_reach(call.tx, manager, user_id)
        previous = call.tx.user_referral(user_id)
        call.tx.set_user_referral(user_id, partner_id)
        ids = {"userId": user_id}
    else:
        assert ctid is not None
        _link_in_reach(call.tx, manager, ctid)
        previous = call.tx.account_referral(ctid)
        call.tx.set_account_referral(ctid, partner_id)
        ids = {"ctidTraderAccountId": ctid}
    body = ids if call.dialect.referral_put_body == "ids" else None
    return Reply(body=body, applied=previous != partner_id)


def get_referral(call: Call) -> Reply:
    manager = call.who()
    _require_crm(query_str(call.query, "brokerCrmName"))
    user_id = query_optional_int(call.query, "userId")
    ctid = query_optional_int(call.query, "ctidTraderAccountId")
    _require_one_target(user_id, ctid)

    records: list[dict[str, Any]] = []
    if user_id is not None:
        _user_in_reach(call.tx, manager, user_id)
        partner_id = call.tx.user_referral(user_id)
        if partner_id is not None:
            records.append({"userId": user_id, "partnerId": partner_id})
        if call.dialect.referral_read == "array":
            # The array variant also lists the user's account-level records.
            for link, account_partner, broker_name in call.tx.account_referrals_of_user(user_id):
                if manager.may_touch(broker_name):
                    records.append(_account_record(link, account_partner))
    else:
        assert ctid is not None
        link = _link_in_reach(call.tx, manager, ctid)
        partner_id = call.tx.account_referral(ctid)
        if partner_id is not None:
            records.append(_account_record(link, partner_id))

    if call.dialect.referral_read == "array":
        return Reply(body=records)
    if records:
        return Reply(body=records[0])
    if call.dialect.referral_none == "404":
        raise _not_found(user_id, ctid)
    return Reply()


def delete_referral(call: Call) -> Reply:
    """Delete the user-level record, or with ctidTraderAccountId that link's record."""
    manager = call.who()
    _require_crm(query_str(call.query, "brokerCrmName"))
    user_id = query_int(call.query, "userId")
    ctid = query_optional_int(call.query, "ctidTraderAccountId")

    if ctid is None:
        _user_in_reach(call.tx, manager, user_id)
        deleted = call.tx.delete_user_referral(user_id)
    else:
        require_user(call.tx, user_id)
        link = _link_in_reach(call.tx, manager, ctid)
        if link.user_id != user_id:
            raise invalid(f"account {ctid} is not linked to user {user_id}")
        deleted = call.tx.delete_account_referral(ctid)
    if not deleted and call.dialect.referral_delete_missing == "error":
        raise _not_found(user_id if ctid is None else None, ctid)
    return Reply(applied=deleted)


def _require_crm(name: str) -> None:
    if name != BROKER_CRM_NAME:
        raise ApiError(400, Code.CH_BROKER_NOT_FOUND, f"No broker CRM named {name!r}")


def _require_one_target(user_id: int | None, ctid: int | None) -> None:
    if (user_id is None) == (ctid is None):
        raise invalid("give exactly one of 'userId' and 'ctidTraderAccountId'")


def _user_in_reach(tx: Tx, manager: Manager, user_id: int) -> None:
    """User-level records are governed by the user's own brokerName."""
    require_rights(manager, require_user(tx, user_id).broker_name)


def _link_in_reach(tx: Tx, manager: Manager, ctid: int) -> Link:
    """Account-level records are governed by the linked account's brokerName."""
    link, trader = require_link(tx, ctid)
    require_rights(manager, trader.broker_name)
    return link


def _account_record(link: Link, partner_id: str) -> dict[str, Any]:
    return {
        "userId": link.user_id,
        "ctidTraderAccountId": link.ctid_trader_account_id,
        "partnerId": partner_id,
    }


def _not_found(user_id: int | None, ctid: int | None) -> ApiError:
    target = f"ctidTraderAccountId {ctid}" if ctid is not None else f"user {user_id}"
    return ApiError(404, Code.REFERRAL_NOT_FOUND, f"No partnerId recorded for {target}")
