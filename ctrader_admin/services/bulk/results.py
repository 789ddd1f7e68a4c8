"""A job's outcome per row, for the results table and its CSV export."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TextIO

from ctrader_admin.services.bulk.errors import JobRefused
from ctrader_admin.services.bulk.model import Plan, show
from ctrader_admin.services.bulk.plan_file import plan_from_json
from ctrader_admin.store.checkpoints import CheckpointStore, JobRecord, RowState


@dataclass(frozen=True)
class RowResult:
    row: int
    line: int
    action: str
    target: str
    planned: str  # the value read when planning
    proposed: str
    outcome: RowState
    error: str
    journal_id: int | None
    attempts: int
    observed: str  # the value read when the row was last checked


RESULT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RowResult))


def job_plan(job: JobRecord) -> Plan:
    return plan_from_json(job.plan_json, where=f"The plan of job {job.id}")


def job_results(store: CheckpointStore, job: JobRecord) -> list[RowResult]:
    plan = job_plan(job)
    checkpoints = {c.row: c for c in store.rows(job.id)}
    results: list[RowResult] = []
    for row in plan.rows:
        cp = checkpoints.get(row.n)
        if cp is None:
            raise JobRefused(f"Job {job.id} has no checkpoint for row {row.n}.")
        results.append(
            RowResult(
                row=row.n,
                line=row.line,
                action=row.op or "",
                target=row.target or ",".join(row.source),
                planned=show(row.current) if row.status != "error" else "",
                proposed=show(row.proposed) if row.op else "",
                outcome=cp.state,
                error=cp.error or "",
                journal_id=cp.journal_id,
                attempts=cp.attempts,
                observed=_observed(cp.observed, cp.state),
            )
        )
    return results


def write_results_csv(results: list[RowResult], file: TextIO) -> int:
    writer = csv.writer(file)
    writer.writerow(RESULT_COLUMNS)
    for result in results:
        writer.writerow(_cell(getattr(result, name)) for name in RESULT_COLUMNS)
    return len(results)


def export_results_csv(results: list[RowResult], path: Path | str) -> int:
    """The results as CSV (UTF-8 with a BOM for spreadsheets); complete or not written."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as file:
            count = write_results_csv(results, file)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise JobRefused(f"The results could not be written to {target}: {exc.strerror}.") from None
    return count


def _observed(value: str | None, state: RowState) -> str:
    # None is "no partnerId" once the row was read, and "not read" before.
    if value is not None or state in ("ok", "drift"):
        return show(value)
    return ""


def _cell(value: object) -> object:
    # A spreadsheet would run a cell starting with these as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
