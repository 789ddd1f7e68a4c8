"""Trading-account reads under /v2/webserv (docs/ctrader-api.md §6.1, §6.2, §6.9)."""

from __future__ import annotations

from ..calls import Call, Reply
from ..errors import ApiError, Code, invalid
from ..trader_view import trader_to
from ..validation import query_date_ms, query_optional_int
from .rights import require_rights, require_trader


def get_trader(call: Call) -> Reply:
    raw = call.path_params["login"]
    try:
        login = int(raw)
    except ValueError:
        raise invalid(f"login must be an integer, not {raw!r}") from None
    trader, group_name = require_trader(call.tx, login)
    require_rights(call.who(), trader.broker_name)
    return Reply(body=trader_to(trader, group_name))


def list_traders(call: Call) -> Reply:
    """Newest first, one chunk; the client pages by moving ``to`` to the oldest it received."""
    manager = call.who()
    from_ms = query_date_ms(call.query, "from")
    to_ms = query_date_ms(call.query, "to")
    group_id = query_optional_int(call.query, "groupId")
    if group_id is not None and not call.tx.trader_group_exists(group_id):
        raise ApiError(400, Code.TRADER_GROUP_NOT_FOUND, f"Trader group {group_id} not found")
    page = call.traders_page_size
    rows = call.tx.traders_page(manager.login, from_ms, to_ms, group_id, page + 1)
    return Reply(
        body={
            "trader": [trader_to(trader, group) for trader, group in rows[:page]],
            "hasMore": len(rows) > page,
        }
    )


def list_trader_groups(call: Call) -> Reply:
    call.who()
    groups = call.tx.trader_groups()
    return Reply(
        body={
            "traderGroup": [
                {"id": g.id, "name": g.name, "description": g.description} for g in groups
            ]
        }
    )
