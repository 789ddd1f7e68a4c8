"""Four-eyes approval end to end in the GUI: two full back offices (two homes, two agents' database
roles, one team PostgreSQL, one sandbox), each with its own main window. Anna's writes are sent
for approval by the team's policy; she submits them from the forms and the Jobs tab; Bob sees
them appear (live), approves with a comment; Anna applies them from her Approvals tab; the
sandbox shows each write once and the journal names both people."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pg_cluster import PgServer
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from team_db import team_of_two
from ui_helpers import open_sandbox_office, run_async, wait_for_dialog

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.approvals import ChangeBody
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.journal import JournalFilter
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.approvals import ApprovalStore, TeamPolicy
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.profiles import builtin_sandbox_profile
from ctrader_admin.ui.approvals_view import OWN_CHANGE, ApprovalsView
from ctrader_admin.ui.jobs.tab import JobsTab
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.ui.white_label_tab import WhiteLabelTab

PROFILE = builtin_sandbox_profile()
TOKEN_PATH = "/v2/webserv/managers/token"


@dataclass
class Desk:
    """One agent's workstation: their back office and main window."""

    name: str
    office: Backoffice
    main: MainWindow

    @property
    def approvals(self) -> ApprovalsView:
        view = self.main.approvals_view
        assert view is not None
        return view


def _writes(sandbox: Sandbox) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in sandbox.request_log
        if e.method != "GET" and e.path != TOKEN_PATH
    ]


@pytest.fixture
def desks(
    qtbot: QtBot,
    event_loop: asyncio.AbstractEventLoop,
    pg_server: PgServer,
    sandbox: Sandbox,
    tmp_path: Path,
) -> Iterator[tuple[Desk, Desk]]:
    admin, anna, bob = team_of_two(pg_server)
    with PgDatabase(admin, None) as db:
        ApprovalStore(db).set_policy(
            TeamPolicy(PROFILE.id, approve_plans=True, approve_wl_moves=True)
        )
    made: list[Desk] = []
    try:
        for settings in (anna, bob):
            paths = AppPaths.under(tmp_path / settings.user)
            office = open_sandbox_office(
                qtbot, paths, sandbox, workstation=f"desk-{settings.user}",
                team=PgDatabase(settings, None),
            )  # fmt: skip
            ini = str(paths.ensure_config_dir() / "window.ini")
            main = MainWindow(office, QSettings(ini, QSettings.Format.IniFormat))
            qtbot.addWidget(main)
            main.show()
            made.append(Desk(settings.user, office, main))
        yield made[0], made[1]
    finally:
        for desk in made:  # the windows' views stop listening when qtbot closes them
            run_async(qtbot, desk.office.shutdown())


def _confirm(qtbot: QtBot, reason: str = "", ticket: str = "") -> None:
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    if not dialog.reason.isReadOnly():  # type: ignore[attr-defined]
        dialog.reason.setText(reason)  # type: ignore[attr-defined]
        dialog.ticket.setText(ticket)  # type: ignore[attr-defined]
    dialog.accept()


def _select(qtbot: QtBot, view: ApprovalsView, number: int, state: str) -> None:
    """Wait (told live by the server, no refresh) until approval ``number`` shows ``state``."""
    view.state_combo.setCurrentIndex(2)  # all

    def shown() -> bool:
        for row in range(view.table.rowCount()):
            cells = (view.table.item(row, 0).text(), view.table.item(row, 1).text())
            if cells == (str(number), state):
                view.table.selectRow(row)
                return True
        return False

    qtbot.waitUntil(shown, timeout=10_000)


def _submitted_number(qtbot: QtBot, bar_text: object) -> int:
    text = ""

    def said() -> bool:
        nonlocal text
        text = bar_text()  # type: ignore[operator]
        return text.startswith("Submitted as approval ")

    qtbot.waitUntil(said, timeout=10_000)
    return int(text.removeprefix("Submitted as approval ").split(":")[0])


def _show(main: MainWindow, page: QWidget) -> None:
    main.tabs.setCurrentWidget(page)


def test_a_white_label_move_submitted_approved_by_another_and_applied_once(
    qtbot: QtBot, desks: tuple[Desk, Desk], sandbox: Sandbox
) -> None:
    anna, bob = desks
    login = sandbox.logins(broker_name="sandbox_main", environment="demo")[0]
    tab = anna.main.show_tab("WhiteLabelTab")
    assert isinstance(tab, WhiteLabelTab)
    tab.login.setText(str(login))
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.login.returnPressed.emit()
    assert tab.plan.text() == "sandbox_main → sandbox_eu"
    sandbox.clear_log()

    # The policy sends the move for approval: refused in words, then offered for submission.
    tab.move_button.click()
    _confirm(qtbot, "client asked", "SUP-9")
    offered = wait_for_dialog(qtbot, "confirmWriteDialog")
    assert offered.windowTitle() == "Submit for approval"
    assert offered.reason.text() == "client asked"  # type: ignore[attr-defined]
    offered.accept()
    number = _submitted_number(qtbot, tab.bar.text)
    assert _writes(sandbox) == []

    # Bob's tab shows it (live) and he approves it; Anna's own cannot be decided by her.
    _show(bob.main, bob.approvals)
    _select(qtbot, bob.approvals, number, "Waiting for a decision")
    assert (
        bob.approvals.table.item(bob.approvals.table.currentRow(), 4).text().startswith(anna.name)
    )
    _show(anna.main, anna.approvals)
    _select(qtbot, anna.approvals, number, "Waiting for a decision")
    assert not anna.approvals.approve_button.isEnabled()
    assert anna.approvals.approve_button.toolTip() == OWN_CHANGE
    assert not anna.approvals.apply_button.isEnabled()
    bob.approvals.comment_edit.setText("checked the client's request")
    bob.approvals.approve_button.click()

    # Anna sees it approved (live) and applies it: once, through the confirm dialog.
    _select(qtbot, anna.approvals, number, "Approved")
    _select(qtbot, bob.approvals, number, "Approved")
    assert not bob.approvals.apply_button.isEnabled()
    assert (
        bob.approvals.apply_button.toolTip() == f"Submitted by {anna.name}: only they can apply it."
    )
    assert anna.approvals.apply_button.isEnabled()
    anna.approvals.apply_button.click()
    _confirm(qtbot)
    qtbot.waitUntil(lambda: anna.approvals.status_line.text().startswith("✔"), timeout=10_000)
    assert anna.approvals.status_line.text().endswith("— ok.")
    assert len(_writes(sandbox)) == 1
    trader = sandbox.trader(login)
    assert trader is not None
    assert trader["brokerName"] == "sandbox_eu"
    _select(qtbot, bob.approvals, number, "Applied")
    _select(qtbot, anna.approvals, number, "Applied")
    assert not anna.approvals.apply_button.isEnabled()

    entries = list(bob.office.journal.iter_entries(JournalFilter(action="move_wl")))
    assert [e.outcome for e in entries] == ["ok"]
    assert entries[0].reason == (
        f"client asked (approval {number}: submitted by {anna.name}, approved by {bob.name})"
    )
    assert bob.office.approvals is not None
    assert bob.office.approvals.people_of(entries[0].id) == (anna.name, bob.name)


def test_a_rejected_change_cannot_be_applied_and_nobody_approves_their_own(
    qtbot: QtBot, desks: tuple[Desk, Desk], sandbox: Sandbox
) -> None:
    anna, bob = desks
    assert anna.office.approvals is not None
    assert bob.office.approvals is not None
    login = sandbox.logins(broker_name="sandbox_main", environment="demo")[1]
    move = ChangeBody(f"account:{login}", "move_wl", "sandbox_main", "sandbox_eu", PROFILE.id, "")
    rejected = anna.office.approvals.submit(move, reason="r", ticket="", profile=PROFILE)
    own = bob.office.approvals.submit(move, reason="mine", ticket="", profile=PROFILE)

    _show(bob.main, bob.approvals)
    _select(qtbot, bob.approvals, own, "Waiting for a decision")
    assert not bob.approvals.approve_button.isEnabled()
    assert bob.approvals.approve_button.toolTip() == OWN_CHANGE
    assert bob.approvals.status_line.text() == OWN_CHANGE
    _select(qtbot, bob.approvals, rejected, "Waiting for a decision")
    bob.approvals.comment_edit.setText("wrong White Label")
    bob.approvals.reject_button.click()

    _show(anna.main, anna.approvals)
    _select(qtbot, anna.approvals, rejected, "Rejected")
    assert not anna.approvals.apply_button.isEnabled()
    assert anna.approvals.apply_button.toolTip() == (
        "Rejected: it cannot be applied; submit the change again."
    )
    assert _writes(sandbox) == []


def test_a_plan_submitted_from_the_jobs_tab_approved_and_applied_under_its_approval(
    qtbot: QtBot, desks: tuple[Desk, Desk], sandbox: Sandbox, tmp_path: Path
) -> None:
    anna, bob = desks
    user = next(
        u for u in range(1000001, 1000121)
        if (r := sandbox.user(u)) is not None and r["broker_name"] == "sandbox_main"
    )  # fmt: skip
    source = tmp_path / "fix.csv"
    source.write_text(f"level,userId,ctidTraderAccountId,partnerId\nuser,{user},,IB-TEAM\n")
    jobs = anna.main.show_tab("JobsTab")
    assert isinstance(jobs, JobsTab)
    run_async(qtbot, jobs.plan_csv_file(source))
    assert jobs.plan is not None
    sandbox.clear_log()

    # Apply without an approval: refused in words; Submit for approval instead.
    jobs.plan_view.apply_button.click()
    _confirm(qtbot, "CRM export", "SUP-7")
    qtbot.waitUntil(lambda: "needs a second person's approval" in jobs.bar.text(), timeout=10_000)
    assert "Submit for approval" in jobs.bar.text()
    assert jobs.plan_view.submit_button.isVisible()
    jobs.plan_view.submit_button.click()
    _confirm(qtbot, "CRM export", "SUP-7")
    number = _submitted_number(qtbot, jobs.bar.text)
    assert _writes(sandbox) == []

    _show(bob.main, bob.approvals)
    _select(qtbot, bob.approvals, number, "Waiting for a decision")
    assert "Register partners in bulk, plan fix.csv: 1 row to write" in (
        bob.approvals.table.item(bob.approvals.table.currentRow(), 2).text()
    )
    bob.approvals.comment_edit.setText("ok")
    bob.approvals.approve_button.click()

    _show(anna.main, anna.approvals)
    _select(qtbot, anna.approvals, number, "Approved")
    anna.approvals.apply_button.click()
    # The Jobs tab, the plan ready to apply under the approval.
    qtbot.waitUntil(lambda: jobs.approval is not None, timeout=10_000)
    assert anna.main.current_tab() is jobs
    assert jobs.plan_view.apply_button.text() == f"Apply approval {number}…"
    assert not jobs.plan_view.submit_button.isEnabled()
    jobs.plan_view.apply_button.click()
    _confirm(qtbot, "CRM export", "SUP-7")
    qtbot.waitUntil(lambda: jobs.last_result is not None and not jobs.running, timeout=20_000)
    assert jobs.last_result is not None
    assert jobs.last_result.all_ok
    assert sandbox.referral(user_id=user) == "IB-TEAM"
    assert len(_writes(sandbox)) == 1
    _select(qtbot, bob.approvals, number, "Applied")

    entries = list(bob.office.journal.iter_entries(JournalFilter(text="IB-TEAM")))
    assert [e.outcome for e in entries] == ["ok"]
    assert entries[0].reason == (
        f"CRM export (approval {number}: submitted by {anna.name}, approved by {bob.name})"
    )
