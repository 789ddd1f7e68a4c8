"""``plan``, ``apply``, ``status``, ``resume``, ``revert``: the bulk services on the CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ctrader_admin.cli_commands.context import (
    EXIT_OK,
    EXIT_ROWS,
    CliError,
    open_session,
    stores,
)
from ctrader_admin.cli_commands.output import Output, ProgressView
from ctrader_admin.services.bulk import (
    ApplyOptions,
    JobRefused,
    JobResult,
    JobRunner,
    Plan,
    RowResult,
    confirmation_word,
    export_results_csv,
    find_job,
    job_results,
    load_plan,
    plan_csv,
    plan_revert,
    save_plan,
    show,
)
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.row_choice import parse_row_choice
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import CheckpointStore, JobRecord, RowState

_SHOWN_WRITES = 20  # without --all, a plan lists its problems and this many writes
_BAD: tuple[RowState, ...] = ("drift", "failed", "unknown")


# --- plan and revert -----------------------------------------------------------------------------


async def plan_command(args: argparse.Namespace, out: Output) -> int:
    source = Path(args.csv)
    try:
        text = await asyncio.to_thread(source.read_text, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CliError(f"Cannot read {source}: {reason}.") from None
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        plan = await plan_csv(
            session, text, source=source.name, read_concurrency=args.read_concurrency
        )
        saved = save_plan(plan, args.output)
    return _report_plan(plan, saved, args, out)


async def revert_command(args: argparse.Namespace, out: Output) -> int:
    rows = parse_rows(args.rows) if args.rows else None
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        batch = _batch_id(st.checkpoints, args.batch)
        plan = await plan_revert(
            session,
            batch,
            rows=rows,
            store=st.checkpoints,
            read_concurrency=args.read_concurrency,
        )
        saved = save_plan(plan, args.output)
    return _report_plan(plan, saved, args, out)


def parse_rows(text: str) -> list[int | str]:
    """``1,3,5-9`` (job row numbers) and ``user:1000001`` / ``account:9000002`` targets."""
    try:
        chosen = parse_row_choice(text)
    except InvalidInput as exc:
        raise CliError(f"--rows: {exc.problems['Rows']}.") from None
    if not chosen:
        raise CliError("--rows names no row.")
    return chosen


def _batch_id(store: CheckpointStore, text: str) -> str:
    """A batch is a job: its id, or the first characters of a job id run here."""
    try:
        return find_job(store, text).id
    except JobRefused:
        return text


def _report_plan(plan: Plan, saved: Path, args: argparse.Namespace, out: Output) -> int:
    counts = plan.counts()
    problems = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("error:")}
    out.document(
        {
            "plan": str(saved),
            "kind": plan.kind,
            "profile": plan.profile_id,
            "created_by": plan.created_by,
            "created_at": plan.created_at,
            "content_hash": plan.content_hash,
            "counts": {"write": counts["write"], "skip": counts["skip"], "error": counts["error"]},
            "problems": problems,
            "rows": [row.model_dump(mode="json") for row in plan.rows],
        }
    )
    out.line(
        f"Plan {saved}: {len(plan.rows)} rows from {plan.source} on {plan.profile_name} "
        f"({plan.profile_id}), by manager {plan.created_by} at {plan.created_at}"
    )
    detail = ", ".join(f"{name} {count}" for name, count in sorted(problems.items()))
    out.line(
        f"  {counts['write']} to write, {counts['skip']} to skip (already as proposed), "
        f"{counts['error']} with errors{f' ({detail})' if detail else ''}; nothing was sent"
    )
    writes = 0
    for row in plan.rows:
        if row.status == "write":
            writes += 1
            if writes > _SHOWN_WRITES and not args.all:
                continue
        where = f"line {row.line}" if row.line else f"#{row.n}"
        if row.status == "error":
            cells = ",".join(row.source)
            out.line(f"  {where:>9}  ERROR {row.problem}: {row.message}  [{cells}]")
            continue
        change = f"{show(row.current)} → {show(row.proposed)}"
        verdict = "write" if row.status == "write" else "skip "
        call = row.call.describe() if row.call else ""
        out.line(f"  {where:>9}  {verdict} {row.target:<24} {change:<36} {call}")
    if writes > _SHOWN_WRITES and not args.all:
        out.line(f"  … and {writes - _SHOWN_WRITES} more writes (--all lists every row)")
    return EXIT_ROWS if counts["error"] else EXIT_OK


# --- apply and resume ----------------------------------------------------------------------------


async def apply_command(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args.plan)
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        confirmation = await _confirm(session, args, f"Apply {plan.to_write} writes")
        view = ProgressView()
        runner = JobRunner.start(
            session,
            st.checkpoints,
            plan,
            reason=args.reason or "",
            ticket=args.ticket or "",
            confirmation=confirmation,
            approval_id=args.approval,
            options=_options(args),
            on_progress=view,
        )
        out.note(f"job {runner.job_id} started ({plan.to_write} writes planned)")
        result = await _run(runner, view, out)
        return _report_job(st.checkpoints, runner.job, result, args, out)


async def resume_command(args: argparse.Namespace, out: Output) -> int:
    async with stores() as st:
        job = find_job(st.checkpoints, args.job)
        session = await open_session(st.office, args.profile or job.profile_id)
        confirmation = await _confirm(session, args, f"Resume job {job.id}")
        view = ProgressView()
        runner = JobRunner.resume(
            session,
            st.checkpoints,
            job.id,
            confirmation=confirmation,
            options=_options(args),
            on_progress=view,
        )
        out.note(f"job {runner.job_id} resumed")
        result = await _run(runner, view, out)
        return _report_job(st.checkpoints, runner.job, result, args, out)


async def status_command(args: argparse.Namespace, out: Output) -> int:
    async with stores() as st:
        if not args.job:
            return _list_jobs(st.checkpoints, args, out)
        job = find_job(st.checkpoints, args.job)
        counts = st.checkpoints.counts(job.id)
        result = JobResult(job.id, job.state, counts, job.message)
        return _report_job(st.checkpoints, job, result, args, out)


def _options(args: argparse.Namespace) -> ApplyOptions:
    defaults = ApplyOptions()
    return ApplyOptions(
        concurrency=args.concurrency or defaults.concurrency,
        read_concurrency=args.concurrency,
        rate_limit_backoff=args.rate_limit_backoff or defaults.rate_limit_backoff,
    )


async def _confirm(session: Session, args: argparse.Namespace, what: str) -> str | None:
    """The typed environment name on a live connection; the operator's yes everywhere."""
    profile = session.profile
    word = confirmation_word(profile)
    typed: str | None = args.confirm_env
    interactive = sys.stdin.isatty()
    if word is not None and typed is None:
        if not interactive:
            raise CliError(f"{profile.name} is a live connection: add --confirm-env {word}.")
        typed = await asyncio.to_thread(
            input, f"LIVE — {profile.name}. Type the environment name ({word}) to continue: "
        )
    if args.yes or word is not None:
        return typed  # a typed environment name is the confirmation
    if not interactive:
        raise CliError("Nothing was sent: add --yes to confirm (no terminal to ask on).")
    answer = await asyncio.to_thread(input, f"{what} on {profile.name}? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise CliError("Nothing was sent: not confirmed.")
    return typed


async def _run(runner: JobRunner, view: ProgressView, out: Output) -> JobResult:
    """Ctrl+C once: finish the writes in flight, start no new one; twice: stop at once."""
    task = asyncio.ensure_future(runner.run())
    loop = asyncio.get_running_loop()
    presses = 0

    def interrupted() -> None:
        nonlocal presses
        presses += 1
        view.close()
        if presses == 1:
            out.note(
                f"stopping job {runner.job_id}: waiting for the writes in flight "
                "(Ctrl+C again to stop at once; they are then re-read on resume)"
            )
            runner.stop()
        else:
            task.cancel()

    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, interrupted)
            handled.append(sig)
    try:
        return await task
    except asyncio.CancelledError:
        raise CliError(
            f"Job {runner.job_id} was stopped; continue it with: ctrader-admin resume "
            f"{runner.job_id}",
            EXIT_ROWS,
        ) from None
    finally:
        view.close()
        for sig in handled:
            loop.remove_signal_handler(sig)


def _report_job(
    store: CheckpointStore,
    job: JobRecord,
    result: JobResult,
    args: argparse.Namespace,
    out: Output,
) -> int:
    results = job_results(store, job)
    if getattr(args, "results", None):
        export_results_csv(results, args.results)
        out.note(f"results written to {args.results}")
    complete = result.state == "finished"
    out.document(
        {
            "job": job.id,
            "batch": job.id,
            "profile": job.profile_id,
            "state": result.state,
            "message": result.message,
            "operator": job.operator,
            "reason": job.reason,
            "ticket": job.ticket,
            "created_at": job.created_at,
            "counts": result.counts,
            "rows": [asdict(r) for r in results],
        }
    )
    counts = result.counts
    summary = ", ".join(f"{state} {count}" for state, count in counts.items() if count)
    out.line(f"Job {job.id} ({job.profile_id}): {result.state} — {summary}")
    if result.message:
        out.line(f"  {result.message}")
    shown = [r for r in results if args.all or r.outcome in (*_BAD, "pending", "in_flight")]
    for row in shown:
        out.line(_row_line(row))
    if not complete:
        out.line(f"  continue with: ctrader-admin resume {job.id}")
    return EXIT_OK if complete and not any(counts[s] for s in _BAD) else EXIT_ROWS


def _row_line(row: RowResult) -> str:
    where = f"line {row.line}" if row.line else f"#{row.row}"
    entry = f" (journal #{row.journal_id})" if row.journal_id else ""
    error = f": {row.error}" if row.error else ""
    change = f"{row.planned} → {row.proposed}"
    return f"  {where:>9}  {row.outcome:<9} {row.target:<24} {change}{entry}{error}"


def _list_jobs(store: CheckpointStore, args: argparse.Namespace, out: Output) -> int:
    jobs = store.jobs(args.profile or None, limit=args.limit)
    listed: list[dict[str, Any]] = []
    for job in jobs:
        counts = store.counts(job.id)
        listed.append(
            {
                "job": job.id,
                "profile": job.profile_id,
                "state": job.state,
                "created_at": job.created_at,
                "operator": job.operator,
                "counts": counts,
            }
        )
        done = ", ".join(f"{s} {n}" for s, n in counts.items() if n)
        out.line(f"{job.id}  {job.created_at}  {job.profile_id:<12} {job.state:<9} {done}")
    if not jobs:
        out.line("No bulk jobs on this computer yet.")
    out.document({"jobs": listed})
    return EXIT_OK
