"""``ctrader-admin approvals submit|list|approve|reject``: four-eyes approval in the team database
(services/approvals.py). Refusals (your own change, decided already, an edited plan) are
sentences and exit code 2."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict
from typing import Any

from ctrader_admin.cli_commands.context import EXIT_OK, CliError
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.cli_commands.team import agent_database
from ctrader_admin.services.approvals import STATE_WORDS, Approvals, PlanBody
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.validation import environment_of
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.approvals import ApprovalRecord, ApprovalStore, TeamPolicy
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.team_config import load_team_settings
from ctrader_admin.store.profiles import SANDBOX_PROFILE_ID, Profile, ProfileStore
from ctrader_admin.store.tokens import TokenStore


async def approvals_command(args: argparse.Namespace, out: Output) -> int:
    if args.action == "apply":
        return await _apply(args, out)
    if args.action == "submit" and args.plan is None:
        return await _submit_write(args, out)
    return await asyncio.to_thread(_run, args, out)


async def _submit_write(args: argparse.Namespace, out: Output) -> int:
    """One change, prepared now (its value now read from the backend): what the approver sees
    and the apply checks is exactly that."""
    from ctrader_admin.cli_commands.context import open_session, stores
    from ctrader_admin.services.approved_write import change_for, prepared_body

    change = change_for(args.target or "", (args.change_action or "").strip(), args.after)
    paths = AppPaths.from_environment()
    profile = _profile(paths, getattr(args, "profile", None))
    environment = environment_of(profile, args.environment) if args.environment else ""
    with await asyncio.to_thread(_team_database, paths) as db:
        approvals = Approvals(ApprovalStore(db))
        approvals.check_submission(profile, reason=args.reason, ticket=args.ticket)
        async with stores() as st:
            session = await open_session(st.office, profile.id)
            body = await prepared_body(session, change, environment)
        number = approvals.submit(body, reason=args.reason, ticket=args.ticket, profile=profile)
        return _submitted(out, approvals.get(number))


def _submitted(out: Output, record: ApprovalRecord) -> int:
    out.document(as_document(record))
    out.line(f"Submitted as approval {record.id}: {record.summary}. Another person must "
             f"approve it (`ctrader-admin approvals approve {record.id}`).")  # fmt: skip
    return EXIT_OK


async def _apply(args: argparse.Namespace, out: Output) -> int:
    """An approved single write, sent through the write model's gate on its own profile."""
    from ctrader_admin.cli_commands.context import EXIT_ROWS, open_session, stores
    from ctrader_admin.cli_commands.single import confirm_live
    from ctrader_admin.services.approved_write import apply_approved
    from ctrader_admin.services.writes import WriteDrift

    with await asyncio.to_thread(_team_database, AppPaths.from_environment()) as db:
        approvals = Approvals(ApprovalStore(db))
        record = approvals.get(args.id)
        # Pending, rejected or used: said before any connection is opened.
        approvals.check_before_apply(args.id, record.body)
        async with stores() as st:
            session = await open_session(
                st.office, getattr(args, "profile", None) or record.profile_id
            )
            await confirm_live(session, args, f"apply approval {args.id}: {record.summary}")
            try:
                applied = await apply_approved(session, approvals, args.id)
            except WriteDrift as exc:
                raise CliError(f"{exc.message} (journal #{exc.journal_id})", EXIT_ROWS) from None
        record = approvals.get(args.id)
    entry = applied.entry
    outcome = "unchanged" if entry is None else entry.outcome
    out.document({**as_document(record), "outcome": outcome})
    if entry is None:
        out.line(f"Approval {args.id}: nothing to send, the value was already as approved.")
        return EXIT_OK
    out.line(
        f"Approval {args.id} applied: {record.summary} — {entry.outcome} (journal #{entry.id}, "
        f"submitted by {record.submitted_by}, approved by {record.decided_by})."
    )
    return EXIT_OK if entry.outcome == "ok" else EXIT_ROWS


def _team_database(paths: AppPaths) -> PgDatabase:
    settings = load_team_settings(paths)
    if settings is None:
        raise CliError("No team database is set up here: run `ctrader-admin team connect` first.")
    return agent_database(settings, TokenStore())


def _run(args: argparse.Namespace, out: Output) -> int:
    paths = AppPaths.from_environment()
    # What is submitted is checked before the team database is asked anything.
    change = _change(args, paths) if args.action == "submit" else None
    with _team_database(paths) as db:
        approvals = Approvals(ApprovalStore(db))
        if args.action == "list":
            records = approvals.list(args.state)
            out.document({"approvals": [as_document(r) for r in records]})
            if not records:
                out.line("No approvals." if args.state == "all" else f"No {args.state} approvals.")
            for record in records:
                out.line(describe(record))
            return EXIT_OK
        if args.action == "submit":
            assert change is not None
            profile, body = change
            number = approvals.submit(body, reason=args.reason, ticket=args.ticket, profile=profile)
            return _submitted(out, approvals.get(number))
        if args.action == "approve":
            record = approvals.approve(args.id, args.comment)
        else:
            record = approvals.reject(args.id, args.comment)
    out.document(as_document(record))
    out.line(describe(record))
    return EXIT_OK


async def policy_command(args: argparse.Namespace, out: Output) -> int:
    return await asyncio.to_thread(_policy, args, out)


def _policy(args: argparse.Namespace, out: Output) -> int:
    """``team policy PROFILE_ID [--set …]``: the database refuses ``--set`` to agents."""
    given = (args.read_only, args.budget is not None, args.no_reason, args.require_ticket,
             args.approve, args.approve_plans_over is not None, args.live_only)  # fmt: skip
    if any(given) and not args.set:
        raise CliError("Add --set to replace the policy with these options (nothing was changed).")
    with _team_database(AppPaths.from_environment()) as db:
        store = ApprovalStore(db)
        if args.set:
            store.set_policy(
                TeamPolicy(
                    args.profile_id, read_only=args.read_only, budget_per_hour=args.budget,
                    require_reason=not args.no_reason, require_ticket=args.require_ticket,
                    approve_writes="writes" in args.approve,
                    approve_plans="plans" in args.approve,
                    approve_plans_over=args.approve_plans_over,
                    approve_wl_moves="wl-moves" in args.approve,
                    approve_live_only=args.live_only,
                )
            )  # fmt: skip
        policy = store.policy(args.profile_id)
    out.document(
        {"profile_id": args.profile_id, "policy": None if policy is None else asdict(policy)}
    )
    out.line(describe_policy(args.profile_id, policy))
    return EXIT_OK


def describe_policy(profile_id: str, policy: TeamPolicy | None) -> str:
    if policy is None:
        return f"No team policy for {profile_id!r}: the workstation's profile settings apply."
    rules = ["read-only" if policy.read_only else "writes allowed"]
    if policy.budget_per_hour is not None:
        rules.append(f"at most {policy.budget_per_hour:,} writes per hour")
    rules += [
        "reason required" if policy.require_reason else "reason optional",
        "ticket required" if policy.require_ticket else "ticket optional",
    ]
    needs = [
        what
        for what, on in (
            ("every write", policy.approve_writes),
            ("bulk plans", policy.approve_plans),
            (f"plans over {policy.approve_plans_over} rows", policy.approve_plans_over is not None),
            ("White Label moves", policy.approve_wl_moves),
        )
        if on
    ]
    if needs:
        live = " (live profiles only)" if policy.approve_live_only else ""
        rules.append("approval needed for " + ", ".join(needs) + live)
    else:
        rules.append("no approval needed")
    return f"Team policy for {profile_id!r}: " + "; ".join(rules) + "."


def _profile(paths: AppPaths, wanted: str | None) -> Profile:
    settings = ProfileStore(paths).load(repair=False)
    return settings.find(wanted or settings.last_profile_id or SANDBOX_PROFILE_ID)


def _change(args: argparse.Namespace, paths: AppPaths) -> tuple[Profile, PlanBody]:
    """The plan submitted, checked before the team database is asked anything."""
    profile = _profile(paths, getattr(args, "profile", None))
    if not args.plan.is_file():
        raise InvalidInput({"Plan": f"{args.plan} is not a file"})
    body = PlanBody.of_plan_file(args.plan)
    if body.profile_id != profile.id:
        hint = f"it was made for profile {body.profile_id!r}: add --profile {body.profile_id}"
        raise InvalidInput({"Plan": hint})
    return profile, body


def describe(record: ApprovalRecord) -> str:
    line = (
        f"#{record.id} {STATE_WORDS[record.state]}: {record.summary} ({record.profile_id}"
        f"{'/' + record.environment if record.environment else ''}), submitted by "
        f"{record.submitted_by} at {record.submitted_at:%Y-%m-%d %H:%M} UTC"
    )
    if record.reason or record.ticket:
        line += f"; reason: {record.reason or '-'}, ticket: {record.ticket or '-'}"
    if record.decided_by is not None:
        line += f"; {record.decision} by {record.decided_by}"
        if record.comment:
            line += f": {record.comment}"
    if record.used_by is not None:
        line += f"; applied by {record.used_by}"
    return line


def as_document(record: ApprovalRecord) -> dict[str, Any]:
    return {
        "id": record.id, "state": record.state, "kind": record.kind,
        "profile_id": record.profile_id, "environment": record.environment,
        "summary": record.summary, "body": record.body, "body_hash": record.body_hash,
        "reason": record.reason, "ticket": record.ticket,
        "submitted_by": record.submitted_by, "submitted_at": record.submitted_at,
        "decision": record.decision, "comment": record.comment,
        "decided_by": record.decided_by, "decided_at": record.decided_at,
        "used_by": record.used_by, "journal_id": record.journal_id,
    }  # fmt: skip
