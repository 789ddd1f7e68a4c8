"""A stored trading account as the API shows it: a TraderTO (docs/ctrader-api.md §6.1)."""

from __future__ import annotations

from typing import Any

from .records import Trader


def trader_to(trader: Trader, group_name: str) -> dict[str, Any]:
    return {
        "login": trader.login,
        "groupName": group_name,
        "depositCurrency": trader.deposit_currency,
        "brokerName": trader.broker_name,
        "name": trader.name,
        "lastName": trader.last_name,
        "description": trader.description,
        "accessRights": trader.access_rights,
        "accountType": trader.account_type,
        "balance": trader.balance,
        "bonus": trader.bonus,
        "nonWithdrawableBonus": trader.non_withdrawable_bonus,
        "equity": trader.equity,
        "usedMargin": trader.used_margin,
        "freeMargin": trader.free_margin,
        "cashEquity": trader.cash_equity,
        "moneyDigits": trader.money_digits,
        "leverageInCents": trader.leverage_in_cents,
        "maxLeverage": trader.max_leverage,
        "totalMarginCalculationType": trader.total_margin_calculation_type,
        "isLimitedRisk": trader.is_limited_risk,
        "swapFree": trader.swap_free,
        "sendOwnStatement": trader.send_own_statement,
        "sendStatementToBroker": trader.send_statement_to_broker,
        "registrationTimestamp": trader.registration_ts,
        "lastUpdateTimestamp": trader.last_update_ts,
        "lastConnectionTimestamp": trader.last_connection_ts,
        "contactDetails": {
            "address": trader.contact_address,
            "city": trader.contact_city,
            "countryId": trader.contact_country_id,
            "email": trader.contact_email,
            "phone": trader.contact_phone,
            "state": trader.contact_state,
            "zipCode": trader.contact_zip_code,
            "introducingBroker1": trader.contact_introducing_broker1,
            "introducingBroker2": trader.contact_introducing_broker2,
        },
    }
