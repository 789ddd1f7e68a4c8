"""Fixtures for the ApiClient unit tests: respx only, no network, no real sleeping."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import respx

# `pytest` started as a script does not put the checkout on sys.path (CI runs `python -m pytest`
# after an editable install); make the package importable both ways.
_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from ctrader_admin.api import ApiClient, ConnectionConfig  # noqa: E402

BASE_URL = "https://broker.example:8443"
TOKEN = "tok-5f0c1e2a-unit-manager-token"
T = TypeVar("T")


class SleepRecorder:
    """Stands in for asyncio.sleep: records each delay, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def token() -> str:
    """The manager token every ``make_client``/``call`` client starts with, unless told."""
    return TOKEN


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Every request goes to respx; one that matches no route fails the test."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as mock:
        yield mock


ClientFactory = Callable[..., ApiClient]


@pytest.fixture
def make_client(router: respx.MockRouter, sleeps: SleepRecorder) -> ClientFactory:
    """``make_client(token=..., **ConnectionConfig fields)``; deterministic jitter of 0.5.

    The router is also handed in as the transport: same routes and recorded calls as through
    respx's patching, without building a TLS context (certifi) for every client."""

    def make(token: str | None = TOKEN, **config: Any) -> ApiClient:
        return ApiClient(
            ConnectionConfig(base_url=BASE_URL, **config),
            transport=httpx.MockTransport(router.async_handler),
            token=token,
            sleep=sleeps,
            jitter=lambda: 0.5,
        )

    return make


Call = Callable[..., Any]


@pytest.fixture
def call(make_client: ClientFactory) -> Call:
    """``call(lambda c: c.get_trader(7), token=...)``: one client, one coroutine, closed after.

    Tests stay synchronous (no pytest-asyncio): each call runs in its own ``asyncio.run``."""

    def run(action: Callable[[ApiClient], Awaitable[T]], **client_kwargs: Any) -> T:
        async def go() -> T:
            async with make_client(**client_kwargs) as client:
                return await action(client)

        return asyncio.run(go())

    return run
