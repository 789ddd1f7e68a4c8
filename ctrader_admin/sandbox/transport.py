"""An in-process httpx transport that behaves like a network: timeouts, dropped connections,
and no app exception ever reaching the client as anything but an httpx error or a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import httpx
from starlette.types import ASGIApp

from .config import Dialect
from .drop import ConnectionDropped
from .errors import Code, error_body

logger = logging.getLogger("ctrader_admin.sandbox")


class InProcessTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, dialect: Callable[[], Dialect]) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._dialect = dialect

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The whole exchange is "waiting for the answer", so the read timeout bounds it.
        timeouts = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read")
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request), read_timeout)
        except TimeoutError:
            raise httpx.ReadTimeout(
                f"The sandbox did not answer within {read_timeout} s", request=request
            ) from None
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except httpx.HTTPError:
            raise
        except Exception:
            # Defence in depth: the app answers its own errors, so this is a sandbox bug.
            logger.exception("sandbox app failed: %s %s", request.method, request.url.path)
            body = error_body(
                self._dialect().error_shape, 500, Code.UNKNOWN_ERROR, "Internal server error"
            )
            return httpx.Response(
                500,
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json"},
                request=request,
            )

    async def aclose(self) -> None:
        await self._inner.aclose()
