"""The active connection: one profile, its ApiClient, its token, its write budget, and the one
gate every write passes through (read-only check → reason/ticket → budget → journal → send)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import SecretStr

from ctrader_admin.api import (
    ApiClient,
    ApiConnectionError,
    ApiError,
    NotLoggedIn,
    OutcomeUnknown,
    RateLimited,
)
from ctrader_admin.redaction import redact
from ctrader_admin.services.budget import Reservation, WriteBudget
from ctrader_admin.services.errors import InvalidInput, ReadOnlyProfile
from ctrader_admin.store.database import Database
from ctrader_admin.store.directory import Directory
from ctrader_admin.store.journal import Journal, JournalDraft, JournalEntry
from ctrader_admin.store.profiles import Profile
from ctrader_admin.store.tokens import TokenStore

if TYPE_CHECKING:  # the local path never loads the team database's modules
    from ctrader_admin.services.approvals import Approvals
    from ctrader_admin.services.team_link import TeamLink

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class WriteIntent:
    """What the operator is about to change, recorded in the journal before it is sent."""

    action: str
    target: str
    before: str | None
    after: str | None
    reason: str = ""
    ticket: str = ""
    environment: str | None = None
    broker_name: str | None = None
    request: dict[str, Any] | None = None
    batch_id: str | None = None
    reverts_id: int | None = None
    # The approval this write applies (checked and used by services/approved_write.py): the
    # team's policy does not send it for approval again.
    approval_id: int | None = None


ReadBack = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class ReadBackProof:
    """What a write returns when its answer was lost but reading its target back showed the
    intended value: the journal records it "ok", with this text in place of the answer."""

    lost: str  # why the answer is missing (the OutcomeUnknown's message)
    value: str | None

    def __str__(self) -> str:
        shown = "(none)" if self.value is None else self.value
        return (
            f"The answer was lost; reading the target back just after shows {shown}, the "
            f"intended value, so the change is applied. ({self.lost})"
        )


@dataclass(frozen=True)
class ReadBackCheck:
    """What reading the target back just after an answered write showed. It is recorded in
    that write's own journal entry (its response): the same write, not another one."""

    intended: str | None
    value: str | None = None
    error: str | None = None  # the read itself failed

    @property
    def matches(self) -> bool:
        return self.error is None and self.value == self.intended

    def __str__(self) -> str:
        if self.error is not None:
            return f"Read back just after: the read failed ({self.error.rstrip('.')})."
        shown = "(none)" if self.value is None else self.value
        if self.matches:
            return f"Read back just after: {shown}, the value set — it matches."
        intended = "(none)" if self.intended is None else self.intended
        return (
            f"Read back just after: {shown}, NOT {intended} — the backend answered success but "
            "does not hold the value set."
        )


@dataclass(frozen=True)
class Written(Generic[T]):
    """A write that was sent and answered: its journal entry, and the answer (or, when the
    answer was lost, the read-back that proved it applied); ``check``: the read-back after an
    answered write, when the caller asked for one."""

    entry: JournalEntry
    result: T | ReadBackProof
    check: ReadBackCheck | None = None


class Session:
    def __init__(
        self,
        profile: Profile,
        client: ApiClient,
        *,
        tokens: TokenStore,
        journal: Journal,
        directory: Directory,
        budget: WriteBudget,
        workstation: str,
        approvals: Approvals | None = None,
        team_link: TeamLink | None = None,
        opened_offline: bool = False,
    ) -> None:
        """``approvals``: the team database's (team mode), whose policy may send a write for a
        second person's approval; None on the local path. ``team_link``: whether the team
        database answers (team mode); ``opened_offline``: it did not when this session opened,
        so the team's policy for the profile is unknown and the session stays read-only."""
        self.profile = profile
        self.client = client
        self.tokens = tokens
        self.journal = journal
        self._directory = directory
        self._outage: Directory | None = None  # lookups' memory while the team is away
        self.budget = budget
        self.workstation = workstation
        self.approvals = approvals
        self.team_link = team_link
        self.opened_offline = opened_offline
        # Why the token was dropped, when the backend refused it: concurrent calls that then
        # find no token report this cause, not their own "not logged in".
        self.token_refused: ApiError | None = None

    def __repr__(self) -> str:
        return f"Session({self.profile.id!r}, logged_in={self.logged_in})"

    @property
    def directory(self) -> Directory:
        """Where lookups learn who owns what: the back office's directory, or while the team
        database does not answer, one in memory for the outage — gone when the server answers
        again, so nothing is kept that the team would not see (writes are refused meanwhile)."""
        if self.team_link is None or self.team_link.up:
            self._forget_outage()
            return self._directory
        if self._outage is None:
            self._outage = Directory(Database())
        return self._outage

    def _forget_outage(self) -> None:
        if self._outage is not None:
            self._outage.database.close()
            self._outage = None

    async def aclose(self) -> None:
        """The session is over: its connection, and what it learnt during an outage."""
        await self.client.aclose()
        self._forget_outage()

    # --- token ---------------------------------------------------------------------------------

    @property
    def logged_in(self) -> bool:
        return self.client.token is not None

    @property
    def operator(self) -> str:
        return str(self.profile.manager_login or "")

    @property
    def token_notice(self) -> str | None:
        """Why the token will not outlive this session, when that is the case."""
        return None if self.tokens.persistent else self.tokens.reason

    async def restore_token(self) -> bool:
        """Reuse a remembered token, if the keyring has one. Keyring calls may block on D-Bus."""
        if self.profile.manager_login is None:
            return False
        token = await asyncio.to_thread(
            self.tokens.get, self.profile.id, self.profile.manager_login
        )
        self.client.token = token
        return token is not None

    async def login(self, manager_login: int, password: str | SecretStr, remember: bool) -> None:
        if manager_login <= 0:
            raise InvalidInput({"Manager login": "must be a positive number"})
        secret = password.get_secret_value() if isinstance(password, SecretStr) else password
        if not secret:
            raise InvalidInput({"Password": "is required"})
        token = await self.client.login(manager_login, secret)
        self.token_refused = None
        await asyncio.to_thread(
            self.tokens.set, self.profile.id, manager_login, token, remember=remember
        )

    async def logout(self) -> None:
        self.client.token = None
        if self.profile.manager_login is not None:
            await asyncio.to_thread(self.tokens.delete, self.profile.id, self.profile.manager_login)

    async def guard(self, call: Awaitable[T]) -> T:
        """Await a backend call; a rejected token is forgotten so the UI asks for a new log-in."""
        try:
            return await call
        except ApiError as exc:
            # A retry refused as over the limit counts too, even when an earlier try was lost.
            answer = exc.last_error if isinstance(exc, OutcomeUnknown) else exc
            if isinstance(answer, RateLimited):
                # The server's hourly cap is lower than ours thinks: believe the server.
                lowered = await self.budget.server_refused_async()
                log.warning("%s", lowered or "The server refused a write as over its hourly limit")
            if exc.needs_login and self.client.token is not None:
                self.token_refused = exc
                log.info("The backend rejected the token of %s; it is forgotten", self.profile.id)
                await self.logout()
            raise

    # --- writes --------------------------------------------------------------------------------

    def check_can_write(self, reason: str, ticket: str) -> None:
        """Everything that refuses a write before it is journaled or sent."""
        if self.team_link is not None:
            self.team_link.refuse_writes(opened_offline=self.opened_offline)
        if self.profile.read_only:
            raise ReadOnlyProfile(self.profile.name)
        problems: dict[str, str] = {}
        if self.profile.require_reason and not reason.strip():
            problems["Reason"] = "is required on this connection"
        if self.profile.require_ticket and not ticket.strip():
            problems["Ticket"] = "is required on this connection"
        if problems:
            raise InvalidInput(problems)

    async def write(
        self,
        intent: WriteIntent,
        send: Callable[[], Awaitable[T]],
        *,
        reserved: Reservation | None = None,
        read_back: ReadBack | None = None,
        confirm: bool = False,
    ) -> Written[T]:
        """Send one write through the gate. The journal holds the attempt before it leaves, and
        its outcome after: ok, failed (an answer proved nothing was applied), or unknown (a try's
        answer was lost, whatever later tries answered, or cancelled in flight). ``read_back``
        (the target's value now) settles an unknown outcome: the intended value there journals
        it ok, and the write returns a ReadBackProof. The entry comes back with the answer; a
        failure raised once the journal recorded it names its entry (``journal_id``). Journal
        writes of concurrent calls share transactions (group commit, off the event loop).
        ``confirm``: after an answered write too, ``read_back`` once and record what it shows
        in the entry's response (match or mismatch; the outcome stays the backend's answer).
        ``reserved``: a slot the caller already took from the budget (a bulk job's pacing)."""
        self.check_can_write(intent.reason, intent.ticket)
        if not self.logged_in:
            raise NotLoggedIn("Not logged in: log in to this connection first.")
        await self.refuse_unapproved(intent)
        # A bulk job took this write's slot while pacing; else the gate takes one now.
        slot = reserved if reserved is not None else await self.budget.try_acquire_async()
        if slot is None:
            raise await self.budget.exhausted()
        slot.spent = True
        intent_id = await self.journal.begin_async(self._draft(intent))
        try:
            result = await self.guard(send())
        except OutcomeUnknown as exc:
            verdict: OutcomeUnknown | ReadBackProof = exc
            try:
                if read_back is not None:
                    verdict = await self._read_back(exc, read_back, intent.after)
            finally:  # cancelled during the read too: journaled unknown, then re-raised
                if isinstance(verdict, ReadBackProof):
                    done = self.journal.complete_async(intent_id, "ok", response_text=str(verdict))
                else:
                    done = self.journal.complete_async(intent_id, "unknown", error=verdict.message)
                entry = await done
            if isinstance(verdict, ReadBackProof):
                return Written(entry, verdict)
            verdict.journal_id = entry.id
            raise verdict from None
        except ApiConnectionError as exc:
            # Nothing reached the backend: the slot is given back, the attempt still recorded.
            await self.budget.release_unused_async(slot)
            exc.journal_id = (
                await self.journal.complete_async(intent_id, "failed", error=exc.message)
            ).id
            raise
        except ApiError as exc:
            exc.journal_id = (
                await self.journal.complete_async(intent_id, "failed", error=exc.message)
            ).id
            raise
        except asyncio.CancelledError:
            await self.journal.complete_async(
                intent_id, "unknown", error="Cancelled by the operator while the request was out."
            )
            raise
        check: ReadBackCheck | None = None
        try:
            if confirm and read_back is not None:
                check = await self._confirm(read_back, intent.after)
        finally:  # cancelled during the read: the answered write is still journaled ok
            response = "\n".join(t for t in (_summary(result), str(check or "")) if t)
            entry = await self.journal.complete_async(intent_id, "ok", response_text=response)
        return Written(entry, result, check)

    async def refuse_unapproved(self, intent: WriteIntent) -> None:
        """In team mode, refuse (ApprovalRequired, in words) a write that comes without an
        approval when the team's policy asks for one: before the budget, journal or send. A bulk
        job's rows were checked as a plan when it started (``refuse_unapproved_plan``)."""
        if self.approvals is None or intent.approval_id is not None or intent.batch_id:
            return
        await asyncio.to_thread(
            self.approvals.refuse_unapproved, self.profile, kind="write", action=intent.action
        )

    def refuse_unapproved_plan(self, action: str, rows: int) -> None:
        """In team mode, refuse a bulk job of ``rows`` writes that comes without an approval when
        the team's policy asks for one (services/bulk/jobs.py ``plan_approval``): before anything
        is recorded. A round trip, like the job's other start-up store work (callers keep it off
        the loop)."""
        if self.approvals is not None:
            self.approvals.refuse_unapproved(self.profile, kind="plan", action=action, rows=rows)

    async def refuse(self, intent: WriteIntent, why: str) -> JournalEntry:
        """Journal a write that a check just before sending refused: nothing was sent, and no
        write slot is spent."""
        self.check_can_write(intent.reason, intent.ticket)
        intent_id = await self.journal.begin_async(self._draft(intent))
        return await self.journal.complete_async(intent_id, "refused", error=why)

    def _draft(self, intent: WriteIntent) -> JournalDraft:
        return JournalDraft(
            operator=self.operator,
            workstation=self.workstation,
            profile_id=self.profile.id,
            profile_name=self.profile.name,
            environment=intent.environment or "",
            broker_name=intent.broker_name or "",
            action=intent.action,
            target=intent.target,
            before=intent.before,
            after=intent.after,
            reason=intent.reason.strip(),
            ticket=intent.ticket.strip(),
            request=redact(json.dumps(intent.request, sort_keys=True)) if intent.request else "",
            batch_id=intent.batch_id,
            reverts_id=intent.reverts_id,
        )

    async def _confirm(self, read_back: ReadBack, intended: str | None) -> ReadBackCheck:
        try:
            return ReadBackCheck(intended, await self.guard(read_back()))
        except ApiError as read_error:
            return ReadBackCheck(intended, error=read_error.message)

    async def _read_back(
        self, unknown: OutcomeUnknown, read_back: ReadBack, intended: str | None
    ) -> OutcomeUnknown | ReadBackProof:
        """One read of the target after a lost answer: the intended value there proves the
        write applied. Any other value, or a failed read, leaves it unknown: the lost request
        may still be applied later."""
        try:
            value = await self.guard(read_back())
        except ApiError as read_error:
            return unknown.noting(
                f"Reading the target back failed too ({read_error.message.rstrip('.')})."
            )
        if value == intended:
            return ReadBackProof(unknown.message, value)
        shown = "(none)" if value is None else value
        return unknown.noting(
            f"Read back just after, it shows {shown}, not yet the intended value; the request "
            "may still be applied later."
        )


def _summary(result: object) -> str:
    if result is None:
        return ""
    dump = getattr(result, "model_dump", None)
    if callable(dump):
        return redact(json.dumps(dump(mode="json", exclude_none=True), sort_keys=True))
    return redact(str(result))
