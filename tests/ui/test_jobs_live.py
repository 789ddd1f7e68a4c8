"""The Jobs tab's list in team mode follows another agent's job — its start, its progress and
its end — without a refresh by the operator: two back offices on one team database (each its
own agent role), one runs a job, the other's Jobs tab shows it (LISTEN/NOTIFY, no polling)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import PgServer
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from team_db import team_of_two
from ui_helpers import open_sandbox_office, run_async

from ctrader_admin.sandbox import TRAINING_MANAGERS, Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.bulk import JobResult, JobRunner, Progress, plan_csv
from ctrader_admin.services.job_summary import JobSummary
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.jobs.tab import JobsTab

MANAGER = TRAINING_MANAGERS[0]
ROWS = 6


@pytest.fixture
def two_desks(
    pg_server: PgServer,
    sandbox: Sandbox,
    tmp_path: Path,
    event_loop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
) -> Iterator[tuple[Backoffice, Backoffice]]:
    _, anna, bob = team_of_two(pg_server)
    offices = [
        open_sandbox_office(
            qtbot,
            AppPaths.under(tmp_path / name),
            sandbox,
            workstation=name,
            team=PgDatabase(settings, None),
        )
        for name, settings in (("desk-1", anna), ("desk-2", bob))
    ]
    yield offices[0], offices[1]
    for office in offices:
        run_async(qtbot, office.shutdown())


def _row(tab: JobsTab, job_id: str) -> JobSummary | None:
    model = tab.job_list.model
    row = model.row_of(job_id)
    return None if row is None else model.rows[row]


def test_another_agents_job_shows_in_the_jobs_list_as_it_starts_progresses_and_ends(
    qtbot: QtBot, two_desks: tuple[Backoffice, Backoffice], sandbox: Sandbox, window: QWidget
) -> None:
    desk1, desk2 = two_desks
    tab = JobsTab(UiContext(desk1, window))
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: tab.live.listening, timeout=10_000)
    assert tab.job_list.model.rows == []

    reach = set(MANAGER.broker_names)
    users = [u for u in range(1000001, 1000121) if sandbox.user(u)["broker_name"] in reach][:ROWS]
    text = "\n".join(
        ["level,userId,ctidTraderAccountId,partnerId", *(f"user,{u},,LIVE-{u}" for u in users)]
    )
    session = desk2.session
    assert session is not None
    plan = run_async(qtbot, plan_csv(session, text, source="live.csv"))
    runner = JobRunner.start(session, desk2.checkpoints, plan, reason="live list", ticket="T-1")

    # Started on desk 2: desk 1 lists it, running elsewhere (desk 2's session holds its lock;
    # both desks are one process here, so a process id could not tell).
    def listed() -> bool:
        summary = _row(tab, runner.job_id)
        return summary is not None and summary.job.state == "running"

    qtbot.waitUntil(listed, timeout=10_000)
    started = _row(tab, runner.job_id)
    assert started is not None
    assert (started.done, started.total, started.job.reason) == (0, ROWS, "live list")
    assert started.state_text == "running elsewhere"
    assert not started.resumable

    # Part of the way: desk 2's budget lets 2 writes through, the job waits for more and is
    # stopped there; desk 1 shows how far it got.
    session.budget.set_rate(2)

    def stop_when_waiting(progress: Progress) -> None:
        if progress.phase == "waiting_for_budget":
            runner.stop()

    runner.on_progress = stop_when_waiting
    stopped: JobResult = run_async(qtbot, runner.run())
    assert stopped.state == "stopped"
    assert (stopped.counts["ok"], stopped.counts["pending"]) == (2, ROWS - 2)
    written = 2

    def stopped_shown() -> bool:
        summary = _row(tab, runner.job_id)
        return summary is not None and (summary.job.state, summary.done) == ("stopped", written)

    qtbot.waitUntil(stopped_shown, timeout=10_000)
    assert _row(tab, runner.job_id).state_text == "stopped — resumable"  # type: ignore[union-attr]

    # Resumed and finished on desk 2: desk 1 shows the end.
    session.budget.set_rate(1000)
    resumed = JobRunner.resume(session, desk2.checkpoints, runner.job_id)
    finished = run_async(qtbot, resumed.run())
    assert finished.state == "finished"

    def finished_shown() -> bool:
        summary = _row(tab, runner.job_id)
        return summary is not None and (summary.job.state, summary.done) == ("finished", ROWS)

    qtbot.waitUntil(finished_shown, timeout=10_000)
    assert len(tab.job_list.model.rows) == 1


def test_on_the_local_file_the_jobs_tab_does_not_listen(
    qtbot: QtBot, backoffice: Backoffice, window: QWidget
) -> None:
    tab = JobsTab(UiContext(backoffice, window))
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.job_list.model.modelReset, timeout=10_000):
        tab.show()
    assert not tab.live.listening
