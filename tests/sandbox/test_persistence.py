"""A file-backed sandbox keeps its state across restarts and is seeded only once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sandbox_helpers import SHOWCASE_UNLINKED, SHOWCASE_USER, Api

from ctrader_admin.sandbox import Sandbox, SandboxConfig
from ctrader_admin.sandbox.storage import SchemaMismatchError


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    first = Sandbox(SandboxConfig(db_path=db, users=20))
    api = Api(first)
    assert api.put_referral("IB-KEPT", userId=SHOWCASE_USER).status_code == 200
    ctid = api.link(SHOWCASE_UNLINKED, SHOWCASE_USER).json()["ctidTraderAccountId"]
    created = api.post("/cid/ctid/create", {"email": "kept@example.com"}).json()["userId"]
    logins = first.logins()
    first.invalidate_token(30002)
    first.close()

    # Another seed and size: an existing database is not seeded again.
    second = Sandbox(SandboxConfig(db_path=db, users=50, seed=99))
    try:
        assert second.logins() == logins
        assert second.referral(user_id=SHOWCASE_USER) == "IB-KEPT"
        link = second.link(trader_login=SHOWCASE_UNLINKED)
        assert link is not None
        assert link["ctid_trader_account_id"] == ctid
        assert Api(second).post("/cid/ctid/create", {"email": "KEPT@example.com"}).json() == {
            "userId": created
        }
        assert (
            Api(second, "3b9c8a71-2d4e-4f60-9a1b-c2d3e4f5a6b7")
            .get("/v2/webserv/tradergroups")
            .status_code
            == 401
        )
    finally:
        second.close()


def test_a_database_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(SchemaMismatchError, match="schema version 999"):
        Sandbox(SandboxConfig(db_path=str(db)))


def test_a_version_1_database_gains_the_invite_tables_and_keeps_its_state(
    tmp_path: Path,
) -> None:
    """A trainee's sandbox file from before Invite attributions still opens."""
    from ctrader_admin.sandbox.schema import SCHEMA

    db = tmp_path / "v1.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(f"{SCHEMA} PRAGMA user_version = 1;")
        conn.execute("INSERT INTO white_labels VALUES ('sandbox_main', 'sandbox_crm')")
        conn.execute("INSERT INTO managers VALUES (30001, 'x', 'tok', 'a manager')")
        conn.execute(
            "INSERT INTO users VALUES (1000001, 'kept@example.com', 'ctid1000001', "
            "'sandbox_main', 'en', 'CTID_ACTIVE', 1)"
        )
        conn.execute("INSERT INTO user_referrals VALUES (1000001, 'IB-OLD')")
    conn.close()
    sandbox = Sandbox(SandboxConfig(db_path=str(db)))
    try:
        assert sandbox.referral(user_id=1000001) == "IB-OLD"
        assert sandbox.add_invitations(2)[1]["partnerUserId"] == 1000001
    finally:
        sandbox.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        assert conn.execute("SELECT COUNT(*) FROM invitations").fetchone() == (2,)
    conn.close()
