"""Injected faults through the in-process transport: what the client sees, what the state says."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
import pytest
from sandbox_helpers import (
    BASE_URL,
    MAIN_TOKEN,
    SHOWCASE_LIVE,
    SHOWCASE_USER,
    Api,
    error_of,
    run_client,
)

from ctrader_admin.sandbox import Faults, Sandbox, SandboxConfig
from ctrader_admin.sandbox.storage import Tx
from ctrader_admin.sandbox.transport import InProcessTransport


def test_error_fault_is_a_500_that_applies_nothing(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.faults = Faults(error_rate=1.0)
    response = api.put_referral("IB-ERR", userId=SHOWCASE_USER)
    assert error_of(response) == (500, "UNKNOWN_ERROR")
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"
    entry = sandbox.request_log[-1]
    assert (entry.status, entry.fault, entry.applied) == (500, "error", False)


def test_drop_fault_is_a_remote_protocol_error_that_applies_nothing(
    sandbox: Sandbox, api: Api
) -> None:
    sandbox.config.faults = Faults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
        api.put_referral("IB-DROP", userId=SHOWCASE_USER)
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"
    entry = sandbox.request_log[-1]
    assert (entry.status, entry.fault, entry.applied) == (0, "drop", False)


def test_stall_after_times_the_client_out_but_the_write_is_applied(
    sandbox: Sandbox, api: Api
) -> None:
    sandbox.config.faults = Faults(stall_after_rate=1.0, stall_seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        api.request(
            "PUT",
            "/cid/oauth2/ctid/referral",
            json={"brokerCrmName": "sandbox_crm", "userId": SHOWCASE_USER, "partnerId": "IB-SA"},
            timeout=0.2,
        )
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-SA"
    entry = sandbox.request_log[-1]
    assert (entry.status, entry.fault, entry.applied) == (0, "stall_after", True)


def test_stall_before_times_the_client_out_and_nothing_is_applied(
    sandbox: Sandbox, api: Api
) -> None:
    sandbox.config.faults = Faults(stall_before_rate=1.0, stall_seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        api.request(
            "PUT",
            "/cid/oauth2/ctid/referral",
            json={"brokerCrmName": "sandbox_crm", "userId": SHOWCASE_USER, "partnerId": "IB-SB"},
            timeout=0.2,
        )
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"
    entry = sandbox.request_log[-1]
    assert (entry.status, entry.fault, entry.applied) == (0, "stall_before", False)


def test_a_patient_client_outlasts_a_stall(sandbox: Sandbox, api: Api) -> None:
    for partner_id, faults in (
        ("IB-P1", Faults(stall_before_rate=1.0, stall_seconds=0.05)),
        ("IB-P2", Faults(stall_after_rate=1.0, stall_seconds=0.05)),
    ):
        sandbox.config.faults = faults
        assert api.put_referral(partner_id, userId=SHOWCASE_USER).status_code == 200
        assert sandbox.referral(user_id=SHOWCASE_USER) == partner_id
    assert {e.fault for e in sandbox.request_log} == {"stall_before", "stall_after"}
    assert all(e.status == 200 and e.applied for e in sandbox.request_log)


def test_writes_only_spares_reads(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.faults = Faults(error_rate=1.0, writes_only=True)
    assert api.get(f"/v2/webserv/traders/{SHOWCASE_LIVE}").status_code == 200
    assert api.put_referral("IB-W", userId=SHOWCASE_USER).status_code == 500


def test_fault_draws_are_seeded_and_rates_are_respected() -> None:
    def faults_seen(seed: int) -> list[str | None]:
        sandbox = Sandbox(
            SandboxConfig(users=5, seed=seed, faults=Faults(error_rate=0.3, drop_rate=0.1))
        )

        async def scenario(client: httpx.AsyncClient) -> None:
            for _ in range(200):
                with contextlib.suppress(httpx.RemoteProtocolError):
                    await client.get("/v2/webserv/tradergroups", params={"token": MAIN_TOKEN})

        run_client(sandbox, scenario)
        sandbox.close()
        return [e.fault for e in sandbox.request_log]

    first, again, other = faults_seen(7), faults_seen(7), faults_seen(8)
    assert first == again
    assert first != other
    assert 40 <= first.count("error") <= 80
    assert 8 <= first.count("drop") <= 35
    assert first.count(None) == 200 - first.count("error") - first.count("drop")


def test_faults_never_hit_the_control_endpoints(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.faults = Faults(error_rate=1.0)
    assert api.as_token(None).get("/_sandbox/health").status_code == 200


def test_a_handler_bug_is_a_logged_500_never_an_exception(
    sandbox: Sandbox, api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Tx, login: int) -> None:
        raise RuntimeError("simulated sandbox bug")

    monkeypatch.setattr(Tx, "trader", broken)
    with caplog.at_level(logging.ERROR, logger="ctrader_admin.sandbox"):
        response = api.get(f"/v2/webserv/traders/{SHOWCASE_LIVE}")
    assert error_of(response) == (500, "UNKNOWN_ERROR")
    assert "simulated sandbox bug" in caplog.text
    assert sandbox.request_log[-1].status == 500


def test_the_transport_turns_any_app_crash_into_a_500(caplog: pytest.LogCaptureFixture) -> None:
    from ctrader_admin.sandbox import Dialect

    async def crashing_app(scope: object, receive: object, send: object) -> None:
        raise KeyError("boom")

    async def scenario() -> httpx.Response:
        transport = InProcessTransport(crashing_app, lambda: Dialect(error_shape="flat"))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            return await client.get("/anything")

    with caplog.at_level(logging.ERROR, logger="ctrader_admin.sandbox"):
        response = asyncio.run(scenario())
    assert response.status_code == 500
    assert response.json()["code"] == "UNKNOWN_ERROR"
    assert "boom" in caplog.text


def test_latency_and_jitter_slow_every_answer(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.latency_ms = 300
    with pytest.raises(httpx.ReadTimeout):
        api.get("/v2/webserv/tradergroups", timeout=0.05)
    sandbox.config.latency_ms, sandbox.config.jitter_ms = 0, 20
    assert api.get("/v2/webserv/tradergroups", timeout=1.0).status_code == 200


@pytest.mark.parametrize(
    "bad",
    [{"error_rate": 1.5}, {"drop_rate": -0.1}, {"stall_seconds": -1}, {"error_rate": "x"}],
)
def test_fault_rates_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Faults(**bad)  # type: ignore[arg-type]
