"""What every tab shares: the back office, the active session, and the signals that keep the
screens in step (a write lands in the journal, the profile or the log-in state changes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.session import Session
from ctrader_admin.ui.dialogs import LoginDialog, ask, confirm_write
from ctrader_admin.ui.notify import MessageBar
from ctrader_admin.ui.runner import BusyPanel, Runner


class UiContext(QObject):
    session_changed = Signal()  # another profile, or logged in / out
    data_changed = Signal()  # a write was sent (journal, directory, budget moved)
    lookup_requested = Signal(str)  # show this id or email in the Lookup tab

    def __init__(self, backoffice: Backoffice, window: QWidget) -> None:
        super().__init__(window)
        self.backoffice = backoffice
        self.window = window

    @property
    def session(self) -> Session:
        session = self.backoffice.session
        if session is None:
            raise RuntimeError("no profile is open")
        return session

    def runner(
        self, bar: MessageBar, busy: BusyPanel, on_finished: Callable[[], None] = lambda: None
    ) -> Runner:
        return Runner(bar=bar, busy=busy, login_prompt=self.login_prompt, on_finished=on_finished)

    async def login_prompt(self, why: str = "") -> bool:
        reason = why or (
            "The server did not accept the saved token (it may have been revoked, e.g. after a "
            "password change). Log in again; the action is then retried."
        )
        hint = self.backoffice.login_hints.get(self.session.profile.id, "")
        dialog = LoginDialog(self.window, self.session, why=f"{reason}\n{hint}".strip())
        try:
            accepted = await ask(dialog)
        finally:
            dialog.deleteLater()
        self.session_changed.emit()
        return accepted

    async def confirm(
        self, title: str, changes: list[tuple[str, str]], **options: Any
    ) -> tuple[str, str] | None:
        return await confirm_write(self.window, self.session.profile, title, changes, **options)

    def wrote(self) -> None:
        """Call after any write attempt, whatever its outcome."""
        self.data_changed.emit()
