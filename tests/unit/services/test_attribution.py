"""The attribution ledger filled from the training sandbox's sources (cTrader Invite, the IB
labels, the CRM export, cTrader's referral records) and the questions a support agent asks of it:
who is this client attributed to, who are this partner's referrals, and what conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest
from office_helpers import MakeOffice

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox, SandboxConfig
from ctrader_admin.services import attribution, lookup
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.id_kinds import Kind
from ctrader_admin.services.session import Session
from ctrader_admin.store.attribution import AttributionLedger

T = TypeVar("T")
MANAGER = TRAINING_MANAGERS[0]
EMILY, LUKAS, DANIEL = 1000001, 1000002, 1000004  # the sandbox's starting cases
DANIEL_LIVE = 5200005


@dataclass
class Env:
    sandbox: Sandbox
    office: Backoffice
    ledger: AttributionLedger


@pytest.fixture
def env(make_office: MakeOffice) -> Iterator[Env]:
    sandbox = Sandbox(SandboxConfig(users=300))
    office = make_office(transport=lambda _profile: sandbox.transport())
    directory = office.directory
    # What the training profile starts with: the plant's CRM export in the local directory.
    directory.import_rows("sandbox", directory.preview_csv(sandbox.crm_export_csv()).rows_ok)
    yield Env(sandbox, office, office.ledger)
    sandbox.close()


def play(env: Env, scenario: Callable[[Session], Awaitable[T]]) -> T:
    async def main() -> T:
        session = await env.office.open("sandbox")
        await session.login(MANAGER.login, MANAGER.password, remember=False)
        try:
            return await scenario(session)
        finally:
            await env.office.close()

    return asyncio.run(main())


def invite_requests(env: Env) -> list[str]:
    return [str(r.query) for r in env.sandbox.request_log if r.path == "/v1/social/invitedUsers"]


def fill(env: Env) -> None:
    """Every source, as an agent would pull them: Invite, the CRM export, the IB labels of
    every known account, and cTrader's codes of every partner a source names."""

    async def scenario(session: Session) -> None:
        await attribution.pull_invite(session, env.ledger, page_size=50)
        preview = attribution.preview_crm(env.sandbox.crm_export_csv())
        assert preview.problems == []
        attribution.import_crm(env.ledger, "sandbox", preview)
        logins = {a.login for a in session.directory.accounts_for_user("sandbox", DANIEL)}
        logins |= {a.login for a in session.directory.accounts_for_user("sandbox", EMILY)}
        assert DANIEL_LIVE in logins
        await attribution.read_ib_labels(session, env.ledger, logins)
        partners = attribution.known_partners(env.ledger, "sandbox")
        await attribution.refresh_registry(session, env.ledger, partners)

    play(env, scenario)


def test_invite_pulls_are_incremental_and_resume_from_the_last_stored_page(env: Env) -> None:
    async def first(session: Session) -> attribution.PullResult:
        return await attribution.pull_invite(session, env.ledger, page_size=50)

    result = play(env, first)
    assert result.enabled
    assert result.fetched == result.total > 100
    assert result.pages == result.fetched // 50 + 1

    env.sandbox.clear_log()
    again = play(env, first)
    assert (again.fetched, again.total) == (0, result.total)
    assert len(invite_requests(env)) == 1  # nothing new: one round trip

    env.sandbox.add_invitations(3, partner_user_id=EMILY)
    env.sandbox.clear_log()
    third = play(env, first)
    assert (third.fetched, third.total) == (3, result.total + 3)
    assert len(invite_requests(env)) == 1


def test_a_pull_cancelled_midway_resumes_without_gap_or_duplicate(env: Env) -> None:
    async def cancelled(session: Session) -> None:
        pages = 0

        def on_page(_: int) -> None:
            nonlocal pages
            pages += 1
            if pages == 2:
                raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            await attribution.pull_invite(session, env.ledger, page_size=40, on_page=on_page)

    play(env, cancelled)
    stored = env.ledger.count("sandbox", "invite")
    assert stored == 80

    async def rest(session: Session) -> attribution.PullResult:
        return await attribution.pull_invite(session, env.ledger, page_size=40)

    result = play(env, rest)
    fresh_ledger_total = result.total
    assert result.fetched == fresh_ledger_total - 80  # only what was left

    async def count_all(session: Session) -> int:
        rows = 0
        async for page in session.client.iter_invited_user_pages(page_size=1000):
            rows += len(page.rows)
        return rows

    assert play(env, count_all) == fresh_ledger_total


def test_invite_not_enabled_is_said_and_nothing_is_stored(env: Env) -> None:
    env.sandbox.config.dialect.invite_enabled = False

    async def scenario(session: Session) -> attribution.PullResult:
        return await attribution.pull_invite(session, env.ledger)

    result = play(env, scenario)
    assert (result.enabled, result.fetched, result.total) == (False, 0, 0)


def test_the_client_case_shows_each_source_and_their_disagreement(env: Env) -> None:
    fill(env)
    case = attribution.client_attribution(env.ledger, "sandbox", DANIEL, period_days=90)
    says = {(row.source, row.partner_code) for row in case.rows}
    assert ("invite", "IB-1042") in says
    assert ("crm", "IB-1042") in says
    assert ("ib_label", "AFF-EU-318") in says
    [disagreement] = [c for c in case.conflicts if c.kind == "sources_disagree"]
    assert f"user {EMILY}" in disagreement.detail
    assert f"user {LUKAS}" in disagreement.detail
    assert disagreement.period == "inside"  # invited 20 days before seeding
    assert all(row.read_at for row in case.rows)  # provenance: when each row was read


def test_every_conflict_kind_is_found_and_clients_without_a_code_are_never_flagged(
    env: Env,
) -> None:
    fill(env)
    found = attribution.conflicts(env.ledger, "sandbox", period_days=90)
    kinds = {c.kind for c in found}
    assert kinds >= {
        "sources_disagree",
        "unknown_code",
        "self_referral",
        "shared_code",
        "levels_differ",
        "crm_differs",
        "crm_only",
    }
    assert any(c.code == "IB-0404" for c in found if c.kind == "unknown_code")
    assert {c.period for c in found if c.kind == "sources_disagree"} >= {"inside", "past"}
    # Registry flags are about partners: nobody flagged there is without a code of their own.
    registry = env.ledger.registry("sandbox")
    carriers = {code.partner_user_id for code in registry}
    for conflict in found:
        if conflict.kind in ("levels_differ", "crm_differs", "crm_only"):
            assert conflict.partner_user_id in carriers


def test_a_partner_case_lists_every_referral_by_user_or_by_code(env: Env) -> None:
    fill(env)
    by_code = attribution.partner_case(env.ledger, "sandbox", code="IB-1042")
    by_user = attribution.partner_case(env.ledger, "sandbox", user_id=EMILY)
    assert by_code.partner_user_id == EMILY
    assert {c.code for c in by_user.codes} >= {"IB-1042", "IB-2077"}
    assert by_code.counts == by_user.counts
    assert by_user.counts["invite"] > 0
    assert DANIEL in {r.client_user_id for r in by_user.referrals}
    only_crm = attribution.partner_case(env.ledger, "sandbox", user_id=EMILY, source="crm")
    assert {r.source for r in only_crm.referrals} == {"crm"}
    text = attribution.export_rows_csv(by_user.referrals)
    assert text.splitlines()[0].startswith("source,client userId")
    assert len(text.splitlines()) == len(by_user.referrals) + 1


def test_a_crm_export_with_bad_rows_says_which_and_imports_nothing_of_them() -> None:
    text = (
        "userId,login,partnerCode,referredByPartnerCode,referredAt\n"
        "1000007,,,IB-1042,2026-01-02T03:04:05Z\n"
        "１２３,,,IB-1042,\n"
        "1000008,,,IB-1042,yesterday\n"
        "1000009,,AB-7,,\n"
    )
    preview = attribution.preview_crm(text)
    assert [number for number, _ in preview.problems] == [3, 4]
    assert preview.problems[0][1] == (
        "userId '１２３' must be a whole number made of the digits 0–9 (not '１', U+FF11)."
    )
    assert [a.client_user_id for a in preview.attributions] == [1000007]
    assert [(c.partner_user_id, c.code) for c in preview.codes] == [(1000009, "AB-7")]


def test_lookup_opens_a_partner_by_code_and_explains_a_client_s_attribution(env: Env) -> None:
    fill(env)

    async def scenario(session: Session) -> list[lookup.LookupResult]:
        return [
            await lookup.lookup(session, text)
            for text in ("partner:IB-1042", "IB-1042", f"user:{DANIEL}", "partner:IB-9999")
        ]

    by_prefix, detected, client, unknown = play(env, scenario)
    for case in (by_prefix, detected):
        assert isinstance(case, lookup.Case)
        assert (case.user_id, case.kind) == (EMILY, Kind.PARTNER)
        assert "Code IB-1042 at user level, as cTrader says it." in case.notes
        assert any(n.startswith("Referrals by source — cTrader Invite: ") for n in case.notes)
    assert isinstance(client, lookup.Case)
    assert "cTrader Invite says: IB-1042 since" in " ".join(client.notes)
    assert "IB label says: AFF-EU-318." in client.notes
    assert any(n.startswith("Sources disagree about the client's partner") for n in client.notes)
    assert isinstance(unknown, lookup.NothingFound)
    assert unknown.notes[0].startswith("No partner known here carries IB-9999.")
