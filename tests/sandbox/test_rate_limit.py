"""The hourly write cap: rolling window, whole plant, GETs and the token endpoint exempt."""

from __future__ import annotations

from sandbox_helpers import SHOWCASE_USER, Api, FakeClock, error_of

from ctrader_admin.sandbox import Dialect, Sandbox, md5_hex


def _write(api: Api, partner_id: str = "IB-1") -> int:
    return api.put_referral(partner_id, userId=SHOWCASE_USER).status_code


def test_writes_over_the_cap_are_refused_and_not_counted(
    sandbox: Sandbox, api: Api, clock: FakeClock
) -> None:
    sandbox.config.write_cap_per_hour = 3
    start = clock.now
    assert _write(api, "IB-1") == 200
    clock.advance(1)
    # A write the backend refuses for another reason still arrived, so it counts.
    assert api.put_referral("IB-2", userId=999).status_code == 400
    clock.advance(1)
    assert api.post("/cid/ctid/create", {"email": "cap@example.com"}).status_code == 200
    clock.advance(1)

    refused = api.put_referral("IB-4", userId=SHOWCASE_USER)
    assert error_of(refused) == (400, "REQUEST_FREQUENCY_EXCEEDED")
    assert refused.json()["error"]["description"] == "Hourly write limit reached"
    assert "retry-after" not in refused.headers
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1"
    assert api.delete_referral(userId=SHOWCASE_USER).status_code == 400

    last = sandbox.request_log[-1]
    assert (last.fault, last.error_code, last.applied) == (
        "rate_limited",
        "REQUEST_FREQUENCY_EXCEEDED",
        False,
    )
    assert sandbox.writes_in_window(start, clock.now + 1) == 3
    assert sandbox.writes_in_window(start + 1, start + 2) == 1


def test_gets_and_the_token_endpoint_are_never_limited(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.write_cap_per_hour = 0
    assert api.get_referral(userId=SHOWCASE_USER).status_code == 200
    assert api.get("/v2/webserv/traders/5200001").status_code == 200
    token = api.as_token(None).post(
        "/v2/webserv/managers/token",
        {"login": 30001, "hashedPassword": md5_hex("sandbox-manager")},
    )
    assert token.status_code == 200
    assert _write(api) == 400


def test_the_window_slides(sandbox: Sandbox, api: Api, clock: FakeClock) -> None:
    sandbox.config.write_cap_per_hour = 2
    first = clock.now
    assert _write(api) == 200
    clock.advance(600)
    assert _write(api) == 200
    clock.advance(2999)  # 3599 s after the first write: still inside the window
    assert _write(api) == 400
    clock.advance(1)  # exactly one hour after the first: it has left the window
    assert _write(api) == 200
    assert _write(api) == 400
    assert sandbox.writes_in_window(first, clock.now + 1) == 3


def test_429_tells_how_long_to_wait(sandbox: Sandbox, api: Api, clock: FakeClock) -> None:
    sandbox.config.dialect = Dialect(rate_limit_status=429)
    sandbox.config.write_cap_per_hour = 2
    assert _write(api) == 200
    clock.advance(100.5)
    assert _write(api) == 200
    clock.advance(10)
    refused = api.put_referral("IB-9", userId=SHOWCASE_USER)
    assert error_of(refused) == (429, "REQUEST_FREQUENCY_EXCEEDED")
    # The first write leaves the window 3600 s after it arrived: 3600 - 110.5 -> 3490 (ceil).
    assert refused.headers["Retry-After"] == "3490"
    clock.advance(3489.5)
    assert _write(api) == 200


def test_no_cap_and_runtime_changes(sandbox: Sandbox, api: Api, clock: FakeClock) -> None:
    sandbox.config.write_cap_per_hour = None
    for _ in range(5):
        assert _write(api) == 200
    sandbox.config.write_cap_per_hour = 5
    assert _write(api) == 400
    sandbox.config.write_cap_per_hour = 6
    assert _write(api) == 200
    assert sandbox.writes_in_window(clock.now - 1, clock.now + 1) == 6


def test_refused_tokens_do_not_use_up_the_cap(sandbox: Sandbox, api: Api, clock: FakeClock) -> None:
    sandbox.config.write_cap_per_hour = 1
    assert api.as_token("stolen").put_referral("IB-1", userId=SHOWCASE_USER).status_code == 401
    assert sandbox.writes_in_window(clock.now - 1, clock.now + 1) == 0
    assert _write(api) == 200
