"""The write budget behaves the same whether writes are counted by this process or by the team
database (one window per broker connection for every workstation)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from pg_cluster import PgServer

from ctrader_admin.services.budget import WINDOW_SECONDS, LocalWindow, WriteBudget
from ctrader_admin.store.pg.admin import add_member, init_team
from ctrader_admin.store.pg.budget import TeamBudgetWindow
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import TeamSettings

CONNECTION = "https://live-1.example:8443#30001"
# A budget made with writes already made `ages` seconds ago.
MakeBudget = Callable[[int, list[float]], WriteBudget]


def _settings(server: PgServer, database: str, user: str) -> TeamSettings:
    return TeamSettings(host=server.host, port=server.port, database=database, user=user,
                        tls=False)  # fmt: skip


@pytest.fixture(params=["local", "team"])
def make_budget(request: pytest.FixtureRequest) -> Iterator[MakeBudget]:
    if request.param == "local":

        def local(per_hour: int, ages: list[float]) -> WriteBudget:
            now = time.time()
            return WriteBudget(per_hour, window=LocalWindow(time.time, [now - a for a in ages]))

        yield local
        return
    server: PgServer = request.getfixturevalue("pg_server")
    database = server.create_database()
    admin = PgDatabase(_settings(server, database, server.superuser), None)
    init_team(admin)
    agent_name = f"agent_{uuid.uuid4().hex[:8]}"
    add_member(admin, agent_name, None)
    agent = PgDatabase(_settings(server, database, agent_name), None)

    def team(per_hour: int, ages: list[float]) -> WriteBudget:
        with admin.transaction() as conn:  # writes other workstations made earlier
            conn.executemany(
                "INSERT INTO budget_reservations (connection_key, at) "
                "VALUES (?, extract(epoch FROM clock_timestamp()) - ?)",
                [(CONNECTION, age) for age in ages],
            )
        return WriteBudget(per_hour, window=TeamBudgetWindow(agent, CONNECTION))

    yield team
    agent.close()
    admin.close()


def test_slots_are_taken_until_the_budget_is_used(make_budget: MakeBudget) -> None:
    budget = make_budget(3, [])
    assert [budget.try_acquire() is not None for _ in range(4)] == [True, True, True, False]
    assert (budget.remaining(), budget.used()) == (0, 3)


def test_a_write_never_sent_gives_its_slot_back(make_budget: MakeBudget) -> None:
    budget = make_budget(2, [])
    assert budget.try_acquire()
    taken = budget.try_acquire()
    assert taken is not None
    budget.release_unused(taken)
    assert budget.remaining() == 1
    assert budget.try_acquire()
    assert not budget.try_acquire()


def test_a_give_back_frees_exactly_the_slot_that_write_took(make_budget: MakeBudget) -> None:
    budget = make_budget(3, [])
    older = budget.try_acquire()
    newer = budget.try_acquire()
    assert older is not None
    assert newer is not None
    budget.release_unused(older)  # the older write was never sent; the newer one was
    assert budget.remaining() == 2
    # Its slot is free already: giving it back again (a second path) frees nothing, and the
    # newer write's slot stays counted until the newer write gives it back itself.
    budget.release_unused(older)
    assert budget.remaining() == 2
    budget.release_unused(newer)
    assert budget.remaining() == 3


def test_only_the_last_hour_counts(make_budget: MakeBudget) -> None:
    budget = make_budget(2, [WINDOW_SECONDS + 400, 600])  # one too old, one 10 minutes ago
    assert budget.remaining() == 1
    assert budget.seconds_until_free() == 0
    assert budget.try_acquire()
    # Full: free again when the write of 10 minutes ago leaves the window (about 50 minutes).
    assert budget.seconds_until_free() == pytest.approx(WINDOW_SECONDS - 600, abs=30)


def test_the_servers_refusal_lowers_the_budget_to_what_it_accepted(
    make_budget: MakeBudget,
) -> None:
    budget = make_budget(10, [300, 200])
    assert budget.try_acquire()
    budget.server_refused()  # this write was refused: 2 accepted in the hour before it
    assert budget.per_hour == 2
    assert budget.lowered is not None
    assert budget.remaining() == 0
    assert not budget.try_acquire()


def test_one_workstations_rate_limit_answer_lowers_the_whole_teams_budget(
    pg_server: PgServer,
) -> None:
    database = pg_server.create_database()
    with PgDatabase(_settings(pg_server, database, pg_server.superuser), None) as admin:
        init_team(admin)
        names = [f"agent_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        for name in names:
            add_member(admin, name, None)
    with (
        PgDatabase(_settings(pg_server, database, names[0]), None) as first_db,
        PgDatabase(_settings(pg_server, database, names[1]), None) as second_db,
    ):
        first = WriteBudget(10, window=TeamBudgetWindow(first_db, CONNECTION))
        second = WriteBudget(10, window=TeamBudgetWindow(second_db, CONNECTION))
        other_connection = WriteBudget(10, window=TeamBudgetWindow(second_db, "elsewhere"))
        for budget in (first, second, first):
            assert budget.try_acquire()
        first.server_refused()  # the third write was refused: 2 accepted

        assert (first.per_hour, second.per_hour) == (2, 2)  # the other workstation knows too
        assert second.lowered is not None
        assert "allows 2 writes per hour instead of 10" in second.lowered
        assert not second.try_acquire()
        assert other_connection.per_hour == 10
        TeamBudgetWindow(second_db, CONNECTION).set_limit(5)  # a later, higher count
        assert first.per_hour == 2  # never raises a limit still in force
