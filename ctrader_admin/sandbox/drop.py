"""The "drop" fault: a response that breaks off mid-way, so the client sees a dead connection.

ASGI has no "close the connection" message. Servers close it when the app raises after the
response has started, so the response starts, sends a fragment and raises ConnectionDropped.
uvicorn logs such exceptions with a traceback; server.py filters out this one, and the
in-process transport turns it into httpx.RemoteProtocolError.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

_PROMISED_LENGTH = 64  # more than is ever sent: the client knows the body was cut short


class ConnectionDropped(Exception):
    """Raised on purpose to make the server cut the connection."""


class DroppedConnectionResponse(Response):
    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(_PROMISED_LENGTH).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"', "more_body": True})
        raise ConnectionDropped("sandbox fault: connection dropped on purpose")
