"""Bulk attribution work (issue #4): plans with dry-run diffs, rate-budgeted resumable apply,
batch revert. No Qt here: the Jobs tab and the CLI drive the same functions.

    plan = await plan_csv(session, text, source="fix.csv")        # dry run, nothing sent
    save_plan(plan, "fix.plan.json"); plan = load_plan(...)        # refused if edited
    runner = JobRunner.start(session, store, plan, reason=..., ticket=..., confirmation=...)
    result = await runner.run()                                     # progress via on_progress
    runner = JobRunner.resume(session, store, job_id)               # after a crash or a stop
    revert = await plan_revert(session, batch_id)                   # then start it like any plan
"""

from ctrader_admin.services.bulk.clock import Clock, SystemClock
from ctrader_admin.services.bulk.csv_input import InputRow, ParsedCsv, parse_csv
from ctrader_admin.services.bulk.errors import (
    ConfirmationRequired,
    JobRefused,
    PlanRefused,
    PlanTampered,
)
from ctrader_admin.services.bulk.model import Call, Plan, PlanRow, show
from ctrader_admin.services.bulk.plan_file import load_plan, plan_from_json, save_plan, seal
from ctrader_admin.services.bulk.planner import plan_csv, plan_rows
from ctrader_admin.services.bulk.progress import Progress
from ctrader_admin.services.bulk.results import (
    RESULT_COLUMNS,
    RowResult,
    export_results_csv,
    job_plan,
    job_results,
    write_results_csv,
)
from ctrader_admin.services.bulk.revert import plan_revert
from ctrader_admin.services.bulk.runner import (
    ApplyOptions,
    JobResult,
    JobRunner,
    confirmation_word,
    find_job,
)

__all__ = [
    "RESULT_COLUMNS",
    "ApplyOptions",
    "Call",
    "Clock",
    "ConfirmationRequired",
    "InputRow",
    "JobRefused",
    "JobResult",
    "JobRunner",
    "ParsedCsv",
    "Plan",
    "PlanRefused",
    "PlanRow",
    "PlanTampered",
    "Progress",
    "RowResult",
    "SystemClock",
    "confirmation_word",
    "export_results_csv",
    "find_job",
    "job_plan",
    "job_results",
    "load_plan",
    "parse_csv",
    "plan_csv",
    "plan_from_json",
    "plan_revert",
    "plan_rows",
    "save_plan",
    "seal",
    "show",
    "write_results_csv",
]
