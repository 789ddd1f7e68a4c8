"""Scripted faults: the next writes get exactly these faults, in order, whatever the rates —
for tests of one precise sequence (this PUT applied then stalled, its retry a 500…)."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import SHOWCASE_USER, Api, error_of

from ctrader_admin.sandbox import DIALECTS, Faults, Sandbox

REFERRAL = "/cid/oauth2/ctid/referral"


def put(api: Api, partner_id: str, timeout: float = 10.0) -> httpx.Response:
    body = {"brokerCrmName": "sandbox_crm", "userId": SHOWCASE_USER, "partnerId": partner_id}
    return api.put(REFERRAL, body, timeout=timeout)


def test_each_write_takes_the_next_scripted_fault_and_reads_take_none(
    sandbox: Sandbox, api: Api
) -> None:
    sandbox.script_faults("stall_after", "error", "rate_limited", "none", "drop")

    with pytest.raises(httpx.ReadTimeout):
        put(api, "IB-1", timeout=0.2)
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1"  # applied before the stall
    assert api.get_referral(userId=SHOWCASE_USER).status_code == 200  # a read: not scripted
    assert error_of(put(api, "IB-2")) == (500, "UNKNOWN_ERROR")
    assert error_of(put(api, "IB-3")) == (400, "REQUEST_FREQUENCY_EXCEEDED")
    assert put(api, "IB-4").status_code == 200  # "none": through untouched
    with pytest.raises(httpx.RemoteProtocolError):
        put(api, "IB-5")
    assert sandbox.scripted_faults() == []
    assert put(api, "IB-6").status_code == 200  # the script is used up: the rates decide

    log = [e for e in sandbox.request_log if e.method == "PUT"]
    assert [(e.fault, e.applied) for e in log] == [
        ("stall_after", True),
        ("error", False),
        ("rate_limited", False),
        (None, True),
        ("drop", False),
        (None, True),
    ]
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-6"


def test_the_script_comes_before_the_rates(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.faults = Faults(error_rate=1.0)
    sandbox.script_faults("none")
    assert put(api, "IB-OK").status_code == 200
    assert error_of(put(api, "IB-ERR")) == (500, "UNKNOWN_ERROR")


def test_a_scripted_rate_limit_speaks_the_dialect(sandbox: Sandbox, api: Api) -> None:
    sandbox.config.dialect = DIALECTS["variant"]
    sandbox.script_faults("rate_limited")
    response = put(api, "IB-RL")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"


def test_the_control_endpoint_scripts_reads_and_clears(sandbox: Sandbox, api: Api) -> None:
    control = api.as_token(None)
    response = control.post("/_sandbox/faults/script", {"writes": ["drop", "error"]})
    assert response.json() == {"writes": ["drop", "error"]}
    assert sandbox.scripted_faults() == ["drop", "error"]
    with pytest.raises(httpx.RemoteProtocolError):
        put(api, "IB-X")
    assert control.get("/_sandbox/faults/script").json() == {"writes": ["error"]}
    assert control.delete("/_sandbox/faults/script").json() == {"writes": []}
    assert sandbox.scripted_faults() == []


@pytest.mark.parametrize(
    "bad", [{"writes": ["meteor"]}, {"writes": "error"}, {"faults": []}, [1], "x"]
)
def test_a_bad_script_changes_nothing(sandbox: Sandbox, api: Api, bad: object) -> None:
    sandbox.script_faults("error")
    response = api.as_token(None).post("/_sandbox/faults/script", bad)
    assert response.status_code == 400
    assert "error" in response.json()
    assert sandbox.scripted_faults() == ["error"]


def test_an_ignored_write_is_answered_as_applied_but_changes_nothing(
    sandbox: Sandbox, api: Api
) -> None:
    before = sandbox.referral(user_id=SHOWCASE_USER)
    sandbox.script_faults("ignored")
    response = put(api, "IB-GONE")
    assert response.status_code == 200  # what the client sees: success
    assert sandbox.referral(user_id=SHOWCASE_USER) == before  # what a read-back sees
    read = api.get_referral(userId=SHOWCASE_USER).json()
    assert "IB-GONE" not in str(read)
    last = [e for e in sandbox.request_log if e.method == "PUT"][-1]
    assert (last.fault, last.applied) == ("ignored", False)
    assert put(api, "IB-KEPT").status_code == 200  # the script is used up
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-KEPT"
