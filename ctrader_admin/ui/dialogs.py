"""Dialogs shown from async handlers. They are opened with ``open()`` and awaited through a
future, never ``exec()``: a nested event loop inside a qasync slot stalls asyncio."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.ui.notify import Level, MessageBar, is_expected
from ctrader_admin.ui.widgets import form, hint

if TYPE_CHECKING:
    from ctrader_admin.services.session import Session
    from ctrader_admin.store.profiles import Profile


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


class ConfirmWriteDialog(QDialog):
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
    ) -> None:
        super().__init__(parent)
        self.setObjectName("confirmWriteDialog")
        self.setWindowTitle(title)
        # Wide enough that a "from → to" value is read on one line, not wrapped mid-value.
        self.setMinimumWidth(460)
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
            "background:#b00020;color:white;font-weight:bold;padding:6px;border-radius:3px;"
            if profile.live
            else f"background:{profile.color};color:white;padding:6px;border-radius:3px;"
        )
        layout.addWidget(banner)
        summary = form()
        for label, value in changes:
            text = QLabel(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setWordWrap(True)
            # Take the dialog's width (a wrapped label otherwise keeps its narrow size hint).
            text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            summary.addRow(f"{label}:", text)
        layout.addLayout(summary)
        fields = form()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (kept in the journal)")
        self.ticket = QLineEdit()
        self.ticket.setPlaceholderText("Support ticket or CRM reference")
        fields.addRow("Reason" + (" *" if profile.require_reason else "") + ":", self.reason)
        fields.addRow("Ticket" + (" *" if profile.require_ticket else "") + ":", self.ticket)
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
            ok.setStyleSheet("color:#b00020;font-weight:bold;")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._refresh)
        self.ticket.textChanged.connect(self._refresh)
        self._refresh()
        self.reason.setFocus()
        # Start at the height the wrapped labels need at that width (not at a narrower guess).
        height = self.heightForWidth(self.minimumWidth())
        if height > 0:
            self.resize(self.minimumWidth(), height)

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
    try:
        return dialog.values() if await ask(dialog) else None
    finally:
        dialog.deleteLater()


class LoginDialog(QDialog):
    """Manager login and password → token. The password field is cleared whatever happens."""

    def __init__(self, parent: QWidget | None, session: Session, *, why: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.session = session
        profile = session.profile
        self.setWindowTitle(f"Log in — {profile.name}")
        layout = QVBoxLayout(self)
        if why:
            layout.addWidget(hint(why))
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
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Log in")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        (self.password if self.login.text() else self.login).setFocus()
        self._task: asyncio.Task[None] | None = None

    def _submit(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._login())

    async def _login(self) -> None:
        password = self.password.text()
        self.password.clear()  # the text lives only in this local until the hash is made
        text = self.login.text().strip()
        if not text.isdigit() or int(text) <= 0:
            self.bar.show_message(Level.ERROR, "The manager login is a positive number.")
            return
        self.buttons.setEnabled(False)
        try:
            await self.session.login(int(text), password, remember=self.remember.isChecked())
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
