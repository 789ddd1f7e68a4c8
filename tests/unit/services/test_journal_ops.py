"""Reverting journal entries against the in-process sandbox, without Qt (plain asyncio.run)."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from office_helpers import MakeOffice
from pydantic import SecretStr

from ctrader_admin.api import NotFound
from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig, trading_password
from ctrader_admin.services import accounts, journal_ops, partners, users
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.errors import InvalidInput, NotRevertible
from ctrader_admin.services.journal_ops import RevertDrift
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import LinkTarget, UserTarget
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import (
    Journal,
    JournalAttempt,
    JournalDraft,
    JournalEntry,
    JournalFilter,
    Outcome,
)

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]
USER_WITH_PARTNER = 1000002  # sandbox seed: AFF-EU-318 at user level
USER_WITHOUT_PARTNER = 1000005  # sandbox_main, a client: no partnerId
LINKED_LOGIN = 3100001  # demo, sandbox_main, ctid 9000002 of user 1000001, no partnerId
LINKED_CTID = 9000002


@dataclass
class Env:
    sandbox: Sandbox
    office: Backoffice
    journal: Journal
    database: Database


@pytest.fixture
def env(make_office: MakeOffice) -> Iterator[Env]:
    sandbox = Sandbox(SandboxConfig(users=120))
    office = make_office(transport=lambda _profile: sandbox.transport())
    yield Env(sandbox, office, office.journal, office.journal.store)
    sandbox.close()


def play(env: Env, scenario: Callable[[Session], Awaitable[T]]) -> T:
    """Open the sandbox profile, log in, run the scenario, close."""

    async def main() -> T:
        session = await env.office.open("sandbox")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        try:
            return await scenario(session)
        finally:
            await env.office.close()

    return asyncio.run(main())


def last(journal: Journal) -> JournalEntry:
    return journal.page(None, 0, 1)[0]


def revert(session: Session, entry_id: int, **options: bool) -> Awaitable[object]:
    return journal_ops.revert(session, entry_id, reason="undo", ticket="SUP-9", **options)


def append(journal: Journal, outcome: Outcome, **fields: object) -> JournalEntry:
    values: dict[str, object] = {
        "operator": str(MANAGER.login),
        "profile_id": "sandbox",
        "profile_name": "Sandbox",
        "environment": "",
        "broker_name": "",
        "action": "set_partner",
        "target": f"user:{USER_WITH_PARTNER}",
        "reason": "appended by the test",
    }
    values.update(fields)
    error = "Timeout talking to the server" if outcome != "ok" else None
    journal.append_many([JournalAttempt(JournalDraft(**values), outcome, error=error)])  # type: ignore[arg-type]
    return last(journal)


# --- reverts that write ---------------------------------------------------------------------------


def test_revert_of_a_set_partner_sets_the_earlier_value_back_and_is_journaled(env: Env) -> None:
    target = UserTarget(USER_WITH_PARTNER)

    async def scenario(session: Session) -> journal_ops.RevertResult:
        await partners.set_partner(session, target, "IB-7", reason="claim", ticket="T-1")
        original = last(env.journal)
        plan = await journal_ops.describe_revert(session, original.id)
        assert not plan.drift
        assert ("partnerId", "IB-7 → AFF-EU-318") in plan.changes()
        return await journal_ops.revert(session, original.id, reason="wrong", ticket="T-2")

    result = play(env, scenario)
    assert env.sandbox.referral(user_id=USER_WITH_PARTNER) == "AFF-EU-318"
    written = last(env.journal)
    assert result.entry == written
    assert (written.action, written.target, written.before, written.after) == (
        "set_partner",
        f"user:{USER_WITH_PARTNER}",
        "IB-7",
        "AFF-EU-318",
    )
    assert (written.outcome, written.reverts_id, written.reason, written.ticket) == (
        "ok",
        written.id - 1,
        "wrong",
        "T-2",
    )
    assert "is AFF-EU-318 again" in result.message()
    assert env.journal.verify().ok


def test_revert_of_a_first_set_partner_deletes_the_record(env: Env) -> None:
    target = UserTarget(USER_WITHOUT_PARTNER)

    async def scenario(session: Session) -> None:
        await partners.set_partner(session, target, "IB-NEW", reason="claim")
        plan = await journal_ops.describe_revert(session, last(env.journal).id)
        assert plan.kind == "delete_partner"
        assert plan.changes()[2][1].startswith("IB-NEW → (none)")
        await revert(session, last(env.journal).id)

    play(env, scenario)
    assert env.sandbox.referral(user_id=USER_WITHOUT_PARTNER) is None
    written = last(env.journal)
    assert (written.action, written.before, written.after) == ("delete_partner", "IB-NEW", None)
    assert written.reverts_id == written.id - 1


def test_revert_on_an_account_link_finds_the_owner_to_delete_the_record(env: Env) -> None:
    # The owner is not in the local directory: the referral record names it.
    target = LinkTarget(LINKED_CTID)

    async def scenario(session: Session) -> None:
        await partners.set_partner(session, target, "IB-ACC", reason="claim")
        await revert(session, last(env.journal).id)

    play(env, scenario)
    assert env.sandbox.referral(ctid_trader_account_id=LINKED_CTID) is None
    assert last(env.journal).target == f"account:{LINKED_CTID}"


def test_revert_of_a_delete_partner_sets_the_value_back(env: Env) -> None:
    target = UserTarget(USER_WITH_PARTNER)

    async def scenario(session: Session) -> None:
        await partners.delete_partner(session, target, reason="wrong partner")
        await revert(session, last(env.journal).id)

    play(env, scenario)
    assert env.sandbox.referral(user_id=USER_WITH_PARTNER) == "AFF-EU-318"
    written = last(env.journal)
    assert (written.action, written.before, written.after) == ("set_partner", None, "AFF-EU-318")


def test_revert_of_a_move_wl_moves_the_account_back(env: Env) -> None:
    async def scenario(session: Session) -> journal_ops.RevertResult:
        await accounts.move_white_label(
            session,
            login=LINKED_LOGIN,
            environment="demo",
            target_broker_name="sandbox_eu",
            reason="restructure",
        )
        result = await journal_ops.revert(session, last(env.journal).id, reason="undo", ticket="")
        assert isinstance(result, journal_ops.RevertResult)
        return result

    result = play(env, scenario)
    trader = env.sandbox.trader(LINKED_LOGIN)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_main"
    assert result.confirmed
    assert result.move is not None
    written = last(env.journal)
    assert (written.action, written.target, written.before, written.after) == (
        "move_wl",
        f"login:{LINKED_LOGIN}@demo",
        "sandbox_eu",
        "sandbox_main",
    )
    assert written.reverts_id == written.id - 1


# --- refusals -------------------------------------------------------------------------------------


def refusal(env: Env, entry_id: int, **options: bool) -> str:
    async def scenario(session: Session) -> str:
        with pytest.raises(NotRevertible) as caught:
            await revert(session, entry_id, **options)
        return caught.value.message

    return play(env, scenario)


def test_create_user_and_link_account_are_not_revertible(env: Env) -> None:
    unlinked = env.sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)[0]

    async def scenario(session: Session) -> None:
        await users.create_user(
            session, email="new.client@example.com", broker_name="sandbox_main", language="en",
            reason="onboarding",
        )  # fmt: skip
        await accounts.link_account(
            session,
            login=unlinked,
            password=SecretStr(trading_password(unlinked)),
            user_id=USER_WITHOUT_PARTNER,
            broker_name="sandbox_main",
            environment="demo",
            reason="onboarding",
        )

    play(env, scenario)
    created, linked = reversed(env.journal.page(None, 0, 2))
    assert (created.action, linked.action) == ("create_user", "link_account")
    env.sandbox.clear_log()
    assert "no call to delete a user" in refusal(env, created.id)
    assert "no call to unlink" in refusal(env, linked.id)
    # Refused before anything was read or sent: only the log-ins reached the sandbox.
    assert all("token" in r.path for r in env.sandbox.request_log)
    assert env.journal.count() == 2


def test_a_failed_entry_is_not_revertible(env: Env) -> None:
    async def scenario(session: Session) -> None:
        # The account is on demo: the backend refuses the move (a White Label or an environment
        # the profile does not list is refused before sending, so it would journal nothing).
        with pytest.raises(NotFound):
            await accounts.move_white_label(
                session,
                login=LINKED_LOGIN,
                environment="live",
                target_broker_name="sandbox_eu",
                reason="try",
            )

    play(env, scenario)
    failed = last(env.journal)
    assert failed.outcome == "failed"
    assert "failed attempt: nothing was changed" in refusal(env, failed.id)


def test_drift_is_refused_with_current_and_expected_unless_forced(env: Env) -> None:
    target = UserTarget(USER_WITH_PARTNER)

    async def scenario(session: Session) -> RevertDrift:
        await partners.set_partner(session, target, "IB-7", reason="claim")
        first = last(env.journal)
        await partners.set_partner(session, target, "IB-8", reason="another agent")
        with pytest.raises(RevertDrift) as caught:
            await revert(session, first.id)
        assert env.sandbox.referral(user_id=USER_WITH_PARTNER) == "IB-8"
        plan = await journal_ops.describe_revert(session, first.id)
        assert plan.drift
        assert any(label == "⚠ Changed since" for label, _ in plan.changes())
        await revert(session, first.id, force=True)
        return caught.value

    drift = play(env, scenario)
    assert (drift.current, drift.expected) == ("IB-8", "IB-7")
    assert "Expected IB-7" in drift.message
    assert "it is now IB-8" in drift.message
    assert env.sandbox.referral(user_id=USER_WITH_PARTNER) == "AFF-EU-318"
    assert last(env.journal).before == "IB-8"


def test_an_entry_already_reverted_is_not_reverted_twice(env: Env) -> None:
    target = UserTarget(USER_WITH_PARTNER)

    async def scenario(session: Session) -> int:
        await partners.set_partner(session, target, "IB-7", reason="claim")
        first = last(env.journal)
        await revert(session, first.id)
        return first.id

    first_id = play(env, scenario)
    revert_id = last(env.journal).id
    message = refusal(env, first_id)
    assert f"already reverted by entry #{revert_id}" in message


def test_a_failed_revert_does_not_count_as_reverted(env: Env) -> None:
    target = UserTarget(USER_WITH_PARTNER)

    async def scenario(session: Session) -> None:
        await partners.set_partner(session, target, "IB-7", reason="claim")
        first = last(env.journal)
        # A failed attempt at reverting it: the entry is still to be reverted.
        append(env.journal, "failed", before="IB-7", after="AFF-EU-318", reverts_id=first.id)
        await revert(session, first.id)

    play(env, scenario)
    assert env.sandbox.referral(user_id=USER_WITH_PARTNER) == "AFF-EU-318"


def test_unknown_outcome_is_revertible_when_the_change_was_applied(env: Env) -> None:
    target = UserTarget(USER_WITH_PARTNER)

    async def scenario(session: Session) -> None:
        await partners.set_partner(session, target, "IB-7", reason="claim")
        # The same change recorded as 'unknown' (e.g. the answer was lost): it did apply.
        unknown = append(env.journal, "unknown", before="AFF-EU-318", after="IB-7")
        plan = await journal_ops.describe_revert(session, unknown.id)
        assert any(label == "Note" for label, _ in plan.changes())
        await revert(session, unknown.id)

    play(env, scenario)
    assert env.sandbox.referral(user_id=USER_WITH_PARTNER) == "AFF-EU-318"


def test_unknown_outcome_that_never_applied_has_nothing_to_revert(env: Env) -> None:
    unknown = append(env.journal, "unknown", before="AFF-EU-318", after="IB-NEVER")
    message = refusal(env, unknown.id)
    assert "apparently never applied" in message
    assert env.sandbox.referral(user_id=USER_WITH_PARTNER) == "AFF-EU-318"


def test_entries_of_another_connection_or_unknown_ids_are_refused(env: Env) -> None:
    other = append(env.journal, "ok", profile_id="acme-live", profile_name="ACME live")
    assert "switch to that connection" in refusal(env, other.id)
    assert "There is no journal entry #999" in refusal(env, 999)


def test_a_revert_needs_the_reason_the_profile_requires(env: Env) -> None:
    entry = append(env.journal, "ok", before="AFF-EU-318", after="IB-7")

    async def scenario(session: Session) -> None:
        with pytest.raises(InvalidInput):
            await journal_ops.revert(session, entry.id, reason=" ", ticket="")

    play(env, scenario)
    assert env.journal.count() == 1


# --- helpers --------------------------------------------------------------------------------------


def test_static_refusals_and_lookup_queries() -> None:
    assert journal_ops.lookup_query("user:12") == "user:12"
    assert journal_ops.lookup_query("account:9000002") == "ctid:9000002"
    assert journal_ops.lookup_query("login:3100001@demo") == "login:3100001"
    assert journal_ops.lookup_query("email:jane@example.com") == "jane@example.com"
    assert journal_ops.lookup_query("bulk:42") is None


def test_export_csv_writes_the_filtered_entries_or_says_why_not(env: Env, tmp_path: Path) -> None:
    append(env.journal, "ok", target="user:1")
    append(env.journal, "failed", target="user:2")
    path = tmp_path / "out.csv"
    count = journal_ops.export_csv(env.journal, JournalFilter(outcome="failed"), path)
    assert count == 1
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["target"], r["outcome"]) for r in rows] == [("user:2", "failed")]
    with pytest.raises(journal_ops.ExportFailed, match="could not be written"):
        journal_ops.export_csv(env.journal, None, tmp_path / "missing" / "out.csv")
    assert not list((tmp_path).glob(".*.partial"))
