"""What every command needs: the app's stores and, for commands that talk to the backend, a
logged-in session of the chosen profile. Built through the composition root (app.py), so the
CLI and the desktop app share one journal, one write budget per profile and one directory."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ctrader_admin.api import ApiError
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.session import Session
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import SANDBOX_PROFILE_ID, ProfileError

TOKEN_ENV_VAR = "CTRADER_ADMIN_TOKEN"  # noqa: S105 - the variable's name, not a secret

EXIT_OK = 0
EXIT_ROWS = 1  # ran, but some rows (or the one operation) failed, drifted or are unknown
EXIT_CANNOT_RUN = 2  # bad input, no auth, configuration


class CliError(Exception):
    """Stop the command with a message for stderr and an exit code."""

    def __init__(self, message: str, code: int = EXIT_CANNOT_RUN) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Stores:
    paths: AppPaths
    office: Backoffice
    checkpoints: CheckpointStore  # in the office's database: one database per process


@asynccontextmanager
async def stores() -> AsyncIterator[Stores]:
    from ctrader_admin.wiring import SandboxHost, build_backoffice

    paths = AppPaths.from_environment()
    host = SandboxHost(paths)
    office = build_backoffice(paths, host)
    for problem in office.profiles.problems:  # the command still runs, with the other profiles
        print(f"ctrader-admin: {problem}", file=sys.stderr, flush=True)
    offline = office.team_link.read_only_notice() if office.team_link is not None else None
    if offline:  # reads go on; a write then stops with the sentence (exit 2)
        print(f"ctrader-admin: warning: {offline}", file=sys.stderr, flush=True)
    try:
        yield Stores(paths, office, office.checkpoints)
    finally:
        await office.shutdown()
        host.close()


def profile_id(office: Backoffice, wanted: str | None) -> str:
    """``--profile`` (an id or a name), else the last used one, else the sandbox."""
    if not wanted:
        return office.settings.last_profile_id or SANDBOX_PROFILE_ID
    try:
        return office.settings.find(wanted).id
    except ProfileError as exc:
        raise CliError(str(exc)) from None


def check_profile(wanted: str | None) -> str | None:
    """Before any command runs: ``--profile`` resolved to its id (a name works too), or the
    command stops with exit code 2 — also for commands that never connect (status, journal)."""
    if not wanted:
        return None
    from ctrader_admin.store.profiles import ProfileStore

    # A peek: setting broken profiles aside, and saying so, is the command's own load.
    settings = ProfileStore(AppPaths.from_environment()).load(repair=False)
    try:
        return settings.find(wanted).id
    except ProfileError as exc:
        raise CliError(str(exc)) from None


async def open_session(office: Backoffice, wanted: str | None, *, login: bool = True) -> Session:
    """The chosen profile's session, logged in: the sandbox logs in by itself; otherwise the
    token comes from CTRADER_ADMIN_TOKEN, the keyring, or (on a terminal) a password prompt."""
    try:
        # remember=False: a command's --profile is for that command only, never the new default.
        session = await office.open(profile_id(office, wanted), remember=False)
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    token = os.environ.get(TOKEN_ENV_VAR, "").strip()
    if token:
        session.client.token = token
    if login and not session.logged_in:
        await _prompt_login(session)
    if login and not session.logged_in:
        raise CliError(
            f"Not logged in to {session.profile.name!r}: set {TOKEN_ENV_VAR} to a manager token, "
            "or log in once in the app with 'remember' on."
        )
    return session


async def _prompt_login(session: Session) -> None:
    manager = session.profile.manager_login
    if manager is None or not sys.stdin.isatty():
        return
    prompt = f"Password of manager {manager} on {session.profile.name}: "
    password = await asyncio.to_thread(getpass.getpass, prompt)
    if not password:
        return
    try:
        await session.login(manager, password, remember=session.profile.remember_token)
    except ApiError as exc:
        raise CliError(f"Log-in failed: {exc.message}") from None
