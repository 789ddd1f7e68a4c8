"""What the operator gets when things go wrong, over real sockets: wrong password, revoked token,
rate limit, server errors, dropped connections, a backend slower than the timeout, TLS."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from ctrader_admin.api import (
    ApiClient,
    ApiConnectionError,
    ApiTimeoutError,
    ConfigurationError,
    ConnectionConfig,
    CreateCtidRequest,
    InvalidCredentials,
    OutcomeUnknown,
    RateLimited,
    ReferralQuery,
    RetryPolicy,
    ServerError,
    SetReferralRequest,
    Unauthorized,
)
from ctrader_admin.sandbox import BROKER_CRM_NAME, DIALECTS, TRAINING_MANAGERS, Faults, Sandbox
from ctrader_admin.sandbox.tls import TlsFiles

T = TypeVar("T")
FULL = TRAINING_MANAGERS[0]
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


def run(
    config: ConnectionConfig,
    body: Callable[[ApiClient], Awaitable[T]],
    token: str | None = FULL.token,
) -> T:
    async def main() -> T:
        async with ApiClient(config, token=token) as client:
            return await body(client)

    return asyncio.run(main())


def config(url: str, **kw: object) -> ConnectionConfig:
    return ConnectionConfig(base_url=url, timeout=kw.pop("timeout", 3.0), retry=FAST_RETRY, **kw)  # type: ignore[arg-type]


def writes_to(sandbox: Sandbox, path: str) -> list[object]:
    return [e for e in sandbox.request_log if e.path == path and e.method != "GET"]


@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
def test_wrong_manager_password(base_url: str, sandbox: Sandbox, dialect_name: str) -> None:
    sandbox.config.dialect = DIALECTS[dialect_name]
    with pytest.raises(InvalidCredentials) as caught:
        run(config(base_url), lambda c: c.login(FULL.login, "wrong password"), token=None)
    assert str(caught.value) == "The manager login or password is wrong."


@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
def test_a_revoked_token_asks_for_a_new_login(
    base_url: str, sandbox: Sandbox, dialect_name: str
) -> None:
    sandbox.config.dialect = DIALECTS[dialect_name]
    limited = TRAINING_MANAGERS[1]
    token = run(config(base_url), lambda c: c.login(limited.login, limited.password), token=None)
    sandbox.invalidate_token(limited.login)
    login = sandbox.logins(broker_name="sandbox_main")[0]
    with pytest.raises(Unauthorized) as caught:
        run(config(base_url), lambda c: c.get_trader(login), token=token)
    assert caught.value.needs_login
    new_token = run(
        config(base_url), lambda c: c.login(limited.login, limited.password), token=None
    )
    assert new_token != token
    assert run(config(base_url), lambda c: c.get_trader(login), token=new_token).login == login


@pytest.mark.parametrize("dialect_name", ["default", "variant"])
def test_rate_limit_exhaustion(base_url: str, sandbox: Sandbox, dialect_name: str) -> None:
    sandbox.config.dialect = DIALECTS[dialect_name]
    user = sandbox.logins()  # any request works as a warm-up
    assert user
    start = len(sandbox.request_log)
    sandbox.config.write_cap_per_hour = sandbox.writes_in_window(0, 2**40)  # no slot left

    async def body(client: ApiClient) -> None:
        await client.create_ctid(CreateCtidRequest(email="limit@example.org"))

    with pytest.raises(RateLimited) as caught:
        run(config(base_url), body)
    assert caught.value.code == "REQUEST_FREQUENCY_EXCEEDED"
    assert "hourly write limit" in str(caught.value)
    if dialect_name == "variant":
        assert caught.value.status == 429
        assert caught.value.retry_after is not None
    # A POST is never retried: exactly one request reached the sandbox.
    assert len(writes_to_since(sandbox, start)) == 1
    # Reads are not limited.
    login = sandbox.logins(broker_name="sandbox_main")[0]
    assert run(config(base_url), lambda c: c.get_trader(login)).login == login


def writes_to_since(sandbox: Sandbox, start: int) -> list[object]:
    return [e for e in sandbox.request_log[start:] if e.method != "GET"]


def test_server_errors_retry_reads_but_never_posts(base_url: str, sandbox: Sandbox) -> None:
    sandbox.config.faults = Faults(error_rate=1.0)
    login = sandbox.logins(broker_name="sandbox_main")[0]
    start = len(sandbox.request_log)
    with pytest.raises(ServerError):
        run(config(base_url), lambda c: c.get_trader(login))
    assert len(sandbox.request_log) - start == FAST_RETRY.max_attempts
    start = len(sandbox.request_log)
    with pytest.raises(ServerError):
        run(config(base_url), lambda c: c.create_ctid(CreateCtidRequest(email="e500@example.org")))
    assert len(sandbox.request_log) - start == 1


def test_dropped_connection_on_a_post_is_outcome_unknown(base_url: str, sandbox: Sandbox) -> None:
    sandbox.config.faults = Faults(drop_rate=1.0)
    start = len(sandbox.request_log)
    with pytest.raises(OutcomeUnknown) as caught:
        run(config(base_url), lambda c: c.create_ctid(CreateCtidRequest(email="drop@example.org")))
    assert "may or may not have been applied" in str(caught.value)
    assert len(sandbox.request_log) - start == 1


def test_a_read_survives_one_dropped_connection(base_url: str, sandbox: Sandbox) -> None:
    login = sandbox.logins(broker_name="sandbox_main")[0]
    sandbox.config.faults = Faults(drop_rate=0.5)
    patient = ConnectionConfig(
        base_url=base_url, timeout=3.0, retry=RetryPolicy(max_attempts=10, base_delay=0.001)
    )
    start = len(sandbox.request_log)
    results = [run(patient, lambda c: c.get_trader(login)).login for _ in range(6)]
    assert results == [login] * 6
    drops = [e for e in sandbox.request_log[start:] if e.fault == "drop"]
    assert drops, "the reads went through because they were retried, not because nothing dropped"


def test_slow_backend_past_the_timeout(base_url: str, sandbox: Sandbox) -> None:
    sandbox.config.latency_ms = 1500
    login = sandbox.logins(broker_name="sandbox_main")[0]
    with pytest.raises(ApiTimeoutError) as caught:
        run(config(base_url, timeout=0.3), lambda c: c.get_trader(login))
    assert "did not answer within 0.3 s" in str(caught.value)


def test_stalled_write_that_was_applied_is_reported_unknown_not_failed(
    base_url: str, sandbox: Sandbox
) -> None:
    login = sandbox.logins(broker_name="sandbox_main", linked=True)[0]
    link = sandbox.link(trader_login=login)
    assert link is not None
    user_id = link["user_id"]
    sandbox.config.faults = Faults(stall_after_rate=1.0, stall_seconds=1.0, writes_only=True)
    request = SetReferralRequest(
        broker_crm_name=BROKER_CRM_NAME, user_id=user_id, partner_id="STALL-1"
    )
    with pytest.raises(OutcomeUnknown) as caught:
        run(config(base_url, timeout=0.2), lambda c: c.set_referral(request))
    assert "safe to send again" in str(caught.value)
    sandbox.config.faults = Faults()
    assert sandbox.referral(user_id=user_id) == "STALL-1"
    query = ReferralQuery(broker_crm_name=BROKER_CRM_NAME, user_id=user_id)
    record = run(config(base_url), lambda c: c.get_referral(query))
    assert record is not None
    assert record.partner_id == "STALL-1"


def test_nothing_listening(unused_tcp_port: int) -> None:
    with pytest.raises(ApiConnectionError) as caught:
        run(config(f"http://127.0.0.1:{unused_tcp_port}"), lambda c: c.get_trader(1))
    assert "Nothing was sent" in str(caught.value)


def test_self_signed_tls_is_rejected_by_default(tls_url: str, sandbox: Sandbox) -> None:
    login = sandbox.logins(broker_name="sandbox_main")[0]
    with pytest.raises(ApiConnectionError) as caught:
        run(config(tls_url), lambda c: c.get_trader(login))
    assert "certificate could not be verified" in str(caught.value)


def test_self_signed_tls_is_accepted_with_the_ca_bundle(
    tls_url: str, tls_files: TlsFiles, sandbox: Sandbox
) -> None:
    login = sandbox.logins(broker_name="sandbox_main")[0]
    trader = run(config(tls_url, ca_bundle=tls_files.ca), lambda c: c.get_trader(login))
    assert trader.login == login


def test_a_missing_ca_bundle_is_a_configuration_error(tls_url: str, tmp_path: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ApiClient(config(tls_url, ca_bundle=f"{tmp_path}/missing.pem"))
    assert "does not exist" in str(caught.value)
