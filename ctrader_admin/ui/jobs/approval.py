"""The Jobs tab in team mode (issue 13): submit the plan on screen for a second person's approval,
and make an approved plan ready to apply under its approval (the Approvals view's Apply).

The team's modules (PostgreSQL's) are imported here only when they are used: the local path
never loads them."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from ctrader_admin.services.bulk import Plan, load_plan
from ctrader_admin.ui.dialogs import PLAN_FILTER
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.widgets import plural

if TYPE_CHECKING:
    from ctrader_admin.services.approvals import Approvals
    from ctrader_admin.store.pg.approvals import ApprovalRecord
    from ctrader_admin.ui.jobs.tab import JobsTab


def _approvals(tab: JobsTab) -> Approvals:
    approvals = tab.ctx.backoffice.approvals
    if approvals is None:  # the button is only shown in team mode
        raise RuntimeError("no team database")
    return approvals


async def submit_plan(tab: JobsTab) -> None:
    """Submit the plan on screen, bound by its seal, with a reason and ticket for the approver."""
    from ctrader_admin.services.approvals import PlanBody

    plan, approvals = tab.plan, _approvals(tab)
    if plan is None or tab.shown_job is not None:
        return
    session = tab.ctx.session
    answer = await tab.ctx.confirm(
        "Submit the plan for approval",
        [
            (
                "Plan",
                f"{plural(plan.to_write, 'write')} · {plural(len(plan.rows), 'row')} from "
                f"{plan.source}",
            ),
            ("Then", "another person decides; you apply it once approved"),
        ],
        action_label="Submit for approval",
    )
    if answer is None:
        return
    reason, ticket = answer

    async def submit() -> ApprovalRecord:
        def send() -> ApprovalRecord:
            body = PlanBody.of_plan(plan, plan.source)
            number = approvals.submit(body, reason=reason, ticket=ticket, profile=session.profile)
            return approvals.get(number)

        return await asyncio.to_thread(send)

    button = tab.plan_view.submit_button
    done = await tab.runner.run("Submitting the plan for approval", submit, controls=[button])
    tab.refresh_buttons()
    if done is not None:
        tab.submitted_plan = plan.content_hash  # not submitted twice by a second click
        tab.refresh_buttons()
        tab.bar.show_message(
            Level.SUCCESS,
            f"Submitted as approval {done.value.id}: {done.value.summary}. Once another person "
            "approves it, apply it from the Approvals tab.",
        )


def _matches(plan: Plan, record: ApprovalRecord) -> bool:
    from ctrader_admin.services.approvals import ApprovalRefused, PlanBody

    file_name = str(json.loads(record.body).get("file_name", ""))
    try:
        return PlanBody.of_plan(plan, file_name).canonical() == record.body
    except ApprovalRefused:  # its seal is broken: not the plan approved
        return False


async def open_approved_plan(tab: JobsTab, record: ApprovalRecord) -> None:
    """Show the approved plan ready to apply under ``record``: the plan on screen when it is the
    one approved, else a plan file the operator picks (refused unless it is that very plan)."""
    plan = tab.plan
    if plan is None or tab.shown_job is not None or not _matches(plan, record):
        path = await tab.choose_open_path(
            tab, f"Open the plan of approval {record.id}", PLAN_FILTER
        )
        if not path:
            return
        done = await tab.runner.run("Opening the plan", lambda: asyncio.to_thread(load_plan, path))
        if done is None:
            return
        plan = done.value
        if not _matches(plan, record):
            tab.show_plan(plan)
            tab.bar.show_message(
                Level.ERROR,
                f"This is not the plan approved in approval {record.id} (its content differs): "
                "it cannot be applied under it.",
            )
            return
    tab.show_plan(plan, approval=record)
    tab.bar.show_message(
        Level.INFO,
        f"Approval {record.id}: approved by {record.decided_by}. Press “Apply approval "
        f"{record.id}…” to send it (once).",
    )
