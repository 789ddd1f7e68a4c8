"""The arguments of ``ctrader-admin team …`` (argparse only: ``--help`` and the app's start pay
nothing for the command, which imports its stores when it runs: cli_commands/team.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

PASSWORD_ENV_VAR = "CTRADER_ADMIN_TEAM_PASSWORD"  # noqa: S105 - names, not secrets
MEMBER_PASSWORD_ENV_VAR = "CTRADER_ADMIN_TEAM_MEMBER_PASSWORD"  # noqa: S105


def add_team_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    team = commands.add_parser("team", help="the team database on PostgreSQL (docs/team-mode.md)")
    actions = team.add_subparsers(dest="action", metavar="ACTION", required=True, title="actions")
    json_option = argparse.ArgumentParser(add_help=False)
    json_option.add_argument("--json", action="store_true", help="print the result as JSON")
    p = actions.add_parser(
        "connect",
        parents=[json_option],
        help="save where the team database is and check it; the password is prompted (or read "
        f"from {PASSWORD_ENV_VAR}) and kept in the keyring",
    )
    p.add_argument("--host", required=True, help="the server's host name or address")
    p.add_argument("--port", type=int, help="default: PostgreSQL's, 5432")
    p.add_argument("--database", required=True, help="the team database's name")
    p.add_argument("--user", required=True, help="your database user (your own login role)")
    p.add_argument("--ca-bundle", type=Path, help="PEM file of a private certificate authority")
    p.add_argument(
        "--no-tls", action="store_true", help="only for a server on this computer (loopback)"
    )
    p.add_argument(
        "--no-check", action="store_true", help="save without connecting (before `team init`)"
    )
    p.add_argument(
        "--connect-timeout",
        type=int,
        metavar="SECONDS",
        help="how long a server that does not answer is waited for, in seconds (2–300; "
        "default 10); then the app works read-only",
    )
    actions.add_parser(
        "init",
        parents=[json_option],
        help="set up the schema, roles and rights (once, as a superuser or the database owner)",
    )
    p = actions.add_parser(
        "add-member",
        parents=[json_option],
        help="a login role for an agent (or --administrator); its password is prompted or read "
        f"from {MEMBER_PASSWORD_ENV_VAR}",
    )
    p.add_argument("name", help="the new database user: lower-case letters, digits, _")
    p.add_argument("--administrator", action="store_true", help="a team administrator")
    p.add_argument(
        "--no-password", action="store_true", help="for servers that authenticate otherwise"
    )
    actions.add_parser(
        "status", parents=[json_option], help="the team journal, sessions and write budget"
    )
    p = actions.add_parser(
        "import-history",
        parents=[json_option],
        help="import this workstation's own journal (its chain verified first) and directory "
        "into the team database (a team administrator)",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--home", type=Path, help="the app folder whose journal to import (default: this one's)"
    )
    source.add_argument(
        "--from", dest="from_file", type=Path, metavar="FILE",
        help="a workstation's database file (ctrader-admin.sqlite3) copied here",
    )  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="say what would be imported, only")
    from ctrader_admin.cli_commands.approvals_options import add_policy_parser  # imports this

    add_policy_parser(actions, json_option)
