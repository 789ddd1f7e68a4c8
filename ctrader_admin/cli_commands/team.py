"""``ctrader-admin team connect|init|add-member|status``: the team database (issue 13, in
progress; docs/team-mode.md). Passwords come from a prompt or an environment variable, never an
argument; the connecting user's is kept in the keyring once the server accepted it."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import os
import sys

from ctrader_admin.cli_commands.context import EXIT_OK, EXIT_ROWS, CliError
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.cli_commands.team_options import MEMBER_PASSWORD_ENV_VAR, PASSWORD_ENV_VAR
from ctrader_admin.services.team import open_team, team_status
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.settings import CONNECT_TIMEOUT_SECONDS, DEFAULT_PORT, TeamSettings
from ctrader_admin.store.pg.team_config import load_team_settings, save_team_settings
from ctrader_admin.store.tokens import TokenStore


async def team_command(args: argparse.Namespace, out: Output) -> int:
    return await asyncio.to_thread(_run, args, out)


def _run(args: argparse.Namespace, out: Output) -> int:
    paths = AppPaths.from_environment()
    tokens = TokenStore()
    if args.action == "connect":
        given = TeamSettings(
            host=args.host, port=args.port or DEFAULT_PORT, database=args.database,
            user=args.user, ca_bundle=args.ca_bundle, tls=not args.no_tls,
            connect_timeout=args.connect_timeout or CONNECT_TIMEOUT_SECONDS,
        )  # fmt: skip
        if not args.no_check:
            with open_team(given, tokens, _password(f"Password of {given.described}: ")):
                pass
        save_team_settings(paths, given)
        out.document({"saved": True, "server": given.described, "checked": not args.no_check})
        checked = "" if args.no_check else " and checked"
        out.line(f"Team database {given.described} saved{checked}.")
        return EXIT_OK
    settings = load_team_settings(paths)
    if settings is None:
        raise CliError("No team database is set up here: run `ctrader-admin team connect` first.")
    if args.action == "init":
        from ctrader_admin.store.pg.admin import init_team

        with _admin_database(settings, tokens) as db:
            version = init_team(db)
        out.document({"server": settings.described, "schema_version": version})
        out.line(f"Team database {settings.described} is set up (schema {version}).")
        return EXIT_OK
    if args.action == "add-member":
        from ctrader_admin.store.pg.admin import add_member, check_role_name

        name = check_role_name(args.name)
        member_password = None
        if not args.no_password:
            member_password = _password(
                f"Password for {name}: ", env=MEMBER_PASSWORD_ENV_VAR, required=True
            )
        with _admin_database(settings, tokens) as db:
            add_member(db, name, member_password, administrator=args.administrator)
        role = "administrator" if args.administrator else "agent"
        out.document({"server": settings.described, "member": name, "role": role})
        out.line(f"{name} can now connect to {settings.described} as a team {role}.")
        return EXIT_OK
    if args.action == "import-history":
        return _import_history(args, out, paths, settings, tokens)
    with agent_database(settings, tokens) as db:
        status = team_status(db)
    out.document(
        {
            "server": status.server, "schema_version": status.schema_version,
            "entries": status.entries, "pending": status.pending, "sessions": status.sessions,
            "chain_ok": status.chain_ok, "chain": status.chain_message,
            "reserved_last_hour": status.reserved_last_hour,
        }
    )  # fmt: skip
    out.line(f"Team database {status.server} (schema {status.schema_version})")
    out.line(f"  journal: {status.entries:,} entries; {status.chain_message}")
    out.line(f"  writes in flight: {status.pending}; journal sessions connected: {status.sessions}")
    for key, count in status.reserved_last_hour.items():
        out.line(f"  write budget used in the last hour on {key}: {count}")
    return EXIT_OK if status.chain_ok else EXIT_ROWS


def _import_history(
    args: argparse.Namespace,
    out: Output,
    paths: AppPaths,
    settings: TeamSettings,
    tokens: TokenStore,
) -> int:
    from ctrader_admin.services import history_import as history

    file = args.from_file or (AppPaths.under(args.home) if args.home else paths).database_file
    with agent_database(settings, tokens) as db:
        done = history.run_import(file, db, dry_run=args.dry_run)
    document = dataclasses.asdict(done)
    out.document({**document, "file": str(done.file), "dry_run": args.dry_run})
    for line in history.in_words(done):
        out.line(line)
    return EXIT_OK


def agent_database(settings: TeamSettings, tokens: TokenStore) -> PgDatabase:
    given = _password(f"Password of {settings.described}: ", ask=False)
    return open_team(settings, tokens, given)


def _admin_database(settings: TeamSettings, tokens: TokenStore) -> PgDatabase:
    """The schema may be missing or old here: no schema check (the administrator sets it up)."""
    given = _password(f"Password of {settings.described}: ", ask=False)
    password = given if given is not None else tokens.get_team_password(settings.keyring_key)
    return PgDatabase(settings, password)


def _password(
    prompt: str, *, env: str = PASSWORD_ENV_VAR, ask: bool = True, required: bool = False
) -> str | None:
    """From the environment variable, else a prompt on a terminal (``ask``); never an argument."""
    text = os.environ.get(env, "")
    if not text and ask and sys.stdin.isatty():
        text = getpass.getpass(prompt)
    if not text and required:
        raise CliError(f"A password is needed: type it at the prompt or set {env}.")
    return text or None
