"""``ctrader-admin connection test``: can this computer reach the profile's server, and does it
accept the manager? Tells apart DNS, refused, TLS, proxy, IP whitelist and wrong credentials."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from pydantic import SecretStr

from ctrader_admin.cli_commands.context import EXIT_CANNOT_RUN, EXIT_OK, profile_id, stores
from ctrader_admin.cli_commands.output import Output

MANAGER_PASSWORD_ENV_VAR = "CTRADER_ADMIN_MANAGER_PASSWORD"  # noqa: S105 - a name, not a secret


async def test_command(args: argparse.Namespace, out: Output) -> int:
    async with stores() as s:
        profile = s.office.profiles.get(profile_id(s.office, getattr(args, "profile", None)))
        password = await _password(args, profile.manager_login, profile.name)
        verdict = await s.office.check_connection(profile, password)
    out.line(f"{profile.name}: {verdict.headline}. {verdict.detail}")
    out.document(
        {"profile": profile.id, "ok": verdict.ok, "headline": verdict.headline,
         "detail": verdict.detail}
    )  # fmt: skip
    return EXIT_OK if verdict.ok else EXIT_CANNOT_RUN


async def _password(
    args: argparse.Namespace, manager_login: int | None, name: str
) -> SecretStr | None:
    """The manager password to check the log-in too: the environment variable, or a prompt
    with --login on a terminal; never an argument."""
    if manager_login is None or not args.login:
        return None
    text = os.environ.get(MANAGER_PASSWORD_ENV_VAR, "")
    if not text and sys.stdin.isatty():
        text = await asyncio.to_thread(
            getpass.getpass, f"Password of manager {manager_login} on {name}: "
        )
    return SecretStr(text) if text else None
