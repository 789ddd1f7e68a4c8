"""Turn pydantic validation errors into field-labelled messages an operator understands."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ctrader_admin.services.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

# Wire and Python names → the label the forms show.
LABELS: dict[str, str] = {
    "email": "Email",
    "broker_name": "White Label",
    "brokerName": "White Label",
    "preferred_language": "Language",
    "preferredLanguage": "Language",
    "trader_login": "Login",
    "traderLogin": "Login",
    "trader_password_hash": "Account password",
    "traderPasswordHash": "Account password",
    "user_id": "userId",
    "userId": "userId",
    "environment_name": "Environment",
    "environmentName": "Environment",
    "ctid_trader_account_id": "ctidTraderAccountId",
    "ctidTraderAccountId": "ctidTraderAccountId",
    "partner_id": "partnerId",
    "partnerId": "partnerId",
    "broker_crm_name": "brokerCrmName",
    "brokerCrmName": "brokerCrmName",
    "login": "Login",
    "password": "Password",
}


def problems_of(error: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        label = LABELS.get(loc[0], loc[0]) if loc else "Input"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required"
        elif item["type"] in ("int_parsing", "int_type"):
            message = "must be a whole number"
        elif item["type"] == "greater_than":
            message = "must be a positive number"
        elif item["type"] == "string_too_short":
            message = "must not be empty"
        elif item["type"] == "string_too_long":
            message = f"must be at most {item.get('ctx', {}).get('max_length', '?')} characters"
        problems.setdefault(label, message)
    return problems


def build(model: type[M], **fields: Any) -> M:
    """Construct a request model, or raise InvalidInput naming each bad field."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise InvalidInput(problems_of(exc)) from None


def parse_int(label: str, text: str | int | None, *, required: bool = True) -> int | None:
    """Parse an id typed by an operator (spaces and thousands separators tolerated)."""
    if isinstance(text, int):
        value = text
    else:
        cleaned = (text or "").strip().replace(" ", "").replace(",", "").replace("_", "")
        if not cleaned:
            if required:
                raise InvalidInput({label: "is required"})
            return None
        if not cleaned.isdigit():
            raise InvalidInput({label: "must be a whole number"})
        value = int(cleaned)
    if value <= 0 or value >= 2**63:
        raise InvalidInput({label: "must be a positive number"})
    return value
