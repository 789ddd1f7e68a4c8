"""Sandbox-only control endpoints under /_sandbox — NOT part of Spotware's API.

For tests, benchmarks and training with the sandbox in another process: read or clear the
request log, change knobs, add cTrader Invite attributions, script the faults of the next
writes, check health. No token, no faults, no latency, not logged; the server only listens on
loopback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .config import DIALECTS, Faults, SandboxConfig
from .faults import FaultScript
from .invitations import InvitationRequestError
from .request_log import RequestLog

_KNOBS = ("latency_ms", "jitter_ms", "write_cap_per_hour", "dialect", "invite_enabled", "faults")


def control_routes(
    config: Callable[[], SandboxConfig],
    log: RequestLog,
    add_invitations: Callable[[Any], dict[str, Any]],
    script: FaultScript | None = None,
) -> list[Route]:
    faults = script or FaultScript()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def read_log(request: Request) -> Response:
        return JSONResponse({"requests": [dataclasses.asdict(e) for e in log.entries()]})

    async def clear_log(request: Request) -> Response:
        log.clear()
        return Response(status_code=204)

    async def knobs(request: Request) -> Response:
        current = config()
        if request.method == "POST":
            try:
                _apply_knobs(current, await request.json())
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(_knobs_of(current))

    async def invitations(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not valid JSON"}, status_code=400)
        try:
            return JSONResponse(add_invitations(body), status_code=201)
        except InvitationRequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)

    async def fault_script(request: Request) -> Response:
        """GET: the faults still scripted; POST ``{"writes": [...]}``: replace the script
        (see faults.FaultScript); DELETE: clear it."""
        if request.method == "DELETE":
            faults.replace([])
        elif request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                body = None
            writes = body.get("writes") if isinstance(body, dict) else None
            if not isinstance(writes, list):
                return JSONResponse({"error": 'expected {"writes": [fault, ...]}'}, status_code=400)
            try:
                faults.replace(writes)
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"writes": faults.pending()})

    return [
        Route("/_sandbox/faults/script", fault_script, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/_sandbox/log", read_log, methods=["GET"]),
        Route("/_sandbox/log", clear_log, methods=["DELETE"]),
        Route("/_sandbox/knobs", knobs, methods=["GET", "POST"]),
        Route("/_sandbox/invitations", invitations, methods=["POST"]),
    ]


def _apply_knobs(config: SandboxConfig, changes: Any) -> None:
    """Validate everything first, then apply: a bad request changes nothing."""
    if not isinstance(changes, dict):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(changes) - set(_KNOBS))
    if unknown:
        raise ValueError(f"unknown knobs {unknown}; known: {list(_KNOBS)}")
    latency = _number(changes, "latency_ms", config.latency_ms)
    jitter = _number(changes, "jitter_ms", config.jitter_ms)
    cap = changes.get("write_cap_per_hour", config.write_cap_per_hour)
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        raise ValueError("write_cap_per_hour must be null or an integer >= 0")
    dialect = config.dialect
    if "dialect" in changes:
        if changes["dialect"] not in DIALECTS:
            raise ValueError(f"dialect must be one of {sorted(DIALECTS)}")
        dialect = dataclasses.replace(DIALECTS[changes["dialect"]])
    if "invite_enabled" in changes:
        # After the dialect: "variant" + invite_enabled=true is a valid combination.
        if not isinstance(changes["invite_enabled"], bool):
            raise ValueError("invite_enabled must be true or false")
        dialect = dataclasses.replace(dialect, invite_enabled=changes["invite_enabled"])
    faults = config.faults
    if "faults" in changes:
        if not isinstance(changes["faults"], dict):
            raise ValueError("faults must be an object")
        faults = Faults(**{**dataclasses.asdict(config.faults), **changes["faults"]})
    config.latency_ms, config.jitter_ms, config.write_cap_per_hour = latency, jitter, cap
    config.dialect, config.faults = dialect, faults


def _number(changes: dict[str, Any], key: str, default: float) -> float:
    value = changes.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a number >= 0")
    return float(value)


def _knobs_of(config: SandboxConfig) -> dict[str, Any]:
    dialect_name = next(
        (
            name
            for name, dialect in DIALECTS.items()
            if dataclasses.replace(dialect, invite_enabled=config.dialect.invite_enabled)
            == config.dialect
        ),
        None,
    )
    return {
        "latency_ms": config.latency_ms,
        "jitter_ms": config.jitter_ms,
        "write_cap_per_hour": config.write_cap_per_hour,
        "dialect": dialect_name,
        "invite_enabled": config.dialect.invite_enabled,
        "dialect_settings": dataclasses.asdict(config.dialect),
        "faults": dataclasses.asdict(config.faults),
    }
