"""Write actions shared by several tabs (Lookup acts in place; Partners and White Label are the
dedicated screens). Each one: ask for the value → prepare (checked, current value read) → confirm
the prepared rows with reason and ticket → apply (sent only if the target still has the value
confirmed; else the drift is shown and nothing is sent) → say what happened."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services import accounts, partners, writes
from ctrader_admin.services.accounts import WhiteLabelMove
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.partners import PartnerChange
from ctrader_admin.services.writes import Applied, PartnerTarget, Prepared
from ctrader_admin.ui import theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import FittedDialog, answered
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.runner import Runner
from ctrader_admin.ui.widgets import form

T = TypeVar("T")


class ValueDialog(FittedDialog):
    """Asks for one value, showing the current one. Typed text is checked as it is typed, by
    ``check`` (the services' own rule: it raises InvalidInput in the rule's words), and OK stays
    disabled while it fails; ``choices`` offers a closed list instead (nothing else can be sent).
    """

    def __init__(
        self,
        parent: QWidget | None,
        *,
        title: str,
        label: str,
        current: str | None,
        check: Callable[[str], object] | None = None,
        choices: list[str] | None = None,
        no_choice: str = "",
    ) -> None:
        super().__init__(parent, min_width=420)
        self.setObjectName("valueDialog")
        self.setWindowTitle(title)
        self._check = check
        layout = QVBoxLayout(self)
        fields = form()
        fields.addRow("Current:", QLabel(current or "(none)"))
        self.editor: QLineEdit | QComboBox
        if choices is not None:
            combo = QComboBox()
            combo.addItems(choices)
            self.editor = combo
        else:
            line = QLineEdit()
            line.textChanged.connect(self._refresh)
            self.editor = line
        self.editor.setObjectName("valueEditor")
        fields.addRow(f"{label}:", self.editor)
        layout.addLayout(fields)
        self.problem = QLabel(no_choice if choices == [] else "")
        self.problem.setObjectName("valueProblem")
        self.problem.setWordWrap(True)
        theme.set_tone(self.problem, theme.Tone.ERROR)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.editor.setFocus()
        self._refresh()
        self.resize(self._min_width, 1)
        self.fit()

    def problem_text(self) -> str:
        """What is wrong with the value, in the rule's words; "" when it can be sent."""
        if isinstance(self.editor, QComboBox):
            return "" if self.editor.currentText() else self.problem.text() or "Nothing to choose"
        if self._check is None:
            return ""
        try:
            self._check(self.editor.text())
        except InvalidInput as exc:
            return "; ".join(f"{label}: {what}" for label, what in exc.problems.items())
        return ""

    def _refresh(self) -> None:
        problem = self.problem_text()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problem)
        ok.setToolTip(problem)
        # An untouched empty field only disables OK: it is not an error yet.
        typed = isinstance(self.editor, QLineEdit) and bool(self.editor.text())
        if isinstance(self.editor, QLineEdit):
            self.problem.setText(problem if typed else "")
        self.problem.setVisible(bool(self.problem.text()))

    def accept(self) -> None:
        if not self.problem_text():  # Enter in the field must not send what OK would refuse
            super().accept()

    def value(self) -> str:
        if isinstance(self.editor, QComboBox):
            return self.editor.currentText()
        return self.editor.text()


async def _prepared(runner: Runner, what: str, preparing: Awaitable[Prepared]) -> Prepared | None:
    """Prepare a write; its refusal (a bad field, a target not found) goes to the message bar."""

    async def checked() -> Prepared:
        prepared = await preparing
        prepared.check()
        return prepared

    done = await runner.run(what, checked)
    return None if done is None else done.value


async def _confirm_and_apply(
    ctx: UiContext,
    runner: Runner,
    prepared: Prepared,
    *,
    title: str,
    busy: str,
    then: Callable[[Awaitable[Applied]], Awaitable[T]],
    **options: Any,
) -> T | None:
    """Show the prepared rows for confirmation, then apply: sent only if the target still has
    the value shown (else the drift is shown and nothing is sent)."""
    session = ctx.session
    done = await ctx.confirm_and_send(
        runner,
        title,
        prepared.rows(),
        busy=busy,
        send=lambda reason, ticket: then(
            writes.apply(session, prepared, reason=reason, ticket=ticket)
        ),
        **options,
    )
    return None if done is None else done.value


async def _applied(applying: Awaitable[Applied]) -> Applied:
    return await applying


async def set_partner(
    ctx: UiContext, runner: Runner, target: PartnerTarget, *, new_value: str | None = None
) -> PartnerChange | None:
    """Ask for the new partnerId (unless given), prepare, confirm, apply."""
    session = ctx.session
    if new_value is None:
        read = await runner.run(
            "Reading the current partnerId", lambda: partners.read_partner(session, target)
        )
        if read is None:
            return None
        dialog = ValueDialog(
            ctx.window,
            title=f"Set partnerId — {target.describe()}",
            label="New partnerId",
            current=read.value,
            check=writes.validate_partner_id,
        )
        new_value = await answered(dialog, dialog.value)
        if new_value is None:
            return None
    prepared = await _prepared(
        runner,
        "Reading the current partnerId",
        writes.prepare(session, writes.PartnerCode(target, new_value)),
    )
    if prepared is None:
        return None
    if prepared.verdict == "skip":
        runner.bar.show_message(
            Level.INFO,
            f"{target.describe()} already has partnerId {prepared.current}: nothing sent.",
        )
        return None
    applied = await _confirm_and_apply(
        ctx,
        runner,
        prepared,
        title="Set partnerId",
        busy="Setting the partnerId",
        then=_applied,
        action_label="Set",
    )
    if applied is None:
        return None
    runner.bar.show_message(
        Level.SUCCESS, f"partnerId of {target.describe()} is now {prepared.proposed}."
    )
    return PartnerChange.of(applied)


async def delete_partner(
    ctx: UiContext, runner: Runner, target: PartnerTarget
) -> PartnerChange | None:
    prepared = await _prepared(
        runner,
        "Reading the current partnerId",
        writes.prepare(ctx.session, writes.PartnerCode(target, None)),
    )
    if prepared is None:
        return None
    if prepared.verdict == "skip":
        runner.bar.show_message(
            Level.INFO, f"{target.describe()} has no partnerId: nothing to delete."
        )
        return None
    applied = await _confirm_and_apply(
        ctx,
        runner,
        prepared,
        title="Delete partnerId",
        busy="Deleting the partnerId",
        then=_applied,
        action_label="Delete",
        destructive=True,
    )
    if applied is None:
        return None
    runner.bar.show_message(
        Level.SUCCESS, f"partnerId {prepared.current} removed from {target.describe()}."
    )
    return PartnerChange.of(applied)


async def move_account(
    ctx: UiContext,
    runner: Runner,
    *,
    login: int,
    environment: str,
    target: str | None = None,
) -> WhiteLabelMove | None:
    """Ask for the target White Label (unless given), prepare, confirm, apply, read back."""
    session = ctx.session
    if target is None:
        read = await runner.run(
            "Reading the account", lambda: accounts.read_account(session, login)
        )
        if read is None:
            return None
        current = read.value.broker_name
        # Only the connection's White Labels: free text would spend a write on a refusal.
        choices = [wl for wl in session.profile.broker_names if wl != current]
        dialog = ValueDialog(
            ctx.window,
            title=f"Move account {login} ({environment}) to another White Label",
            label="Target White Label",
            current=current,
            choices=choices,
            no_choice="This connection lists no other White Label to move the account to.",
        )
        target = await answered(dialog, dialog.value)
        if target is None:
            return None
    change = writes.WhiteLabel(writes.AccountTarget(login, environment), target or "")
    prepared = await _prepared(runner, "Reading the account", writes.prepare(session, change))
    if prepared is None:
        return None
    if prepared.verdict == "skip":
        runner.bar.show_message(
            Level.INFO, f"Account {login} is already on {prepared.current}: nothing sent."
        )
        return None
    move = await _confirm_and_apply(
        ctx,
        runner,
        prepared,
        title="Move account to another White Label",
        busy="Moving the account",
        then=lambda applying: accounts.moved(session, prepared, applying),
        action_label="Move",
    )
    if move is not None:
        show_move_result(runner.bar, move)
    return move


def show_move_result(bar: MessageBar, move: WhiteLabelMove) -> None:
    if move.confirmed:
        bar.show_message(
            Level.SUCCESS,
            f"Account {move.login}: {move.before} → {move.after}. Read back from the server: "
            "the White Label really changed.",
        )
    elif move.after is None:
        bar.show_message(
            Level.WARNING,
            f"The move of account {move.login} was sent, but reading it back failed "
            f"({move.read_back_error}). Look the account up to check its White Label.",
        )
    else:
        bar.show_message(
            Level.ERROR,
            f"Account {move.login} is still on {move.after} after the move to {move.requested} "
            "was sent: the White Label did NOT change.",
        )
