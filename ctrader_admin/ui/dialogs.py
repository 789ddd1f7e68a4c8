"""Dialogs shown from async handlers. They are opened with ``open()`` and awaited through a
future, never ``exec()``: a nested event loop inside a qasync slot stalls asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.ids import NotAnId, parse_id
from ctrader_admin.ui import theme
from ctrader_admin.ui.notify import Level, MessageBar, is_expected
from ctrader_admin.ui.widgets import fill_width, form, hint

if TYPE_CHECKING:
    from ctrader_admin.services.session import Session
    from ctrader_admin.store.profiles import Profile

T = TypeVar("T")


async def ask(dialog: QDialog) -> bool:
    """Show ``dialog`` window-modally and wait for it to close; True if accepted."""
    future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not future.done():
            future.set_result(result == QDialog.DialogCode.Accepted.value)

    dialog.finished.connect(finished)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    try:
        return await future
    finally:
        dialog.finished.disconnect(finished)


async def answered(dialog: QDialog, answer: Callable[[], T]) -> T | None:
    """Ask once: ``answer()`` read from the accepted dialog, None if it was cancelled; the dialog
    is then deleted."""
    try:
        return answer() if await ask(dialog) else None
    finally:
        dialog.deleteLater()


class FittedDialog(QDialog):
    """A dialog that never clips its content. Qt sizes a window from its layout's minimum, which
    ignores that a word-wrapped label needs more lines when narrower, and does not grow a shown
    window when a message appears in it: labels are then cut and inputs squashed. Here the
    minimum height follows what the content needs at the current width, and the dialog grows to
    it whenever the layout changes or the operator resizes it."""

    def __init__(self, parent: QWidget | None = None, *, min_width: int = 0) -> None:
        super().__init__(parent)
        self._min_width = min_width
        self._fitting = False

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return handled

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def fit(self) -> None:
        layout = self.layout()
        if layout is None or self._fitting:
            return
        self._fitting = True
        try:
            layout.activate()
            smallest = layout.totalMinimumSize()
            width = max(self._min_width, smallest.width())
            height = smallest.height()
            if layout.hasHeightForWidth():
                height = max(height, layout.totalHeightForWidth(max(self.width(), width)))
            self.setMinimumSize(width, height)
            if self.width() < width or self.height() < height:
                self.resize(max(self.width(), width), max(self.height(), height))
        finally:
            self._fitting = False


class ConfirmWriteDialog(FittedDialog):
    """Shows what will change (from → to) and takes the reason and ticket for the journal.
    On a live profile the banner says so; where asked, the operator types the environment name."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        profile: Profile,
        title: str,
        changes: list[tuple[str, str]],
        action_label: str = "Send",
        type_to_confirm: str | None = None,
        destructive: bool = False,
        given: tuple[str, str, str] | None = None,
    ) -> None:
        """``given``: (reason, ticket, why) already decided (a resumed job's, an approval's):
        shown, not editable, ``why`` as their tooltip."""
        # Wide enough that a "from → to" value is read on one line, not wrapped mid-value.
        super().__init__(parent, min_width=460)
        self.setObjectName("confirmWriteDialog")
        self.setWindowTitle(title)
        self.profile = profile
        self._type_to_confirm = type_to_confirm
        layout = QVBoxLayout(self)
        banner = QLabel(
            f"LIVE — {profile.name}: this changes real client data."
            if profile.live
            else f"{profile.name}"
        )
        banner.setObjectName("confirmBanner")
        banner.setStyleSheet(
            f"background:{theme.LIVE_RED};color:{theme.ON_BAND};font-weight:bold;"
            f"padding:{theme.SPACE_M}px;border-radius:{theme.RADIUS}px;"
            if profile.live
            else f"background:{profile.color};color:{theme.ON_BAND};"
            f"padding:{theme.SPACE_M}px;border-radius:{theme.RADIUS}px;"
        )
        layout.addWidget(banner)
        summary = form()
        for label, value in changes:
            text = QLabel(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setWordWrap(True)
            summary.addRow(f"{label}:", fill_width(text))
        layout.addLayout(summary)
        fields = form()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (kept in the journal)")
        self.ticket = QLineEdit()
        self.ticket.setPlaceholderText("Support ticket or CRM reference")
        fields.addRow("Reason" + (" *" if profile.require_reason else "") + ":", self.reason)
        fields.addRow("Ticket" + (" *" if profile.require_ticket else "") + ":", self.ticket)
        if given is not None:
            for field, value in ((self.reason, given[0]), (self.ticket, given[1])):
                field.setText(value)
                field.setReadOnly(True)
                field.setToolTip(given[2])
        self.typed: QLineEdit | None = None
        if type_to_confirm:
            self.typed = QLineEdit()
            self.typed.setObjectName("typeToConfirm")
            self.typed.setPlaceholderText(type_to_confirm)
            fields.addRow(f"Type “{type_to_confirm}” to confirm:", self.typed)
            self.typed.textChanged.connect(self._refresh)
        layout.addLayout(fields)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(action_label)
        if destructive or profile.live:
            theme.mark_destructive(ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._refresh)
        self.ticket.textChanged.connect(self._refresh)
        self._refresh()
        self.reason.setFocus()
        self.resize(self._min_width, 1)
        self.fit()  # the height the wrapped labels need at that width

    def _refresh(self) -> None:
        ok = True
        if self.profile.require_reason and not self.reason.text().strip():
            ok = False
        if self.profile.require_ticket and not self.ticket.text().strip():
            ok = False
        if self.typed is not None and self.typed.text().strip() != self._type_to_confirm:
            ok = False
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def values(self) -> tuple[str, str]:
        return self.reason.text().strip(), self.ticket.text().strip()


async def confirm_write(
    parent: QWidget | None,
    profile: Profile,
    title: str,
    changes: list[tuple[str, str]],
    **options: object,
) -> tuple[str, str] | None:
    """Ask before a write; the (reason, ticket) to journal, or None if the operator declined."""
    dialog = ConfirmWriteDialog(parent, profile=profile, title=title, changes=changes, **options)  # type: ignore[arg-type]
    return await answered(dialog, dialog.values)


class LoginDialog(FittedDialog):
    """Manager login and password → token. The password field is cleared whatever happens.

    ``why`` says why the log-in is asked for (word-wrapped); ``credentials`` is a line such as
    the sandbox's training log-in, shown unwrapped so a password is never broken across lines."""

    def __init__(
        self, parent: QWidget | None, session: Session, *, why: str = "", credentials: str = ""
    ) -> None:
        super().__init__(parent, min_width=440)
        self.setObjectName("loginDialog")
        self.session = session
        profile = session.profile
        self.setWindowTitle(f"Log in — {profile.name}")
        layout = QVBoxLayout(self)
        self.why = hint(why or f"Log in to {profile.name}.")
        self.why.setObjectName("loginWhy")
        layout.addWidget(self.why)
        self.credentials = hint(credentials)
        self.credentials.setObjectName("loginCredentials")
        self.credentials.setWordWrap(False)
        self.credentials.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.credentials.setVisible(bool(credentials))
        layout.addWidget(self.credentials)
        fields = form()
        self.login = QLineEdit(str(profile.manager_login or ""))
        self.login.setObjectName("managerLogin")
        self.password = QLineEdit()
        self.password.setObjectName("managerPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember the token on this computer (system keyring)")
        self.remember.setChecked(profile.remember_token and session.tokens.persistent)
        self.remember.setEnabled(session.tokens.persistent)
        fields.addRow("Manager login:", self.login)
        fields.addRow("Password:", self.password)
        layout.addLayout(fields)
        layout.addWidget(self.remember)
        if session.token_notice:
            layout.addWidget(hint(session.token_notice))
        self.bar = MessageBar()
        layout.addWidget(self.bar)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Log in")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        # A new attempt is being typed: the last one's error no longer applies.
        self.login.textEdited.connect(self.bar.hide)
        self.password.textEdited.connect(self.bar.hide)
        self.resize(self._min_width, 1)
        self.fit()
        (self.password if self.login.text() else self.login).setFocus()
        self._task: asyncio.Task[None] | None = None

    def _submit(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._login())

    async def _login(self) -> None:
        password = self.password.text()
        self.password.clear()  # the text lives only in this local until the hash is made
        try:
            login = parse_id(self.login.text())
            if login is None:
                raise NotAnId("is required")
        except NotAnId as exc:
            self.bar.show_message(Level.ERROR, f"The manager login {exc.reason}.")
            return
        self.buttons.setEnabled(False)
        try:
            await self.session.login(login, password, remember=self.remember.isChecked())
        except Exception as exc:
            if not is_expected(exc):
                raise
            self.bar.show_error(exc)
            self.password.setFocus()
            return
        finally:
            del password
            self.buttons.setEnabled(True)
        self.accept()


CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"
PLAN_FILTER = "Plan files (*.json);;All files (*)"
CSV_ONLY = "CSV files (*.csv)"


async def choose_open_path(parent: QWidget, title: str, name_filter: str) -> str | None:
    """Ask for a file to open. Opened with open() and awaited, never exec() (dialogs.py)."""
    dialog = QFileDialog(parent, title, str(Path.home()), name_filter)
    dialog.setObjectName("openFileDialog")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    return await _chosen_file(dialog)


async def choose_save_path(
    parent: QWidget, title: str, suggested: str, name_filter: str
) -> str | None:
    """Ask where to save a file (opened with open() and awaited)."""
    dialog = QFileDialog(parent, title, str(Path.home()), name_filter)
    dialog.setObjectName("saveFileDialog")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix(Path(suggested).suffix.lstrip(".") or "csv")
    dialog.selectFile(suggested)
    return await _chosen_file(dialog)


async def _chosen_file(dialog: QFileDialog) -> str | None:
    files = await answered(dialog, dialog.selectedFiles)
    return files[0] if files else None
