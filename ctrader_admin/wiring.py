"""The composition root of the back office: the one place that builds the stores, the client
factory (real network or the embedded sandbox) and the services, for the desktop app and the
command line alike. The desktop app imports this module behind its first window (app.py): it
pulls in the HTTP client, pydantic and SQLite, which the first window does not need."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from ctrader_admin.api import ApiClient, ApiError, ConnectionConfig, Proxy, RetryPolicy
from ctrader_admin.api.retry import DEFAULT_POLICY
from ctrader_admin.services.backoffice import Backoffice, BudgetWindows, ClientFactory, OnOpen
from ctrader_admin.services.session import Session
from ctrader_admin.services.team_link import TeamLink
from ctrader_admin.store.database import Database
from ctrader_admin.store.directory import Directory
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import SANDBOX_PROFILE_ID, Profile, ProfileError, ProfileStore
from ctrader_admin.store.sql import Store
from ctrader_admin.store.tokens import TokenStore

if TYPE_CHECKING:
    import httpx

    from ctrader_admin.sandbox import Sandbox
    from ctrader_admin.services.approvals import Approvals
    from ctrader_admin.store.pg.database import PgDatabase

log = logging.getLogger(__name__)


class SandboxHost:
    """The embedded sandbox, started on first use so that a real-broker start never pays for
    it. File-backed: what a trainee did is still there after a restart."""

    def __init__(self, paths: AppPaths) -> None:
        self._paths = paths
        self._sandbox: Sandbox | None = None

    def get(self) -> Sandbox:
        if self._sandbox is None:
            from ctrader_admin.sandbox import Sandbox, SandboxConfig

            db = self._paths.ensure_data_dir() / "sandbox.sqlite3"
            self._sandbox = Sandbox(SandboxConfig(db_path=str(db)))
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def sandbox_hint() -> str:
    from ctrader_admin.sandbox import TRAINING_MANAGERS

    manager = TRAINING_MANAGERS[0]
    return (
        # Two short lines, shown unwrapped: the password is never broken across lines.
        f"Training sandbox: manager {manager.login}, password “{manager.password}”.\n"
        "Nothing here touches a real broker."
    )


# The starting cases of `ctrader-admin sandbox --help` (the sandbox's fixed showcase).
SANDBOX_STARTING_CASES = (
    ("user:1000001", "partner case (Emily Carter): her user-level and account-level codes differ"),
    ("user:1000004", "client case (Daniel Okafor): no partner code, as a client should be"),
    ("login:5200002", "a live account no cTID user is known for yet: practise linking"),
)


def training_sandbox_opener(sandbox: SandboxHost) -> Callable[[Session], Awaitable[None]]:
    """The sandbox needs no setup: it opens logged in as the training manager (a published
    training credential, kept in memory only), and its local directory starts with the plant's
    CRM export, so the first lookup already shows linked accounts and attribution mismatches."""

    async def prepare(session: Session) -> None:
        if session.profile.kind != "sandbox":
            return
        from ctrader_admin.sandbox import TRAINING_MANAGERS

        directory, pid = session.directory, session.profile.id
        if directory.link_count(pid) == 0:
            preview = directory.preview_csv(sandbox.get().crm_export_csv())
            directory.import_rows(pid, preview.rows_ok)
        if session.logged_in:
            return
        manager = TRAINING_MANAGERS[0]
        try:
            await session.login(manager.login, manager.password, remember=False)
        except ApiError as exc:  # e.g. the trainee changed the sandbox: the dialog stays available
            log.warning("Automatic log-in to the sandbox failed: %s", exc)

    return prepare


def import_first_profile_modules(paths: AppPaths, profile: str | None) -> None:
    """Import what opening the first profile (``profile``, else the last one used) will need
    beyond this module: the embedded sandbox when the app opens on it (the desktop app runs
    this on a worker thread, app.py)."""
    settings = ProfileStore(paths).load(repair=False)
    first = settings.last_profile_id
    if profile:
        with contextlib.suppress(ProfileError):  # unknown: the app says so and opens the last
            first = settings.find(profile).id
    if first in (None, SANDBOX_PROFILE_ID):
        import ctrader_admin.sandbox.app  # noqa: F401


Transport = Callable[[Profile], "httpx.AsyncBaseTransport | None"]
Sleep = Callable[[float], Awaitable[None]]


def client_factory(
    tokens: TokenStore,
    *,
    transport: Transport | None = None,
    sleep: Sleep | None = None,
    retry: RetryPolicy | None = None,
) -> ClientFactory:
    """How the back office makes a profile's client: its server, CA bundle, timeout and proxy
    (the proxy's password from the keyring); ``transport`` (per profile; None: the network),
    ``sleep`` (retry back-offs) and ``retry`` are for the sandbox, tests and benchmarks."""

    def client_for(profile: Profile) -> ApiClient:
        proxy = None
        if profile.proxy_url:
            # Read from the keyring off the loop beforehand (Backoffice._read_proxy_password).
            password = tokens.get_proxy_password(profile.id) if profile.proxy_username else None
            proxy = Proxy(
                profile.proxy_url,
                username=profile.proxy_username,
                password=SecretStr(password) if password else None,
            )
        config = ConnectionConfig(
            base_url=profile.base_url,
            ca_bundle=profile.ca_bundle,
            timeout=profile.timeout_seconds,
            proxy=proxy,
            retry=retry or DEFAULT_POLICY,
        )
        chosen = transport(profile) if transport is not None else None
        return ApiClient(config, transport=chosen, sleep=sleep or asyncio.sleep)

    return client_for


def compose_backoffice(
    database: Database,
    profiles: ProfileStore,
    *,
    tokens: TokenStore | None = None,
    clients: ClientFactory | None = None,
    transport: Transport | None = None,
    sleep: Sleep | None = None,
    workstation: str | None = None,
    clock: Callable[[], float] = time.time,
    on_open: OnOpen | None = None,
    login_hints: dict[str, str] | None = None,
    starting_cases: dict[str, tuple[tuple[str, str], ...]] | None = None,
    team: PgDatabase | None = None,
    data_dir: Path | None = None,
) -> Backoffice:
    """The one way to put a back office together — for the app, the CLI, the tests and the
    benchmarks: its stores on ``database`` (which it then owns and closes), the profiles, and a
    client factory (``clients``, or the app's own with ``transport`` and ``sleep``). ``team``:
    the team database (owned and closed too), where every store then lives — journal,
    directory, attribution ledger, bulk jobs and checkpoints, write budget, policies and
    approvals — so what one agent learns or does, every agent sees; ``database`` (this
    workstation's file) is then closed unused. ``data_dir``: where the team's last state is
    kept for when its server cannot be reached (services/team_link.py)."""
    tokens = tokens if tokens is not None else TokenStore()
    stores: Store = database
    if team is not None:
        database.close()
        stores = team
    try:
        journal = Journal(stores)
    except BaseException:
        stores.close()
        raise
    return Backoffice(
        profiles=profiles,
        tokens=tokens,
        journal=journal,
        directory=Directory(stores),
        budget_windows=None if team is None else team_budget_windows(team),
        approvals=None if team is None else team_approvals(team),
        team_link=None if team is None else TeamLink(team, data_dir),
        client_factory=clients or client_factory(tokens, transport=transport, sleep=sleep),
        workstation=workstation or socket.gethostname(),
        clock=clock,
        on_open=on_open,
        login_hints=login_hints,
        starting_cases=starting_cases,
    )


def team_budget_windows(team: PgDatabase) -> BudgetWindows:
    """One budget per broker connection for the whole team: the profile's server and manager
    login name it, so every workstation's profile for that connection draws from it."""
    from ctrader_admin.store.pg.budget import TeamBudgetWindow

    return lambda profile: TeamBudgetWindow(team, f"{profile.base_url}#{profile.manager_login}")


def team_approvals(team: PgDatabase) -> Approvals:
    """The team's policies and approvals, which the write gate consults in team mode."""
    from ctrader_admin.services.approvals import Approvals
    from ctrader_admin.store.pg.approvals import ApprovalStore

    return Approvals(ApprovalStore(team))


def open_team_database(paths: AppPaths, tokens: TokenStore) -> PgDatabase | None:
    """The team database when this workstation has one (``ctrader-admin team connect``), its
    password from the keyring; None: the local SQLite path. A server that cannot be reached is
    opened without a connection (the back office then works read-only from the last state it
    saw, services/team_link.py, until it answers); a log-in refused, or its settings damaged:
    a DatabaseError or TeamSettingsError in words — the back office is not built, so nothing is
    ever written locally that the team would not see."""
    from ctrader_admin.store.pg.team_config import load_team_settings

    settings = load_team_settings(paths)
    if settings is None:
        return None
    from ctrader_admin.store.pg.database import PgDatabase

    return PgDatabase.open(settings, tokens, unreachable_ok=True)


def team_connecting_text(paths: AppPaths) -> str | None:
    """What the window says while ``build_backoffice`` connects to the team database; None:
    no team database here (or its settings are damaged: the build then says so in words)."""
    from ctrader_admin.services.team_link import connecting_text
    from ctrader_admin.store.pg.settings import TeamSettingsError
    from ctrader_admin.store.pg.team_config import load_team_settings

    try:
        settings = load_team_settings(paths)
    except TeamSettingsError:
        return None
    return None if settings is None else connecting_text(settings)


def sandbox_transport(sandbox: Sandbox) -> Transport:
    """Sandbox profiles reach ``sandbox`` in-process; every other profile the network."""
    return lambda profile: sandbox.transport() if profile.kind == "sandbox" else None


def build_backoffice(paths: AppPaths, sandbox: SandboxHost) -> Backoffice:
    """The desktop app's and the CLI's back office: the files under ``paths``, the embedded
    sandbox started on first use; the journal and the write budget in the team database when
    one is configured. Blocks while the team server is tried (up to its connect timeout): the
    desktop app calls it on a worker thread (app.py)."""
    tokens = TokenStore()
    team = open_team_database(paths, tokens)
    try:
        database = Database.open(paths)
    except BaseException:
        if team is not None:
            team.close()
        raise
    return compose_backoffice(
        database,
        ProfileStore(paths),
        tokens=tokens,
        team=team,
        data_dir=paths.ensure_data_dir(),
        transport=lambda profile: sandbox.get().transport() if profile.kind == "sandbox" else None,
        on_open=training_sandbox_opener(sandbox),
        login_hints={"sandbox": sandbox_hint()},
        starting_cases={SANDBOX_PROFILE_ID: SANDBOX_STARTING_CASES},
    )
