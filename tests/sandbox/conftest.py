"""Fixtures for the sandbox tests: a small seeded sandbox with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import LIMITED_TOKEN, Api, FakeClock

from ctrader_admin.sandbox import Sandbox, SandboxConfig


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[Sandbox]:
    box = Sandbox(SandboxConfig(users=60, clock=clock))
    yield box
    box.close()


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


@pytest.fixture
def limited_api(sandbox: Sandbox) -> Api:
    return Api(sandbox, LIMITED_TOKEN)
