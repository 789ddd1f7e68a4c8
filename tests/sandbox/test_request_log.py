"""The request log: what arrived, in order, with tokens and password hashes masked."""

from __future__ import annotations

import json
import threading

from sandbox_helpers import MAIN_TOKEN, SHOWCASE_UNLINKED, SHOWCASE_USER, Api, FakeClock

from ctrader_admin.sandbox import LoggedRequest, Sandbox, SandboxConfig, md5_hex
from ctrader_admin.sandbox.request_log import RequestLog


def _contains(entry: LoggedRequest, secret: str) -> bool:
    return secret in json.dumps([entry.query, entry.body], default=str)


def test_entries_record_the_request_and_the_answer(
    sandbox: Sandbox, api: Api, clock: FakeClock
) -> None:
    api.get("/v2/webserv/traders/5200001")
    clock.advance(2)
    api.put_referral("IB-LOG", userId=SHOWCASE_USER)
    api.get("/v2/webserv/traders/5299999")
    first, second, third = sandbox.request_log
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert second.at == first.at + 2
    assert (first.method, first.path, first.status, first.applied) == (
        "GET",
        "/v2/webserv/traders/5200001",
        200,
        False,
    )
    assert second.body == {
        "brokerCrmName": "sandbox_crm",
        "partnerId": "IB-LOG",
        "userId": SHOWCASE_USER,
    }
    assert (second.status, second.applied, second.error_code, second.fault) == (
        200,
        True,
        None,
        None,
    )
    assert (third.status, third.error_code) == (400, "TRADER_NOT_FOUND")


def test_tokens_and_password_hashes_are_masked(sandbox: Sandbox, api: Api) -> None:
    manager_hash = md5_hex("sandbox-manager")
    trader_hash = md5_hex(f"trader-{SHOWCASE_UNLINKED}")
    api.as_token(None).post(
        "/v2/webserv/managers/token", {"login": 30001, "hashedPassword": manager_hash}
    )
    api.link(SHOWCASE_UNLINKED, SHOWCASE_USER)
    api.get("/v1/users", headers={"Authorization": f"Bearer {MAIN_TOKEN}"})
    # Not JSON, but the hash must still not be logged.
    api.request(
        "POST",
        "/cid/ctid/link",
        content=f'{{"traderPasswordHash": "{trader_hash}", '.encode(),
        headers={"Content-Type": "application/json"},
    )
    token_entry, link_entry, users_entry, broken_entry = sandbox.request_log
    assert token_entry.body == {"login": 30001, "hashedPassword": "***"}
    assert link_entry.query == {"token": "***"}
    assert link_entry.body["traderPasswordHash"] == "***"
    assert link_entry.body["traderLogin"] == SHOWCASE_UNLINKED
    assert users_entry.query == {}
    assert broken_entry.body == '{"traderPasswordHash": "***", '
    for entry in sandbox.request_log:
        for secret in (MAIN_TOKEN, manager_hash, trader_hash):
            assert not _contains(entry, secret)


def test_clear_log_and_copies(sandbox: Sandbox, api: Api) -> None:
    api.get("/v2/webserv/tradergroups")
    copy = sandbox.request_log
    copy.clear()
    assert len(sandbox.request_log) == 1
    sandbox.clear_log()
    assert sandbox.request_log == []
    api.get("/v2/webserv/tradergroups")
    assert sandbox.request_log[0].seq == 2  # numbering goes on


def test_the_log_keeps_the_newest_entries_up_to_its_limit() -> None:
    sandbox = Sandbox(SandboxConfig(users=3, request_log_limit=3))
    api = Api(sandbox)
    for _ in range(5):
        api.get("/v2/webserv/tradergroups")
    assert [e.seq for e in sandbox.request_log] == [3, 4, 5]
    sandbox.close()


def test_unknown_paths_are_logged_with_a_404(sandbox: Sandbox, api: Api) -> None:
    response = api.request("PATCH", "/v2/webserv/traders/5200001", json={"name": "x"})
    assert response.status_code == 404
    entry = sandbox.request_log[-1]
    assert (entry.method, entry.status, entry.error_code) == ("PATCH", 404, "NOT_FOUND")


def test_the_log_knows_when_no_request_is_still_being_served() -> None:
    """A stalled request is logged only when it ends: tests wait for that, not for a guess."""
    log = RequestLog(limit=10)
    assert log.wait_until_idle(timeout=0)
    seq = log.next_seq()
    assert not log.wait_until_idle(timeout=0)
    threading.Timer(0.05, log.add, args=[_entry(seq)]).start()
    assert log.wait_until_idle(timeout=30)
    assert [e.seq for e in log.entries()] == [seq]


def _entry(seq: int) -> LoggedRequest:
    return LoggedRequest(
        seq=seq,
        at=0.0,
        method="PUT",
        path="/cid/oauth2/ctid/referral",
        query={},
        body=None,
        status=200,
        error_code=None,
        fault="stall_after",
        applied=True,
    )
