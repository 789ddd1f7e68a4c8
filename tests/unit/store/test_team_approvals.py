"""Policies and four-eyes approvals enforced by the team database itself, asserted through SQL as
two agent roles (not through the app): self-approval, a second decision, an edited body, a second
apply, an agent editing a submitted body or setting a policy — all refused by the server."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
from pg_cluster import PgServer
from team_db import team_of_two

from ctrader_admin.store.pg.settings import TeamSettings

BODY = '{"action":"set_partner","after":"IB-7","target":"user:1000004"}'
HASH = hashlib.sha256(BODY.encode()).hexdigest()


@pytest.fixture
def team(pg_server: PgServer) -> tuple[TeamSettings, TeamSettings, TeamSettings]:
    """(administrator, agent A, agent B) on a fresh team database."""
    return team_of_two(pg_server)


def _sql(settings: TeamSettings, statement: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
    with psycopg.connect(**settings.connect_kwargs(), autocommit=True) as conn:
        cursor = conn.execute(statement, params or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def _submit(agent: TeamSettings, body: str = BODY, body_hash: str = HASH) -> int:
    rows = _sql(
        agent,
        "INSERT INTO approvals (kind, profile_id, environment, summary, body, body_hash) "
        "VALUES ('write', 'acme-live', 'live', 'set IB-7', %s, %s) RETURNING id",
        (body, body_hash),
    )
    return int(rows[0][0])


def _decide(agent: TeamSettings, approval_id: int, decision: str = "approved") -> None:
    _sql(
        agent,
        "INSERT INTO approval_decisions (approval_id, decision, comment, body_hash) "
        "VALUES (%s, %s, 'fine', %s)",
        (approval_id, decision, HASH),
    )


def test_the_submitter_is_the_servers_login_not_what_the_client_says(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    _, anna, _ = team
    approval = _submit(anna)
    assert _sql(anna, "SELECT submitted_by FROM approvals WHERE id = %s", (approval,)) == [
        (anna.user,)
    ]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(
            anna,
            "INSERT INTO approvals (kind, profile_id, environment, summary, body, body_hash, "
            "submitted_by) VALUES ('write', 'p', 'live', 's', %s, %s, 'boss')",
            (BODY, HASH),
        )


def test_a_body_that_does_not_match_its_hash_cannot_be_submitted(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    _, anna, _ = team
    with pytest.raises(psycopg.errors.RaiseException, match="does not match its hash"):
        _submit(anna, body_hash="0" * 64)


def test_nobody_approves_their_own_change_and_another_agent_can(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    _, anna, bob = team
    approval = _submit(anna)
    with pytest.raises(psycopg.errors.RaiseException, match="another person must decide"):
        _decide(anna, approval)
    _decide(bob, approval)
    assert _sql(
        anna, "SELECT decision, decided_by FROM approval_decisions WHERE approval_id = %s",
        (approval,),
    ) == [("approved", bob.user)]  # fmt: skip


def test_a_change_is_decided_once(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    admin, anna, bob = team
    approval = _submit(anna)
    _decide(bob, approval, "rejected")
    for who in (bob, admin):
        with pytest.raises(psycopg.errors.RaiseException, match="already rejected by " + bob.user):
            _decide(who, approval, "approved")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(bob, "UPDATE approval_decisions SET decision = 'approved'")
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        _sql(admin, "UPDATE approval_decisions SET decision = 'approved'")


def test_agents_cannot_edit_a_submitted_body_and_an_edited_one_cannot_be_approved(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    admin, anna, bob = team
    approval = _submit(anna)
    for statement in (
        "UPDATE approvals SET body = '{}'",
        "DELETE FROM approvals",
        "TRUNCATE approvals CASCADE",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(anna, statement)
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        _sql(admin, "UPDATE approvals SET body = '{}'")
    # Only a superuser switching the triggers off gets an edit in; the hash then refuses it.
    _sql(
        admin,
        "ALTER TABLE approvals DISABLE TRIGGER approvals_no_change; "
        "UPDATE approvals SET body = replace(body, 'IB-7', 'IB-666'); "
        "ALTER TABLE approvals ENABLE TRIGGER approvals_no_change",
    )
    with pytest.raises(psycopg.errors.RaiseException, match="hash"):
        _decide(bob, approval)
    # and an approver must approve the hash they were shown
    other = _submit(anna)
    with pytest.raises(psycopg.errors.RaiseException, match="hash"):
        _sql(
            bob,
            "INSERT INTO approval_decisions (approval_id, decision, body_hash) "
            "VALUES (%s, 'approved', %s)",
            (other, "1" * 64),
        )


def test_an_approved_change_is_applied_once_and_names_its_journal_entry(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    admin, anna, bob = team
    pending, rejected, approved = _submit(anna), _submit(anna), _submit(anna)
    _decide(bob, rejected, "rejected")
    _decide(bob, approved)
    use = "INSERT INTO approval_uses (approval_id, body_hash) VALUES (%s, %s)"
    with pytest.raises(psycopg.errors.RaiseException, match="still pending"):
        _sql(anna, use, (pending, HASH))
    with pytest.raises(psycopg.errors.RaiseException, match=r"not approved \(rejected\)"):
        _sql(anna, use, (rejected, HASH))
    with pytest.raises(psycopg.errors.RaiseException, match="hash"):
        _sql(anna, use, (approved, "2" * 64))
    _sql(anna, use, (approved, HASH))
    with pytest.raises(psycopg.errors.RaiseException, match="already applied by " + anna.user):
        _sql(bob, use, (approved, HASH))
    # the journal entry the apply produced is recorded once, by who applied
    _sql(admin, "INSERT INTO journal (id, body, hash) VALUES (1, '{}', 'h1')")
    with pytest.raises(psycopg.errors.RaiseException, match="already recorded"):
        _sql(bob, "UPDATE approval_uses SET journal_id = 1")
    _sql(anna, "UPDATE approval_uses SET journal_id = 1")
    with pytest.raises(psycopg.errors.RaiseException, match="already recorded"):
        _sql(anna, "UPDATE approval_uses SET journal_id = NULL")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(anna, "DELETE FROM approval_uses")
    assert _sql(anna, "SELECT used_by, journal_id FROM approval_uses") == [(anna.user, 1)]


def test_only_the_administrators_set_policies(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    admin, anna, _ = team
    _sql(admin, "INSERT INTO team_policies (profile_id, read_only) VALUES ('acme-live', TRUE)")
    for statement in (
        "UPDATE team_policies SET read_only = FALSE",
        "DELETE FROM team_policies",
        "INSERT INTO team_policies (profile_id) VALUES ('acme-demo')",
        "TRUNCATE team_policies",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(anna, statement)
    assert _sql(anna, "SELECT read_only, written_by FROM team_policies") == [(True, admin.user)]


def test_a_temporary_table_cannot_stand_in_for_the_approvals(
    team: tuple[TeamSettings, TeamSettings, TeamSettings],
) -> None:
    # Agents may create temporary tables; the checks must still read the team's own rows.
    _, anna, _ = team
    approval = _submit(anna)
    with psycopg.connect(**anna.connect_kwargs(), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE approvals AS SELECT * FROM public.approvals WITH NO DATA")
        conn.execute(
            "INSERT INTO pg_temp.approvals SELECT id, kind, profile_id, environment, summary, "
            "body, body_hash, reason, ticket, 'someone_else', submitted_at FROM public.approvals"
        )
        with pytest.raises(psycopg.errors.RaiseException, match="another person must decide"):
            conn.execute(
                "INSERT INTO public.approval_decisions (approval_id, decision, body_hash) "
                "VALUES (%s, 'approved', %s)",
                (approval, HASH),
            )
