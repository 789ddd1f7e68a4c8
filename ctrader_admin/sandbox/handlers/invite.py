"""The cTrader Invite reads, Bearer-authenticated (docs/ctrader-api.md §4.8): GET /v1/users and
GET /v1/social/invitedUsers. Both page the same way: createdFrom (inclusive, epoch ms), limit,
skip, oldest first, restricted to the manager's White Labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..calls import Call, Reply
from ..errors import invalid
from ..records import Invitation
from ..validation import query_optional_int

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class _Paging:
    created_from: int
    limit: int
    skip: int


def _paging(call: Call) -> _Paging:
    created_from = query_optional_int(call.query, "createdFrom") or 0
    limit = query_optional_int(call.query, "limit")
    limit = DEFAULT_LIMIT if limit is None else limit
    skip = query_optional_int(call.query, "skip") or 0
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"query parameter 'limit' must be within 1..{MAX_LIMIT}")
    if skip < 0:
        raise invalid("query parameter 'skip' must not be negative")
    return _Paging(created_from, limit, skip)


def list_users(call: Call) -> Reply:
    """Users on the manager's White Labels, oldest first; createdFrom is inclusive."""
    page = _paging(call)
    users = call.tx.users_page(call.who().login, page.created_from, page.limit, page.skip)
    return Reply(
        body={
            "users": [
                {
                    "userId": u.user_id,
                    "email": u.email,
                    "brokerName": u.broker_name,
                    "utcCreateTimestamp": u.utc_create_ts,
                }
                for u in users
            ]
        }
    )


def list_invited_users(call: Call) -> Reply:
    """Invite attributions of users on the manager's White Labels, oldest first; a
    re-attribution is a later row for the same invitedUserId."""
    page = _paging(call)
    rows = call.tx.invitations_page(call.who().login, page.created_from, page.limit, page.skip)
    return Reply(body={"invitedUsers": [invitation_json(row) for row in rows]})


def invitation_json(row: Invitation) -> dict[str, Any]:
    """One row as the API lists it; brokerPartnerId only "if known" (INV-API)."""
    item: dict[str, Any] = {
        "invitedUserId": row.invited_user_id,
        "partnerUserId": row.partner_user_id,
    }
    if row.broker_partner_id is not None:
        item["brokerPartnerId"] = row.broker_partner_id
    item["brokerName"] = row.broker_name
    item["createTimestamp"] = row.create_ts
    return item
