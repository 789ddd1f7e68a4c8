"""Write actions shared by several tabs (Lookup acts in place; Partners and White Label are the
dedicated screens). Each one: validate → show the current value → confirm with reason and ticket
→ send through the service → say what happened."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services import accounts, partners
from ctrader_admin.services.accounts import WhiteLabelMove
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.partners import PartnerChange, PartnerTarget
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import ask
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.runner import Runner
from ctrader_admin.ui.widgets import form


class ValueDialog(QDialog):
    """Asks for one value (a partnerId, a White Label), showing the current one."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        title: str,
        label: str,
        current: str | None,
        choices: list[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("valueDialog")
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        fields = form()
        fields.addRow("Current:", QLabel(current or "(none)"))
        self.editor: QLineEdit | QComboBox
        if choices is not None:
            combo = QComboBox()
            combo.setEditable(True)
            combo.addItems(choices)
            self.editor = combo
        else:
            self.editor = QLineEdit()
        self.editor.setObjectName("valueEditor")
        fields.addRow(f"{label}:", self.editor)
        layout.addLayout(fields)
        self.bar = MessageBar()
        layout.addWidget(self.bar)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.editor.setFocus()

    def value(self) -> str:
        if isinstance(self.editor, QComboBox):
            return self.editor.currentText().strip()
        return self.editor.text()


async def set_partner(
    ctx: UiContext, runner: Runner, target: PartnerTarget, *, new_value: str | None = None
) -> PartnerChange | None:
    """Read the current partnerId, ask for the new one (unless given), confirm, send."""
    session = ctx.session
    read = await runner.run(
        "Reading the current partnerId", lambda: partners.read_partner(session, target)
    )
    if read is None:
        return None
    current = read.value
    if new_value is None:
        dialog = ValueDialog(
            ctx.window,
            title=f"Set partnerId — {target.describe()}",
            label="New partnerId",
            current=current,
        )
        try:
            if not await ask(dialog):
                return None
            new_value = dialog.value()
        finally:
            dialog.deleteLater()
    try:
        new_value = partners.validate_partner_id(new_value)
    except InvalidInput as exc:
        runner.bar.show_error(exc)
        return None
    if new_value == current:
        runner.bar.show_message(
            Level.INFO, f"{target.describe()} already has partnerId {current}: nothing sent."
        )
        return None
    change = f"{current} → {new_value}  (overwrites)" if current else f"(none) → {new_value}"
    answer = await ctx.confirm(
        "Set partnerId", [("Target", target.describe()), ("partnerId", change)], action_label="Set"
    )
    if answer is None:
        return None
    reason, ticket = answer
    done = await runner.run(
        "Setting the partnerId",
        lambda: partners.set_partner(session, target, new_value, reason=reason, ticket=ticket),
    )
    ctx.wrote()
    if done is None:
        return None
    runner.bar.show_message(Level.SUCCESS, f"partnerId of {target.describe()} is now {new_value}.")
    return done.value


async def delete_partner(
    ctx: UiContext, runner: Runner, target: PartnerTarget
) -> PartnerChange | None:
    session = ctx.session
    read = await runner.run(
        "Reading the current partnerId", lambda: partners.read_partner(session, target)
    )
    if read is None:
        return None
    if read.value is None:
        runner.bar.show_message(
            Level.INFO, f"{target.describe()} has no partnerId: nothing to delete."
        )
        return None
    answer = await ctx.confirm(
        "Delete partnerId",
        [("Target", target.describe()), ("partnerId", f"{read.value} → (none)")],
        action_label="Delete",
        destructive=True,
    )
    if answer is None:
        return None
    reason, ticket = answer
    done = await runner.run(
        "Deleting the partnerId",
        lambda: partners.delete_partner(session, target, reason=reason, ticket=ticket),
    )
    ctx.wrote()
    if done is None:
        return None
    runner.bar.show_message(
        Level.SUCCESS, f"partnerId {read.value} removed from {target.describe()}."
    )
    return done.value


async def move_account(
    ctx: UiContext,
    runner: Runner,
    *,
    login: int,
    environment: str,
    target: str | None = None,
) -> WhiteLabelMove | None:
    """Read the account, ask for the target White Label (unless given), confirm, send, read back."""
    session = ctx.session
    read = await runner.run("Reading the account", lambda: accounts.read_account(session, login))
    if read is None:
        return None
    current = read.value.broker_name
    if target is None:
        choices = [wl for wl in session.profile.broker_names if wl != current]
        dialog = ValueDialog(
            ctx.window,
            title=f"Move account {login} to another White Label",
            label="Target White Label",
            current=current,
            choices=choices,
        )
        try:
            if not await ask(dialog):
                return None
            target = dialog.value()
        finally:
            dialog.deleteLater()
    if not target:
        runner.bar.show_message(Level.ERROR, "White Label: choose the target White Label.")
        return None
    if target == current:
        runner.bar.show_message(
            Level.INFO, f"Account {login} is already on {current}: nothing sent."
        )
        return None
    answer = await ctx.confirm(
        "Move account to another White Label",
        [
            ("Account", f"{login} ({environment})"),
            ("White Label", f"{current} → {target}"),
        ],
        action_label="Move",
    )
    if answer is None:
        return None
    reason, ticket = answer
    done = await runner.run(
        "Moving the account",
        lambda: accounts.move_white_label(
            session,
            login=login,
            environment=environment,
            target_broker_name=target,
            reason=reason,
            ticket=ticket,
        ),
    )
    ctx.wrote()
    if done is None:
        return None
    show_move_result(runner.bar, done.value)
    return done.value


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
