"""Turn pydantic validation errors into field-labelled messages an operator understands."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ctrader_admin.ids import ID_MAX, NOT_POSITIVE, NotAnId, parse_id
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.store.profiles import Profile

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
    """Parse an id typed by an operator (see ``ctrader_admin.ids``: ASCII digits only, within the
    API's int64 range; spaces and thousands separators tolerated)."""
    if isinstance(text, int):
        if not 0 < text <= ID_MAX:
            raise InvalidInput(
                {label: NOT_POSITIVE if text <= 0 else f"is too large: at most {ID_MAX}"}
            )
        return text
    try:
        value = parse_id(text or "")
    except NotAnId as exc:
        raise InvalidInput({label: exc.reason}) from None
    if value is None and required:
        raise InvalidInput({label: "is required"})
    return value


# The profile lists the environments and White Labels this connection works with. Every path
# that names one (bulk plans, single commands, forms) checks it here, so that no path sends
# what another would refuse. Names are compared as the request will carry them (stripped).


def environment_of(profile: Profile, text: str) -> str:
    """``text`` as an environment of ``profile``, or InvalidInput naming the ones it lists."""
    environment = text.strip()
    if not environment:
        raise InvalidInput({"Environment": _required(profile.environments, "environment")})
    if environment not in profile.environments:
        raise InvalidInput(
            {"Environment": f"{environment!r} is not one of {_listed(profile.environments)}"}
        )
    return environment


def white_label_of(profile: Profile, text: str) -> str:
    """``text`` as a White Label of ``profile``; InvalidInput when this connection does not
    handle it (the backend would refuse it with no rights, after a write slot was spent)."""
    broker_name = text.strip()
    if not broker_name:
        raise InvalidInput({"White Label": _required(profile.broker_names, "White Label")})
    if broker_name not in profile.broker_names:
        raise InvalidInput(
            {
                "White Label": f"{broker_name!r} is not one this connection handles "
                f"({_listed(profile.broker_names)})"
            }
        )
    return broker_name


def _required(names: list[str], what: str) -> str:
    return "is required" if names else f"this connection lists no {what}"


def _listed(names: list[str]) -> str:
    return ", ".join(names) if names else "none: this connection lists none"


def one_line(exc: InvalidInput) -> str:
    """The problems of ``exc`` as one line (``label: message; …``), for a plan row or a log."""
    return "; ".join(f"{label}: {message}" for label, message in exc.problems.items())


def reason_ticket_problems(profile: Profile, reason: str, ticket: str) -> dict[str, str]:
    """What a change's reason and ticket lack under the profile's (effective) rules."""
    problems: dict[str, str] = {}
    if profile.require_reason and not reason.strip():
        problems["Reason"] = "is required on this connection"
    if profile.require_ticket and not ticket.strip():
        problems["Ticket"] = "is required on this connection"
    return problems
