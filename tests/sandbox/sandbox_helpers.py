"""Helpers for the sandbox tests: the seed's showcase ids, a fake clock, and synchronous calls
through the in-process transport with a plain httpx.AsyncClient (one ``asyncio.run`` per call).

A module with a unique name rather than conftest, so that test files can import from it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

# `pytest` started as a script does not put the checkout on sys.path; make the package
# importable both ways (as tests/unit does).
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from ctrader_admin.sandbox import (  # noqa: E402
    TRAINING_MANAGERS,
    Sandbox,
    md5_hex,
    trading_password,
)

BASE_URL = "https://sandbox.local"
MAIN_TOKEN = TRAINING_MANAGERS[0].token  # sandbox_main + sandbox_eu
LIMITED_TOKEN = TRAINING_MANAGERS[1].token  # sandbox_main only
CRM = "sandbox_crm"
T = TypeVar("T")

# The fixed showcase of the seed (seed.py): the same whatever the seed.
SHOWCASE_USER = 1000001  # sandbox_main, user-level IB-1042
SHOWCASE_LIVE = 5200001  # linked to 1000001, account-level IB-2077
SHOWCASE_DEMO = 3100001  # linked to 1000001, no account-level record
SHOWCASE_UNLINKED = 5200002  # sandbox_main, not linked
EU_USER = 1000002  # sandbox_eu, AFF-EU-318 at user level and on live 5200003
EU_LIVE = 5200003
OFFLIMITS_USER = 1000003
OFFLIMITS_LIVE = 5200004


class FakeClock:
    """An injectable clock (seconds), moved by hand."""

    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def run_client(sandbox: Sandbox, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run an async scenario against the sandbox with a fresh client and event loop."""

    async def main() -> T:
        async with httpx.AsyncClient(transport=sandbox.transport(), base_url=BASE_URL) as client:
            return await scenario(client)

    return asyncio.run(main())


class Api:
    """Synchronous one-call helpers over ``run_client``; the token goes where the API wants it."""

    def __init__(self, sandbox: Sandbox, token: str | None = MAIN_TOKEN) -> None:
        self.sandbox = sandbox
        self.token = token

    def as_token(self, token: str | None) -> Api:
        return Api(self.sandbox, token)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> httpx.Response:
        params = dict(params or {})
        if self.token is not None and not path.startswith("/v1/"):
            params.setdefault("token", self.token)

        async def call(client: httpx.AsyncClient) -> httpx.Response:
            return await client.request(
                method, path, params=params, json=json, timeout=timeout, **kwargs
            )

        return run_client(self.sandbox, call)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    # --- the calls most tests make -------------------------------------------------------------

    def put_referral(self, partner_id: str, **target: int) -> httpx.Response:
        return self.put(
            "/cid/oauth2/ctid/referral",
            {"brokerCrmName": CRM, "partnerId": partner_id, **target},
        )

    def get_referral(self, **target: int) -> httpx.Response:
        return self.get("/cid/oauth2/ctid/referral", params={"brokerCrmName": CRM, **target})

    def delete_referral(self, **target: int) -> httpx.Response:
        return self.delete("/cid/oauth2/ctid/referral", params={"brokerCrmName": CRM, **target})

    def link(self, login: int, user_id: int, **overrides: Any) -> httpx.Response:
        trader = self.sandbox.trader(login)
        assert trader is not None
        body = {
            "traderLogin": login,
            "traderPasswordHash": md5_hex(trading_password(login)),
            "userId": user_id,
            "brokerName": trader["brokerName"],
            "environmentName": "live" if login >= 5_200_000 else "demo",
            "returnAccountDetails": True,
            **overrides,
        }
        return self.post("/cid/ctid/link", body)


def error_of(response: httpx.Response) -> tuple[int, str]:
    """(status, errorCode) of a default-dialect (nested) error response."""
    return response.status_code, response.json()["error"]["errorCode"]
