"""Lookups every handler needs: a thing by id, or the error the backend would give instead."""

from __future__ import annotations

from ..errors import ApiError, Code, no_rights
from ..records import Link, Manager, Trader, User
from ..storage import Tx


def require_rights(manager: Manager, broker_name: str) -> None:
    if not manager.may_touch(broker_name):
        raise no_rights(f"Manager {manager.login} has no rights on brokerName {broker_name}")


def require_white_label(tx: Tx, broker_name: str) -> None:
    if not tx.white_label_exists(broker_name):
        raise ApiError(400, Code.CH_PLANT_INVALID, f"No broker {broker_name!r} on this plant")


def require_environment(tx: Tx, environment: str) -> None:
    if not tx.environment_exists(environment):
        raise ApiError(400, Code.ENVIRONMENT_NOT_FOUND, f"Environment {environment!r} not found")


def require_trader(tx: Tx, login: int, environment: str | None = None) -> tuple[Trader, str]:
    """The account (and its group name), in ``environment`` when one is given."""
    found = tx.trader(login)
    if found is None or (environment is not None and found[0].environment != environment):
        where = f" in environment {environment}" if environment is not None else ""
        raise ApiError(400, Code.TRADER_NOT_FOUND, f"Trader {login} not found{where}")
    return found


def require_user(tx: Tx, user_id: int) -> User:
    user = tx.user(user_id)
    if user is None:
        raise ApiError(400, Code.USER_NOT_FOUND, f"User {user_id} not found")
    return user


def require_link(tx: Tx, ctid_trader_account_id: int) -> tuple[Link, Trader]:
    """The link and its trading account."""
    link = tx.link(ctid_trader_account_id)
    if link is None:
        raise ApiError(
            400,
            Code.CTID_TRADER_ACCOUNT_NOT_FOUND,
            f"ctidTraderAccountId {ctid_trader_account_id} not found",
        )
    trader, _ = require_trader(tx, link.trader_login)
    return link, trader
