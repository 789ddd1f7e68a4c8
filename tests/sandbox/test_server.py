"""The sandbox over real sockets: uvicorn in a thread, plain HTTP and self-signed HTTPS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

import httpx
import pytest
from sandbox_helpers import MAIN_TOKEN, SHOWCASE_LIVE, SHOWCASE_USER

from ctrader_admin.sandbox import Faults, Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import (
    NonLoopbackHostError,
    TlsFiles,
    make_self_signed,
    serve_in_thread,
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_self_signed(tmp_path_factory.mktemp("tls"))


def test_plain_http_on_an_ephemeral_port(sandbox: Sandbox) -> None:
    with serve_in_thread(sandbox) as url:
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        with httpx.Client(base_url=url) as client:
            response = client.get(
                f"/v2/webserv/traders/{SHOWCASE_LIVE}", params={"token": MAIN_TOKEN}
            )
            assert response.status_code == 200
            assert response.json()["login"] == SHOWCASE_LIVE
    # Stopped: nothing listens there any more.
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=url) as client:
        client.get("/_sandbox/health")


def test_https_is_trusted_with_the_ca_bundle_only(sandbox: Sandbox, tls: TlsFiles) -> None:
    with serve_in_thread(sandbox, tls=tls) as url:
        assert url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=str(tls.ca))
        with httpx.Client(base_url=url, verify=trusting) as client:
            assert client.get("/_sandbox/health").json() == {"status": "ok"}
        localhost = url.replace("127.0.0.1", "localhost")
        with httpx.Client(base_url=localhost, verify=trusting) as client:
            assert client.get("/_sandbox/health").status_code == 200
        with (
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
            httpx.Client(base_url=url) as client,
        ):
            client.get("/_sandbox/health")


def test_tls_files(tls: TlsFiles) -> None:
    from cryptography import x509

    chain = x509.load_pem_x509_certificates(tls.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(tls.ca.read_bytes())
    assert chain[1] == ca
    names = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert tls.key.stat().st_mode & 0o077 == 0


def test_drop_fault_really_breaks_the_connection_without_a_traceback(
    sandbox: Sandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    with serve_in_thread(sandbox) as url, httpx.Client(base_url=url) as client:
        sandbox.config.faults = Faults(drop_rate=1.0)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.put(
                "/cid/oauth2/ctid/referral",
                params={"token": MAIN_TOKEN},
                json={"brokerCrmName": "sandbox_crm", "userId": SHOWCASE_USER, "partnerId": "X"},
            )
        sandbox.config.faults = Faults()
        # The client recovers on a new connection.
        assert client.get("/_sandbox/health").status_code == 200
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"
    assert sandbox.request_log[-1].fault == "drop"
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err
    assert "ConnectionDropped" not in captured.err


def test_stall_after_over_sockets_applies_the_write_the_client_gave_up_on(
    sandbox: Sandbox,
) -> None:
    sandbox.config.faults = Faults(stall_after_rate=1.0, stall_seconds=0.6)
    with serve_in_thread(sandbox) as url, httpx.Client(base_url=url) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.put(
                "/cid/oauth2/ctid/referral",
                params={"token": MAIN_TOKEN},
                json={"brokerCrmName": "sandbox_crm", "userId": SHOWCASE_USER, "partnerId": "LATE"},
                timeout=0.2,
            )
        assert sandbox.referral(user_id=SHOWCASE_USER) == "LATE"
        deadline = time.monotonic() + 5
        while not sandbox.request_log and time.monotonic() < deadline:
            time.sleep(0.05)
    entry = sandbox.request_log[-1]
    assert (entry.fault, entry.applied, entry.status) == ("stall_after", True, 0)


def test_stall_before_over_sockets_drops_the_write_the_client_gave_up_on(
    sandbox: Sandbox,
) -> None:
    sandbox.config.faults = Faults(stall_before_rate=1.0, stall_seconds=0.5)
    with serve_in_thread(sandbox) as url, httpx.Client(base_url=url) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.put(
                "/cid/oauth2/ctid/referral",
                params={"token": MAIN_TOKEN},
                json={"brokerCrmName": "sandbox_crm", "userId": SHOWCASE_USER, "partnerId": "NO"},
                timeout=0.2,
            )
        deadline = time.monotonic() + 5
        while not sandbox.request_log and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"
    entry = sandbox.request_log[-1]
    assert (entry.fault, entry.applied, entry.status) == ("stall_before", False, 0)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])  # noqa: S104
def test_non_loopback_hosts_are_refused(sandbox: Sandbox, host: str) -> None:
    with pytest.raises(NonLoopbackHostError, match="loopback"), serve_in_thread(sandbox, host=host):
        pass


def test_ipv6_loopback(sandbox: Sandbox) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        with serve_in_thread(sandbox, host="::1") as url, httpx.Client(base_url=url) as client:
            assert url.startswith("http://[::1]:")
            assert client.get("/_sandbox/health").status_code == 200
    except OSError as error:  # IPv6 compiled in but not configured
        pytest.skip(f"IPv6 loopback unavailable: {error}")


def test_many_concurrent_clients_over_loopback() -> None:
    sandbox = Sandbox(SandboxConfig(users=30, write_cap_per_hour=None))

    async def hammer(url: str) -> list[int]:
        # 32 connections at once, as the benchmark does.
        async with httpx.AsyncClient(
            base_url=url, limits=httpx.Limits(max_connections=32)
        ) as client:

            async def one(i: int) -> int:
                if i % 4 == 0:
                    response = await client.put(
                        "/cid/oauth2/ctid/referral",
                        params={"token": MAIN_TOKEN},
                        json={
                            "brokerCrmName": "sandbox_crm",
                            "userId": SHOWCASE_USER,
                            "partnerId": f"IB-{i}",
                        },
                    )
                else:
                    response = await client.get(
                        f"/v2/webserv/traders/{SHOWCASE_LIVE}", params={"token": MAIN_TOKEN}
                    )
                return response.status_code

            return await asyncio.gather(*(one(i) for i in range(96)))

    try:
        with serve_in_thread(sandbox) as url:
            statuses = asyncio.run(hammer(url))
        assert statuses == [200] * 96
        assert len(sandbox.request_log) == 96
        assert [e.seq for e in sandbox.request_log] == list(range(1, 97))
    finally:
        sandbox.close()
