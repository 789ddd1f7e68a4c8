"""``ApiClient``: the one object that talks to a cTrader broker backend (docs/design.md rule 1).

One instance per connection owns the only ``httpx.AsyncClient``. The transport is injectable:
the real network, the in-process sandbox, or respx in tests: all take the same code path.

Size (~650 lines): one short method per endpoint of the broker API, so every call has one
place; the transport, the retry rule and the error codes live apart (transport.py, retry.py,
errors.py).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import socket
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from ctrader_admin import __version__
from ctrader_admin.api.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConfigurationError,
    ConnectionRefused,
    InvalidCredentials,
    InviteNotEnabled,
    NameNotResolved,
    NotFound,
    NotLoggedIn,
    NotWhitelisted,
    OutcomeUnknown,
    ProxyRefused,
    RateLimited,
    ResponseValidationError,
    ServerError,
    StatusError,
    TlsFailure,
    Unauthorized,
    error_from_response,
)
from ctrader_admin.api.models import (
    ChangeWhiteLabelRequest,
    ChangeWhiteLabelResult,
    CreateCtidRequest,
    CreateCtidResult,
    CtidUser,
    DeleteReferralRequest,
    InvitedUser,
    InvitedUsersCursor,
    InvitedUsersPage,
    InvitedUsersResponse,
    InviteUser,
    LinkAccountRequest,
    LinkResult,
    ManagerCredentials,
    Referral,
    ReferralQuery,
    SetReferralRequest,
    TokenResponse,
    Trader,
    TraderListQuery,
    TraderPage,
    UsersPage,
    UsersQuery,
)
from ctrader_admin.api.retry import (
    DEFAULT_POLICY,
    Failure,
    RetryPolicy,
    may_have_applied,
    retry_delay,
)
from ctrader_admin.api.transport_config import Proxy
from ctrader_admin.log_redaction import install_log_redaction
from ctrader_admin.redaction import redact, register_secret

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
M = TypeVar("M", bound=BaseModel)
Auth = Literal["query", "bearer", "none"]


@dataclass(frozen=True)
class ConnectionConfig:
    """How to reach one backend. ``timeout`` bounds each read; ``connect_timeout`` the connect."""

    base_url: str
    ca_bundle: Path | None = None
    timeout: float = 20.0
    connect_timeout: float = 5.0
    retry: RetryPolicy = DEFAULT_POLICY
    max_connections: int = 64
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    # None: straight to the server. Never taken from the environment (HTTPS_PROXY etc.).
    proxy: Proxy | None = None


class ApiClient:
    def __init__(
        self,
        config: ConnectionConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        install_log_redaction()
        self._config = config
        self._sleep = sleep
        self._jitter = jitter
        self._token: str | None = None
        self.token = token
        try:
            base = httpx.URL(config.base_url)
        except httpx.InvalidURL as exc:
            raise ConfigurationError(
                f"The server address is not a valid URL: {redact(str(exc))}"
            ) from None
        if base.scheme not in ("https", "http") or not base.host:
            raise ConfigurationError("The server address must look like https://host:port.")
        verify = _tls_verify(config.ca_bundle)
        limits = httpx.Limits(
            max_connections=config.max_connections,
            max_keepalive_connections=config.max_connections,
        )
        if transport is None:
            # httpcore's pool on a leaner socket stream (api/transport.py): a bulk job's 16
            # requests in flight cost the client a third less CPU each.
            from ctrader_admin.api.transport import LeanTransport

            if config.proxy is not None:
                register_secret(
                    config.proxy.password.get_secret_value() if config.proxy.password else None
                )
            transport = LeanTransport(
                ssl_context=verify
                if isinstance(verify, ssl.SSLContext)
                else httpx.create_ssl_context(trust_env=False),
                limits=limits,
                proxy=config.proxy,
            )
        self._http = httpx.AsyncClient(
            base_url=base,
            transport=transport,
            verify=verify,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            limits=limits,
            headers={
                "User-Agent": f"ctrader-admin/{__version__}",
                "Accept": "application/json",
                **config.extra_headers,
            },
            # Proxies from the environment would see the token in the URL; no redirects either.
            trust_env=False,
            follow_redirects=False,
        )
        # The request URLs start with this; each is parsed once, not merged with the base.
        self._prefix = str(self._http.base_url).rstrip("/")

    # --- session -------------------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        register_secret(value)
        self._token = value

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def __repr__(self) -> str:
        state = "logged in" if self._token else "no token"
        return f"ApiClient({self.base_url!r}, {state})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def login(self, manager_login: int, password: str | SecretStr) -> str:
        """Exchange the manager login and password for the manager token (``webservToken``).

        Only the password's MD5 is sent; the token is kept on this client and returned so that
        the caller can put it in the keyring."""
        secret = password if isinstance(password, SecretStr) else SecretStr(password)
        register_secret(secret.get_secret_value())
        credentials = ManagerCredentials(login=manager_login, password=secret)
        register_secret(credentials.wire()["hashedPassword"])
        try:
            response = await self._send(
                "POST", "/v2/webserv/managers/token", body=credentials.wire(), auth="none"
            )
        except Unauthorized as exc:
            raise InvalidCredentials(
                "The manager login or password is wrong.", detail=exc.message
            ) from None
        except StatusError as exc:
            if exc.status in (400, 403) and exc.code in (None, "WRONG_PASSWORD", "INVALID_REQUEST"):
                raise InvalidCredentials(
                    "The manager login or password is wrong.", detail=exc.message
                ) from None
            raise
        token = _parse(TokenResponse, _json(response)).webserv_token
        self.token = token
        return token

    async def probe(self) -> None:
        """One request without a token: does the server answer this computer at all?

        A refusal with a cTrader error code (token missing) proves the server is reachable and
        speaks the API; a bare 403 is a gateway refusing this computer's IP address. Connection
        failures raise their own classes (``NameNotResolved``, ``TlsFailure`` …)."""
        try:
            await self._send(
                "GET",
                "/cid/oauth2/ctid/referral",
                params={"brokerCrmName": "connection-test", "userId": 1},
                auth="none",
            )
        except StatusError as exc:
            if exc.status == 403 and exc.code is None:
                raise NotWhitelisted(
                    "The server refused this computer (HTTP 403 without an error code): its IP "
                    "address is probably not whitelisted. Ask Spotware to whitelist it, or use "
                    "the broker's proxy.",
                    detail=exc.message,
                ) from None
            if exc.needs_login or exc.status in (400, 404):
                return  # the API answered, as it does to any request without a token
            raise

    # --- cTID users and links ------------------------------------------------------------------

    async def create_ctid(self, request: CreateCtidRequest) -> CreateCtidResult:
        """``POST /cid/ctid/create``: a get-or-create. ``created`` is False when the email
        belonged to an existing user (the backend then answers only its userId)."""
        response = await self._send("POST", "/cid/ctid/create", body=request.wire())
        data = _json(response)
        user = _parse(CtidUser, data)
        created = isinstance(data, dict) and any(
            key in data for key in ("nickname", "status", "utcCreateTimestamp", "email")
        )
        return CreateCtidResult(user=user, created=created)

    async def link_account(self, request: LinkAccountRequest) -> LinkResult:
        """``POST /cid/ctid/link``: link a trading account to a cTID user."""
        register_secret(request.trader_password_hash)
        response = await self._send("POST", "/cid/ctid/link", body=request.wire())
        data = _json(response)
        return LinkResult() if data is None else _parse(LinkResult, data)

    async def change_white_label(self, request: ChangeWhiteLabelRequest) -> ChangeWhiteLabelResult:
        """``POST /cid/ctid/changeCtidTraderAccount``: move an account to another White Label.
        The backend documents no output; read the account back to see the result."""
        response = await self._send(
            "POST", "/cid/ctid/changeCtidTraderAccount", body=request.wire()
        )
        data = _json(response)
        return ChangeWhiteLabelResult() if data is None else _parse(ChangeWhiteLabelResult, data)

    # --- partner attribution -------------------------------------------------------------------

    async def set_referral(self, request: SetReferralRequest) -> None:
        """``PUT /cid/oauth2/ctid/referral``. Overwrites any existing value (docs/sandbox.md)."""
        await self._send("PUT", "/cid/oauth2/ctid/referral", body=request.wire())

    async def get_referral(self, query: ReferralQuery) -> Referral | None:
        """``GET /cid/oauth2/ctid/referral``; None when no partnerId is recorded there.
        Accepts one object, an array of records, an empty body and a 404 (docs/sandbox.md)."""
        try:
            response = await self._send("GET", "/cid/oauth2/ctid/referral", params=query.wire())
        except NotFound as exc:
            if exc.code in (None, "REFERRAL_NOT_FOUND"):
                return None
            raise
        data = _json(response)
        if data is None:
            return None
        in_list = isinstance(data, list)
        records = data if in_list else [data]
        for raw in records:
            record = _parse(Referral, raw)
            if _referral_matches(record, query, in_list=in_list):
                return record
        return None

    async def delete_referral(self, request: DeleteReferralRequest) -> None:
        """``DELETE /cid/oauth2/ctid/referral``. A record that is already gone is not an error."""
        try:
            await self._send("DELETE", "/cid/oauth2/ctid/referral", params=request.wire())
        except NotFound as exc:
            if exc.code not in (None, "REFERRAL_NOT_FOUND"):
                raise

    # --- trading accounts ----------------------------------------------------------------------

    async def get_trader(self, login: int) -> Trader:
        """``GET /v2/webserv/traders/{login}``."""
        if login <= 0:
            raise ValueError("login must be a positive integer")
        response = await self._send("GET", f"/v2/webserv/traders/{login}")
        return _parse(Trader, _json(response))

    async def iter_traders(self, query: TraderListQuery) -> AsyncIterator[Trader]:
        """``GET /v2/webserv/traders`` over a registration window, following ``hasMore``."""
        current = query
        while True:
            response = await self._send("GET", "/v2/webserv/traders", params=current.wire())
            page = _parse(TraderPage, _json(response))
            for trader in page.trader:
                yield trader
            stamps = [t.registration_timestamp for t in page.trader if t.registration_timestamp]
            if not page.has_more or not stamps:
                return
            earliest = datetime.fromtimestamp(min(stamps) / 1000, tz=UTC)
            if earliest >= current.to or earliest <= current.from_:
                return  # the next window would be empty, or the server is not making progress
            current = current.model_copy(update={"to": earliest})

    async def list_traders(self, query: TraderListQuery) -> list[Trader]:
        return [trader async for trader in self.iter_traders(query)]

    # --- cTrader Invite user list --------------------------------------------------------------

    async def list_users(self, query: UsersQuery) -> list[InviteUser]:
        """One page of ``GET /v1/users`` (Bearer auth). NotFound means Invite is not enabled."""
        response = await self._send("GET", "/v1/users", params=query.wire(), auth="bearer")
        return _parse(UsersPage, _json(response)).users

    async def iter_users(
        self, created_from: int = 0, page_size: int = 1000
    ) -> AsyncIterator[InviteUser]:
        skip = 0
        while True:
            page = await self.list_users(
                UsersQuery(created_from=created_from, limit=page_size, skip=skip)
            )
            for user in page:
                yield user
            if len(page) < page_size:
                return
            skip += len(page)

    # --- cTrader Invite attributions ----------------------------------------------------------

    async def list_invited_users(
        self, created_from: datetime | int = 0, limit: int = 1000, skip: int = 0
    ) -> list[InvitedUser]:
        """One page of ``GET /v1/social/invitedUsers`` (Bearer auth), oldest first.

        ``created_from``: an aware datetime or epoch ms, inclusive. Raises InviteNotEnabled on
        404, when Spotware has not enabled Invite for this broker."""
        if isinstance(created_from, datetime):
            if created_from.tzinfo is None:
                raise ValueError("created_from must be timezone-aware (UTC)")
            # Integer arithmetic: a float timestamp could land one millisecond off.
            created_from = (created_from - _EPOCH) // timedelta(milliseconds=1)
        # The same three paging parameters as /v1/users, validated the same way.
        query = UsersQuery(created_from=created_from, limit=limit, skip=skip)
        try:
            response = await self._send(
                "GET", "/v1/social/invitedUsers", params=query.wire(), auth="bearer"
            )
        except NotFound as exc:
            raise InviteNotEnabled(
                "cTrader Invite is not enabled for this broker (HTTP 404 on "
                "/v1/social/invitedUsers): attributions come from the other sources only.",
                status=exc.status,
                code=exc.code,
                description=exc.description,
            ) from exc
        return _parse(InvitedUsersResponse, _json(response)).invited_users

    async def iter_invited_user_pages(
        self, cursor: InvitedUsersCursor | None = None, *, page_size: int = 1000
    ) -> AsyncGenerator[InvitedUsersPage, None]:
        """Everything from ``cursor`` on, page by page, each with the cursor to resume from
        once it is stored. Ends with a short (possibly empty) page marked ``last``."""
        current = cursor or InvitedUsersCursor()
        while True:
            rows = await self.list_invited_users(current.created_from, page_size, current.skip)
            current = current.after(rows)
            last = len(rows) < page_size
            yield InvitedUsersPage(rows=tuple(rows), cursor=current, last=last)
            if last:
                return

    # --- transport -----------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        auth: Auth = "query",
    ) -> httpx.Response:
        """Send one request with the retry policy; return a 2xx response or raise an ApiError."""
        query = dict(params or {})
        headers: dict[str, str] = {}
        if auth != "none":
            if not self._token:
                raise NotLoggedIn("Not logged in: log in to this connection first.")
            if auth == "query":
                query["token"] = self._token
            else:
                headers["Authorization"] = f"Bearer {self._token}"
        what = f"{method} {path}"
        # One absolute URL, parsed once: httpx would parse it three times (merge with the base
        # URL, then with the parameters), a tenth of the client's CPU per request.
        url = httpx.URL(
            f"{self._prefix}{path}?{httpx.QueryParams(query)}" if query else self._prefix + path
        )
        attempt = 0
        # The first try of this write that may have been applied (sent, answer lost): whatever
        # the later tries answer, only a success can settle it.
        first_unanswered: int | None = None
        while True:
            attempt += 1
            started = time.perf_counter()
            error: ApiError
            retry_after: float | None = None
            try:
                response = await self._http.request(method, url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                failure, error = _transport_failure(exc, method, what, self._config)
            else:
                elapsed_ms = (time.perf_counter() - started) * 1000
                log.debug("%s -> %s in %.0f ms", what, response.status_code, elapsed_ms)
                if response.is_success:
                    return response
                retry_after = _retry_after(response.headers.get("Retry-After"))
                error = error_from_response(response.status_code, response.content, retry_after)
                failure = (
                    Failure.RATE_LIMITED
                    if isinstance(error, RateLimited)
                    else Failure.SERVER
                    if isinstance(error, ServerError)
                    else Failure.OTHER
                )
            if first_unanswered is None and may_have_applied(method, failure):
                first_unanswered = attempt
            delay = retry_delay(
                self._config.retry,
                method=method,
                attempt=attempt,
                failure=failure,
                retry_after=retry_after,
                jitter=self._jitter(),
            )
            if delay is None:
                raise _final(error, method, what, first_unanswered, attempt)
            log.info("%s failed (%s); retry %d in %.2f s", what, error.message, attempt, delay)
            await self._sleep(delay)


def _transport_failure(
    exc: httpx.HTTPError, method: str, what: str, config: ConnectionConfig
) -> tuple[Failure, ApiError]:
    """Classify an httpx exception; the new error carries only redacted text."""
    detail = redact(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, httpx.ProxyError):
        return Failure.OTHER, ProxyRefused(
            f"The proxy refused to connect to the server ({_reason(exc)}). Check the proxy "
            "address, user name and password on this connection. Nothing was sent.",
            detail=detail,
        )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return _connect_failure(exc, detail, config)
    if isinstance(exc, httpx.TimeoutException):
        return Failure.TIMEOUT, ApiTimeoutError(
            f"The server did not answer within {config.timeout:g} s ({what}).", detail=detail
        )
    if isinstance(exc, httpx.TransportError):
        return Failure.DROPPED, ApiConnectionError(
            f"The connection was lost before the server answered ({what}).", detail=detail
        )
    return Failure.OTHER, ConfigurationError(
        f"The request could not be made: {_reason(exc)}", detail=detail
    )


def _connect_failure(
    exc: httpx.HTTPError, detail: str, config: ConnectionConfig
) -> tuple[Failure, ApiError]:
    """Why no connection could be made, from the OS error under httpx's (Test connection tells
    these apart). Nothing was sent in any of these cases."""
    causes = _causes(exc)
    host = httpx.URL(config.proxy.url if config.proxy else config.base_url).host
    if any(isinstance(c, ssl.SSLError) for c in causes) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return Failure.OTHER, TlsFailure(
            "The server's TLS certificate could not be verified, or the server does not speak "
            "TLS. If the broker uses its own certificate authority, set the CA bundle on this "
            "connection. Nothing was sent.",
            detail=detail,
        )
    if config.proxy is not None and not isinstance(exc, httpx.PoolTimeout):
        return Failure.CONNECT, ProxyRefused(
            f"Could not connect to the proxy {host} ({_reason(exc)}). Nothing was sent.",
            detail=detail,
        )
    if any(isinstance(c, socket.gaierror) for c in causes):
        return Failure.CONNECT, NameNotResolved(
            f"The server name {host} could not be found (DNS). Check the server address. "
            "Nothing was sent.",
            detail=detail,
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return Failure.CONNECT, ConnectionRefused(
            f"{host} refused the connection: nothing listens at that address and port. "
            "Nothing was sent.",
            detail=detail,
        )
    return Failure.CONNECT, ApiConnectionError(
        f"Could not connect to the server ({_reason(exc)}). Nothing was sent.", detail=detail
    )


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _final(
    error: ApiError, method: str, what: str, first_unanswered: int | None, attempt: int
) -> ApiError:
    """A write whose answer was lost on any try may have been applied: say so, never "failed",
    whatever the last try answered."""
    if first_unanswered is None:
        return error
    check = (
        "Read the target back before trying again."
        if method == "POST"
        else "This change is safe to send again."
    )
    if first_unanswered == attempt:
        message = f"No answer to {what}: the change may or may not have been applied. {check}"
        return OutcomeUnknown(message, what_to_check=check, detail=error.detail)
    message = (
        f"No answer to {what} on try {first_unanswered}, and try {attempt} failed "
        f"({error.message.rstrip('.')}): the change may or may not have been applied. {check}"
    )
    return OutcomeUnknown(message, what_to_check=check, detail=error.detail, last_error=error)


def _reason(exc: Exception) -> str:
    text = redact(str(exc)) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "…"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # neither seconds nor an HTTP date: as if the header were absent
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return max(0.0, (parsed - datetime.now(UTC)).total_seconds())


def _tls_verify(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    if ca_bundle is None:
        return True
    path = Path(ca_bundle).expanduser()
    if not path.is_file():
        raise ConfigurationError(f"The CA bundle file {path} does not exist or is not a file.")
    context = httpx.create_ssl_context()
    try:
        context.load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError) as exc:
        raise ConfigurationError(
            f"The CA bundle file {path} is not a readable PEM certificate bundle "
            f"({redact(str(exc))})."
        ) from None
    return context


def _json(response: httpx.Response) -> Any:
    """The decoded JSON body, or None for an empty body."""
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        snippet = redact(response.text[:200])
        raise ResponseValidationError(
            f"The server answered HTTP {response.status_code} with a body that is not JSON.",
            detail=snippet,
        ) from None


def _parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise ResponseValidationError(
            f"The server's answer could not be understood ({model.__name__}).", detail=problems
        ) from None


def _referral_matches(record: Referral, query: ReferralQuery, *, in_list: bool) -> bool:
    if query.ctid_trader_account_id is not None:
        if record.ctid_trader_account_id == query.ctid_trader_account_id:
            return True
        # A lone object may omit the id it was asked for; in an array, a record without one is
        # the user-level record, not this account's.
        return not in_list and record.ctid_trader_account_id is None
    # user level: the record without an account (an array may list the user's links too)
    return record.ctid_trader_account_id is None and record.user_id in (None, query.user_id)


__all__ = ["ApiClient", "ConnectionConfig"]
