"""One request's way through the sandbox, the same for every Spotware endpoint:

latency -> (Invite enabled?) -> token -> hourly write cap -> injected fault -> body -> handler,
then the request log. The order mirrors a real gateway: refusals that cost nothing come first,
and a rate-limited write is never counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .calls import Call, Reply
from .config import Dialect, SandboxConfig
from .drop import DroppedConnectionResponse
from .errors import ApiError, Code, error_body, invalid
from .faults import FaultDice, FaultScript
from .records import Manager
from .request_log import FaultName, LoggedRequest, RequestLog, masked_body, masked_query
from .routes import Endpoint
from .storage import Storage, Tx
from .write_limit import admit_write, rate_limit_refusal

logger = logging.getLogger("ctrader_admin.sandbox")
# One line per request, for `ctrader-admin sandbox` without --quiet.
request_logger = logging.getLogger("ctrader_admin.sandbox.requests")

_JSON = "application/json"
_MAX_BODY_BYTES = 1_048_576
_SCRIPTED_RETRY_AFTER_S = 1.0


@dataclass
class _Outcome:
    """What the log will say; filled in as the request progresses (status 0 = not answered)."""

    status: int = 0
    error_code: str | None = None
    fault: FaultName | None = None
    applied: bool = False


class Pipeline:
    def __init__(
        self,
        config: Callable[[], SandboxConfig],
        storage: Storage,
        log: RequestLog,
        seed: int,
        script: FaultScript | None = None,
    ) -> None:
        self._config = config
        self._storage = storage
        self._log = log
        self._dice = FaultDice(seed, script)
        # Separate from the fault stream, so latency settings never change which faults strike.
        self._jitter = random.Random(seed + 1)

    def endpoint(self, spec: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            return await self.serve(spec, request)

        return serve

    async def serve(self, spec: Endpoint, request: Request) -> Response:
        config = self._config()
        seq = self._log.next_seq()
        at = config.clock()
        raw = await request.body()
        query = dict(request.query_params)
        outcome = _Outcome()
        try:
            return await self._run(spec, request, raw, query, at, config, outcome)
        finally:
            # Also on cancellation (an in-process client that timed out): it still arrived.
            entry = LoggedRequest(
                seq=seq,
                at=at,
                method=request.method,
                path=request.scope["path"],
                query=masked_query(query),
                body=masked_body(raw),
                status=outcome.status,
                error_code=outcome.error_code,
                fault=outcome.fault,
                applied=outcome.applied,
            )
            self._log.add(entry)
            if request_logger.isEnabledFor(logging.INFO):
                request_logger.info("%s", _describe(entry))

    async def _run(
        self,
        spec: Endpoint,
        request: Request,
        raw: bytes,
        query: dict[str, str],
        at: float,
        config: SandboxConfig,
        outcome: _Outcome,
    ) -> Response:
        await self._sleep_latency(config)
        if config.refuse_as_not_whitelisted:
            outcome.status = 403
            return Response("Forbidden", status_code=403, media_type="text/plain")
        dialect = config.dialect
        fault: FaultName | None = None
        try:
            if spec.invite and not dialect.invite_enabled:
                raise ApiError(404, Code.NOT_FOUND, "cTrader Invite is not enabled for this broker")
            manager = self._admit(spec, request, query, at, config)
            if spec.guarded:
                fault = self._dice.draw(config.faults, is_write=spec.is_write)
            outcome.fault = fault
            if fault == "error":
                raise ApiError(500, Code.UNKNOWN_ERROR, "Internal server error (injected fault)")
            if fault == "drop":
                return DroppedConnectionResponse()
            if fault == "rate_limited":  # only ever scripted: the cap refuses on its own
                raise rate_limit_refusal(dialect, _SCRIPTED_RETRY_AFTER_S)
            if fault == "stall_before":
                await asyncio.sleep(config.faults.stall_seconds)
                if await request.is_disconnected():
                    return Response()  # the client gave up: nothing is processed
            reply = self._handle(
                spec, request, raw, query, manager, config, discard=fault == "ignored"
            )
            outcome.applied = reply.applied
            response = _render(reply)
        except ApiError as error:
            if error.code == Code.REQUEST_FREQUENCY_EXCEEDED:
                outcome.fault = "rate_limited"
            outcome.error_code = error.code
            response = _error_response(dialect, error)
        if fault == "stall_after":
            await asyncio.sleep(config.faults.stall_seconds)
            if await request.is_disconnected():
                return response  # nobody is listening any more: answered nothing
        outcome.status = response.status_code
        return response

    def _admit(
        self,
        spec: Endpoint,
        request: Request,
        query: Mapping[str, str],
        at: float,
        config: SandboxConfig,
    ) -> Manager | None:
        """Authenticate, then count the write against the hourly cap (one short transaction)."""
        if spec.auth == "none":
            return None
        token = query.get("token") if spec.auth == "query" else _bearer(request)
        with self._storage.transaction() as tx:
            manager = tx.manager_by_token(token) if token else None
            if manager is None:
                raise ApiError(
                    config.dialect.auth_failure_status,
                    Code.CH_CLIENT_AUTH_FAILURE,
                    "Token is missing or invalid",
                )
            if spec.is_write:
                admit_write(tx, config.write_cap_per_hour, at, config.dialect)
        return manager

    def _handle(
        self,
        spec: Endpoint,
        request: Request,
        raw: bytes,
        query: Mapping[str, str],
        manager: Manager | None,
        config: SandboxConfig,
        *,
        discard: bool = False,
    ) -> Reply:
        """Run the handler in one transaction; ``discard``: answer what it answers, but roll its
        changes back (the "ignored" fault)."""
        body = _json_object(raw, request.headers.get("content-type")) if spec.takes_body else {}
        try:
            with self._storage.transaction() as tx:
                reply = spec.handler(self._call(tx, manager, query, body, request, config))
                if discard:
                    raise _Discarded(dataclasses.replace(reply, applied=False))
                return reply
        except _Discarded as discarded:
            return discarded.reply
        except ApiError:
            raise
        except Exception:
            # A sandbox bug must look like a server error to the client, never crash it.
            logger.exception("sandbox handler failed: %s %s", request.method, request.url.path)
            raise ApiError(500, Code.UNKNOWN_ERROR, "Internal server error") from None

    @staticmethod
    def _call(
        tx: Tx,
        manager: Manager | None,
        query: Mapping[str, str],
        body: Mapping[str, Any],
        request: Request,
        config: SandboxConfig,
    ) -> Call:
        return Call(
            tx=tx,
            manager=manager,
            query=query,
            body=body,
            path_params=request.path_params,
            dialect=config.dialect,
            now_ms=int(config.clock() * 1000),
            traders_page_size=config.traders_page_size,
        )

    async def _sleep_latency(self, config: SandboxConfig) -> None:
        delay_ms = config.latency_ms
        if config.jitter_ms > 0:
            delay_ms += self._jitter.uniform(0.0, config.jitter_ms)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)


class _Discarded(Exception):
    """Leaves a handler's transaction so that it rolls back, carrying the reply it made."""

    def __init__(self, reply: Reply) -> None:
        super().__init__("discarded")
        self.reply = reply


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def _json_object(raw: bytes, content_type: str | None) -> dict[str, Any]:
    if not raw.strip():
        raise invalid("a JSON request body is required")
    if len(raw) > _MAX_BODY_BYTES:
        raise invalid(f"the request body is larger than {_MAX_BODY_BYTES} bytes")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != _JSON:
        raise invalid("the request body must be JSON (Content-Type: application/json)")
    try:
        value = json.loads(raw)
    except ValueError:
        raise invalid("the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise invalid("the request body must be a JSON object")
    return value


def _render(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=dict(reply.headers))
    return _json_response(reply.status, reply.body, reply.headers)


def _error_response(dialect: Dialect, error: ApiError) -> Response:
    body = error_body(dialect.error_shape, error.status, error.code, error.description)
    return _json_response(error.status, body, error.headers)


def _json_response(status: int, body: Any, headers: Mapping[str, str]) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status_code=status, headers=dict(headers), media_type=_JSON)


def _describe(entry: LoggedRequest) -> str:
    query = "&".join(f"{k}={v}" for k, v in entry.query.items())
    target = f"{entry.path}?{query}" if query else entry.path
    extras = " ".join(x for x in (entry.error_code, entry.fault and f"[{entry.fault}]") if x)
    return f"{entry.method} {target} -> {entry.status or 'no answer'} {extras}".rstrip()
