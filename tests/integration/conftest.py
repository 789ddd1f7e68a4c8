"""A sandbox served over real loopback sockets, shared by the integration tests of a module.

Each test chooses its dialect and faults; ``reset_knobs`` puts them back afterwards."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctrader_admin.sandbox import DIALECTS, Faults, Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import serve_in_thread
from ctrader_admin.sandbox.tls import TlsFiles, make_self_signed


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(SandboxConfig(users=200, traders_page_size=25))
    yield box
    box.close()


@pytest.fixture(scope="module")
def base_url(sandbox: Sandbox) -> Iterator[str]:
    with serve_in_thread(sandbox) as url:
        yield url


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_self_signed(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture(scope="module")
def tls_url(sandbox: Sandbox, tls_files: TlsFiles) -> Iterator[str]:
    with serve_in_thread(sandbox, tls=tls_files) as url:
        yield url


@pytest.fixture(autouse=True)
def reset_knobs(sandbox: Sandbox) -> Iterator[None]:
    config = sandbox.config
    saved = dataclasses.replace(config)
    yield
    config.dialect = saved.dialect
    config.faults = Faults()
    config.latency_ms = saved.latency_ms
    config.jitter_ms = saved.jitter_ms
    config.write_cap_per_hour = saved.write_cap_per_hour


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request: pytest.FixtureRequest, sandbox: Sandbox) -> str:
    name: str = request.param
    sandbox.config.dialect = DIALECTS[name]
    return name


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
