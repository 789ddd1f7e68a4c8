"""Test connection over real loopback sockets: each cause a new connection meets is told apart,
and a proxy (proxy.py, a real HTTP proxy from PyPI) carries the requests without seeing them."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from ctrader_admin.api import ApiClient, ConnectionConfig, Proxy, ReferralQuery
from ctrader_admin.sandbox import BROKER_CRM_NAME, TRAINING_MANAGERS, Sandbox
from ctrader_admin.sandbox.tls import TlsFiles
from ctrader_admin.services.connection_check import ConnectionVerdict, check_connection

FULL = TRAINING_MANAGERS[0]
PROXY_USER, PROXY_PASSWORD = "agent", "proxy-secret-7731"


def check(config: ConnectionConfig, password: str | None = None) -> ConnectionVerdict:
    async def main() -> ConnectionVerdict:
        async with ApiClient(config) as client:
            secret = SecretStr(password) if password is not None else None
            return await check_connection(client, FULL.login, secret)

    return asyncio.run(main())


def test_a_reachable_server_answers_and_the_manager_logs_in(base_url: str) -> None:
    config = ConnectionConfig(base_url=base_url, timeout=5)
    assert check(config) == ConnectionVerdict(
        True,
        "The server answers",
        "This computer reaches the server and the server speaks the cTrader API. "
        "Give the manager password to check the log-in too.",
    )
    assert check(config, FULL.password).headline == "Connected and logged in"
    wrong = check(config, "not-the-password")
    assert (wrong.ok, wrong.headline) == (False, "Wrong manager login or password")
    assert wrong.detail == "The manager login or password is wrong."


def test_nothing_listening_is_connection_refused(unused_tcp_port: int) -> None:
    verdict = check(ConnectionConfig(base_url=f"http://127.0.0.1:{unused_tcp_port}", timeout=5))
    assert (verdict.ok, verdict.headline) == (False, "Connection refused")
    assert "nothing listens at that address and port" in verdict.detail


def test_an_unknown_host_name_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    # No DNS query leaves the machine: the resolver answers as it does for an unknown name.
    def no_such_name(host: str, *args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    verdict = check(ConnectionConfig(base_url="https://live-nosuch.example:8443", timeout=5))
    assert (verdict.ok, verdict.headline) == (False, "Server name not found")
    assert "live-nosuch.example could not be found" in verdict.detail


def test_a_certificate_nobody_vouches_for_is_a_tls_failure(tls_url: str) -> None:
    verdict = check(ConnectionConfig(base_url=tls_url, timeout=5))
    assert (verdict.ok, verdict.headline) == (False, "Secure connection (TLS) failed")
    assert "CA bundle" in verdict.detail


def test_a_gateway_that_refuses_the_ip_is_not_whitelisted(base_url: str, sandbox: Sandbox) -> None:
    sandbox.config.refuse_as_not_whitelisted = True
    try:
        verdict = check(ConnectionConfig(base_url=base_url, timeout=5), FULL.password)
    finally:
        sandbox.config.refuse_as_not_whitelisted = False
    assert (verdict.ok, verdict.headline) == (False, "This computer is not whitelisted")
    assert "not whitelisted" in verdict.detail


# --- through a real proxy ----------------------------------------------------------------------


@dataclass
class RunningProxy:
    url: str
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    folder = tmp_path_factory.mktemp("proxy")
    port_file, log = folder / "port", folder / "proxy.log"
    command = [
        sys.executable, "-m", "proxy",
        "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
        "--num-workers", "1", "--num-acceptors", "1",
        "--basic-auth", f"{PROXY_USER}:{PROXY_PASSWORD}",
        "--log-level", "INFO", "--log-file", str(log),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"proxy.py did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
        yield RunningProxy(f"http://127.0.0.1:{port_file.read_text().strip()}", log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def through(
    proxy: RunningProxy, tls_url: str, tls_files: TlsFiles, **auth: object
) -> ConnectionConfig:
    return ConnectionConfig(
        base_url=tls_url,
        ca_bundle=tls_files.ca,
        timeout=5,
        proxy=Proxy(proxy.url, **auth),  # type: ignore[arg-type]
    )


def test_requests_travel_through_the_proxy_which_sees_only_connect(
    proxy: RunningProxy, tls_url: str, tls_files: TlsFiles
) -> None:
    config = through(
        proxy, tls_url, tls_files, username=PROXY_USER, password=SecretStr(PROXY_PASSWORD)
    )

    async def main() -> object:
        async with ApiClient(config) as client:
            await client.login(FULL.login, FULL.password)
            return await client.get_referral(
                ReferralQuery(broker_crm_name=BROKER_CRM_NAME, user_id=1000001)
            )

    asyncio.run(main())
    assert check(config, FULL.password).headline == "Connected and logged in"
    seen = _wait_for_log(proxy, "CONNECT")
    port = tls_url.rsplit(":", 1)[1]
    assert f"CONNECT 127.0.0.1:{port}" in seen
    assert FULL.token not in seen
    assert "token=" not in seen
    assert "/cid/" not in seen


def test_a_proxy_that_wants_other_credentials_is_proxy_refused(
    proxy: RunningProxy, tls_url: str, tls_files: TlsFiles
) -> None:
    config = through(proxy, tls_url, tls_files, username=PROXY_USER, password=SecretStr("wrong"))
    verdict = check(config, FULL.password)
    assert (verdict.ok, verdict.headline) == (False, "Proxy refused")
    assert "407" in verdict.detail
    assert "wrong" not in verdict.detail.replace("wrong.", "")


def test_an_unreachable_proxy_is_proxy_refused(
    unused_tcp_port: int, tls_url: str, tls_files: TlsFiles
) -> None:
    down = RunningProxy(f"http://127.0.0.1:{unused_tcp_port}", Path(os.devnull))
    verdict = check(through(down, tls_url, tls_files))
    assert (verdict.ok, verdict.headline) == (False, "Proxy refused")
    assert "Could not connect to the proxy 127.0.0.1" in verdict.detail


def test_no_proxy_is_used_unless_the_profile_names_one(
    proxy: RunningProxy, tls_url: str, tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "HTTP_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    before = proxy.text()
    verdict = check(ConnectionConfig(base_url=tls_url, ca_bundle=tls_files.ca, timeout=5))
    assert verdict.ok
    assert proxy.text() == before


def _wait_for_log(proxy: RunningProxy, needle: str) -> str:
    # proxy.py writes its access line when the tunnel closes, from its own worker.
    deadline = time.monotonic() + 10
    while needle not in (text := proxy.text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return text
