"""Jobs tab against the in-process sandbox: plan a CSV (dry run: reads only) → the diff →
apply → cancel midway → resume → export the results → revert the batch; a live connection asks
for the environment's name; a read-only one disables everything; an edited plan is refused."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, answer, run_async, wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.bulk import ApplyOptions
from ctrader_admin.store.journal import JournalFilter
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import ConfirmWriteDialog
from ctrader_admin.ui.jobs.plan_model import CHANGE, LINE, STATE, TARGET, VERDICT
from ctrader_admin.ui.jobs.tab import JobsTab
from ctrader_admin.ui.notify import Level

HEADER = "level,userId,ctidTraderAccountId,partnerId"
TOKEN_PATH = "/v2/webserv/managers/token"
WRITES = 24
EQUAL = 4
BAD_LINES = {
    "user,not-a-number,,IB-1": "invalid",
    "team,1000001,,IB-1": "invalid",
    "user,,,IB-1": "invalid",
    "account,1000003,,IB-2": "invalid",
}
# Quick enough for tests, slow enough (with the sandbox's latency) to cancel a job midway.
OPTIONS = ApplyOptions(concurrency=2, progress_interval=0.02, checkpoint_interval=0.02)


def opener(path: Path) -> Callable[..., Awaitable[str | None]]:
    async def choose(*_args: object) -> str | None:
        return str(path)

    return choose


def reachable_users(sandbox: Sandbox, count: int) -> list[int]:
    """Users of the seed that the training manager may act on."""
    reach = set(MANAGER.broker_names)
    found = [
        user
        for user in range(1000001, 1000121)
        if (record := sandbox.user(user)) is not None and record["broker_name"] in reach
    ]
    assert len(found) >= count
    return found[:count]


def make_tab(qtbot: QtBot, ctx: UiContext) -> JobsTab:
    tab = JobsTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1200, 760)
    tab.show()
    tab.apply_options = OPTIONS
    return tab


def confirm(
    qtbot: QtBot, tab: JobsTab, reason: str = "CRM export fix", ticket: str = "SUP-7"
) -> None:
    def fill(dialog: ConfirmWriteDialog) -> None:
        if not dialog.reason.isReadOnly():
            dialog.reason.setText(reason)
            dialog.ticket.setText(ticket)

    answer(qtbot, "confirmWriteDialog", fill)


def non_token_writes(sandbox: Sandbox) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in sandbox.request_log
        if e.method != "GET" and e.path != TOKEN_PATH
    ]


def column(tab: JobsTab, index: int) -> list[str]:
    return [tab.plan_view.model.text(row, index) for row in range(tab.plan_view.model.rowCount())]


def plan_file(qtbot: QtBot, tab: JobsTab, path: Path) -> None:
    tab.choose_open_path = opener(path)
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        tab.open_csv_button.click()


def test_plan_apply_cancel_resume_export_and_revert(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox, tmp_path: Path
) -> None:
    users = reachable_users(sandbox, WRITES + EQUAL)
    original = {user: sandbox.referral(user_id=user) for user in users}
    wanted = {user: f"FIX-{n:02d}" for n, user in enumerate(users[:WRITES])}
    lines = [HEADER]
    lines += [f"user,{user},,{value}" for user, value in wanted.items()]
    lines[5:5] = list(BAD_LINES)  # bad lines among the good ones (file lines 6-9)
    lines += [f"user,{user},,{original[user] or ''}" for user in users[WRITES:]]  # already equal
    source = tmp_path / "attributions.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tab = make_tab(qtbot, ctx)

    # --- plan: a dry run, reads only ------------------------------------------------------------
    sandbox.clear_log()
    plan_file(qtbot, tab, source)
    plan = tab.plan
    assert plan is not None
    assert plan.kind == "partner"
    assert {e.method for e in sandbox.request_log} == {"GET"}
    counts = plan.counts()
    assert (counts["write"], counts["skip"], counts["error"]) == (WRITES, EQUAL, len(BAD_LINES))
    summary = tab.plan_view.summary.text()
    assert f"ok (to write): {WRITES}" in summary
    assert f"skip (already equal): {EQUAL}" in summary
    assert f"error: {len(BAD_LINES)}" in summary
    verdicts = Counter(column(tab, VERDICT))
    assert verdicts == {
        "ok": WRITES,
        "skip (already equal)": EQUAL,
        "error: invalid": len(BAD_LINES),
    }
    bad_rows = [
        r
        for r in range(tab.plan_view.model.rowCount())
        if tab.plan_view.model.row_at(r).status == "error"
    ]
    assert [tab.plan_view.model.text(r, LINE) for r in bad_rows] == ["6", "7", "8", "9"]
    for line in (6, 7, 8, 9):
        assert f"line {line}:" in tab.plan_view.bad_lines.text()
    first = tab.plan_view.model.row_at(0)
    assert first.call is not None
    assert first.call.method == "PUT"
    assert tab.plan_view.model.text(0, TARGET) == f"user:{users[0]}"
    assert tab.plan_view.model.text(0, CHANGE) == f"{original[users[0]] or '(none)'} → FIX-00"
    assert set(column(tab, STATE)) == {""}  # not a job yet
    assert tab.plan_view.apply_button.isEnabled()

    # --- apply, cancelled midway ----------------------------------------------------------------
    sandbox.config.latency_ms = 40
    tab.plan_view.apply_button.click()
    confirm(qtbot, tab)
    # Done counts the skipped and bad rows from the start: wait for 4 writes on top.
    at_least = EQUAL + len(BAD_LINES) + 4
    qtbot.waitUntil(
        lambda: tab.running and tab.plan_view.progress.bar.value() >= at_least, timeout=20_000
    )
    assert "ok" in column(tab, STATE)  # the rows on screen follow the job live
    assert not tab.plan_view.apply_button.isEnabled()
    assert not tab.open_csv_button.isEnabled()
    assert "writes left this hour" in tab.plan_view.progress.label.text()
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        tab.plan_view.progress.stop_button.click()
    result = tab.last_result
    assert result is not None
    assert result.state == "stopped"
    job_id = result.job_id
    states = Counter(tab.plan_view.model.states())
    assert states["ok"] >= 4, states
    assert states["pending"] >= 1, states
    assert states["skipped"] == EQUAL
    assert states["failed"] == len(BAD_LINES)
    assert tab.bar.level is Level.WARNING
    assert "resumed" in tab.bar.label.text()
    summary_row = tab.selected_job()
    assert summary_row is not None
    assert summary_row.job.id == job_id
    assert summary_row.job.state == "stopped"
    assert summary_row.resumable
    assert summary_row.state_text == "stopped — resumable"
    assert tab.job_list.resume_button.isEnabled()
    done_before = states["ok"]
    assert sum(sandbox.referral(user_id=u) == v for u, v in wanted.items()) == done_before

    # --- resume: the job finishes, the sandbox holds the plan -----------------------------------
    sandbox.config.latency_ms = 0
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        tab.job_list.resume_button.click()
        confirm(qtbot, tab)
    result = tab.last_result
    assert result is not None
    assert result.job_id == job_id
    assert result.state == "finished"
    assert result.counts["ok"] == WRITES
    assert Counter(tab.plan_view.model.states()) == {
        "ok": WRITES,
        "skipped": EQUAL,
        "failed": len(BAD_LINES),
    }
    for user, value in wanted.items():
        assert sandbox.referral(user_id=user) == value
    for user in users[WRITES:]:
        assert sandbox.referral(user_id=user) == original[user]
    finished = tab.selected_job()
    assert finished is not None
    assert finished.state_text == "finished"
    assert not tab.job_list.resume_button.isEnabled()
    entries = list(backoffice.journal.iter_entries(JournalFilter(batch_id=job_id)))
    assert len(entries) == WRITES
    assert {(e.outcome, e.reason, e.ticket) for e in entries} == {("ok", "CRM export fix", "SUP-7")}

    # --- export the results ---------------------------------------------------------------------
    export = tmp_path / "results.csv"
    tab.choose_save_path = opener(export)
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.job_list.export_button.click()
    with export.open(encoding="utf-8-sig", newline="") as file:
        table = list(csv.DictReader(file))
    assert len(table) == len(plan.rows)
    assert Counter(r["outcome"] for r in table) == {
        "ok": WRITES,
        "skipped": EQUAL,
        "failed": len(BAD_LINES),
    }
    assert {r["target"] for r in table if r["outcome"] == "ok"} == {f"user:{u}" for u in wanted}

    # --- revert the batch -----------------------------------------------------------------------
    sandbox.clear_log()
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        tab.job_list.revert_button.click()
    revert = tab.plan
    assert revert is not None
    assert revert.kind == "revert"
    assert revert.reverts_batch == job_id
    assert revert.to_write == WRITES
    assert non_token_writes(sandbox) == []  # planning a revert reads only
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        tab.plan_view.apply_button.click()
        confirm(qtbot, tab, reason="revert the CRM export fix")
    result = tab.last_result
    assert result is not None
    assert result.state == "finished"
    assert result.counts["ok"] == WRITES
    for user in users:
        assert sandbox.referral(user_id=user) == original[user]
    reverts = list(backoffice.journal.iter_entries(JournalFilter(batch_id=result.job_id)))
    assert len(reverts) == WRITES
    reverted = {e.id for e in entries}
    assert all(e.reverts_id in reverted for e in reverts)
    assert [s.job.id for s in tab.job_list.model.rows] == [result.job_id, job_id]


def test_a_live_connection_asks_for_the_environment_name(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox, tmp_path: Path
) -> None:
    live = backoffice.profiles.get("sandbox").model_copy(
        update={"id": "sandbox-live", "name": "Sandbox (live drill)", "live": True}
    )
    backoffice.profiles.add(live)
    backoffice.settings = backoffice.profiles.load()
    run_async(qtbot, backoffice.open("sandbox-live"))
    run_async(qtbot, ctx.session.login(MANAGER.login, MANAGER.password, remember=False))
    tab = make_tab(qtbot, ctx)
    ctx.session_changed.emit()
    users = reachable_users(sandbox, 2)
    source = tmp_path / "live.csv"
    source.write_text(
        "\n".join([HEADER, *(f"user,{u},,LIVE-{n}" for n, u in enumerate(users))]),
        encoding="utf-8",
    )
    plan_file(qtbot, tab, source)
    sandbox.clear_log()
    tab.plan_view.apply_button.click()
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    assert isinstance(dialog, ConfirmWriteDialog)
    assert dialog.typed is not None
    send = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.reason.setText("drill")
    assert not send.isEnabled()
    dialog.typed.setText("demo")  # the wrong word
    assert not send.isEnabled()
    dialog.typed.setText("live")
    assert send.isEnabled()
    dialog.typed.setText("Live")
    assert not send.isEnabled()
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        dialog.typed.setText("live")
        dialog.accept()
    result = tab.last_result
    assert result is not None
    assert result.state == "finished"
    assert result.counts["ok"] == 2
    assert [sandbox.referral(user_id=u) for u in users] == ["LIVE-0", "LIVE-1"]


def test_a_read_only_connection_disables_every_job_control(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice
) -> None:
    tab = make_tab(qtbot, ctx)
    assert tab.open_csv_button.isEnabled()
    assert not tab.read_only_note.isVisible()
    read_only = backoffice.profiles.get("sandbox").model_copy(
        update={"id": "sandbox-ro", "name": "Sandbox (read-only)", "read_only": True}
    )
    backoffice.profiles.add(read_only)
    backoffice.settings = backoffice.profiles.load()
    run_async(qtbot, backoffice.open("sandbox-ro"))
    run_async(qtbot, ctx.session.login(MANAGER.login, MANAGER.password, remember=False))
    ctx.session_changed.emit()
    controls = (
        tab.open_csv_button,
        tab.open_plan_button,
        tab.revert_button,
        tab.plan_view.apply_button,
        tab.job_list.resume_button,
        tab.job_list.revert_button,
    )
    assert [c.objectName() for c in controls if c.isEnabled()] == []
    assert tab.read_only_note.isVisible()


def test_an_edited_plan_file_is_refused(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    users = reachable_users(sandbox, 3)
    source = tmp_path / "small.csv"
    source.write_text(
        "\n".join([HEADER, *(f"user,{u},,SMALL-{n}" for n, u in enumerate(users))]),
        encoding="utf-8",
    )
    tab = make_tab(qtbot, ctx)
    plan_file(qtbot, tab, source)
    saved = tmp_path / "small.plan.json"
    tab.choose_save_path = opener(saved)
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.plan_view.save_button.click()
    assert saved.exists()
    assert "Plan saved" in tab.bar.label.text()

    # The saved plan opens as it was…
    tab.show_plan(None)
    tab.choose_open_path = opener(saved)
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.open_plan_button.click()
    reopened = tab.plan
    assert reopened is not None
    assert reopened.to_write == 3

    # …an edited copy is refused, and nothing of it is shown.
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["rows"][0]["proposed"] = "SOMEONE-ELSE"
    edited = tmp_path / "edited.plan.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    tab.show_plan(None)
    tab.choose_open_path = opener(edited)
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.open_plan_button.click()
    assert tab.plan is None
    assert tab.bar.level is Level.ERROR
    assert "changed after it was made" in tab.bar.label.text()


@pytest.mark.parametrize("text", ["1,3,5-7", "user:1000001, 2"])
def test_row_choices_read_like_the_cli(text: str) -> None:
    from ctrader_admin.services.row_choice import parse_row_choice, rows_text

    chosen = parse_row_choice(text)
    numbers = [c for c in chosen if isinstance(c, int)]
    assert rows_text(numbers) in ("1,3,5-7", "2")


def test_row_states_are_laid_out_for_the_model_in_one_piece(qtbot: QtBot) -> None:
    from ctrader_admin.ui.jobs.plan_model import PlanRowsModel, states_of

    states, errors = states_of(3, [(1, "ok", None), (3, "failed", "refused"), (9, "ok", None)])
    assert states == ["ok", None, "failed"]
    assert errors == [None, None, "refused"]
    model = PlanRowsModel()
    model.replace_states([], [])  # no plan, no rows
    with pytest.raises(ValueError, match="one state"):
        model.replace_states(states, errors)


def test_a_reload_still_reading_when_the_tab_is_destroyed_ends_quietly(
    qtbot: QtBot, ctx: UiContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list of jobs is read on a worker thread; the tab may be gone (window closed, test
    torn down) by the time the read returns. The tab's pending work is cancelled with it, so
    nothing touches its deleted tables."""
    import asyncio
    import threading

    from PySide6.QtCore import QCoreApplication, QEvent
    from shiboken6 import isValid

    from ctrader_admin.ui.jobs import runs

    reading, release = threading.Event(), threading.Event()
    read_jobs = runs.listed_jobs

    def held_read(*args: object) -> object:
        reading.set()
        assert release.wait(20)
        return read_jobs(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(runs, "listed_jobs", held_read)
    before = asyncio.all_tasks()
    tab = JobsTab(ctx)
    tab.show()  # the first show reads the list of jobs
    qtbot.waitUntil(reading.is_set)
    (reload,) = asyncio.all_tasks() - before
    table = tab.job_list.table

    with qtbot.captureExceptions() as exceptions:
        tab.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        assert not isValid(table)
        release.set()
        qtbot.waitUntil(reload.done)
        qtbot.wait(10)  # the task's done-callbacks

    assert reload.cancelled()
    assert exceptions == []


class Cycle:
    def __init__(self) -> None:
        self.me = self  # only the collector frees it


def test_jobs_in_a_row_leave_nothing_behind_once_the_window_is_left_alone(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A job puts the collector's full pass off to when the operator leaves the window alone;
    that pass comes, so what the job dropped (its rows, cycles made meanwhile) is freed, and
    three jobs in a row leave no more behind than one."""
    import gc
    import weakref

    from ctrader_admin.services.bulk.job_rows import JobRow
    from ctrader_admin.services.bulk.model import PlanRow

    users = reachable_users(sandbox, 6)
    tab = make_tab(qtbot, ctx)
    sandbox.config.latency_ms = 20  # the job lasts a few turns of the loop
    left: list[tuple[int, int, int]] = []
    for job in range(3):
        source = tmp_path / f"job{job}.csv"
        rows = [f"user,{user},,ROUND-{job}-{n}" for n, user in enumerate(users)]
        source.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        plan_file(qtbot, tab, source)
        with qtbot.waitSignal(tab.finished, timeout=20_000):
            tab.plan_view.apply_button.click()
            confirm(qtbot, tab)
            qtbot.waitUntil(lambda: tab.running)
            cycle = Cycle()
            gc.collect(1)  # it outlives the young collections: only a full pass frees it
            made_during_the_job = weakref.ref(cycle)
            del cycle
        result = tab.last_result
        assert result is not None
        assert result.counts["ok"] == len(users)
        qtbot.waitUntil(lambda: not tab._tuning.owed, timeout=10_000)  # nobody touches it
        assert made_during_the_job() is None
        alive = gc.get_objects()
        left.append(
            (
                sum(isinstance(obj, JobRow) for obj in alive),
                sum(isinstance(obj, PlanRow) for obj in alive),
                sum(isinstance(obj, Cycle) for obj in alive),
            )
        )
        del alive
    # No job's rows, only the plan on screen, no cycle: after every job alike.
    assert left == [(0, len(users), 0)] * 3
