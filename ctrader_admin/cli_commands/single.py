"""Single operations: ``referral get|set|delete``, ``user create``, ``account link``,
``account move-wl``. Each goes through the same services (and write gate) as the app."""

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
from ctrader_admin.services import accounts, partners, users, work_orders
from ctrader_admin.services.bulk import confirmation_word, show
from ctrader_admin.services.partners import PartnerTarget
from ctrader_admin.services.session import Session
from ctrader_admin.services.validation import environment_of
from ctrader_admin.store.atomic import write_private_text

PASSWORD_ENV_VAR = "CTRADER_ADMIN_ACCOUNT_PASSWORD"  # noqa: S105 - a name, not a secret


def _target(args: argparse.Namespace) -> PartnerTarget:
    if args.user is not None:
        return PartnerTarget.user(args.user)
    # ``get`` has no --owner (reading needs no userId): absent from its namespace.
    return PartnerTarget.account(args.account, getattr(args, "owner", None))


async def confirm_live(session: Session, args: argparse.Namespace, what: str) -> None:
    """Live connections: the environment name, typed or given with --confirm-env."""
    word = confirmation_word(session.profile)
    if word is None:
        return
    typed = args.confirm_env
    if typed is None and sys.stdin.isatty():
        typed = await asyncio.to_thread(
            input, f"LIVE — {session.profile.name}: {what}. Type {word} to continue: "
        )
    if (typed or "").strip() != word:
        raise CliError(f"{session.profile.name} is live: confirm with --confirm-env {word}.")


async def referral_command(args: argparse.Namespace, out: Output) -> int:
    target = _target(args)
    async with stores() as st:
        session = await open_session(st.office, args.profile)
        if args.action == "get":
            record = await partners.read_referral(session, target)
            value = record.partner_id if record else None
            out.document({"target": target.journal_target, "partnerId": value})
            out.line(f"{target.describe()}: partnerId {show(value)}")
            return EXIT_OK
        if args.action == "set":
            await confirm_live(session, args, f"set the partnerId of {target.describe()}")
            change = await partners.set_partner(
                session, target, args.partner_id, reason=args.reason or "", ticket=args.ticket or ""
            )
        else:
            await confirm_live(session, args, f"delete the partnerId of {target.describe()}")
            change = await partners.delete_partner(
                session, target, reason=args.reason or "", ticket=args.ticket or ""
            )
        entry = session.last_entry.id if change.changed and session.last_entry else None
    out.document(
        {
            "target": target.journal_target,
            "before": change.before,
            "after": change.after,
            "changed": change.changed,
            "journal_id": entry,
        }
    )
    what = f"{show(change.before)} → {show(change.after)}" if change.changed else "unchanged"
    out.line(f"{target.describe()}: partnerId {what}")
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
        await confirm_live(session, args, f"move account {args.login} to {args.to}")
        move = await accounts.move_white_label(
            session,
            login=args.login,
            environment=args.environment,
            target_broker_name=args.to,
            reason=args.reason or "",
            ticket=args.ticket or "",
        )
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
