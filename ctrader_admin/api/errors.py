"""The closed error taxonomy of the cTrader client.

No httpx exception leaves ``api/``: every failure becomes one of the classes below, with a
message an operator can read. The message is the app's own sentence (``AppText``): what it
quotes from outside (a backend's description, a library's exception text) is redacted where
it is put in, and its words are never rewritten. ``detail`` is outside text, redacted.

    ApiError
    ├── ConfigurationError        the connection settings cannot work (missing CA bundle, bad URL)
    ├── NotLoggedIn               no manager token yet
    ├── InvalidCredentials        the token endpoint refused the manager login/password
    ├── ApiConnectionError        the backend could not be reached; nothing was sent
    │   ├── NameNotResolved       the host name does not resolve (DNS)
    │   ├── ConnectionRefused     nothing listens at that address and port
    │   ├── TlsFailure            the TLS handshake failed (certificate, protocol)
    │   ├── ProxyRefused          the proxy could not be reached or refused the tunnel
    │   └── NotWhitelisted        the server's gateway refuses this computer's IP address
    ├── ApiTimeoutError           a read did not finish in time
    ├── OutcomeUnknown            a write was sent but its answer was lost: it may have been applied
    ├── ResponseValidationError   a 2xx answer we cannot understand
    └── StatusError               the backend answered with an error status
        ├── BadRequest / NotFound / Conflict
        ├── Unauthorized          token missing, invalid or revoked: log in again
        ├── Forbidden             the manager lacks rights (group / White Label)
        ├── RateLimited           hourly write limit reached
        └── ServerError
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ctrader_admin.errors import ExpectedError
from ctrader_admin.redaction import AppText, redact

# Documented codes (docs/ctrader-api.md §7) and the sandbox's assumed names for the undocumented
# ones (docs/sandbox.md). Unknown codes are kept and their description shown verbatim.
CODE_MESSAGES: dict[str, str] = {
    "UNKNOWN_ERROR": "The backend reported an unknown server error.",
    "INVALID_REQUEST": "The backend rejected the request as invalid.",
    "MISSING_REQUIRED_PARAMETER": "The backend says a required field is missing.",
    "NOT_ENOUGH_RIGHTS": (
        "Your manager account has no rights for this (account group or White Label)."
    ),
    "CH_INSUFFICIENT_PERMISSIONS": "Your manager account may not act on this White Label.",
    "CH_BROKER_NOT_FOUND": "The backend does not know this broker (check brokerCrmName).",
    "REQUEST_FREQUENCY_EXCEEDED": "The broker's hourly write limit is reached. Try again later.",
    "TRADER_NOT_FOUND": "No trading account with this login.",
    "CH_PLANT_INVALID": "No White Label (brokerName) with this name on this server.",
    "NOT_ENOUGH_MONEY": "Not enough money on the account.",
    "CHANGE_BALANCE_BAD_AMOUNT": "The amount is not valid.",
    "TRADER_GROUP_NOT_FOUND": "No trader group with this id.",
    "WRONG_PASSWORD": "The trading account password is wrong.",
    "CH_EMAIL_ALREADY_EXISTS": "A cTID user with this email already exists.",
    "CH_CLIENT_AUTH_FAILURE": "The backend did not accept the manager token. Log in again.",
    "CID_TOKEN_EXPIRED": "The token has expired. Log in again.",
    "CID_NON_EXISTED_TOKEN": "The token is not known to the backend. Log in again.",
    "ENVIRONMENT_NOT_FOUND": "No environment with this name.",
    "TRADER_ALREADY_LINKED": "This trading account is already linked to a cTID user.",
    "USER_NOT_FOUND": "No cTID user with this userId.",
    "CTID_TRADER_ACCOUNT_NOT_FOUND": "No account link with this ctidTraderAccountId.",
    "REFERRAL_NOT_FOUND": "No partnerId is recorded there.",
}

AUTH_CODES = frozenset({"CH_CLIENT_AUTH_FAILURE", "CID_TOKEN_EXPIRED", "CID_NON_EXISTED_TOKEN"})
RIGHTS_CODES = frozenset({"NOT_ENOUGH_RIGHTS", "CH_INSUFFICIENT_PERMISSIONS"})
NOT_FOUND_CODES = frozenset(
    {
        "TRADER_NOT_FOUND",
        "TRADER_GROUP_NOT_FOUND",
        "USER_NOT_FOUND",
        "CTID_TRADER_ACCOUNT_NOT_FOUND",
        "REFERRAL_NOT_FOUND",
        "ENVIRONMENT_NOT_FOUND",
        "CH_BROKER_NOT_FOUND",
    }
)
RATE_LIMIT_CODE = "REQUEST_FREQUENCY_EXCEEDED"
_MAX_DESCRIPTION = 500


class ApiError(ExpectedError):
    """Base of every error the client raises. ``str(error)`` is the operator-facing message."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        self.message = redact(AppText(message))
        self.detail = redact(detail) if detail else None
        super().__init__(self.message)

    @property
    def needs_login(self) -> bool:
        """True when the operator must log in again before retrying."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(ApiError):
    pass


class NotLoggedIn(ApiError):
    @property
    def needs_login(self) -> bool:
        return True


class InvalidCredentials(ApiError):
    pass


class ApiConnectionError(ApiError):
    pass


class NameNotResolved(ApiConnectionError):
    pass


class ConnectionRefused(ApiConnectionError):
    pass


class TlsFailure(ApiConnectionError):
    pass


class ProxyRefused(ApiConnectionError):
    pass


class NotWhitelisted(ApiConnectionError):
    pass


class ApiTimeoutError(ApiError):
    pass


class OutcomeUnknown(ApiError):
    """A write reached the wire but no answer came back: it may have been applied. A POST is
    never retried; a PUT/DELETE may be, and stays "unknown" whatever a later try answers,
    unless one succeeds. ``last_error`` is the last try's own failure, when it was another."""

    def __init__(
        self,
        message: str,
        *,
        what_to_check: str,
        detail: str | None = None,
        last_error: ApiError | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.what_to_check = what_to_check
        self.last_error = last_error

    @property
    def needs_login(self) -> bool:
        # A retry refused for the token: the outcome is still unknown, and the token is gone.
        return self.last_error is not None and self.last_error.needs_login

    def noting(self, note: str) -> OutcomeUnknown:
        """The same unknown outcome, with what was learnt since (e.g. a read-back) added."""
        return OutcomeUnknown(
            f"{self.message} {note}",
            what_to_check=self.what_to_check,
            detail=self.detail,
            last_error=self.last_error,
        )


class ResponseValidationError(ApiError):
    pass


class StatusError(ApiError):
    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None,
        description: str | None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.status = status
        self.code = code
        self.description = redact(description) if description else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r})"


class BadRequest(StatusError):
    pass


class NotFound(StatusError):
    pass


class InviteNotEnabled(NotFound):
    """404 on a cTrader Invite read (/v1/*): Spotware has not enabled Invite for this broker.
    Not a fault to retry: the attribution ledger says so and relies on its other sources."""


class Conflict(StatusError):
    pass


class Unauthorized(StatusError):
    @property
    def needs_login(self) -> bool:
        return True


class Forbidden(StatusError):
    pass


class RateLimited(StatusError):
    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(StatusError):
    pass


@dataclass(frozen=True)
class ErrorBody:
    code: str | None
    description: str | None


def parse_error_body(content: bytes) -> ErrorBody:
    """Read an error body in any of the shapes the backend is known to use (docs/sandbox.md):
    nested ``{"error": {"errorCode", "description"}}``, flat ``{"error", "message", "code"}``,
    top-level ``{"errorCode", "description"}``; anything else is kept as text."""
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return ErrorBody(None, None)
    try:
        data = json.loads(text)
    except ValueError:
        return ErrorBody(None, _clip(text))
    if isinstance(data, dict):
        inner = data.get("error")
        if isinstance(inner, dict):
            return ErrorBody(
                _str_or_none(inner.get("errorCode") or inner.get("code")),
                _str_or_none(inner.get("description") or inner.get("message")),
            )
        code = _str_or_none(data.get("errorCode") or data.get("code"))
        description = _str_or_none(data.get("description") or data.get("message"))
        if code or description:
            return ErrorBody(code, description)
    return ErrorBody(None, _clip(text))


def error_from_response(
    status: int, content: bytes, retry_after: float | None = None
) -> StatusError:
    """Map an error status and body to the taxonomy. The code wins over the status where they
    disagree: the backend answers 400 for a rate limit and for a missing account."""
    body = parse_error_body(content)
    code = body.code
    # The backend's words go into the message: redacted here, where they enter it.
    description = redact(body.description) if body.description else None
    known = CODE_MESSAGES.get(code) if code else None
    explanation = known or description or f"The backend answered HTTP {status}."
    if code and not known and description:
        explanation = description  # unknown code: its description, verbatim
    if code:
        message = f"{explanation} ({code})"
    elif known or description:
        message = f"{explanation} (HTTP {status})"
    else:
        message = explanation  # already names the status
    if known and description and description.rstrip(".") not in known:
        message += f" — {_clip(description)}"
    args: dict[str, Any] = {"status": status, "code": code, "description": description}

    if code == RATE_LIMIT_CODE or status == 429:
        return RateLimited(message, retry_after=retry_after, **args)
    if code in AUTH_CODES or status == 401 or (status == 403 and code is None):
        return Unauthorized(message, **args)
    if code in RIGHTS_CODES or status == 403:
        return Forbidden(message, **args)
    if code in NOT_FOUND_CODES or status == 404:
        return NotFound(message, **args)
    if status >= 500:
        return ServerError(message, **args)
    if status == 409:
        return Conflict(message, **args)
    return BadRequest(message, **args)


def _str_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _clip(text: str) -> str:
    text = redact(text)
    return text if len(text) <= _MAX_DESCRIPTION else text[:_MAX_DESCRIPTION] + "…"
