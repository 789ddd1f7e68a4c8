"""Run one subcommand: dispatch, and turn every expected failure into a message and exit code."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from ctrader_admin import __version__
from ctrader_admin.api import ApiError, ConfigurationError, InvalidCredentials
from ctrader_admin.cli_commands import (
    approvals,
    attribution,
    bulk,
    connection,
    journal,
    partner_register,
    single,
    team,
)
from ctrader_admin.cli_commands.context import (
    EXIT_CANNOT_RUN,
    EXIT_OK,
    EXIT_ROWS,
    CliError,
    check_profile,
)
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.errors import ExpectedError
from ctrader_admin.logs import CLI_LOG_FILE, choose_level, configure_logging
from ctrader_admin.store.paths import AppPaths

log = logging.getLogger(__name__)
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
    "attribution": attribution.attribution_command,
    "partner": attribution.partner_show_command,
    "team": team.team_command,
    "approvals": approvals.approvals_command,
}


def run_command(args: argparse.Namespace) -> int:
    out = Output(as_json=bool(getattr(args, "json", False)))
    handler = _handler(args)
    level, level_problem = choose_level(getattr(args, "log_level", None))
    log_file: logging.Handler | None = None
    try:
        log_file = configure_logging(AppPaths.from_environment(), level, CLI_LOG_FILE)
    except OSError as exc:  # the command is worth running without its log file
        out.note(f"ctrader-admin: cannot write the log file ({exc}); running without it.")
    try:
        return _run(args, out, handler, level_problem)
    finally:
        if log_file is not None:  # the command's log ends with it (also when run in-process)
            logging.getLogger().removeHandler(log_file)
            log_file.close()


def _run(args: argparse.Namespace, out: Output, handler: Handler, level_problem: str | None) -> int:
    if level_problem:
        out.note(f"ctrader-admin: {level_problem}")
        log.warning("%s", level_problem)
    log.info("ctrader-admin %s %s", __version__, _name(args))
    try:
        args.profile = check_profile(getattr(args, "profile", None))
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
    except BrokenPipeError:
        # The reader went away (`… | head`): the output was not wanted any more. Python would
        # complain again when it flushes stdout at exit; point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _handler(args: argparse.Namespace) -> Handler:
    if args.command == "journal":
        return journal.verify_command if args.action == "verify" else journal.export_command
    if args.command == "partner" and args.action == "register":
        return partner_register.register_command
    if args.command == "team" and args.action == "policy":
        return approvals.policy_command
    return _HANDLERS[args.command]


def _name(args: argparse.Namespace) -> str:
    action = getattr(args, "action", None)
    return f"{args.command} {action}" if action else str(args.command)


def _fail(args: argparse.Namespace, out: Output, message: str, code: int) -> int:
    name = _name(args)
    log.warning("ctrader-admin %s: %s (exit code %d)", name, message, code)
    out.note(f"ctrader-admin {name}: {message}")
    out.document({"error": message, "exit_code": code})
    return code
