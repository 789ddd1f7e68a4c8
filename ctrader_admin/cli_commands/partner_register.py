"""``partner register``: the guided registration of a partner (services/partner_registration.py)
from the command line — find the person, create their cTID user if they have none, plan the code
(proposed or given, checked against every other known partner), confirm, set, read back.

Exit codes: 0 the code is set and reads back; 1 it was sent but does not read back (or the read
failed); 2 nothing was written (bad input, a code another partner carries, read-only, declined).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ctrader_admin.cli_commands.context import EXIT_OK, EXIT_ROWS, CliError, open_session, stores
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.cli_commands.single import confirm_live
from ctrader_admin.services import partner_registration as reg
from ctrader_admin.services.id_kinds import Kind
from ctrader_admin.services.writes import LinkTarget


def _who(args: argparse.Namespace) -> tuple[str, Kind]:
    if args.email is not None:
        return args.email, Kind.EMAIL
    if args.user is not None:
        return str(args.user), Kind.USER
    return str(args.login), Kind.LOGIN


async def _ask(args: argparse.Namespace, question: str) -> None:
    """Go on only when --yes was given or the operator answers yes at the terminal."""
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"Nothing was sent: {question} Confirm with --yes (no terminal to ask).")
    typed = await asyncio.to_thread(input, f"{question} [y/N] ")
    if typed.strip().lower() not in ("y", "yes"):
        raise CliError("Declined: nothing was sent.")


async def register_command(args: argparse.Namespace, out: Output) -> int:
    text, kind = _who(args)
    reason, ticket = args.reason or "", args.ticket or ""
    document: dict[str, Any] = {}
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        ledger = st.office.ledger
        person = await reg.find_person(session, text, kind)
        for note in person.notes:
            out.note(note)
        if args.code is not None:  # a code someone else carries stops here, before any write
            await reg.check_code(session, ledger, person, args.code)
        if person.needs_user:
            session.check_can_write(reason, ticket)
            await confirm_live(session, args, f"create the cTID user of {person.email}")
            await _ask(args, f"Create a cTID user for {person.email}?")
        ready = await reg.ensure_user(
            session,
            person,
            broker_name=args.broker_name,
            language=args.language,
            reason=reason,
            ticket=ticket,
        )
        person = ready.person
        out.line(ready.message)
        document["user"] = {
            "userId": person.user_id,
            "email": person.email,
            "created": ready.created,
            "message": ready.message,
        }
        code, why = args.code, "given"
        if code is None:
            proposal = reg.propose_code(ledger, session.profile.id, person)
            assert proposal is not None  # the person has a user by now
            code, why = proposal.code, f"proposed: {proposal.why}"
        plan = await reg.plan(session, ledger, person, code=code, account_login=args.account)
        document.update(_plan_document(plan, why))
        for label, value in plan.summary():
            out.line(f"{label + ':':<11}{value}")
        out.line(f"{'Code:':<11}{plan.code} ({why})")
        for warning in plan.warnings:
            out.line(f"⚠ {warning}")
        if plan.changes:
            session.check_can_write(reason, ticket)
            await confirm_live(
                session, args, f"set partnerId {plan.code} on {plan.target.describe()}"
            )
            await _ask(args, f"Register {plan.code} on {plan.target.describe()}?")
        done = await reg.execute(session, ledger, plan, reason=reason, ticket=ticket)
    document.update(
        {
            "changed": done.change.changed,
            "read_back": done.read_back,
            "read_back_error": done.read_back_error,
            "matches": done.matches,
            "journal_id": done.journal_id,
        }
    )
    out.line(done.message())
    out.document(document)
    return EXIT_OK if done.matches else EXIT_ROWS


def _plan_document(plan: reg.RegistrationPlan, why: str) -> dict[str, Any]:
    target = plan.target
    where: dict[str, Any] = (
        {
            "level": "account",
            "id": target.ctid,
            "userId": target.owner,
            "login": target.login,
            "environment": target.environment,
        }
        if isinstance(target, LinkTarget)
        else {
            "level": "user",
            "id": target.user_id,
            "userId": target.user_id,
            "login": None,
            "environment": None,
        }
    )
    return {
        "target": where,
        "code": plan.code,
        "code_source": why,
        "before": plan.before,
        "warnings": list(plan.warnings),
    }
