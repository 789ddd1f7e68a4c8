"""Single operations: ``referral get|set|delete``, ``user create``, ``account link``,
``account move-wl``. Each is prepared, confirmed (on a live connection) and applied by the same
write model (and gate) as the app: nothing is sent if the target changed meanwhile."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from pydantic import SecretStr

from ctrader_admin.cli_commands.context import (
    EXIT_CANNOT_RUN,
    EXIT_OK,
    EXIT_ROWS,
    CliError,
    open_session,
    stores,
)
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.services import accounts, partners, users, work_orders, writes
from ctrader_admin.services.bulk import confirmation_word
from ctrader_admin.services.partners import PartnerChange
from ctrader_admin.services.session import Session
from ctrader_admin.services.validation import environment_of
from ctrader_admin.services.writes import (
    Applied,
    LinkTarget,
    PartnerCode,
    PartnerTarget,
    Prepared,
    UserTarget,
    WriteDrift,
    show,
    target_key,
)
from ctrader_admin.store.atomic import write_private_text

PASSWORD_ENV_VAR = "CTRADER_ADMIN_ACCOUNT_PASSWORD"  # noqa: S105 - a name, not a secret


def _target(args: argparse.Namespace) -> PartnerTarget:
    if args.user is not None:
        return UserTarget(args.user)
    # ``get`` has no --owner (reading needs no userId): absent from its namespace.
    return LinkTarget(args.account, getattr(args, "owner", None))


async def confirm_live(
    session: Session, args: argparse.Namespace, what: str, prepared: Prepared | None = None
) -> None:
    """Live connections: the environment name, typed (after the prepared change, when there is
    one, is shown) or given with --confirm-env."""
    word = confirmation_word(session.profile)
    if word is None:
        return
    typed = args.confirm_env
    if typed is None and sys.stdin.isatty():
        shown = (
            "".join(f"  {label}: {value}\n" for label, value in prepared.rows()) if prepared else ""
        )
        typed = await asyncio.to_thread(
            input, f"LIVE — {session.profile.name}: {what}.\n{shown}Type {word} to continue: "
        )
    if (typed or "").strip() != word:
        raise CliError(f"{session.profile.name} is live: confirm with --confirm-env {word}.")


async def _apply(session: Session, prepared: Prepared, args: argparse.Namespace) -> Applied:
    """Apply what was prepared (and confirmed); drift — the target changed meanwhile — sends
    nothing and ends the command with exit code 1, in words."""
    try:
        return await writes.apply(
            session, prepared, reason=args.reason or "", ticket=args.ticket or ""
        )
    except WriteDrift as exc:
        raise CliError(f"{exc.message} (journal #{exc.journal_id})", EXIT_ROWS) from None


async def referral_command(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        if args.action == "get":
            record = await partners.read_referral(session, target)
            value = record.partner_id if record else None
            out.document({"target": target_key(target), "partnerId": value})
            out.line(f"{target.describe()}: partnerId {show(value)}")
            return EXIT_OK
        code = args.partner_id if args.action == "set" else None
        session.check_can_write(args.reason or "", args.ticket or "")
        prepared = await writes.prepare(session, PartnerCode(target, code))
        prepared.check()
        applied = Applied(prepared, None)
        if prepared.verdict == "write":
            verb = "set" if args.action == "set" else "delete"
            await confirm_live(
                session, args, f"{verb} the partnerId of {target.describe()}", prepared
            )
            applied = await _apply(session, prepared, args)
    change = PartnerChange.of(applied)
    out.document(
        {
            "target": target_key(change.target),
            "before": change.before,
            "after": change.after,
            "changed": change.changed,
            "journal_id": change.journal_id,
        }
    )
    what = f"{show(change.before)} → {show(change.after)}" if change.changed else "unchanged"
    out.line(f"{change.target.describe()}: partnerId {what}")
    return EXIT_OK


async def user_command(args: argparse.Namespace, out: Output) -> int:
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        await confirm_live(session, args, f"create the user {args.email}")
        created = await users.create_user(
            session,
            email=args.email,
            broker_name=args.broker_name,
            language=args.language,
            reason=args.reason or "",
            ticket=args.ticket or "",
        )
    out.document(
        {"userId": created.user_id, "created": created.created, "email": created.user.email}
    )
    note = "created" if created.created else "existing user returned (the email was taken)"
    out.line(f"userId {created.user_id}: {note}")
    return EXIT_OK


async def account_command(args: argparse.Namespace, out: Output) -> int:
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        if args.action == "link":
            return await _link(session, args, out)
        session.check_can_write(args.reason or "", args.ticket or "")
        prepared = await accounts.prepare_move(
            session, login=args.login, environment=args.environment, target_broker_name=args.to
        )
        await confirm_live(session, args, f"move account {args.login} to {args.to}", prepared)
        move = await accounts.moved(session, prepared, _apply(session, prepared, args))
    out.document(
        {
            "login": move.login,
            "environment": move.environment,
            "before": move.before,
            "requested": move.requested,
            "after": move.after,
            "confirmed": move.confirmed,
            "read_back_error": move.read_back_error,
        }
    )
    if move.confirmed:
        out.line(f"account {move.login}: White Label {move.before} → {move.after} (read back)")
        return EXIT_OK
    out.line(
        f"account {move.login}: the move was sent, but the account reads "
        f"{show(move.after)}{f' ({move.read_back_error})' if move.read_back_error else ''}"
    )
    return EXIT_ROWS


async def _link(session: Session, args: argparse.Namespace, out: Output) -> int:
    try:
        # Before the password is asked for: a link the API cannot make needs none.
        work_orders.check_link(
            session,
            login=args.login,
            environment=environment_of(session.profile, args.environment),
            user_id=args.user,
            broker_name=args.broker_name,
            reason=args.reason or "",
            ticket=args.ticket or "",
        )
        return await _link_with_password(session, args, out)
    except work_orders.AlreadyLinked as refused:
        return _offer_work_order(refused, args, out)


def _offer_work_order(
    refused: work_orders.AlreadyLinked, args: argparse.Namespace, out: Output
) -> int:
    """The API cannot link it: the work order for cTrader Admin on stdout (and in a file)."""
    text = refused.order.text()
    out.note(f"ctrader-admin account link: {refused.message}")
    out.line(text)
    saved = None
    if args.work_order:
        path = Path(args.work_order)
        try:
            write_private_text(path, text)
        except OSError as exc:
            raise CliError(f"The work order could not be saved to {path}: {exc.strerror}") from None
        saved = str(path)
        out.note(f"Work order saved to {path}.")
    out.document({"error": refused.message, "work_order": text, "saved_to": saved})
    return EXIT_CANNOT_RUN


async def _link_with_password(session: Session, args: argparse.Namespace, out: Output) -> int:
    password = os.environ.get(PASSWORD_ENV_VAR, "")
    if not password and sys.stdin.isatty():
        password = await asyncio.to_thread(
            getpass.getpass, f"Trading password of account {args.login}: "
        )
    if not password:
        raise CliError(
            f"The account password is needed: type it at the prompt or set {PASSWORD_ENV_VAR} "
            "(it is never taken as an argument)."
        )
    await confirm_live(session, args, f"link account {args.login} to user {args.user}")
    linked = await accounts.link_account(
        session,
        login=args.login,
        password=SecretStr(password),
        user_id=args.user,
        broker_name=args.broker_name,
        environment=args.environment,
        reason=args.reason or "",
        ticket=args.ticket or "",
    )
    del password
    out.document(
        {
            "login": linked.login,
            "userId": linked.user_id,
            "environment": linked.environment,
            "brokerName": linked.broker_name,
            "ctidTraderAccountId": linked.ctid_trader_account_id,
        }
    )
    out.line(
        f"account {linked.login} linked to user {linked.user_id}: ctidTraderAccountId "
        f"{linked.ctid_trader_account_id or '(not returned)'}"
    )
    return EXIT_OK
