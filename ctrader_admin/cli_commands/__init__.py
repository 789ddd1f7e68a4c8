"""The scripting subcommands (issue #4): bulk plans and jobs, the journal, single operations.

Only argparse, the dependency-free id parser and the attribution rules' names are imported
here: ``ctrader-admin --help`` and the desktop app's start pay nothing for the commands; each
imports its services when it runs.

Exit codes: 0 everything ok; 1 it ran, but rows (or the operation) failed, drifted or are
unknown; 2 it could not run (bad input, no auth, configuration).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from ctrader_admin.cli_commands.approvals_options import add_approvals_parser, approval_number
from ctrader_admin.cli_commands.team_options import add_team_parser
from ctrader_admin.ids import NotAnId, parse_id

# The one definition of the kinds and sources (dependency-free, like the id parser).
from ctrader_admin.store.attribution_rules import CONFLICT_KINDS, CONFLICT_NAMES, SOURCE_NAMES

COMMANDS = frozenset(
    {
        "plan",
        "apply",
        "status",
        "resume",
        "revert",
        "journal",
        "referral",
        "user",
        "account",
        "connection",
        "attribution",
        "partner",
        "team",
        "approvals",
    }
)
_Sub = argparse._SubParsersAction
Handler = Callable[[argparse.Namespace, object], Awaitable[int]]


def add_parsers(commands: _Sub[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given before the command, --profile must not be reset by the subcommand's default.
    common.add_argument(
        "--profile",
        default=argparse.SUPPRESS,
        metavar="ID_OR_NAME",
        help="connection profile id or name, for this command only (default: the last profile "
        "the app opened, else the sandbox); an unknown profile stops with exit code 2",
    )
    common.add_argument("--json", action="store_true", help="print the result as one JSON document")
    from ctrader_admin.logs import add_log_level_option

    add_log_level_option(common, default=argparse.SUPPRESS)
    writes = argparse.ArgumentParser(add_help=False)
    writes.add_argument("--reason", help="why (kept in the journal for every write)")
    writes.add_argument("--ticket", help="support ticket or CRM reference")
    writes.add_argument(
        "--confirm-env", metavar="NAME", help="on a live connection: its environment name"
    )
    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--yes", action="store_true", help="do not ask before writing")
    run.add_argument(
        "--concurrency", type=_whole_number, metavar="N", help="writes in flight (default 8)"
    )
    run.add_argument(
        "--rate-limit-backoff",
        type=_positive_float,
        metavar="SECONDS",
        help="pause after a rate-limit answer without Retry-After (default 60)",
    )
    run.add_argument("--results", metavar="CSV", help="also write the per-row results here")
    run.add_argument("--all", action="store_true", help="list every row, not only problems")
    planning = argparse.ArgumentParser(add_help=False)
    planning.add_argument(
        "-o", "--output", required=True, metavar="PLAN.json", help="where to save the plan file"
    )
    planning.add_argument(
        "--read-concurrency",
        type=_whole_number,
        default=16,
        metavar="N",
        help="reads in flight while planning (default %(default)s)",
    )
    planning.add_argument("--all", action="store_true", help="list every row of the plan")

    p = commands.add_parser("plan", parents=[common, planning], help="dry run: CSV → plan file")
    p.add_argument(
        "csv",
        metavar="CSV",
        help="partnerId rows (level,userId,ctidTraderAccountId,partnerId) or White Label "
        "transfers (login,environment,brokerName), with a header",
    )
    p = commands.add_parser("apply", parents=[common, writes, run], help="apply a plan file")
    p.add_argument("plan", metavar="PLAN.json", help="a plan file made by 'plan' or 'revert'")
    p.add_argument(
        "--approval",
        type=approval_number,
        metavar="N",
        help="team mode: apply the plan under approval N (submitted by you, approved by "
        "another person, for exactly this plan; used once)",
    )
    p = commands.add_parser(
        "resume", parents=[common, writes, run], help="continue a stopped or crashed job"
    )
    p.add_argument("job", metavar="JOB", help="the job id (its first characters are enough)")
    p = commands.add_parser("status", parents=[common], help="a job's state (no JOB: list)")
    p.add_argument(
        "job", metavar="JOB", nargs="?", help="the job id (or its first characters); none: list"
    )
    p.add_argument("--all", action="store_true", help="list every row, not only problems")
    p.add_argument("--results", metavar="CSV", help="write the per-row results here")
    p.add_argument(
        "--limit", type=_whole_number, default=20, metavar="N", help="jobs listed (default 20)"
    )
    p = commands.add_parser("revert", parents=[common, planning], help="plan undoing a batch")
    p.add_argument("batch", metavar="BATCH", help="the batch (job) id whose writes to undo")
    p.add_argument("--rows", help="only these: job row numbers (1,3,5-9) or targets (user:N)")

    journal = commands.add_parser(
        "journal", help="verify or export this computer's journal (verify, export)"
    )
    journal_commands = _actions(journal)
    journal_commands.add_parser("verify", parents=[common], help="check the hash chain")
    p = journal_commands.add_parser("export", parents=[common], help="entries as CSV")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the CSV file to write")
    p.add_argument("--batch", help="only the entries of this batch (bulk job)")
    p.add_argument("--only-profile", metavar="ID", help="only entries of this profile")
    p.add_argument("--since", help="from this date/time (inclusive), e.g. 2026-05-01")
    p.add_argument("--until", help="until this date/time (exclusive), e.g. 2026-05-01T12:00")

    referral = commands.add_parser(
        "referral", help="partnerId of a user or account link (get, set, delete)"
    )
    referral_commands = _actions(referral)
    for action, parents, text in (
        ("get", [common], "read the partnerId"),
        ("set", [common, writes], "set the partnerId (read first; journalled)"),
        ("delete", [common, writes], "delete the partnerId (read first; journalled)"),
    ):
        p = referral_commands.add_parser(action, parents=parents, help=text)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument(
            "--user", type=_whole_number, metavar="USER_ID", help="the user level of this cTID user"
        )
        who.add_argument(
            "--account",
            type=_whole_number,
            metavar="CTID_TRADER_ACCOUNT_ID",
            help="this account link (ctidTraderAccountId, not the login)",
        )
        if action != "get":
            p.add_argument(
                "--owner",
                type=_whole_number,
                metavar="USER_ID",
                help="the account link's userId (deleting needs it when not known)",
            )
        if action == "set":
            p.add_argument("partner_id", metavar="PARTNER_ID", help="the partner code to register")

    user = commands.add_parser("user", help="cTID users (create)")
    user_commands = _actions(user)
    p = user_commands.add_parser(
        "create",
        parents=[common, writes],
        help="create a cTID user (an existing email returns the existing userId)",
    )
    p.add_argument("--email", required=True, help="the user's email (the cTID login)")
    p.add_argument("--broker-name", metavar="WL", help="White Label (brokerName) of the user")
    p.add_argument("--language", metavar="xx", help="ISO 639-1, e.g. en")

    account = commands.add_parser("account", help="trading accounts (link, move-wl)")
    account_commands = _actions(account)
    p = account_commands.add_parser(
        "link",
        parents=[common, writes],
        help="link to a user; the password is prompted or read from "
        "CTRADER_ADMIN_ACCOUNT_PASSWORD, never an argument",
    )
    p.add_argument("--login", type=_whole_number, required=True, help="the trading account's login")
    p.add_argument(
        "--user",
        type=_whole_number,
        required=True,
        metavar="USER_ID",
        help="the cTID user to link to",
    )
    p.add_argument(
        "--broker-name", required=True, metavar="WL", help="White Label (brokerName) of the account"
    )
    p.add_argument("--environment", required=True, help="the account's environment, e.g. live")
    p.add_argument(
        "--work-order",
        metavar="FILE",
        help="where the account is already linked to another user (the API cannot move it): "
        "also save the work order for cTrader Admin to this file (it is always printed)",
    )
    p = account_commands.add_parser(
        "move-wl", parents=[common, writes], help="move to another White Label (read back after)"
    )
    p.add_argument("--login", type=_whole_number, required=True, help="the trading account's login")
    p.add_argument("--environment", required=True, help="the account's environment, e.g. live")
    p.add_argument("--to", required=True, metavar="WL", help="the target White Label (brokerName)")

    connection = commands.add_parser(
        "connection", help="check that this computer reaches a profile's server (test)"
    )
    connection_commands = _actions(connection)
    p = connection_commands.add_parser(
        "test",
        parents=[common],
        help="tell apart DNS, refused, TLS, proxy, IP whitelist and wrong manager credentials",
    )
    p.add_argument(
        "--login",
        action="store_true",
        help="also log in: the manager password is prompted, or read from "
        "CTRADER_ADMIN_MANAGER_PASSWORD (never an argument)",
    )

    attribution = commands.add_parser(
        "attribution",
        help="who referred which client: pull, import, conflicts, export (the ledger)",
    )
    attribution_commands = attribution.add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = attribution_commands.add_parser(
        "pull", parents=[common], help="read what cTrader Invite recorded since the last pull"
    )
    p.add_argument(
        "--page-size", type=_whole_number, default=1000, metavar="N", help="rows per request"
    )
    p.add_argument(
        "--labels",
        action="store_true",
        help="also read the IB labels of every trading account in the local directory",
    )
    p.add_argument(
        "--registry",
        action="store_true",
        help="also read the partner codes registered in cTrader on every known partner",
    )
    p = attribution_commands.add_parser(
        "import", parents=[common], help="import the CRM's attribution export (CSV)"
    )
    p.add_argument(
        "csv",
        metavar="CSV",
        help="columns userId, referredByPartnerCode (and partnerCode, referredAt, login)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="show the counts and problems, import nothing"
    )
    p = attribution_commands.add_parser(
        "conflicts", parents=[common], help="where sources disagree, and registry problems"
    )
    p.add_argument(
        "--kind",
        choices=CONFLICT_KINDS,
        metavar="KIND",
        help="only conflicts of this kind: "
        + "; ".join(f"{kind} ({CONFLICT_NAMES[kind]})" for kind in CONFLICT_KINDS),
    )
    p = attribution_commands.add_parser(
        "export",
        parents=[common],
        help="a client's or a partner's rows as CSV, or (-o FILE.pdf) the evidence pack: PDF "
        "with the case, every source row, the journal entries and the journal's verification",
    )
    whose = p.add_mutually_exclusive_group(required=True)
    whose.add_argument("--client", type=_whole_number, metavar="USER_ID", help="a client's rows")
    whose.add_argument("--partner", metavar="USER_ID|CODE", help="every referral of a partner")
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="a .csv, or a .pdf evidence pack"
    )

    partner = commands.add_parser("partner", help="partners: their codes and referrals")
    partner_commands = partner.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = partner_commands.add_parser(
        "show", parents=[common], help="a partner's codes and referrals, by userId or code"
    )
    p.add_argument("partner", metavar="USER_ID|CODE", help="the partner's cTID userId or code")
    p.add_argument("--source", choices=list(SOURCE_NAMES), help="only referrals from this source")
    p.add_argument("--limit", type=_whole_number, default=50, help="referrals listed (default 50)")
    p = partner_commands.add_parser(
        "register",
        parents=[common, writes],
        help="register a partner: find them, create their cTID user if they have none, set a "
        "partner code no other partner carries, read it back (journalled)",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--email",
        help="the partner's email; with no cTID user, one is created (an email that already "
        "has one: that user is used, and said)",
    )
    who.add_argument("--user", type=_whole_number, metavar="USER_ID", help="the partner's userId")
    who.add_argument(
        "--login", type=_whole_number, metavar="LOGIN", help="a linked account of the partner"
    )
    p.add_argument(
        "--account",
        type=_whole_number,
        metavar="LOGIN",
        help="register on this linked account of the partner instead of at user level",
    )
    p.add_argument(
        "--code",
        metavar="CODE",
        help="the partner code; default: the CRM's code for this partner if known, else "
        "the code at user level, else IB-<userId>",
    )
    p.add_argument("--broker-name", metavar="WL", help="White Label of a cTID user created here")
    p.add_argument("--language", metavar="xx", help="language of a cTID user created here (en)")
    p.add_argument("--yes", action="store_true", help="do not ask before writing")

    add_team_parser(commands)
    add_approvals_parser(commands)


def _actions(group: argparse.ArgumentParser) -> _Sub[argparse.ArgumentParser]:
    """A command's actions (``referral get``…), listed with their help under "actions"."""
    return group.add_subparsers(dest="action", metavar="ACTION", required=True, title="actions")


def main(args: argparse.Namespace) -> int:
    from ctrader_admin.cli_commands.runner import run_command

    return run_command(args)


def _whole_number(text: str) -> int:
    """userId, login, ctidTraderAccountId — and the counts (concurrency, limit): a positive whole
    number in the digits 0–9, read by the one parser of ids (ctrader_admin.ids)."""
    try:
        value = parse_id(text)
    except NotAnId as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None
    if value is None:
        raise argparse.ArgumentTypeError("is required")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value
