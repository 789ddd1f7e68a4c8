"""Test connection: can this computer talk to a profile's server, and does it accept the manager?

Each failure a new connection meets has its own cause and its own fix (DNS, a firewall, TLS, the
proxy, Spotware's IP whitelist, the manager's password); the operator is told which one, in
words, with what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from ctrader_admin.api import (
    ApiClient,
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConnectionRefused,
    InvalidCredentials,
    NameNotResolved,
    NotWhitelisted,
    ProxyRefused,
    TlsFailure,
)


@dataclass(frozen=True)
class ConnectionVerdict:
    ok: bool
    headline: str  # one line: what was found
    detail: str  # what it means and what to do


# Most specific first: the headline names the cause, the message (the api's) explains it.
_CAUSES: tuple[tuple[type[ApiError], str], ...] = (
    (NameNotResolved, "Server name not found"),
    (ConnectionRefused, "Connection refused"),
    (TlsFailure, "Secure connection (TLS) failed"),
    (ProxyRefused, "Proxy refused"),
    (NotWhitelisted, "This computer is not whitelisted"),
    (ApiTimeoutError, "No answer in time"),
    (ApiConnectionError, "Could not connect"),
    (InvalidCredentials, "Wrong manager login or password"),
)


async def check_connection(
    client: ApiClient, manager_login: int | None = None, password: SecretStr | None = None
) -> ConnectionVerdict:
    """Probe the server without a token; then, with a password, log in (the token is kept on
    ``client`` only, for its caller to use or drop)."""
    try:
        await client.probe()
        if manager_login is None or password is None or not password.get_secret_value():
            return ConnectionVerdict(
                True,
                "The server answers",
                "This computer reaches the server and the server speaks the cTrader API. "
                "Give the manager password to check the log-in too.",
            )
        await client.login(manager_login, password)
    except ApiError as exc:
        headline = next(
            (text for kind, text in _CAUSES if isinstance(exc, kind)), "The server refused"
        )
        return ConnectionVerdict(False, headline, exc.message)
    return ConnectionVerdict(
        True,
        "Connected and logged in",
        f"The server accepted manager {manager_login}. This connection is ready to use.",
    )
