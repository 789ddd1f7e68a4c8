"""The arguments of ``ctrader-admin approvals …`` (argparse only: the command imports its stores
when it runs, cli_commands/approvals.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ctrader_admin.cli_commands.team_options import PASSWORD_ENV_VAR


def approval_number(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an approval number (1, 2, 3, …)")
    return int(text)


def add_approvals_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser(
        "approvals",
        help="four-eyes approval of changes in the team database (the team password comes from "
        f"the keyring or {PASSWORD_ENV_VAR})",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True, title="actions")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    p = actions.add_parser(
        "submit",
        parents=[common],
        help="submit one change (--target …) or a plan file (--plan) for another person to approve",
    )
    p.add_argument(
        "--profile",
        default=argparse.SUPPRESS,
        metavar="ID_OR_NAME",
        help="the connection profile the change is for (default: the last one the app opened)",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--plan", type=Path, metavar="FILE", help="a plan file made by `plan`")
    what.add_argument(
        "--target", metavar="KEY", help="what one change writes to: user:N, account:N, …"
    )
    p.add_argument(
        "--action",
        dest="change_action",
        metavar="ACTION",
        help="with --target: set_partner, move_wl, …",
    )
    p.add_argument(
        "--to",
        dest="after",
        metavar="VALUE",
        help="with --target: the new value (the value now is read when submitting)",
    )
    p.add_argument(
        "--environment", metavar="NAME", help="with --target: demo, live, … (shown to the approver)"
    )
    p.add_argument("--reason", default="", help="why (shown to the approver, kept in the journal)")
    p.add_argument("--ticket", default="", help="support ticket or CRM reference")
    p = actions.add_parser(
        "list", parents=[common], help="the team's approvals, newest first (default: pending)"
    )
    p.add_argument(
        "--state",
        choices=("pending", "decided", "all"),
        default="pending",
        help="which approvals: waiting for a decision, decided, or all",
    )
    p = actions.add_parser(
        "apply",
        parents=[common],
        help="send an approved single write (once), exactly as approved; the journal entry names "
        "both people",
    )
    p.add_argument("id", type=approval_number, help="the approval's number (from `list`)")
    p.add_argument(
        "--profile",
        default=argparse.SUPPRESS,
        metavar="ID_OR_NAME",
        help="the connection to send it on (default: the approval's own)",
    )
    p.add_argument(
        "--confirm-env", metavar="NAME", help="on a live connection: its environment name"
    )
    for name, verb in (("approve", "approve"), ("reject", "reject")):
        p = actions.add_parser(
            name, parents=[common], help=f"{verb} another person's change (never your own)"
        )
        p.add_argument("id", type=approval_number, help="the approval's number (from `list`)")
        p.add_argument(
            "--comment",
            default="",
            required=name == "reject",
            help="what the submitter reads" + (" (required: why)" if name == "reject" else ""),
        )


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0, 1, 2, …)")
    return int(text)


def add_policy_parser(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    json_option: argparse.ArgumentParser,
) -> None:
    """``team policy PROFILE``: show a profile's team policy, or (an administrator) set it."""
    p = actions.add_parser(
        "policy",
        parents=[json_option],
        help="show a profile's team policy; with options, set it (team administrators only; a "
        "workstation can make it stricter, never looser)",
    )
    p.add_argument("profile_id", metavar="PROFILE_ID", help="the connection profile's id")
    p.add_argument("--set", action="store_true", help="replace the policy with these options")
    p.add_argument("--read-only", action="store_true", help="no write on this profile")
    p.add_argument(
        "--budget", type=_count, metavar="N", help="at most N writes per hour (team-wide)"
    )
    p.add_argument("--no-reason", action="store_true", help="do not require a reason")
    p.add_argument("--require-ticket", action="store_true", help="require a ticket")
    p.add_argument(
        "--approve",
        action="append",
        choices=("writes", "plans", "wl-moves"),
        default=[],
        help="changes that need a second person's approval (repeat for several)",
    )
    p.add_argument(
        "--approve-plans-over",
        type=_count,
        metavar="N",
        help="plans of more than N rows need approval",
    )
    p.add_argument(
        "--live-only", action="store_true", help="approval rules apply to live profiles only"
    )
