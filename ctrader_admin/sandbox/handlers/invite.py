"""GET /v1/users — the cTrader Invite user list, Bearer-authenticated (ctrader-api.md §4.8)."""

from __future__ import annotations

from ..calls import Call, Reply
from ..errors import invalid
from ..validation import query_optional_int

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def list_users(call: Call) -> Reply:
    """Users on the manager's White Labels, oldest first; createdFrom is inclusive."""
    manager = call.who()
    created_from = query_optional_int(call.query, "createdFrom") or 0
    limit = query_optional_int(call.query, "limit")
    limit = DEFAULT_LIMIT if limit is None else limit
    skip = query_optional_int(call.query, "skip") or 0
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"query parameter 'limit' must be within 1..{MAX_LIMIT}")
    if skip < 0:
        raise invalid("query parameter 'skip' must not be negative")
    users = call.tx.users_page(manager.login, created_from, limit, skip)
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
