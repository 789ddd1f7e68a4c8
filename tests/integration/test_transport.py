"""ApiClient's own transport (api/transport.py) against a bare HTTP/1.1 server on loopback:
connections are reused, an idle connection the server closed is not used again, a request's
headers and body arrive together, and concurrent requests each get a connection of their own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ctrader_admin.api import ApiClient, ConnectionConfig, ReferralQuery, SetReferralRequest

T = TypeVar("T")
TOKEN = "tok-transport-test-0123456789"


@dataclass
class Server:
    """Answers every request with 200 and a small JSON body; records what it saw."""

    close_after_each: bool = False
    delay: float = 0.0
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    first_chunks: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.first_chunks.append(head + bytes(reader._buffer))
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                if self.delay:
                    await asyncio.sleep(self.delay)
                payload = json.dumps({"userId": 1, "partnerId": "P-1"}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                if self.close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def run(server: Server, work: Callable[[ApiClient], Awaitable[T]]) -> T:
    async def main() -> T:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        client = ApiClient(ConnectionConfig(f"http://127.0.0.1:{port}", timeout=5), token=TOKEN)
        try:
            return await work(client)
        finally:
            await client.aclose()
            listener.close()
            await listener.wait_closed()

    return asyncio.run(main())


QUERY = ReferralQuery(broker_crm_name="crm", user_id=1)


def test_sequential_requests_reuse_one_connection() -> None:
    server = Server()

    async def work(client: ApiClient) -> None:
        for _ in range(10):
            record = await client.get_referral(QUERY)
            assert record is not None
            assert record.partner_id == "P-1"

    run(server, work)
    assert len(server.requests) == 10
    assert server.connections == 1
    assert b"token=" + TOKEN.encode() in server.requests[0]


def test_an_idle_connection_the_server_closed_is_not_used_again() -> None:
    server = Server(close_after_each=True)

    async def work(client: ApiClient) -> None:
        for _ in range(5):
            await client.get_referral(QUERY)
            await asyncio.sleep(0.05)  # the server's close arrives while the connection idles

    run(server, work)
    assert len(server.requests) == 5
    assert server.connections == 5


def test_a_write_arrives_as_one_piece() -> None:
    server = Server()
    request = SetReferralRequest(broker_crm_name="crm", user_id=1, partner_id="IB-7")

    async def work(client: ApiClient) -> None:
        await client.set_referral(request)

    run(server, work)
    (seen,) = server.requests
    assert seen.startswith(b"PUT /cid/oauth2/ctid/referral?")
    assert seen.endswith(b'"partnerId":"IB-7"}')
    # Headers and body were sent together: the server's first read held the whole request.
    assert server.first_chunks[0] == seen


def test_concurrent_requests_get_a_connection_each_and_keep_them() -> None:
    server = Server(delay=0.05)

    async def work(client: ApiClient) -> None:
        for _ in range(3):
            await asyncio.gather(*(client.get_referral(QUERY) for _ in range(8)))

    run(server, work)
    assert len(server.requests) == 24
    assert server.connections == 8
