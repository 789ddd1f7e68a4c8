"""The conflict report the ledger keeps equals the report computed from every row, after each
way the ledger changes: Invite pulls (new clients, re-attributions), CRM imports (a new export
replaces the old one), IB label reads, registry refreshes (a code moved, one removed) — over the
training sandbox, and over random sequences of changes (Hypothesis)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_attribution import DANIEL, EMILY, LUKAS, Env, env, play

from ctrader_admin.api import SetReferralRequest
from ctrader_admin.sandbox.invitations import ExplicitInvitation
from ctrader_admin.services import attribution
from ctrader_admin.services.session import Session
from ctrader_admin.store.attribution import Attribution, AttributionLedger, RegisteredCode
from ctrader_admin.store.database import Database

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


def test_a_database_from_before_the_kept_report_gets_it_at_first_use(tmp_path: Path) -> None:
    database = Database(tmp_path / "app.sqlite3")
    ledger = AttributionLedger(database)
    ledger.save_page("p", [_row("invite", "1", 10, code="X-1"), _row("crm", "1", 10, code="Y")])
    with database.transaction() as conn:  # as the migration leaves an older database
        conn.execute("DELETE FROM attribution_conflict")
        conn.execute("DELETE FROM attribution_conflict_built")
    fresh = AttributionLedger(database)
    found = kept_equals_computed(fresh, "p")
    assert [getattr(c, "kind", "") for c in found] == [
        "unknown_code",
        "unknown_code",
        "sources_disagree",
    ]
    database.close()


def test_a_first_write_that_fails_leaves_the_report_to_be_built_again(tmp_path: Path) -> None:
    database = Database(tmp_path / "app.sqlite3")
    AttributionLedger(database).save_page("p", [_row("invite", "1", 10, code="X-1")])
    with database.transaction() as conn:  # as the migration leaves an older database
        conn.execute("DELETE FROM attribution_conflict")
        conn.execute("DELETE FROM attribution_conflict_built")
    fresh = AttributionLedger(database)
    with pytest.raises(sqlite3.IntegrityError):  # a source the table does not take
        fresh.save_page("p", [_row("invite", "2", 11), _row("fax", "3", 12)])
    assert [getattr(c, "kind", "") for c in kept_equals_computed(fresh, "p")] == ["unknown_code"]
    database.close()


def _row(source: str, key: str, client: int | None, *, code: str | None = None,
         partner: int | None = None, day: int = 1) -> Attribution:  # fmt: skip
    return Attribution(
        source=source,  # type: ignore[arg-type]
        source_key=key,
        client_user_id=client,
        client_login=None,
        partner_code=code,
        partner_user_id=partner,
        attributed_at=f"2026-01-{day:02d}T00:00:00.000Z" if source != "ib_label" else None,
        read_at="2026-02-01T00:00:00.000Z",
    )


CLIENTS = st.integers(1, 6)
PARTNERS = st.integers(1, 4)
CODES = st.sampled_from(["A", "B", "C", "D"])
ROWS = st.builds(
    _row,
    source=st.sampled_from(["invite", "ib_label", "crm"]),
    key=st.sampled_from(["k1", "k2", "k3", "k4", "k5"]),
    client=st.one_of(st.none(), CLIENTS),
    code=st.one_of(st.none(), CODES),
    partner=st.one_of(st.none(), CLIENTS, PARTNERS),
    day=st.integers(1, 28),
)
CODES_READ = st.lists(
    st.builds(
        RegisteredCode,
        source=st.sampled_from(["ctrader", "crm"]),
        partner_user_id=st.one_of(CLIENTS, PARTNERS),
        level=st.sampled_from(["user", "account"]),
        ctid_trader_account_id=st.integers(0, 2),
        code=CODES,
        read_at=st.just("2026-02-01T00:00:00.000Z"),
    ),
    max_size=5,
)
CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("save"), st.lists(ROWS, max_size=6)),
        st.tuples(st.just("replace"), st.lists(ROWS, max_size=6)),
        st.tuples(st.just("registry"), CODES_READ, st.one_of(st.none(), st.sets(PARTNERS))),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=CHANGES)
def test_any_sequence_of_changes_keeps_the_report_equal_to_the_computed_one(
    changes: list[tuple[object, ...]],
) -> None:
    with Database() as database:
        ledger = AttributionLedger(database)
        for change in changes:
            if change[0] == "save":
                ledger.save_page("p", change[1])  # type: ignore[arg-type]
            elif change[0] == "replace":
                rows = [r for r in change[1] if r.source == "crm"]  # type: ignore[attr-defined]
                ledger.replace_source("p", "crm", rows)
            else:
                codes, partners = change[1], change[2]
                source = "ctrader" if partners is not None else "crm"
                mine = [c for c in codes if c.source == source]  # type: ignore[attr-defined]
                if partners is not None:
                    mine = [c for c in mine if c.partner_user_id in partners]  # type: ignore[operator]
                ledger.set_registry("p", source, mine, partners=partners)  # type: ignore[arg-type]
            kept_equals_computed(ledger, "p")
