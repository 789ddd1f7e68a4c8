"""Register a partner (issue #11, flows 1 and 2) through the services, against the sandbox over
real loopback sockets: a new cTID user, an email that already has one (said plainly), a code
another partner carries (refused, nothing sent), account level, a code that does not read back,
a read-only connection; and the work order offered where the API cannot link an account that is
already linked to another user."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from pydantic import SecretStr

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.sandbox.server import serve_in_thread
from ctrader_admin.sandbox.training import trading_password
from ctrader_admin.services import accounts, attribution
from ctrader_admin.services import partner_registration as reg
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.errors import ReadOnlyProfile
from ctrader_admin.services.id_kinds import Kind
from ctrader_admin.services.session import Session
from ctrader_admin.services.work_orders import AlreadyLinked
from ctrader_admin.services.writes import LinkTarget, WriteDrift
from ctrader_admin.store.attribution import AttributionLedger
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalFilter
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.ui.journal_tab import details_text
from ctrader_admin.wiring import compose_backoffice

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]
EMILY, DANIEL = 1000001, 1000004  # the sandbox's starting partner and client cases
EMILY_EMAIL = "emily.carter@example.com"
EMILY_LIVE, DANIEL_LIVE = 5200001, 5200005
REFERRAL, CREATE, LINK = "/cid/oauth2/ctid/referral", "/cid/ctid/create", "/cid/ctid/link"


@dataclass
class Env:
    sandbox: Sandbox
    office: Backoffice
    ledger: AttributionLedger
    journal: Journal

    def writes(self) -> list[str]:
        """The write requests the sandbox received, as "METHOD path"."""
        return [f"{r.method} {r.path}" for r in self.sandbox.request_log if r.method != "GET"]

    def run(self, scenario: Callable[[Session], Awaitable[T]], profile: str = "loopback") -> T:
        async def main() -> T:
            session = await self.office.open(profile)
            await session.login(MANAGER.login, MANAGER.password, remember=False)
            self.sandbox.clear_log()  # what the scenario sends, not the log-in
            try:
                return await scenario(session)
            finally:
                await self.office.close()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, main()).result()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    sandbox = Sandbox(SandboxConfig(users=120, write_cap_per_hour=None))
    database = Database(tmp_path / "app.sqlite3")
    profiles = ProfileStore(AppPaths.under(tmp_path / "home"))
    # Over the network (loopback): every profile names the served sandbox's URL.
    office = compose_backoffice(database, profiles, workstation="test")
    directory = office.directory
    # What a broker's office starts with: the CRM export in the local directory.
    directory.import_rows("loopback", directory.preview_csv(sandbox.crm_export_csv()).rows_ok)
    with serve_in_thread(sandbox) as url:
        for profile_id, read_only in (("loopback", False), ("readonly", True)):
            profiles.add(
                Profile(
                    id=profile_id,
                    name=f"Loopback {profile_id}",
                    base_url=url,
                    broker_names=list(MANAGER.broker_names),
                    broker_crm_name="sandbox_crm",
                    manager_login=MANAGER.login,
                    read_only=read_only,
                    timeout_seconds=5.0,
                )
            )
        yield Env(sandbox, office, office.ledger, office.journal)
    office.close_stores()
    sandbox.close()


def register(
    env: Env,
    text: str,
    kind: Kind | None,
    *,
    code: str | None = None,
    account: int | None = None,
) -> Callable[[Session], Awaitable[tuple[reg.UserReady, reg.Registration]]]:
    """The whole flow as the dialog and the CLI run it."""

    async def scenario(session: Session) -> tuple[reg.UserReady, reg.Registration]:
        person = await reg.find_person(session, text, kind)
        if code is not None:
            await reg.check_code(session, env.ledger, person, code)
        ready = await reg.ensure_user(session, person, reason="new partner", ticket="CRM-1")
        chosen = code or _proposed(env, session, ready.person)
        plan = await reg.plan(session, env.ledger, ready.person, code=chosen, account_login=account)
        done = await reg.execute(session, env.ledger, plan, reason="new partner", ticket="CRM-1")
        return ready, done

    return scenario


def _proposed(env: Env, session: Session, person: reg.Person) -> str:
    proposal = reg.propose_code(env.ledger, session.profile.id, person)
    assert proposal is not None
    return proposal.code


def test_a_new_partner_gets_a_ctid_user_then_the_proposed_code_read_back(env: Env) -> None:
    ready, done = env.run(register(env, "new.partner@example.com", Kind.EMAIL))

    assert ready.created
    new_user = ready.person.user_id
    assert new_user is not None
    assert ready.message == f"Created cTID user {new_user} for new.partner@example.com."
    assert done.plan.code == f"IB-{new_user}"  # no CRM code known: the rule
    assert done.matches
    assert done.read_back == f"IB-{new_user}"
    assert env.sandbox.referral(user_id=new_user) == f"IB-{new_user}"
    assert env.writes() == [f"POST {CREATE}", f"PUT {REFERRAL}"]
    entries = list(env.journal.iter_entries(JournalFilter(profile_id="loopback")))
    assert [(e.action, e.outcome, e.ticket) for e in entries] == [
        ("create_user", "ok", "CRM-1"),
        ("set_partner", "ok", "CRM-1"),
    ]
    assert entries[1].id == done.journal_id
    # The read-back is recorded in the write's own entry, in words (no entry of its own).
    assert entries[1].response is not None
    assert f"Read back just after: IB-{new_user}, the value set — it matches." in (
        entries[1].response
    )
    # The registry knows the new partner at once: the same code is now refused for others.
    registry = attribution.Registry(env.ledger.registry("loopback"))
    assert registry.owner(f"IB-{new_user}") == new_user


def test_an_email_that_already_has_a_ctid_user_is_said_plainly_and_used(env: Env) -> None:
    # No Invite user list (a broker without it): the email is not found by Lookup, and the
    # create call answers with the user the email already has.
    env.sandbox.config.dialect = dataclasses.replace(
        env.sandbox.config.dialect, invite_enabled=False
    )
    user = next(
        u
        for u in range(1000005, 1000100)
        if (found := env.sandbox.user(u)) is not None
        and found["broker_name"] in MANAGER.broker_names
        and env.sandbox.referral(user_id=u) is None
    )
    email = str((env.sandbox.user(user) or {})["email"])
    with env.journal.store.transaction() as conn:  # not known to this office yet
        conn.execute("DELETE FROM directory_users WHERE user_id = ?", (user,))

    ready, done = env.run(register(env, email, Kind.EMAIL, code="IB-NEW-3"))

    assert not ready.created
    assert ready.message == f"This email already has cTID user {user}; it will be used."
    assert ready.person.user_id == user
    assert done.matches
    assert env.sandbox.referral(user_id=user) == "IB-NEW-3"
    assert env.writes() == [f"POST {CREATE}", f"PUT {REFERRAL}"]


def test_a_code_another_partner_carries_is_refused_and_nothing_is_sent(env: Env) -> None:
    async def learn_registry(session: Session) -> None:
        await attribution.refresh_registry(session, env.ledger, [EMILY])

    env.run(learn_registry)

    with pytest.raises(reg.CodeTaken) as refused:
        env.run(register(env, "another.partner@example.com", Kind.EMAIL, code="IB-1042"))

    assert "IB-1042 is already carried by partner user 1000001 (at user level" in str(refused.value)
    assert "Nothing was sent" in str(refused.value)
    assert env.writes() == []  # neither the cTID user nor the code
    assert list(env.journal.iter_entries(JournalFilter(profile_id="loopback"))) == []


def test_account_level_registers_on_the_chosen_link_only(env: Env) -> None:
    link = env.sandbox.link(trader_login=DANIEL_LIVE)
    assert link is not None
    ctid = link["ctid_trader_account_id"]

    ready, done = env.run(register(env, f"{DANIEL}", Kind.USER, code="AFF-77", account=DANIEL_LIVE))

    assert not ready.created
    assert ready.person.user_id == DANIEL
    assert done.plan.target == LinkTarget(ctid)
    assert done.matches
    assert env.sandbox.referral(ctid_trader_account_id=ctid) == "AFF-77"
    assert env.sandbox.referral(user_id=DANIEL) is None  # the user level is untouched
    put = [r for r in env.sandbox.request_log if r.method == "PUT"]
    assert [r.body for r in put] == [
        {"brokerCrmName": "sandbox_crm", "ctidTraderAccountId": ctid, "partnerId": "AFF-77"}
    ]


def test_a_code_that_does_not_read_back_is_said_to_differ(env: Env) -> None:
    env.sandbox.script_faults("ignored")  # the PUT is answered 200 but not applied

    _ready, done = env.run(register(env, f"login:{DANIEL_LIVE}", None, code="IB-LOST"))

    assert done.change.changed
    assert not done.matches
    assert done.read_back is None
    assert "reading it back shows (none), NOT IB-LOST" in done.message()
    entry = env.journal.entry(done.journal_id or 0)
    assert entry is not None
    assert entry.outcome == "ok"  # the backend answered success: the journal never lies
    # The mismatch is in that entry, as the Journal tab and the journal's CSV export show it;
    # it is not an entry of its own, so the budget's seeding counts one write.
    mismatch = "Read back just after: (none), NOT IB-LOST"
    assert entry.response is not None
    assert mismatch in entry.response
    assert mismatch in details_text(entry)
    exported = io.StringIO()
    env.journal.export_csv(JournalFilter(profile_id="loopback"), exported)
    assert mismatch in exported.getvalue()
    assert env.journal.count(JournalFilter(profile_id="loopback")) == 1


def test_the_crm_code_is_proposed_when_the_registry_knows_one(env: Env) -> None:
    preview = attribution.preview_crm(env.sandbox.crm_export_csv())
    attribution.import_crm(env.ledger, "loopback", preview)
    partner, crm_code = next((c.partner_user_id, c.code) for c in preview.codes)

    async def propose(session: Session) -> reg.Proposal | None:
        person = await reg.find_person(session, str(partner), Kind.USER)
        return reg.propose_code(env.ledger, session.profile.id, person)

    proposal = env.run(propose)
    assert proposal == reg.Proposal(crm_code, "the CRM's code for this partner")


def test_a_read_only_connection_refuses_before_any_request(env: Env) -> None:
    with pytest.raises(ReadOnlyProfile):
        env.run(register(env, "new.partner@example.com", Kind.EMAIL), profile="readonly")
    assert env.sandbox.request_log == []


async def link_emilys_live_account_to_daniel(session: Session) -> None:
    await accounts.link_account(
        session,
        login=EMILY_LIVE,
        password=SecretStr(trading_password(EMILY_LIVE)),
        user_id=DANIEL,
        broker_name="sandbox_main",
        environment="live",
        reason="duplicate cTID",
        ticket="SUP-9",
    )


def test_linking_an_account_linked_to_another_user_offers_a_work_order_and_sends_nothing(
    env: Env,
) -> None:
    with pytest.raises(AlreadyLinked) as refused:
        env.run(link_emilys_live_account_to_daniel)

    order = refused.value.order
    assert (order.login, order.from_user_id, order.to_user_id) == (EMILY_LIVE, EMILY, DANIEL)
    text = order.text()
    assert "login 5200001, environment live" in text
    assert "From:             cTID user 1000001" in text
    assert "To:               cTID user 1000004" in text
    assert "Why:              duplicate cTID" in text
    assert "SUP-9" in text
    assert "already linked to cTID user 1000001" in refused.value.message
    assert env.writes() == []
    assert trading_password(EMILY_LIVE) not in text


def test_a_link_the_directory_did_not_know_is_turned_into_a_work_order_too(env: Env) -> None:
    with env.office.journal.store.transaction() as conn:
        conn.execute("DELETE FROM directory_links WHERE login = ?", (EMILY_LIVE,))

    with pytest.raises(AlreadyLinked) as refused:
        env.run(link_emilys_live_account_to_daniel)

    assert refused.value.order.from_user_id is None
    assert "its current cTID user (not known here" in refused.value.order.text()
    assert env.writes() == [f"POST {LINK}"]
    (entry,) = env.journal.iter_entries(JournalFilter(profile_id="loopback"))
    assert (entry.action, entry.outcome) == ("link_account", "failed")


def test_a_code_changed_after_the_plan_was_confirmed_is_not_overwritten(env: Env) -> None:
    """Between the confirmation (the plan shows what the target holds) and the send, another
    operator sets a code there: nothing is sent, the journal records the refusal."""

    async def scenario(session: Session) -> WriteDrift:
        person = await reg.find_person(session, f"{DANIEL}", Kind.USER)
        plan = await reg.plan(session, env.ledger, person, code="AFF-88")
        assert plan.before is None
        other = httpx.AsyncClient(base_url=str(session.profile.base_url))
        async with other:  # someone else, through the sandbox's HTTP API
            answer = await other.put(
                REFERRAL,
                params={"token": MANAGER.token},
                json={"brokerCrmName": "sandbox_crm", "userId": DANIEL, "partnerId": "THEIRS"},
            )
            assert answer.status_code == 200
        env.sandbox.clear_log()
        with pytest.raises(WriteDrift) as drift:
            await reg.execute(session, env.ledger, plan, reason="new partner", ticket="CRM-1")
        return drift.value

    drift = env.run(scenario)
    assert "was (none), now THEIRS" in drift.message
    assert env.writes() == []
    assert env.sandbox.referral(user_id=DANIEL) == "THEIRS"
    entry = env.journal.entry(drift.journal_id) if drift.journal_id else None
    assert entry is not None
    assert (entry.target, entry.after, entry.outcome) == (f"user:{DANIEL}", "AFF-88", "refused")
