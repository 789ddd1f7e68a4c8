"""The network transport under ``ApiClient``'s one ``httpx.AsyncClient``: httpcore's connection
pool (or its CONNECT proxy) over an asyncio network stream that costs less CPU per request than
httpcore's default one — built only from httpx's and httpcore's public interfaces
(``httpx.AsyncBaseTransport``, ``httpcore.AsyncConnectionPool``/``AsyncHTTPProxy`` and the
documented ``httpcore.AsyncNetworkBackend``), so a new release cannot break it behind our back;
pyproject.toml pins the versions the tests prove.

Why (benchmarks/bulk_apply.py, issue #4): a bulk job keeps 16 requests in flight, and most of the
client's CPU per row went to the HTTP stack. anyio's socket stream sends a request's headers and
its body in two ``send`` calls (two TCP segments, two wake-ups of the server), wraps every read
and write in a cancel scope, and answers the pool's "is this idle connection readable?" with a
``poll`` system call. The stream here is an ``asyncio.Protocol`` that already knows, without a
system call, whether an idle connection received data or was closed by the server; a request's
writes leave together, in one ``send``, when the response is first read. TLS, timeouts and
errors behave as with httpx's own transport: the same httpcore exceptions are raised and mapped
to the same httpx exceptions.
"""

from __future__ import annotations

import asyncio
import ssl
import typing
from collections.abc import Iterable

import httpcore
import httpx

from ctrader_admin.api.transport_config import Proxy

_READ_HIGH_WATER = 256 * 1024  # stop reading from the socket while this much waits unread
_WRITE_FLUSH = 64 * 1024  # a body larger than this is sent as it comes, not gathered
# httpcore's network interface takes ``timeout`` arguments (ASYNC109 is about our own APIs).

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Protocol(asyncio.Protocol):
    """Bytes received, end of stream, and back-pressure, for one connection."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self._reader: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._paused_writing = False
        self._paused_reading = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _READ_HIGH_WATER and self.transport is not None:
            self._paused_reading = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        self._paused_writing = False
        self._wake_writer()

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        self._wake_writer()

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._paused_reading and len(self.buffer) < _READ_HIGH_WATER // 4:
            self._paused_reading = False
            if self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()
        return data

    async def wait_readable(self) -> None:
        self._reader = asyncio.get_running_loop().create_future()
        try:
            await self._reader
        finally:
            self._reader = None

    async def wait_writable(self) -> None:
        while self._paused_writing:
            self._writable = asyncio.get_running_loop().create_future()
            try:
                await self._writable
            finally:
                self._writable = None

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    def _wake_writer(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        self._flush()
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof:
            try:
                async with asyncio.timeout(timeout):
                    await protocol.wait_readable()
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out while reading") from None
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        if self._transport.is_closing():
            error = self._protocol.error
            raise httpcore.WriteError(str(error) if error else "the connection is closed")
        # Gathered until the response is read: a request's headers and body leave in one send.
        self._pending.append(buffer)
        self._pending_size += len(buffer)
        if self._pending_size >= _WRITE_FLUSH:
            self._flush()
            try:
                async with asyncio.timeout(timeout):
                    await self._protocol.wait_writable()
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out while writing") from None

    def _flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    async def aclose(self) -> None:
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.close()
            # One turn of the loop lets the transport close its socket (as anyio does), so a
            # loop that ends right after leaves no socket behind.
            await asyncio.sleep(0)
        self._transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.abort()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:  # a certificate error is an ssl.SSLError
            self._transport.abort()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # pragma: no cover - only for a transport closed meanwhile
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        self._protocol.transport = transport
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            # An idle connection that received bytes or an end of stream: the server closed it.
            return bool(self._protocol.buffer) or self._protocol.eof
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=0.25,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out while connecting") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _stream(transport, protocol, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - the app connects over TCP
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_unix_connection(_Protocol, path)
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out while connecting") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _stream(transport, protocol, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _stream(
    transport: asyncio.BaseTransport,
    protocol: _Protocol,
    socket_options: Iterable[SocketOption] | None,
) -> AsyncioStream:
    assert isinstance(transport, asyncio.Transport)
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return AsyncioStream(transport, protocol)


# httpcore's exceptions, most specific first, and the httpx exception each becomes (as httpx's
# own transport maps them), so ``ApiClient`` classifies failures the same way whatever the pool.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _as_httpx(exc: Exception) -> Exception:
    for source, target in _EXCEPTIONS:
        if isinstance(exc, source):
            mapped = target(str(exc))
            mapped.__cause__ = exc
            return mapped
    return exc


class _Body(httpx.AsyncByteStream):
    """A response body from httpcore, with its errors as httpx's."""

    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except Exception as exc:
            raise _as_httpx(exc) from exc.__cause__

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class LeanTransport(httpx.AsyncBaseTransport):
    """An HTTP/1.1 transport built only from public parts: httpcore's connection pool (or its
    CONNECT proxy) over ``AsyncioBackend``, httpcore's documented network-backend interface.

    httpx's own transport offers no way to choose the network backend; this class does the same
    small conversions it does (request in, response out, exceptions mapped)."""

    def __init__(
        self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits, proxy: Proxy | None = None
    ) -> None:
        pool_options: dict[str, typing.Any] = {
            "ssl_context": ssl_context,
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
            "http1": True,
            "http2": False,
            "network_backend": AsyncioBackend(),
        }
        self._pool: httpcore.AsyncConnectionPool
        if proxy is None:
            self._pool = httpcore.AsyncConnectionPool(**pool_options)
        else:
            proxy_url = httpx.URL(proxy.url)
            auth = None
            if proxy.username:
                secret = proxy.password.get_secret_value() if proxy.password else ""
                auth = (proxy.username.encode(), secret.encode())
            self._pool = httpcore.AsyncHTTPProxy(
                proxy_url=httpcore.URL(
                    scheme=proxy_url.raw_scheme,
                    host=proxy_url.raw_host,
                    port=proxy_url.port,
                    target=b"/",
                ),
                proxy_auth=auth,
                **pool_options,
            )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
        except Exception as exc:
            raise _as_httpx(exc) from exc
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
