"""Serving a Sandbox over real HTTP(S) on loopback, with uvicorn.

Loopback only: the sandbox is a training system with published credentials, for this machine.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from .app import Sandbox
from .drop import ConnectionDropped
from .tls import TlsFiles, make_self_signed

__all__ = ["NonLoopbackHostError", "TlsFiles", "make_self_signed", "run", "serve_in_thread"]

_START_TIMEOUT_S = 10.0


class NonLoopbackHostError(ValueError):
    """The sandbox only listens on this machine."""


class _QuietDrops(logging.Filter):
    """Drop uvicorn's traceback for the intentional "drop" fault; keep every other error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_quiet_drops = _QuietDrops()


class _Server(uvicorn.Server):
    """A uvicorn server that reports when it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._on_started()


@contextmanager
def serve_in_thread(
    sandbox: Sandbox,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: TlsFiles | None = None,
) -> Iterator[str]:
    """Serve in a daemon thread; yield the base URL once it accepts connections; stop on exit."""
    sock, url = _bind(host, port, tls)
    started = threading.Event()
    # The app's own loggers are left alone: the test (or app) that started us configures them.
    server = _Server(_uvicorn_config(sandbox, tls, log_config=None), started.set)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not started.wait(0.05):
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox server did not start on {url}")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT_S)
        sock.close()


def run(
    sandbox: Sandbox,
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    tls: TlsFiles | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until Ctrl+C (or SIGTERM); ``on_ready(base_url)`` once it accepts connections."""
    sock, url = _bind(host, port, tls)
    server = _Server(
        _uvicorn_config(sandbox, tls, log_config=uvicorn.config.LOGGING_CONFIG),
        lambda: on_ready(url) if on_ready else None,
    )
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the captured SIGINT once it has shut down cleanly
    finally:
        sock.close()


def check_loopback(host: str) -> str:
    """The address to bind for ``host``, or NonLoopbackHostError."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise NonLoopbackHostError(
            f"{host!r} is not an IP address; the sandbox listens on loopback only "
            "(127.0.0.1, ::1 or localhost)"
        ) from None
    if not address.is_loopback:
        raise NonLoopbackHostError(
            f"{host} is not a loopback address; the sandbox is for this machine only "
            "(use 127.0.0.1, ::1 or localhost)"
        )
    return str(address)


def _bind(host: str, port: int, tls: TlsFiles | None) -> tuple[socket.socket, str]:
    """Bind before starting, so the real port (for port=0) is known up front."""
    address = check_loopback(host)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    # proto=IPPROTO_TCP, not create_server's 0: only then does asyncio set TCP_NODELAY on
    # accepted connections; without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    real_port = sock.getsockname()[1]
    shown = f"[{address}]" if family == socket.AF_INET6 else address
    scheme = "https" if tls else "http"
    return sock, f"{scheme}://{shown}:{real_port}"


def _uvicorn_config(
    sandbox: Sandbox, tls: TlsFiles | None, *, log_config: dict[str, Any] | None
) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_quiet_drops)  # idempotent: same object
    return uvicorn.Config(
        sandbox.app,
        http="h11",
        ws="none",
        lifespan="off",
        log_level="warning",
        log_config=log_config,
        # uvicorn's access log would print URLs with the token; the sandbox logs its own lines.
        access_log=False,
        server_header=False,
        # A stalled request (fault injection) must not hold up shutdown for stall_seconds.
        timeout_graceful_shutdown=2,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
