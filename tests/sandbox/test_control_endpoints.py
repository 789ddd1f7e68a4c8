"""/_sandbox/*: health, request log and knobs for tests and benchmarks in another process."""

from __future__ import annotations

from sandbox_helpers import SHOWCASE_USER, Api

from ctrader_admin.sandbox import Sandbox


def test_health(api: Api) -> None:
    response = api.as_token(None).get("/_sandbox/health")
    assert response.json() == {"status": "ok"}


def test_log_is_readable_and_clearable_and_never_logs_itself(sandbox: Sandbox, api: Api) -> None:
    api.put_referral("IB-CTL", userId=SHOWCASE_USER)
    control = api.as_token(None)
    entries = control.get("/_sandbox/log").json()["requests"]
    assert len(entries) == 1
    assert entries[0]["query"] == {"token": "***"}
    assert entries[0]["body"]["partnerId"] == "IB-CTL"
    assert entries[0]["applied"] is True
    assert control.delete("/_sandbox/log").status_code == 204
    assert control.get("/_sandbox/log").json() == {"requests": []}
    assert sandbox.request_log == []


def test_knobs_change_the_running_sandbox(sandbox: Sandbox, api: Api) -> None:
    control = api.as_token(None)
    response = control.post(
        "/_sandbox/knobs",
        {
            "latency_ms": 5,
            "jitter_ms": 1.5,
            "write_cap_per_hour": 10,
            "dialect": "variant",
            "faults": {"error_rate": 0.25, "writes_only": True},
        },
    )
    assert response.status_code == 200
    knobs = response.json()
    assert knobs["dialect"] == "variant"
    assert knobs["faults"]["error_rate"] == 0.25
    config = sandbox.config
    assert (config.latency_ms, config.jitter_ms, config.write_cap_per_hour) == (5, 1.5, 10)
    assert config.dialect.error_shape == "flat"
    assert (config.faults.error_rate, config.faults.writes_only) == (0.25, True)
    assert control.get("/_sandbox/knobs").json() == knobs

    control.post("/_sandbox/knobs", {"write_cap_per_hour": None, "faults": {"error_rate": 0}})
    assert sandbox.config.write_cap_per_hour is None
    assert sandbox.config.faults.error_rate == 0
    assert sandbox.config.faults.writes_only is True  # untouched fields stay


def test_bad_knobs_change_nothing(sandbox: Sandbox, api: Api) -> None:
    control = api.as_token(None)
    for bad in (
        {"dialect": "klingon"},
        {"latency_ms": -1},
        {"write_cap_per_hour": 1.5},
        {"faults": {"error_rate": 2}},
        {"faults": {"meteor_rate": 0.1}},
        {"latency_ms": 10, "colour": "blue"},
        [1, 2],
    ):
        response = control.post("/_sandbox/knobs", bad)
        assert response.status_code == 400, bad
        assert "error" in response.json()
    assert sandbox.config.latency_ms == 0
    assert sandbox.config.dialect.error_shape == "nested"
