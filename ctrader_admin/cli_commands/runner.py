"""Run one subcommand: dispatch, and turn every expected failure into a message and exit code."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from ctrader_admin.api import ApiError, ConfigurationError, InvalidCredentials
from ctrader_admin.cli_commands import bulk, connection, journal, single
from ctrader_admin.cli_commands.context import EXIT_CANNOT_RUN, EXIT_ROWS, CliError
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.errors import ExpectedError

Handler = Callable[[argparse.Namespace, Output], Coroutine[Any, Any, int]]

_HANDLERS: dict[str, Handler] = {
    "plan": bulk.plan_command,
    "apply": bulk.apply_command,
    "resume": bulk.resume_command,
    "status": bulk.status_command,
    "revert": bulk.revert_command,
    "referral": single.referral_command,
    "user": single.user_command,
    "account": single.account_command,
    "connection": connection.test_command,
}


def run_command(args: argparse.Namespace) -> int:
    out = Output(as_json=bool(getattr(args, "json", False)))
    handler = _handler(args)
    try:
        return asyncio.run(handler(args, out))
    except CliError as exc:
        return _fail(args, out, exc.message, exc.code)
    except ApiError as exc:
        cannot_run = exc.needs_login or isinstance(exc, ConfigurationError | InvalidCredentials)
        return _fail(args, out, exc.message, EXIT_CANNOT_RUN if cannot_run else EXIT_ROWS)
    except ExpectedError as exc:  # bad input, refused plan, read-only, busy database, …
        return _fail(args, out, exc.message, EXIT_CANNOT_RUN)
    except KeyboardInterrupt:
        return _fail(args, out, "interrupted", EXIT_CANNOT_RUN)


def _handler(args: argparse.Namespace) -> Handler:
    if args.command == "journal":
        return journal.verify_command if args.action == "verify" else journal.export_command
    return _HANDLERS[args.command]


def _fail(args: argparse.Namespace, out: Output, message: str, code: int) -> int:
    action = getattr(args, "action", None)
    name = f"{args.command} {action}" if args.command in ("journal", "connection") else args.command
    out.note(f"ctrader-admin {name}: {message}")
    out.document({"error": message, "exit_code": code})
    return code
