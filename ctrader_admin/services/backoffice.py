"""What the UI and the CLI hold on to: the stores, and the session of the active profile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import SecretStr

from ctrader_admin.api import ApiClient
from ctrader_admin.services.budget import WINDOW_SECONDS, Window, WriteBudget
from ctrader_admin.services.connection_check import ConnectionVerdict, check_connection
from ctrader_admin.services.journal_live import JournalUpdates
from ctrader_admin.services.session import Session
from ctrader_admin.store.attribution import AttributionLedger
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.database import DatabaseUnreachable
from ctrader_admin.store.directory import Directory
from ctrader_admin.store.journal import Journal, JournalFilter
from ctrader_admin.store.profiles import Profile, ProfileStore, Settings
from ctrader_admin.store.tokens import TokenStore

if TYPE_CHECKING:  # the local path never loads the team database's modules
    from ctrader_admin.services.approvals import Approvals
    from ctrader_admin.services.team_link import TeamLink

ClientFactory = Callable[[Profile], ApiClient]
OnOpen = Callable[[Session], Awaitable[None]]
# Where a profile's writes are counted in team mode (None: this process, seeded from the journal).
BudgetWindows = Callable[[Profile], Window]


class Backoffice:
    def __init__(
        self,
        *,
        profiles: ProfileStore,
        tokens: TokenStore,
        journal: Journal,
        directory: Directory,
        client_factory: ClientFactory,
        workstation: str,
        clock: Callable[[], float] = time.time,
        on_open: OnOpen | None = None,
        login_hints: dict[str, str] | None = None,
        starting_cases: dict[str, tuple[tuple[str, str], ...]] | None = None,
        checkpoints: CheckpointStore | None = None,
        budget_windows: BudgetWindows | None = None,
        approvals: Approvals | None = None,
        team_link: TeamLink | None = None,
    ) -> None:
        """Every store lives in the journal's database: this workstation's file, or the team's.
        ``budget_windows``: the team's write budget per profile (None: this process's).
        ``approvals``: the team database's policies and approvals (team mode), which make a
        session's profile stricter and may send its writes for a second person's approval."""
        self.profiles = profiles
        self.tokens = tokens
        self.journal = journal
        self.directory = directory
        self.workstation = workstation
        self._client_factory = client_factory
        self._clock = clock
        self._on_open = on_open
        # Per profile id: a line for the log-in dialog (the sandbox shows its training login).
        self.login_hints = dict(login_hints or {})
        # Per profile id: (query, what it shows) for an empty Lookup (the sandbox's training cases).
        self.starting_cases = dict(starting_cases or {})
        self._budgets: dict[str, WriteBudget] = {}
        self._checkpoints = checkpoints
        self._budget_windows = budget_windows
        self.approvals = approvals
        # Team mode: whether the team database answers, and the last state seen of it.
        self.team_link = team_link
        self._live: list[JournalUpdates] = []
        self._ledger: AttributionLedger | None = None
        self.settings: Settings = profiles.load()
        self.session: Session | None = None

    @property
    def ledger(self) -> AttributionLedger:
        """The attribution ledger and partner registry, beside the journal (local or the team's)."""
        if self._ledger is None:
            self._ledger = AttributionLedger(self.journal.store)
        return self._ledger

    @property
    def checkpoints(self) -> CheckpointStore:
        """The bulk jobs' checkpoints, beside the journal (local or the team's)."""
        if self._checkpoints is None:
            self._checkpoints = CheckpointStore(self.journal.store)
        return self._checkpoints

    def budget_for(self, profile: Profile) -> WriteBudget:
        """One budget per profile for the life of the process, seeded from the journal so that
        a restart does not forget the writes of the last hour; in team mode the team's."""
        budget = self._budgets.get(profile.id)
        if budget is None and self._budget_windows is not None:
            window = self._budget_windows(profile)
            budget = WriteBudget(profile.write_budget_per_hour, clock=self._clock, window=window)
            self._budgets[profile.id] = budget
        elif budget is None:
            since = datetime.fromtimestamp(self._clock() - WINDOW_SECONDS, tz=UTC)
            entries = self.journal.iter_entries(JournalFilter(profile_id=profile.id, since=since))
            # A refused write was never sent: it spent no slot.
            history = [
                datetime.fromisoformat(e.at_utc).timestamp()
                for e in entries
                if e.outcome != "refused"
            ]
            budget = WriteBudget(profile.write_budget_per_hour, clock=self._clock, history=history)
            self._budgets[profile.id] = budget
        else:
            budget.set_rate(profile.write_budget_per_hour)
        return budget

    async def open(self, profile_id: str, *, remember: bool = True) -> Session:
        """Make ``profile_id`` the active connection, reusing a remembered token. ``remember``:
        it becomes the saved default (the app's own profile switches); a ``--profile`` given for
        one command or one start opens it without changing what later starts use."""
        saved = self.profiles.get(profile_id)
        await self.close()
        profile, offline = await self._as_the_team_allows(saved)
        await self._read_proxy_password(profile)
        session = Session(
            profile,
            self._client_factory(profile),
            tokens=self.tokens,
            journal=self.journal,
            directory=self.directory,  # while the team is away, the session learns in memory
            budget=self.budget_for(profile),
            workstation=self.workstation,
            approvals=self.approvals,
            team_link=self.team_link,
            opened_offline=offline,
        )
        self.session = session
        if remember:
            self.profiles.set_last_profile(profile.id)
        self.settings = self.profiles.settings
        await session.restore_token()
        if self._on_open is not None:
            await self._on_open(session)
        return session

    async def _as_the_team_allows(self, profile: Profile) -> tuple[Profile, bool]:
        """In team mode, the profile made stricter by the team's policy for it (read-only, the
        lower budget, reason/ticket): a workstation can add rules, never remove the team's.
        True with it: the team database could not be reached, the policy is unknown, and the
        session opens read-only (``TeamLink``)."""
        if self.approvals is None:
            return profile, False
        from ctrader_admin.services.approvals import effective_profile

        if self.team_link is not None and not self.team_link.up:
            # Just found away (a silent server costs the whole connect timeout per attempt):
            # the live-updates thread tries again, and the profile is reopened when it answers.
            return profile, True
        try:
            policy = await asyncio.to_thread(self.approvals.policy, profile.id)
        except DatabaseUnreachable:
            return profile, True
        return effective_profile(profile, policy), False

    @property
    def readable_journal(self) -> Journal:
        """The journal the views read: the team's, or while it cannot be reached the last
        state this workstation saw of it (read-only)."""
        if self.team_link is None or self.team_link.up:
            return self.journal
        return self.team_link.last_state_journal()

    async def check_connection(
        self, profile: Profile, password: SecretStr | None = None
    ) -> ConnectionVerdict:
        """Test connection for a saved profile, on a client of its own (the session in use, if
        any, is not touched; a token obtained here is dropped with the client)."""
        await self._read_proxy_password(profile)
        client = self._client_factory(profile)
        try:
            return await check_connection(client, profile.manager_login, password)
        finally:
            await client.aclose()

    async def _read_proxy_password(self, profile: Profile) -> None:
        # The keyring may block on D-Bus: read it off the loop; the client factory then finds
        # the password in the token store's memory.
        if profile.proxy_url and profile.proxy_username:
            await asyncio.to_thread(self.tokens.get_proxy_password, profile.id)

    async def close(self) -> None:
        """Close the active session (its connection); the stores stay open."""
        if self.session is not None:
            await self.session.aclose()
            self.session = None

    async def shutdown(self) -> None:
        """The process is done with the back office: the session, the journal's session (its
        lock, so another process may recover what it left) and the one database of this
        process, which the back office owns (directory and checkpoints share it)."""
        await self.close()
        self.close_stores()

    @property
    def team(self) -> bool:
        """True when the journal and the write budget are the team database's."""
        return self.journal.store.engine == "postgresql"

    def watch_journal(
        self, on_append: Callable[[int], None], on_link: Callable[[bool], None] = lambda up: None
    ) -> JournalUpdates | None:
        """In team mode: ``on_append(last_id)`` (on a thread of its own) whenever anyone on the
        team appends to the journal, and ``on_link(up)`` when the team database answers again
        or goes away (reconnecting with a backoff), until the stores close; the last state is
        kept meanwhile (``TeamLink``). None on the local journal, where only this process
        writes (the views hear of its writes directly)."""
        if not self.team:  # the local path never loads the PostgreSQL modules
            return None
        from ctrader_admin.store.pg.database import PgDatabase

        store = self.journal.store
        assert isinstance(store, PgDatabase)
        link, journal = self.team_link, self.journal

        def appended(last_id: int) -> None:
            if link is not None:
                link.save_last_state(journal)
            on_append(last_id)

        def linked(up: bool) -> None:
            if up and link is not None:
                link.save_last_state(journal, now=True)
            elif link is not None:  # gone: the jobs lists seen since the last copy are kept
                link.keep_last_jobs()
            on_link(up)

        updates = JournalUpdates(store, appended, linked)
        self._live.append(updates)
        return updates

    def close_stores(self) -> None:
        """The stores part of ``shutdown``, for callers without a running loop (the desktop
        app after Qt's loop has ended). Closing twice is harmless."""
        while self._live:
            self._live.pop().close()
        if self.team_link is not None:
            self.team_link.close()
        self.journal.close()
        if self._checkpoints is not None:
            self._checkpoints.close()  # on the team database: lets go of its jobs' locks
        self.journal.store.close()
