"""What every tab shares: the back office, the active session, and the signals that keep the
screens in step (a write lands in the journal, the profile or the log-in state changes).

The window is shown before the back office exists (app.py): until it is attached, there is no
session, and ``open_session()`` waits for the first one. The dialogs are imported with the first
one shown, not with the window."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from ctrader_admin.services.errors import ApprovalRequired
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.runner import BusyPanel, Done, Runner

T = TypeVar("T")


class LinkRequest(NamedTuple):
    """Link an account to a cTID user, with what is known: the userId (Lookup's "Link another
    account"), or an unlinked account's login, environment and White Label."""

    user_id: int | None = None
    login: int | None = None
    environment: str | None = None
    white_label: str | None = None


if TYPE_CHECKING:
    import asyncio

    from PySide6.QtCore import QSettings

    from ctrader_admin.services.backoffice import Backoffice
    from ctrader_admin.services.session import Session


class UiContext(QObject):
    session_changed = Signal()  # another profile, or logged in / out
    data_changed = Signal()  # a write was sent (journal, directory, budget moved)
    # What one tab asks of another; the window shows the tab that does it.
    lookup_requested = Signal(str)  # show this id or email in the Lookup tab
    link_requested = Signal(LinkRequest)  # the Accounts tab's link form, filled in
    # Someone on the team appended to the team journal (emitted on the listening thread).
    team_journal_appended = Signal(int)
    # The team database answers again (True) or went away (False); emitted on that thread too.
    team_link_changed = Signal(bool)

    def __init__(
        self, backoffice: Backoffice | None, window: QWidget, settings: QSettings | None = None
    ) -> None:
        super().__init__(window)
        self._backoffice = backoffice
        self.window = window
        # The window's settings file (what survives a restart); None: kept for this run only.
        self.settings = settings
        # Made by the first open_session(): the first window is built before asyncio is imported.
        self._session_open: asyncio.Event | None = None
        self.session_changed.connect(self._note_session)
        # Queued: the views reload on the GUI thread, whichever thread heard the server.
        self.team_journal_appended.connect(self.data_changed, Qt.ConnectionType.QueuedConnection)
        if backoffice is not None:
            self._watch_team_journal(backoffice)

    def attach(self, backoffice: Backoffice) -> None:
        self._backoffice = backoffice
        self._note_session()
        self._watch_team_journal(backoffice)

    def _watch_team_journal(self, backoffice: Backoffice) -> None:
        """In team mode, another workstation's write shows in the Journal tab and the band
        within a second (the back office stops listening when its stores close)."""

        def appended(last_id: int) -> None:
            # The window may be gone while the back office still listens (closing the app).
            with contextlib.suppress(RuntimeError):
                self.team_journal_appended.emit(last_id)

        def linked(up: bool) -> None:
            with contextlib.suppress(RuntimeError):
                self.team_link_changed.emit(up)

        backoffice.watch_journal(appended, linked)

    @property
    def attached(self) -> bool:
        return self._backoffice is not None

    @property
    def backoffice(self) -> Backoffice:
        if self._backoffice is None:
            raise RuntimeError("the back office is still starting")
        return self._backoffice

    @property
    def current_session(self) -> Session | None:
        """The active session; None while starting or with no profile open."""
        return None if self._backoffice is None else self._backoffice.session

    @property
    def session(self) -> Session:
        session = self.current_session
        if session is None:
            raise RuntimeError("no profile is open")
        return session

    async def open_session(self) -> Session:
        """The active session, once there is one: an action started while the app is still
        opening its first profile waits for it (behind the tab's busy panel, cancellable)."""
        import asyncio

        if self._session_open is None:
            self._session_open = asyncio.Event()
            self._note_session()
        await self._session_open.wait()
        return self.session

    def _note_session(self) -> None:
        if self._session_open is None:
            return
        if self.current_session is None:
            self._session_open.clear()
        else:
            self._session_open.set()

    def runner(
        self, bar: MessageBar, busy: BusyPanel, on_finished: Callable[[], None] = lambda: None
    ) -> Runner:
        return Runner(bar=bar, busy=busy, login_prompt=self.login_after, on_finished=on_finished)

    async def login_prompt(self, why: str = "") -> bool:
        """Ask for a log-in to the active profile; True once logged in."""
        from ctrader_admin.ui.dialogs import LoginDialog, ask

        session = self.session
        credentials = self.backoffice.login_hints.get(session.profile.id, "")
        dialog = LoginDialog(self.window, session, why=why, credentials=credentials)
        try:
            accepted = await ask(dialog)
        finally:
            dialog.deleteLater()
        self.session_changed.emit()
        return accepted

    async def login_after(self, refused: BaseException) -> bool:
        """An action was refused for want of a log-in: say why in the dialog, truthfully (a first
        log-in had no token to reject), and ask for one; True once logged in."""
        from ctrader_admin.api.errors import NotLoggedIn

        name = self.session.profile.name
        if isinstance(refused, NotLoggedIn):
            why = f"Log in to {name}; the action then continues."
        else:
            why = (
                f"The server did not accept the token for {name} (it may have expired or been "
                "revoked, e.g. after a password change). Log in again; the action is then retried."
            )
        return await self.login_prompt(why)

    async def confirm(
        self, title: str, changes: list[tuple[str, str]], **options: Any
    ) -> tuple[str, str] | None:
        from ctrader_admin.ui.dialogs import confirm_write

        return await confirm_write(self.window, self.session.profile, title, changes, **options)

    async def confirm_and_send(
        self,
        runner: Runner,
        title: str,
        changes: list[tuple[str, str]],
        *,
        busy: str,
        send: Callable[[str, str], Awaitable[T]],
        declined: str = "",
        controls: Sequence[QWidget] = (),
        **options: Any,
    ) -> Done[T] | None:
        """Confirm the changes (the operator gives a reason and a ticket), then ``send(reason,
        ticket)`` behind the runner's busy panel. None when the operator declined (``declined``
        is said on the runner's bar) or the write failed (the runner told why)."""
        answer = await self.confirm(title, changes, **options)
        if answer is None:
            if declined:
                runner.bar.show_message(Level.INFO, declined)
            return None
        reason, ticket = answer
        refused: list[ApprovalRequired] = []

        async def sending() -> T:
            try:
                return await send(reason, ticket)
            except ApprovalRequired as exc:
                refused.append(exc)
                raise

        done = await runner.run(busy, sending, controls=controls)
        self.wrote()  # whatever the outcome: the attempt is journaled
        if refused:
            await self.offer_approval(runner, refused[0], reason, ticket)
        return done

    async def offer_approval(
        self, runner: Runner, refused: ApprovalRequired, reason: str, ticket: str
    ) -> None:
        """A write the team's policy sends for approval (said on the runner's bar): offer to
        submit it as prepared, with the reason and ticket given, for another person."""
        import asyncio

        from ctrader_admin.services.approvals import ChangeBody

        change, approvals = refused.change, self.backoffice.approvals
        if not isinstance(change, ChangeBody) or approvals is None:
            return
        session = self.session
        answer = await self.confirm(
            "Submit for approval",
            [
                *change.lines(),
                ("Then", "another person decides; you apply it once approved"),
            ],
            action_label="Submit for approval",
            given=(reason, ticket, "As given for the write"),
        )
        if answer is None:
            return

        async def submit() -> int:
            return await asyncio.to_thread(
                approvals.submit, change, reason=reason, ticket=ticket, profile=session.profile
            )

        done = await runner.run("Submitting for approval", submit)
        if done is not None:
            runner.bar.show_message(
                Level.SUCCESS,
                f"Submitted as approval {done.value}: {change.summary()}. Apply it from the "
                "Approvals tab once another person approves it.",
            )

    def wrote(self) -> None:
        """Call after any write attempt, whatever its outcome."""
        self.data_changed.emit()
