"""Errors as the sandbox answers them: one exception type, rendered in the dialect's shape."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from .config import ErrorShape


class Code:
    """Error codes the sandbox answers with (docs/ctrader-api.md §7; some names assumed)."""

    UNKNOWN_ERROR = "UNKNOWN_ERROR"
    INVALID_REQUEST = "INVALID_REQUEST"
    NOT_ENOUGH_RIGHTS = "NOT_ENOUGH_RIGHTS"
    CH_CLIENT_AUTH_FAILURE = "CH_CLIENT_AUTH_FAILURE"
    CH_BROKER_NOT_FOUND = "CH_BROKER_NOT_FOUND"
    CH_PLANT_INVALID = "CH_PLANT_INVALID"
    REQUEST_FREQUENCY_EXCEEDED = "REQUEST_FREQUENCY_EXCEEDED"
    TRADER_NOT_FOUND = "TRADER_NOT_FOUND"
    TRADER_GROUP_NOT_FOUND = "TRADER_GROUP_NOT_FOUND"
    ENVIRONMENT_NOT_FOUND = "ENVIRONMENT_NOT_FOUND"
    TRADER_ALREADY_LINKED = "TRADER_ALREADY_LINKED"
    WRONG_PASSWORD = "WRONG_PASSWORD"  # noqa: S105 - an error code
    USER_NOT_FOUND = "USER_NOT_FOUND"
    CTID_TRADER_ACCOUNT_NOT_FOUND = "CTID_TRADER_ACCOUNT_NOT_FOUND"
    REFERRAL_NOT_FOUND = "REFERRAL_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"


class ApiError(Exception):
    """A refusal the way the backend would answer it. Raised by handlers, rendered by the app."""

    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers or {}


def invalid(description: str) -> ApiError:
    return ApiError(400, Code.INVALID_REQUEST, description)


def no_rights(description: str) -> ApiError:
    return ApiError(403, Code.NOT_ENOUGH_RIGHTS, description)


def error_body(shape: ErrorShape, status: int, code: str, description: str) -> dict[str, Any]:
    """The JSON body of an error in one of the three shapes docs/sandbox.md allows."""
    if shape == "flat":
        return {"error": _reason_phrase(status), "message": description, "code": code}
    if shape == "toplevel":
        return {"errorCode": code, "description": description}
    return {"error": {"errorCode": code, "description": description}}


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
