"""The conflict report the ledger keeps equals the report computed from every row, after each
way the ledger changes: Invite pulls (new clients, re-attributions), CRM imports (a new export
replaces the old one), IB label reads, registry refreshes (a code moved, one removed) — over the
training sandbox. Random sequences of changes, on both engines: tests/unit/store/
test_store_attribution.py."""

from __future__ import annotations

from test_attribution import DANIEL, EMILY, LUKAS, Env, env, play

from ctrader_admin.api import SetReferralRequest
from ctrader_admin.sandbox.invitations import ExplicitInvitation
from ctrader_admin.services import attribution
from ctrader_admin.services.session import Session
from ctrader_admin.store.attribution import AttributionLedger

__all__ = ["env"]  # the fixture, shared with test_attribution


def kept_equals_computed(ledger: AttributionLedger, profile_id: str = "sandbox") -> list[object]:
    kept = ledger.kept_conflicts(profile_id)
    assert kept == ledger.computed_conflicts(profile_id)
    return [k.conflict for k in kept]


def test_the_kept_report_follows_every_pull_import_and_registry_refresh(env: Env) -> None:
    ledger = env.ledger

    async def pull(session: Session) -> None:
        await attribution.pull_invite(session, ledger, page_size=50)

    play(env, pull)
    after_pull = kept_equals_computed(ledger)
    # Before any registry is read, every Invite code is unknown to the app.
    assert any(getattr(c, "kind", "") == "unknown_code" for c in after_pull)

    preview = attribution.preview_crm(env.sandbox.crm_export_csv())
    attribution.import_crm(ledger, "sandbox", preview)
    kept_equals_computed(ledger)

    async def labels_and_registry(session: Session) -> None:
        logins = {a.login for a in session.directory.accounts_for_user("sandbox", DANIEL)}
        await attribution.read_ib_labels(session, ledger, logins)
        partners = attribution.known_partners(ledger, "sandbox")
        await attribution.refresh_registry(session, ledger, partners)

    play(env, labels_and_registry)
    filled = kept_equals_computed(ledger)
    assert {getattr(c, "kind", "") for c in filled} >= {"sources_disagree", "shared_code"}

    # A re-pull: new clients, and Daniel re-attributed by Invite to Lukas.
    env.sandbox.add_invitations(4, partner_user_id=EMILY)
    env.sandbox.add_invitations(rows=[ExplicitInvitation(DANIEL, LUKAS)])
    play(env, pull)
    kept_equals_computed(ledger)

    # The registry changes in cTrader: Emily's user-level code moves to Lukas's user.
    async def move_code(session: Session) -> None:
        crm = session.profile.broker_crm_name
        request = SetReferralRequest(broker_crm_name=crm, user_id=LUKAS, partner_id="IB-1042")
        await session.client.set_referral(request)
        partners = attribution.known_partners(ledger, "sandbox")
        await attribution.refresh_registry(session, ledger, partners)

    before = kept_equals_computed(ledger)
    play(env, move_code)
    assert kept_equals_computed(ledger) != before  # the move changed the report, and it was kept

    # A new CRM export without half of its rows replaces the old one.
    lines = env.sandbox.crm_export_csv().splitlines()
    attribution.import_crm(ledger, "sandbox", attribution.preview_crm("\n".join(lines[::2])))
    kept_equals_computed(ledger)
