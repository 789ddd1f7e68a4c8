"""How the transport reaches the server: plain data, importable without the transport itself
(which the client loads only when it builds its first real connection)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr


@dataclass(frozen=True)
class Proxy:
    """An HTTP(S) proxy that tunnels every request with CONNECT. The target is always https for
    a real broker, so the proxy sees only the CONNECT line (host and port), never a URL with the
    token."""

    url: str  # http://host:port or https://host:port
    username: str | None = None
    password: SecretStr | None = None
