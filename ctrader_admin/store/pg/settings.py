"""Where the team database is: host, port, database, user, TLS. Never the password: that lives in
the OS keyring (store/tokens.py ``TokenStore.get_team_password``) and is handed to the driver as
an argument, never put into a connection string, a file or a message."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctrader_admin.errors import ExpectedError

DEFAULT_PORT = 5432
CONNECT_TIMEOUT_SECONDS = 10
# libpq counts a connect timeout under 2 s as 2 s; over a few minutes is no longer a timeout.
CONNECT_TIMEOUT_RANGE = (2, 300)
# A server that falls silent on an open connection (packets dropped, not refused) would leave a
# query waiting for the kernel's TCP timeout (many minutes). libpq bounds it: a request the
# server's computer does not acknowledge ends the connection after TCP_USER_TIMEOUT_MS; an idle
# wait for an answer probes the server after KEEPALIVE_IDLE s, every KEEPALIVE_INTERVAL s,
# KEEPALIVE_COUNT times. A healthy server's computer acknowledges both at once, however long a
# query runs. The connection then counts as lost: the outage handling takes over.
TCP_USER_TIMEOUT_MS = 20_000
KEEPALIVE_IDLE_SECONDS = 10
KEEPALIVE_INTERVAL_SECONDS = 5
KEEPALIVE_COUNT = 2
_LOOPBACK_NAMES = frozenset({"localhost"})


class TeamSettingsError(ExpectedError):
    """Team connection settings that cannot be used; the message is meant for the operator."""


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """``tls`` False is allowed only for a server on this computer (loopback): anywhere else the
    connection is encrypted and the server's certificate verified, against ``ca_bundle`` (a PEM
    file, for a private CA) or the system's trusted authorities."""

    host: str
    database: str
    user: str
    port: int = DEFAULT_PORT
    ca_bundle: Path | None = None
    tls: bool = True
    connect_timeout: int = CONNECT_TIMEOUT_SECONDS  # seconds; a silent server is given up then

    def __post_init__(self) -> None:
        check_team_settings(self)

    @property
    def keyring_key(self) -> str:
        """The keyring entry of this connection's password (one per user per server)."""
        return f"team/{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def described(self) -> str:
        """The server in the operator's words (no secret in it)."""
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def connect_kwargs(self) -> dict[str, Any]:
        """libpq parameters, password excluded (the caller adds it as its own argument)."""
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
            "user": self.user,
            "connect_timeout": self.connect_timeout,
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
            "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
            "keepalives_count": KEEPALIVE_COUNT,
            "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
            "application_name": "ctrader-admin",
            # Never read ~/.pgpass or PG* variables' service files behind the operator's back.
            "passfile": "",
            "sslmode": "verify-full" if self.tls else "disable",
        }
        if self.tls:
            kwargs["sslrootcert"] = str(self.ca_bundle) if self.ca_bundle else "system"
        return kwargs


def check_team_settings(settings: TeamSettings) -> None:
    """The one check of team connection settings (dialog, CLI and stores alike)."""
    if not settings.host.strip():
        raise TeamSettingsError("The team database needs a server (host name or address).")
    if not 1 <= settings.port <= 65535:
        raise TeamSettingsError(f"Port {settings.port} is not a TCP port (1–65535).")
    for name, value in (("database", settings.database), ("user", settings.user)):
        if not value.strip():
            raise TeamSettingsError(f"The team database needs a {name} name.")
        if any(ch in value for ch in "\0\n\r"):
            raise TeamSettingsError(f"The {name} name contains a line break or a NUL character.")
    low, high = CONNECT_TIMEOUT_RANGE
    if not low <= settings.connect_timeout <= high:
        raise TeamSettingsError(
            f"The team database's connect timeout must be {low}–{high} seconds (it is "
            f"{settings.connect_timeout})."
        )
    if not settings.tls and not is_loopback(settings.host):
        raise TeamSettingsError(
            f"TLS can be turned off only for a server on this computer; {settings.host} is not. "
            "Keep TLS on (and set a CA bundle if the server's certificate comes from a private "
            "authority)."
        )
    if settings.ca_bundle is not None and not settings.ca_bundle.is_file():
        raise TeamSettingsError(f"The CA bundle {settings.ca_bundle} does not exist.")
